"""Sending a turn's replies to the chat it came from, so that neither a network fault nor a crash loses them.

A turn's replies are journalled in the outbox inside the turn's own transaction (`Journal`), held back from
the outbox job for a while, and sent by the turn itself; once the person has them the rows are deleted. If
the process dies between the commit and the send, the outbox job sends them after the restart (the update
delivered again is already handled and does nothing). Replies outside a dialogue turn go through `deliver`.

Each rendered message is sent in order. A fault that may pass (a timeout, a network error, a 5xx, a 429
with a short wait) is tried once more at once; if it still fails, that message and the ones after it are
queued in the outbox (already rendered as Telegram HTML), where the JobQueue retries them with backoff.
A person who blocked the bot (403) is not retried; a malformed message (400) is a bug, raised to the
error handler. Nothing here logs who the person is or what they wrote.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.store import utc_now
from bot.store.outbox import Outbox
from bot.telegram.outbox import REPLY_KIND, retry_seconds

log = logging.getLogger(__name__)

QUICK_RETRY_SECONDS = 0.5  # a dropped connection usually works again at once
LONGEST_WAIT_IN_TURN = 3.0  # a 429 asking for longer goes to the outbox instead of holding up the turn
# How long a journalled reply is left to its turn before the outbox job may send it (after a crash).
TURN_LEASE = timedelta(seconds=30)

Rendered = tuple[str, InlineKeyboardMarkup | None]


def button_rows(markup: InlineKeyboardMarkup | None) -> list[list[tuple[str, str]]]:
    """An inline keyboard as rows of (label, callback data), the outbox's stored form."""
    if markup is None:
        return []
    return [[(b.text, b.callback_data or "") for b in row] for row in markup.inline_keyboard]


async def send_now(bot, chat_id, text: str, markup: InlineKeyboardMarkup | None):
    """One message, with one quick second try for a fault that may pass; the error if it did not."""
    try:
        return await bot.send_message(chat_id=chat_id, text=text, reply_markup=markup)
    except (BadRequest, Forbidden):
        raise
    except RetryAfter as exc:
        wait = retry_seconds(exc)
        if wait > LONGEST_WAIT_IN_TURN:
            raise
        await asyncio.sleep(wait)
    except (TimedOut, NetworkError):
        await asyncio.sleep(QUICK_RETRY_SECONDS)
    return await bot.send_message(chat_id=chat_id, text=text, reply_markup=markup)


# A fault that stops the sending for now: the person blocked the bot, or Telegram is unreachable or busy.
STOPPING_FAULTS = (Forbidden, RetryAfter, TimedOut, NetworkError)


async def send_in_order(
    bot, chat_id, messages: list[Rendered], on_sent: Callable[[int], Awaitable[None]] | None = None
) -> tuple[int, Exception | None]:
    """Send the messages in order until one fails; returns how many went, and the fault that stopped it.

    A 400 (a message Telegram will never take) is a bug and is raised; `on_sent(position)` follows each send."""
    for position, (text, markup) in enumerate(messages):
        try:
            await send_now(bot, chat_id, text, markup)
        except BadRequest:
            raise
        except STOPPING_FAULTS as exc:
            if isinstance(exc, Forbidden):
                log.warning("a reply could not be delivered: the person has blocked the bot")
            else:
                log.warning("a reply could not be sent (%s); %d message(s) left to the outbox", type(exc).__name__, len(messages) - position)
            return position, exc
        if on_sent is not None:
            await on_sent(position)
    return len(messages), None


def queue_rest(outbox: Outbox, chat_id, messages: list[Rendered], user_key: str) -> None:
    """The unsent messages, in order, into the outbox in one transaction."""
    with outbox.atomic():
        for text, markup in messages:
            outbox.enqueue(
                target="user", text=text, buttons=button_rows(markup), kind=REPLY_KIND, chat_id=str(chat_id), user_key=user_key
            )


async def deliver(bot, outbox: Outbox, chat_id, messages: list[Rendered], user_key: str = "") -> bool:
    """Send the messages in order; True if all went now, False if some wait in the outbox or were dropped."""
    sent, fault = await send_in_order(bot, chat_id, messages)
    if fault is not None and not isinstance(fault, Forbidden):
        await asyncio.to_thread(queue_rest, outbox, chat_id, messages[sent:], user_key)
    return fault is None


@dataclass
class Journal:
    """Records a turn's replies, rendered, in the outbox within the turn's transaction (see `Dialogue.handle`)."""

    outbox: Outbox
    chat_id: object
    render: Callable[[list], list[Rendered]]  # a turn's Outgoing replies -> (html, keyboard) messages
    entries: list[tuple[int, Rendered]] = field(default_factory=list)

    def __call__(self, user_key: str, outgoing) -> None:
        held = utc_now() + TURN_LEASE
        for text, markup in self.render(outgoing):
            outbox_id = self.outbox.enqueue(
                target="user", text=text, buttons=button_rows(markup), kind=REPLY_KIND,
                chat_id=str(self.chat_id), user_key=user_key, not_before=held,
            )
            self.entries.append((outbox_id, (text, markup)))

    async def send(self, bot) -> bool:
        """Send what the turn journalled, in order; True if the person has it all now.

        Each row goes as soon as Telegram has its message. Delivery is at least once: a crash in the moment
        between Telegram taking a message and its row going would send that message again after a restart."""
        ids = [outbox_id for outbox_id, _ in self.entries]
        gone: list[int] = []

        async def forget(position: int) -> None:
            await asyncio.to_thread(self.outbox.discard_sent, [ids[position]])
            gone.append(ids[position])

        try:
            sent, fault = await send_in_order(bot, self.chat_id, [message for _, message in self.entries], forget)
        except BadRequest as exc:  # never taken by Telegram: not retried, and the bug goes to the error handler
            await asyncio.to_thread(_undeliverable, self.outbox, ids[len(gone):], type(exc).__name__)
            raise
        rest = ids[sent:]
        if isinstance(fault, Forbidden):  # blocked by the person: the replies are of no use to anyone now
            await asyncio.to_thread(self.outbox.discard_sent, rest)
        elif fault is not None:
            await asyncio.to_thread(self.outbox.retry_soon, rest, type(fault).__name__)
        return fault is None


def _undeliverable(outbox: Outbox, outbox_ids: list[int], error: str) -> None:
    for outbox_id in outbox_ids:
        outbox.mark_failed(outbox_id, error, None)
