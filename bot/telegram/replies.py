"""Sending a turn's replies to the chat it came from, so that a network fault does not lose them.

Each rendered message is sent in order. A fault that may pass (a timeout, a network error, a 5xx, a 429
with a short wait) is tried once more at once; if it still fails, that message and the ones after it are
queued in the outbox (already rendered as Telegram HTML), where the JobQueue retries them with backoff.
A person who blocked the bot (403) is not retried; a malformed message (400) is a bug, raised to the
error handler. Nothing here logs who the person is or what they wrote.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.storage import Storage
from bot.telegram.outbox import retry_seconds

log = logging.getLogger(__name__)

QUICK_RETRY_SECONDS = 0.5  # a dropped connection usually works again at once
LONGEST_WAIT_IN_TURN = 3.0  # a 429 asking for longer goes to the outbox instead of holding up the turn
REPLY_KIND = "reply"  # outbox rows of this kind hold rendered HTML, not plain text

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
