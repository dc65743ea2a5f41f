"""Delivering the outbox: office notices, answers to askers and closing notes, retried with backoff.

A message is queued in SQLite in the same transaction as the thing it reports, then sent from here (and a
reply to a person lands here, already rendered, when sending it in its turn failed: see replies.py); a
failure (network, 5xx, 429, a misconfigured office chat) leaves it queued for the next attempt, so nothing
the office must see is lost. A person who blocked the bot (403) is marked undeliverable, not retried.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from datetime import timedelta

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.store import utc_now
from bot.store.outbox import Outbox
from bot.telegram.render import keyboard, render_plain_text

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3600
REPLY_KIND = "reply"  # rows of this kind hold a person's reply already rendered as Telegram HTML


def backoff(attempts: int, base: float = 5.0) -> timedelta:
    return timedelta(seconds=min(MAX_BACKOFF_SECONDS, base * (2 ** max(0, attempts))))


def retry_seconds(exc: RetryAfter) -> float:
    """Telegram's requested wait, whether PTB gives it as seconds or (PTB_TIMEDELTA) a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB 22 warns that the type will change; both are handled here
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def rendered(row: dict) -> list[tuple]:
    """A queued row as Telegram messages: a person's reply is stored rendered; anything else is plain text."""
    if row["kind"] == REPLY_KIND:
        return [(row["text"], keyboard(row["buttons"]))]
    return render_plain_text(row["text"], row["buttons"])


def resolve_chat(row: dict, settings) -> int | str | None:
    if row["target"] == "office":
        return settings.office_chat_id
    if row["target"] == "escalation":
        return settings.escalation_chat_id
    return row["chat_id"] or None


async def deliver_due(bot, outbox: Outbox, settings, lock: asyncio.Lock, base_backoff: float = 5.0) -> int:
    """Send every due message once; returns how many were delivered."""
    delivered = 0
    held_back: set = set()  # chats where a message failed this round: the later ones wait, to keep their order
    async with lock:
        rows = await asyncio.to_thread(outbox.due_messages, "telegram")
        for row in rows:
            chat_id = resolve_chat(row, settings)
            if chat_id is not None and str(chat_id) in held_back:
                continue
            if chat_id is None:
                log.warning("outbox %s: no chat configured for target %s; kept for later", row["id"], row["target"])
                await asyncio.to_thread(outbox.mark_failed, row["id"], "no chat configured", utc_now() + backoff(row["attempts"], base_backoff))
                continue
            try:
                message_id = None
                for text, markup in rendered(row):
                    sent = await bot.send_message(chat_id=chat_id, text=text, reply_markup=markup)
                    message_id = sent.message_id
                if row["kind"] == REPLY_KIND:  # the person has it: a reply need not be kept
                    await asyncio.to_thread(outbox.discard_sent, [row["id"]])
                else:
                    await asyncio.to_thread(outbox.mark_delivered, row["id"], message_id)
                delivered += 1
            except RetryAfter as exc:
                held_back.add(str(chat_id))
                wait = retry_seconds(exc)
                await asyncio.to_thread(outbox.mark_failed, row["id"], "rate limited", utc_now() + timedelta(seconds=wait))
                break  # Telegram asked us to slow down: stop this round
            except Forbidden:
                if row["target"] in ("office", "escalation"):
                    held_back.add(str(chat_id))
                    # The bot was removed from the office chat: a setting to fix, after which it must arrive.
                    log.warning("outbox %s: forbidden for target %s; will retry", row["id"], row["target"])
                    await asyncio.to_thread(
                        outbox.mark_failed, row["id"], "forbidden", utc_now() + backoff(row["attempts"], base_backoff)
                    )
                    continue
                # Blocked by the person: trying again will not help.
                log.warning("outbox %s: forbidden for target %s; marked undeliverable", row["id"], row["target"])
                await asyncio.to_thread(outbox.mark_failed, row["id"], "forbidden", None)
            except BadRequest as exc:
                if row["kind"] == REPLY_KIND:  # a rendered reply Telegram refuses will never be taken
                    log.warning("outbox %s: %s; a reply marked undeliverable", row["id"], type(exc).__name__)
                    await asyncio.to_thread(outbox.mark_failed, row["id"], type(exc).__name__, None)
                    continue
                held_back.add(str(chat_id))
                log.warning("outbox %s: %s; will retry", row["id"], type(exc).__name__)
                await asyncio.to_thread(
                    outbox.mark_failed, row["id"], type(exc).__name__, utc_now() + backoff(row["attempts"], base_backoff)
                )
            except (TimedOut, NetworkError, TelegramError) as exc:
                held_back.add(str(chat_id))
                log.warning("outbox %s: %s; will retry", row["id"], type(exc).__name__)
                await asyncio.to_thread(
                    outbox.mark_failed, row["id"], type(exc).__name__, utc_now() + backoff(row["attempts"], base_backoff)
                )
    return delivered
