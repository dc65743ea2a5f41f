"""Delivering the outbox: office notices, answers to askers and closing notes, retried with backoff.

A message is queued in SQLite in the same transaction as the thing it reports, then sent from here (and a
reply to a person lands here, already rendered, when sending it in its turn failed: see replies.py); a
failure (network, 5xx, 429, a misconfigured office chat) leaves it queued for the next attempt, so nothing
the office must see is lost. A person who blocked the bot (403) is marked undeliverable, not retried.

Duplicates are kept rare: a post to the office waits longer for Telegram's answer than a reply does (a slow
answer usually means it arrived); after a timeout it is not tried again at once; and a notice in several
parts whose later part failed keeps only the unsent parts, so the parts already posted are not posted again.
A safeguarding reply waiting here goes before the other messages to its chat.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError, TimedOut

from bot.store import utc_now
from bot.store.outbox import Outbox
from bot.telegram.render import keyboard, render_plain_text

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3600
REPLY_KIND = "reply"  # rows of this kind hold a person's reply already rendered as Telegram HTML
URGENT_REPLY_KIND = "reply:safeguarding"  # the same, for a safeguarding reply: sent before the rest
REST_SUFFIX = ":rest"  # a notice whose first parts went: the rest, rendered, between PART_BREAKs
PART_BREAK = "\x1e"
OFFICE_TARGETS = ("office", "escalation")
ANSWER_KIND = "answer"  # the office's answer to an asker
CASE_KIND = "case"  # a case's notice to the office or the escalation chat
ROUTE_PATIENCE = 3  # failed posts of a case's notice before its reporter is told it has not arrived


@dataclass
class Delivery:
    """What delivering the outbox needs, and how patient it is with Telegram."""

    queue: Outbox  # the store's outbox
    settings: object
    backoff_base: float = 5.0
    office_timeout: float = 30.0  # seconds to wait for Telegram's answer to a post to the office
    pause_after_timeout: float = 60.0  # no new try sooner than this after a timed-out post
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Called before an office answer goes to its asker: the bot learns it first (the answer may come from
    # another process), so asking again at once gets it from the bot.
    before_answers: Callable[[], None] | None = None
    # Called with a case's reference when its notice cannot reach its handler (no chat, or failed posts): the
    # reporter is told honestly, with whom to contact instead (Office.route_failed).
    route_failed: Callable[[str], bool] | None = None

    async def deliver(self, bot) -> int:
        return await deliver_due(bot, self)


def backoff(attempts: int, base: float = 5.0) -> timedelta:
    return timedelta(seconds=min(MAX_BACKOFF_SECONDS, base * (2 ** max(0, attempts))))


def retry_seconds(exc: RetryAfter) -> float:
    """Telegram's requested wait, whether PTB gives it as seconds or (PTB_TIMEDELTA) a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB 22 warns that the type will change; both are handled here
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def is_rendered_reply(kind: str) -> bool:
    return kind in (REPLY_KIND, URGENT_REPLY_KIND)


def rendered(row: dict) -> list[tuple]:
    """A queued row as Telegram messages: a person's reply is stored rendered, as is the rest of a notice
    partly sent; anything else is plain text."""
    if is_rendered_reply(row["kind"]):
        return [(row["text"], keyboard(row["buttons"]))]
    if row["kind"].endswith(REST_SUFFIX):
        parts = row["text"].split(PART_BREAK)
        return [(part, keyboard(row["buttons"]) if i == len(parts) - 1 else None) for i, part in enumerate(parts)]
    return render_plain_text(row["text"], row["buttons"])


def keep_unsent(queue: Outbox, row: dict, unsent: list[tuple]) -> None:
    """The parts of a notice not yet posted become the row (rendered), so a retry posts only those."""
    kind = row["kind"] if row["kind"].endswith(REST_SUFFIX) else row["kind"] + REST_SUFFIX
    with queue.atomic() as db:
        db["outbox"].update(row["id"], {"text": PART_BREAK.join(text for text, _ in unsent), "kind": kind})


def urgent_first(rows: list[dict]) -> list[dict]:
    """Safeguarding replies before everything else (each chat's other messages keep their order)."""
    return sorted(rows, key=lambda row: row["kind"] != URGENT_REPLY_KIND)


def resolve_chat(row: dict, settings) -> int | str | None:
    if row["target"] == "office":
        return settings.office_chat_id
    if row["target"] == "escalation":
        return settings.escalation_chat_id
    return row["chat_id"] or None


async def deliver_due(bot, outbox: Delivery) -> int:
    """Send every due message once; returns how many were delivered."""
    queue = outbox.queue
    delivered = 0
    held_back: set = set()  # chats where a message failed this round: the later ones wait, to keep their order
    async with outbox.lock:
        rows = urgent_first(await asyncio.to_thread(queue.due_messages, "telegram"))
        if outbox.before_answers is not None and any(row["kind"] == ANSWER_KIND for row in rows):
            await asyncio.to_thread(outbox.before_answers)
        for row in rows:
            chat_id = resolve_chat(row, outbox.settings)
            if chat_id is not None and str(chat_id) in held_back:
                continue
            if chat_id is None:
                log.warning("outbox %s: no chat configured for target %s; kept for later", row["id"], row["target"])
                await asyncio.to_thread(queue.mark_failed, row["id"], "no chat configured", retry_at(row, outbox))
                await tell_if_stuck(outbox, row, now=True)
                continue
            try:
                await send_row(bot, outbox, row, chat_id)
                delivered += 1
            except RetryAfter as exc:
                await asyncio.to_thread(queue.mark_failed, row["id"], "rate limited", utc_now() + timedelta(seconds=retry_seconds(exc)))
                break  # Telegram asked us to slow down: stop this round
            except TelegramError as exc:
                if await asyncio.to_thread(record_failure, outbox, row, exc):
                    held_back.add(str(chat_id))
                await tell_if_stuck(outbox, row)
    return delivered


async def tell_if_stuck(outbox: Delivery, row: dict, now: bool = False) -> None:
    """A case's notice that has no route, or failed ROUTE_PATIENCE times: its reporter is told (once)."""
    if row["kind"].removesuffix(REST_SUFFIX) != CASE_KIND or row["target"] not in OFFICE_TARGETS or outbox.route_failed is None:
        return
    if now or (row["attempts"] or 0) + 1 >= ROUTE_PATIENCE:
        await asyncio.to_thread(outbox.route_failed, row["ref"])


async def send_row(bot, outbox: Delivery, row: dict, chat_id) -> None:
    """Post one queued row (each of its parts); on a failure after some parts, only the rest stays queued."""
    patience = {}
    if row["target"] in OFFICE_TARGETS:  # a slow answer usually means it arrived: wait for it, not post it again
        patience = {"read_timeout": outbox.office_timeout, "write_timeout": outbox.office_timeout}
    messages = rendered(row)
    message_id = None
    for position, (text, markup) in enumerate(messages):
        try:
            sent = await bot.send_message(chat_id=chat_id, text=text, reply_markup=markup, **patience)
        except TelegramError:
            if position:
                await asyncio.to_thread(keep_unsent, outbox.queue, row, messages[position:])
            raise
        message_id = sent.message_id
    if is_rendered_reply(row["kind"]):  # the person has it: a reply need not be kept
        await asyncio.to_thread(outbox.queue.discard_sent, [row["id"]])
    else:
        await asyncio.to_thread(outbox.queue.mark_delivered, row["id"], message_id)


def retry_at(row: dict, outbox: Delivery, pause: float = 0.0):
    return utc_now() + max(backoff(row["attempts"], outbox.backoff_base), timedelta(seconds=pause))


def record_failure(outbox: Delivery, row: dict, exc: TelegramError) -> bool:
    """Note a failed post and when to try again; True if the chat's later messages must wait (keep order)."""
    queue, name = outbox.queue, type(exc).__name__
    office = row["target"] in OFFICE_TARGETS
    if isinstance(exc, Forbidden) and not office:  # blocked by the person: trying again will not help
        log.warning("outbox %s: forbidden for target %s; marked undeliverable", row["id"], row["target"])
        queue.mark_failed(row["id"], "forbidden", None)
        return False
    if isinstance(exc, BadRequest) and is_rendered_reply(row["kind"]):  # a reply Telegram refuses: never taken
        log.warning("outbox %s: %s; a reply marked undeliverable", row["id"], name)
        queue.mark_failed(row["id"], name, None)
        return False
    # The bot removed from the office chat is a setting to fix, after which the notice must arrive; a timed-out
    # post may well have arrived, so it is not tried again at once.
    log.warning("outbox %s: %s; will retry", row["id"], name)
    pause = outbox.pause_after_timeout if isinstance(exc, TimedOut) and office else 0.0
    queue.mark_failed(row["id"], "forbidden" if isinstance(exc, Forbidden) else name, retry_at(row, outbox, pause))
    return True
