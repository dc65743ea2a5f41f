"""Signing on Telegram: /agree (parents), /acknowledge (staff), `/start CODE` from the school's roster, the
signing buttons, and the words a signing step asks for (name, classes, role, a question for the office).

Handlers translate an update into a call to `bot.signatures.Signing` (kept in `bot_data["signing"]`) and send
its replies as a turn's replies are sent (journalled first). They run before the people's handlers and stop
the update there when they handled it; anything else (and any message that might be about a child at risk,
even mid-signing) goes on to the dialogue as usual. Private chats only.
"""

from __future__ import annotations

import asyncio
import re

from telegram import Update
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.dialogue import Person
from bot.protocol import decode
from bot.signatures import CODE, TEXT_STEPS, Signing
from bot.flood import Verdict
from bot.telegram.people import admitted, answer
from bot.telegram.render import render
from bot.telegram.replies import Journal
from bot.telegram.services import flush_outbox, person_of, services

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
SIGN_BUTTON = re.compile(r"^sig:")


def signing_of(context: ContextTypes.DEFAULT_TYPE) -> Signing:
    return context.application.bot_data["signing"]


async def send(context: ContextTypes.DEFAULT_TYPE, person: Person, out) -> None:
    """Replies journalled in the outbox, then sent (as a dialogue turn's are)."""
    s = services(context)
    journal = Journal(s.store.outbox, person.chat_id, render)
    key = s.store.people.user_key(person.channel, person.user_id)

    def write() -> None:
        with s.store.transaction():
            journal(key, out)

    await asyncio.to_thread(write)
    await journal.send(context.bot)
    await flush_outbox(context)


async def on_agree(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await start(update, context, "agreement")


async def on_acknowledge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await start(update, context, "acknowledgement")


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE, kind: str) -> None:
    if not await admitted(update, context, ""):
        raise ApplicationHandlerStop
    person = person_of(update)
    await send(context, person, await asyncio.to_thread(signing_of(context).start, person, kind))
    raise ApplicationHandlerStop


async def on_start_code(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/start CODE` (a roster deep link): the person's row tied to them, and signing begun. Anything else after
    /start is the dialogue's (its welcome)."""
    if len(context.args or ()) != 1 or not CODE.match(context.args[0]):
        return
    if not await admitted(update, context, ""):
        raise ApplicationHandlerStop
    person = person_of(update)
    signing = signing_of(context)
    out = await asyncio.to_thread(signing.start_with_code, person, context.args[0])
    await send(context, person, out if out is not None else [signing.say("signing.link_unknown")])
    raise ApplicationHandlerStop


async def on_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel while signing stops the signing; otherwise /cancel is the dialogue's."""
    person = person_of(update)
    out = await asyncio.to_thread(signing_of(context).cancel, person)
    if out is None:
        return
    await send(context, person, out)
    raise ApplicationHandlerStop


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Words for a signing step. A message that might be about a child at risk goes to the dialogue instead: at
    the name, class or role step anything the triage finds possible; a question for the office only when the
    safeguarding rules flag it (the office reads every other question itself)."""
    text = update.effective_message.text or ""
    person = person_of(update)
    signing = signing_of(context)
    step = await asyncio.to_thread(signing.step, person)
    if step not in TEXT_STEPS:
        return
    triage = services(context).triage
    if triage.definite(text) if step == "question" else triage.possible(text):
        return
    if not await admitted(update, context, text):
        raise ApplicationHandlerStop
    await send(context, person, await asyncio.to_thread(signing.take_text, person, text))
    raise ApplicationHandlerStop


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A signing button, pressed by the person it was sent to, in their own private chat."""
    query = update.callback_query
    user = update.effective_user
    chat = query.message.chat if query.message is not None else None
    button = decode(query.data)
    s = services(context)
    if button is None or chat is None or user is None or not button.valid_in(chat.type, chat.id, user.id):
        await answer(query, s.dialogue.texts.get("conversation.button_expired"))
        raise ApplicationHandlerStop
    if s.flood.check(f"b{user.id}") is not Verdict.ALLOWED:
        await answer(query)
        raise ApplicationHandlerStop
    await answer(query)
    person = Person("telegram", str(user.id), str(chat.id), person_of(update).name)
    await send(context, person, await asyncio.to_thread(signing_of(context).press, person, query.data))
    raise ApplicationHandlerStop


def signing_handlers() -> list:
    """Handlers for the group before the people's (app.py): each stops the update once it has handled it."""
    return [
        CommandHandler("agree", on_agree, filters=PRIVATE),
        CommandHandler("acknowledge", on_acknowledge, filters=PRIVATE),
        CommandHandler("start", on_start_code, filters=PRIVATE, has_args=True),
        CommandHandler("cancel", on_cancel, filters=PRIVATE),
        CallbackQueryHandler(on_button, pattern=SIGN_BUTTON),
        MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, on_text),
    ]
