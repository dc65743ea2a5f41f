"""What the Telegram handlers share: the services kept in `bot_data`, who is talking, and sending.

`app.py` builds one `Services` per process and keeps it in `application.bot_data["services"]`; handlers read
it with `services(context)`. A turn's replies are journalled with the turn and then sent (replies.Journal);
anything the turn queued for the office or for another person goes out through the outbox right after.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.dialogue import Dialogue, Outgoing, Person
from bot.office import Office
from bot.store import Store
from bot.flood import FloodGate
from bot.telegram.journal import UpdateJournal
from bot.telegram.outbox import Delivery
from bot.telegram.render import render, render_plain_text
from bot.telegram.replies import Journal, deliver
from intents.triage import UrgencyTriage

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a handler may use, typed."""

    dialogue: Dialogue
    office: Office
    store: Store
    settings: object
    advisor: object  # the process's advisor (its engine learns from the office's answers)
    triage: UrgencyTriage
    flood: FloodGate
    outbox: Delivery
    updates: UpdateJournal
    office_reply_minutes: float = 5.0  # how long a "Write an answer" or "Close with a note" waits


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]


def person_of(update: Update) -> Person:
    user = update.effective_user
    chat = update.effective_chat
    name = " ".join(p for p in (user.first_name, user.last_name) if p) if user else ""
    if user and user.username:
        name = f"{name} (@{user.username})".strip()
    return Person("telegram", str(user.id), str(chat.id), name)


def actor_of(update: Update) -> str:
    """How the audit log names an office member: their Telegram id (office staff, not the public)."""
    user = update.effective_user
    return f"tg:{user.id}" if user else "tg:?"


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


def reply_key(context: ContextTypes.DEFAULT_TYPE, chat_id) -> str:
    """The pseudonym of the person a private chat belongs to (so /forget and retention find queued replies)."""
    try:
        is_person = int(chat_id) > 0
    except (TypeError, ValueError):
        is_person = False
    return services(context).store.people.user_key("telegram", chat_id) if is_person else ""


async def take_turn(context: ContextTypes.DEFAULT_TYPE, person: Person, chat_id, **inputs) -> list[Outgoing]:
    """One dialogue turn whose replies are journalled with it, then sent (see replies.Journal)."""
    s = services(context)
    journal = Journal(s.store.outbox, chat_id, render)
    out = await asyncio.to_thread(s.dialogue.handle, person, journal=journal, **inputs)
    await journal.send(context.bot)
    return out


async def send_plain(context: ContextTypes.DEFAULT_TYPE, chat_id, text: str, rows=None) -> None:
    await deliver(context.bot, services(context).store.outbox, chat_id, render_plain_text(text, rows), reply_key(context, chat_id))


async def flush_outbox(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Deliver whatever this turn queued (office notices, answers) now; the repeating job retries failures."""
    try:
        await services(context).outbox.deliver(context.bot)
    except Exception:  # the job will try again; the person's reply must not depend on it
        log.exception("outbox delivery failed")
