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
from dataclasses import dataclass, field
from datetime import timedelta

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.storage import Storage, utc_now
from bot.telegram.outbox import retry_seconds

log = logging.getLogger(__name__)

QUICK_RETRY_SECONDS = 0.5  # a dropped connection usually works again at once
LONGEST_WAIT_IN_TURN = 3.0  # a 429 asking for longer goes to the outbox instead of holding up the turn
REPLY_KIND = "reply"  # outbox rows of this kind hold rendered HTML, not plain text
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


def queue_rest(storage: Storage, chat_id, messages: list[Rendered], user_key: str) -> None:
    """The unsent messages, in order, into the outbox in one transaction."""
    with storage.transaction() as db:
        for text, markup in messages:
            storage.enqueue(
                db, target="user", text=text, buttons=button_rows(markup), kind=REPLY_KIND, chat_id=str(chat_id), user_key=user_key
            )


async def deliver(bot, storage: Storage, chat_id, messages: list[Rendered], user_key: str = "") -> bool:
    """Send the messages in order; True if all went now, False if some wait in the outbox or were dropped."""
    for position, (text, markup) in enumerate(messages):
        try:
            await send_now(bot, chat_id, text, markup)
        except BadRequest:
            raise
        except Forbidden:
            log.warning("a reply could not be delivered: the person has blocked the bot")
            return False
        except (RetryAfter, TimedOut, NetworkError) as exc:
            log.warning("a reply could not be sent (%s); %d message(s) queued for retry", type(exc).__name__, len(messages) - position)
            await asyncio.to_thread(queue_rest, storage, chat_id, messages[position:], user_key)
            return False
    return True


@dataclass
class Journal:
    """Records a turn's replies, rendered, in the outbox within the turn's transaction (see `Dialogue.handle`)."""

    storage: Storage
    chat_id: object
    render: object  # Outgoing list -> list of (html, keyboard)
    entries: list[tuple[int, Rendered]] = field(default_factory=list)

    def __call__(self, db, user_key: str, outgoing) -> None:
        held = utc_now() + TURN_LEASE
        for text, markup in self.render(outgoing):
            outbox_id = self.storage.enqueue(
                db, target="user", text=text, buttons=button_rows(markup), kind=REPLY_KIND,
                chat_id=str(self.chat_id), user_key=user_key, not_before=held,
            )
            self.entries.append((outbox_id, (text, markup)))

    async def send(self, bot) -> bool:
        """Send what the turn journalled, in order; True if the person has it all now.

        Each row goes as soon as Telegram has its message. Delivery is at least once: a crash in the moment
        between Telegram taking a message and its row going would send that message again after a restart."""
        for position, (outbox_id, (text, markup)) in enumerate(self.entries):
            rest = [entry[0] for entry in self.entries[position:]]
            try:
                await send_now(bot, self.chat_id, text, markup)
            except Forbidden:  # blocked by the person: the replies are of no use to anyone now
                log.warning("a reply could not be delivered: the person has blocked the bot")
                await asyncio.to_thread(self.storage.discard_sent, rest)
                return False
            except BadRequest:  # a message Telegram will never take: not retried, and the bug is raised
                await asyncio.to_thread(_undeliverable, self.storage, rest)
                raise
            except (RetryAfter, TimedOut, NetworkError) as exc:
                log.warning("a reply could not be sent (%s); %d message(s) left to the outbox", type(exc).__name__, len(rest))
                await asyncio.to_thread(self.storage.retry_soon, rest, type(exc).__name__)
                return False
            await asyncio.to_thread(self.storage.discard_sent, [outbox_id])
        return True


def _undeliverable(storage: Storage, outbox_ids: list[int]) -> None:
    for outbox_id in outbox_ids:
        storage.mark_failed(outbox_id, "forbidden", None)
