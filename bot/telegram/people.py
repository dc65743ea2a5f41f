"""People's side of the Telegram bot: private messages, photos and files, and the buttons under replies.

Each handler translates an update into one dialogue turn and sends its replies. People talk to the bot in
private chats only: group chatter is not for the bot, and a person's button counts only in that person's
own private chat (protocol.Callback.valid_in). Everything a person sends is rate-limited (flood.FloodGate),
except what might be about a child at risk: that always gets through.
"""

from __future__ import annotations

import asyncio

from telegram import CallbackQuery, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.dialogue import Person
from bot.protocol import decode, is_safeguarding_button
from bot.flood import Verdict
from bot.telegram.services import flush_outbox, is_private, person_of, send_plain, services, take_turn


async def admitted(update: Update, context: ContextTypes.DEFAULT_TYPE, words: str) -> bool:
    """Within the person's rate limit, or possibly about a child at risk; over it, "slow down" once a window."""
    s = services(context)
    if words and s.triage.possible(words):
        return True
    verdict = s.flood.check(f"m{update.effective_user.id}")
    if verdict is Verdict.WARN:
        await send_plain(context, update.effective_chat.id, s.dialogue.texts.get("conversation.rate_limited"))
    return verdict is Verdict.ALLOWED


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text in a private chat: questions, flow answers, the person's own commands."""
    message = update.effective_message
    if message is None or update.effective_user is None or not is_private(update):
        return  # group chatter is not for the bot
    text = message.text or ""
    if not await admitted(update, context, text):
        return
    await take_turn(context, person_of(update), message.chat_id, text=text, update_id=update.update_id)
    await flush_outbox(context)


async def on_attachment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos (a report's screenshots), files, stickers, voice notes…: a caption is read like any text, so a
    disclosure in it gets the safeguarding response in any state; otherwise a kind pointer."""
    message = update.effective_message
    if message is None or update.effective_user is None or not is_private(update):
        return
    caption = message.caption or ""
    if not await admitted(update, context, caption):
        return
    photo = message.photo[-1].file_id if message.photo else ""
    if not photo and not caption.strip():
        await send_plain(context, message.chat_id, services(context).dialogue.texts.get("conversation.not_a_text"))
        return
    await take_turn(context, person_of(update), message.chat_id, photo=photo, caption=caption, update_id=update.update_id)
    await flush_outbox(context)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button under a reply, pressed by the person it was sent to, in their own private chat."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    s = services(context)
    chat = query.message.chat if query.message is not None else None
    button = decode(query.data)
    if button is None:  # no button of ours: nothing to say
        await answer(query)
        return
    if chat is None or not button.valid_in(chat.type, chat.id, user.id):  # not this person's, or not here
        await answer(query, s.dialogue.texts.get("conversation.button_expired"))
        return
    if not is_safeguarding_button(query.data):
        verdict = s.flood.check(f"b{user.id}")
        if verdict is not Verdict.ALLOWED:
            await answer(query, s.dialogue.texts.get("conversation.rate_limited") if verdict is Verdict.WARN else None)
            return
    person = Person("telegram", str(user.id), str(chat.id), person_of(update).name)
    if button.kind == "fb":  # feedback is thanked in the button's own little notice, not a message
        out = await take_turn_quietly(context, person, query.data, update.update_id)
        await answer(query, out[0].text[:190] if out else None)
        return
    await answer(query)
    if query.message is not None and button.kind not in ("sec", "fb"):
        # A step's buttons are used once: take them off the message so an old one can't be pressed.
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except TelegramError:
            pass
    await take_turn(context, person, chat.id, action=query.data, update_id=update.update_id)
    await flush_outbox(context)


async def take_turn_quietly(context: ContextTypes.DEFAULT_TYPE, person: Person, action: str, update_id: int):
    """A turn whose only reply is shown in the button's notice (nothing is sent to the chat)."""
    return await asyncio.to_thread(services(context).dialogue.handle, person, action=action, update_id=update_id)


async def answer(query: CallbackQuery, text: str | None = None) -> None:
    try:
        await query.answer(text=text)
    except BadRequest:  # a press delivered again after a restart: Telegram no longer takes an answer to it
        pass
