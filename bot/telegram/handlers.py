"""Telegram handlers: thin translations of an update into a call on the dialogue or the office, and a reply.

People talk to the bot in private chats; in groups (the office chat) only office commands, office buttons
and an admin's pending answer are handled. Every office command and button checks the caller against
ADMIN_USER_IDS at the moment it is used; anyone else gets a polite refusal that reveals nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import defaultdict, deque
from html import escape

from telegram import Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.dialogue import Dialogue, Outgoing, Person
from bot.office import Office, parse_item_ref, parse_office_answer_ref
from bot.telegram.outbox import deliver_due
from bot.telegram.render import render, render_plain_text
from bot.telegram.replies import Journal, deliver

log = logging.getLogger(__name__)

# The rate limit's window; a message that might be about a child at risk always gets through it.
RATE_WINDOW_SECONDS = 60.0


def services(context: ContextTypes.DEFAULT_TYPE) -> tuple[Dialogue, Office]:
    data = context.application.bot_data
    return data["dialogue"], data["office"]


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


def reply_key(context: ContextTypes.DEFAULT_TYPE, chat_id) -> str:
    """The pseudonym of the person a private chat belongs to (so /forget and retention find queued replies)."""
    try:
        is_person = int(chat_id) > 0
    except (TypeError, ValueError):
        is_person = False
    return context.application.bot_data["store"].people.user_key("telegram", chat_id) if is_person else ""


async def take_turn(context: ContextTypes.DEFAULT_TYPE, person: Person, chat_id, **inputs) -> list[Outgoing]:
    """One dialogue turn whose replies are journalled with it, then sent (see replies.Journal)."""
    dialogue, _ = services(context)
    journal = Journal(dialogue.store.outbox, chat_id, lambda outgoing: [m for item in outgoing for m in render(item)])
    out = await asyncio.to_thread(dialogue.handle, person, journal=journal, **inputs)
    await journal.send(context.bot)
    return out


async def send_plain(context: ContextTypes.DEFAULT_TYPE, chat_id, text: str) -> None:
    await deliver(context.bot, context.application.bot_data["store"].outbox, chat_id, render_plain_text(text), reply_key(context, chat_id))


async def flush_outbox(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Deliver whatever this turn queued (office notices, answers) now; the repeating job retries failures."""
    data = context.application.bot_data
    try:
        await deliver_due(context.bot, data["store"].outbox, data["settings"], data["outbox_lock"], data.get("backoff_base", 5.0))
    except Exception:  # the job will try again; the person's reply must not depend on it
        log.exception("outbox delivery failed")


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


# --- rate limit -------------------------------------------------------------------------------------


class RateLimiter:
    """At most N messages per person per minute; over it, a polite reply instead of an answer."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self.seen: dict[str, deque] = defaultdict(deque)

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        window = self.seen[key]
        while window and now - window[0] > RATE_WINDOW_SECONDS:
            window.popleft()
        if len(window) >= self.per_minute:
            return False
        window.append(now)
        return True


# --- people --------------------------------------------------------------------------------------


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text in a private chat (questions, flow answers, the person's commands); an admin's pending input."""
    message = update.effective_message
    if message is None or update.effective_user is None:
        return
    dialogue, office = services(context)
    if await office_pending_input(update, context):
        return
    if not is_private(update):
        return  # group chatter is not for the bot
    person = person_of(update)
    text = message.text or ""
    limiter: RateLimiter = context.application.bot_data["rate_limiter"]
    if not limiter.allow(person.user_id) and not context.application.bot_data["triage"].possible(text):
        await send_plain(context, message.chat_id, dialogue.texts.get("conversation.rate_limited"))
        return
    await take_turn(context, person, message.chat_id, text=text, update_id=update.update_id)
    await flush_outbox(context)


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not is_private(update) or not message.photo:
        return
    dialogue, _ = services(context)
    file_id = message.photo[-1].file_id
    await take_turn(context, person_of(update), message.chat_id, photo=file_id, update_id=update.update_id)


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, voice notes, documents…: a kind pointer in private, silence in groups."""
    message = update.effective_message
    if message is None or not is_private(update):
        return
    dialogue, _ = services(context)
    await send_plain(context, message.chat_id, dialogue.texts.get("conversation.not_a_text"))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or update.effective_user is None:
        return
    data = query.data or ""
    if data.startswith("of:"):
        await on_office_button(update, context)
        return
    dialogue, _ = services(context)
    chat_id = query.message.chat.id if query.message else update.effective_user.id
    person = Person("telegram", str(update.effective_user.id), str(chat_id), person_of(update).name)
    if data.startswith("fb:"):  # feedback is thanked in the button's own little notice, not a message
        out = await asyncio.to_thread(dialogue.handle, person, action=data, update_id=update.update_id)
        await query.answer(text=out[0].text[:190] if out else None)
        return
    try:
        await query.answer()
    except BadRequest:  # a press delivered again after a restart: Telegram no longer takes an answer to it
        pass
    if query.message is not None and not data.startswith(("sec:", "fb:")):
        # A step's buttons are used once: take them off the message so an old one can't be pressed.
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except TelegramError:
            pass
    await take_turn(context, person, chat_id, action=data, update_id=update.update_id)
    await flush_outbox(context)


# --- the office --------------------------------------------------------------------------------------


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _, office = services(context)
    text = office.texts.get("refused")
    if update.callback_query is not None:
        await update.callback_query.answer(text=text, show_alert=True)
    elif update.effective_chat is not None:
        await send_plain(context, update.effective_chat.id, text)


def admin_check(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    _, office = services(context)
    user = update.effective_user
    chat = update.effective_chat
    return office.is_admin(user.id if user else None, chat.id if chat else None)


async def office_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unanswered, /reports, /case REF, /close REF note, /stats, /answer U-n section-or-text, /answers, /unlearn A-n."""
    message = update.effective_message
    if message is None or not message.text:
        return
    if not admin_check(update, context):
        await refuse(update, context)
        return
    _, office = services(context)
    head, _, rest = message.text.strip().partition(" ")
    command = head[1:].split("@", 1)[0].lower()
    rest = rest.strip()
    actor = actor_of(update)
    chat_id = message.chat_id
    if command == "unanswered":
        items = await asyncio.to_thread(office.unanswered)
        if not items:
            await send_plain(context, chat_id, office.texts.get("none_unanswered"))
        for item in items[:20]:
            text, rows = office.unanswered_notice(item)
            await deliver(context.bot, office.store.outbox, chat_id, render_plain_text(text, rows))
    elif command == "reports":
        await send_plain(context, chat_id, await asyncio.to_thread(office.reports_listing))
    elif command == "case":
        if not rest:
            await send_plain(context, chat_id, office.texts.get("case_usage"))
            return
        outcome = await asyncio.to_thread(office.case_detail, rest.split()[0])
        await send_plain(context, chat_id, outcome.message)
    elif command == "close":
        ref, _, note = rest.partition(" ")
        if not ref or not note.strip():
            await send_plain(context, chat_id, office.texts.get("close_usage"))
            return
        case = await asyncio.to_thread(office.store.cases.get, ref)
        if case is not None and case.route == "escalation":
            # A report about the headteacher or the office is not the office's to see or close.
            await send_plain(context, chat_id, office.texts.get("unknown_case", ref=ref[:20]))
            return
        outcome = await asyncio.to_thread(office.close, ref, note, actor)
        await send_plain(context, chat_id, outcome.message)
    elif command == "stats":
        await send_plain(context, chat_id, await asyncio.to_thread(office.stats_text))
    elif command == "answers":
        await send_plain(context, chat_id, await asyncio.to_thread(office.office_answers_listing))
    elif command == "unlearn":
        answer_id = parse_office_answer_ref(rest.split()[0]) if rest else None
        if answer_id is None:
            await send_plain(context, chat_id, office.texts.get("unlearn_usage"))
            return
        outcome = await asyncio.to_thread(office.unlearn, answer_id, actor)
        await send_plain(context, chat_id, outcome.message)
    elif command == "answer":
        ref, _, answer = rest.partition(" ")
        item_id = parse_item_ref(ref)
        if item_id is None or not answer.strip():
            await send_plain(context, chat_id, office.texts.get("answer_usage"))
            return
        outcome = await asyncio.to_thread(office.answer, item_id, answer, actor)
        await send_plain(context, chat_id, outcome.message)
    await flush_outbox(context)


async def on_office_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    _, office = services(context)
    parts = (query.data or "").split(":")
    verb = parts[1] if len(parts) > 1 else ""
    chat_id = query.message.chat.id if query.message else update.effective_user.id
    # Who may act is checked now, at the press: the office for its items and cases; the escalation chat
    # for cases about the headteacher or the office. Anyone else learns nothing, not even whether it exists.
    if verb in ("k", "c", "e") and len(parts) == 3:
        case = await asyncio.to_thread(office.store.cases.get, parts[2])
        allowed = case is not None and office.may_handle(case, update.effective_user.id, chat_id)
        if case is None and admin_check(update, context):
            await query.answer(text=office.texts.get("unknown_case", ref=parts[2][:20]), show_alert=True)
            return
    else:
        allowed = admin_check(update, context)
    if not allowed:
        await refuse(update, context)
        return
    actor = actor_of(update)
    outcome = None
    if verb in ("a", "w", "d") and len(parts) >= 3 and (item_id := parse_item_ref(parts[2])) is not None:
        if verb == "a" and len(parts) == 4:
            outcome = await asyncio.to_thread(office.answer_with_clause, item_id, parts[3], actor)
        elif verb == "d":
            outcome = await asyncio.to_thread(office.dismiss, item_id, actor)
        elif verb == "w":
            if office.store.unanswered.item(item_id) is None:
                await query.answer(text=office.texts.get("unknown_item", ref=f"U-{item_id}"), show_alert=True)
                return
            await set_office_pending(update, context, {"action": "write", "item": item_id, "chat": str(chat_id)})
            await query.answer()
            await send_plain(context, chat_id, office.texts.get("write_prompt", id=item_id))
            return
    elif verb in ("k", "c", "e") and len(parts) == 3:
        ref = parts[2]
        if verb == "k":
            outcome = await asyncio.to_thread(office.acknowledge, ref, actor)
        elif verb == "c":
            await set_office_pending(update, context, {"action": "close", "ref": ref, "chat": str(chat_id)})
            await query.answer()
            await send_plain(context, chat_id, office.texts.get("close_prompt", ref=ref))
            return
        else:
            await query.answer()
            for file_id in office.evidence(ref):
                await context.bot.send_photo(chat_id=chat_id, photo=file_id, caption=ref)
            return
    if outcome is None:
        await query.answer(text=office.texts.get("refused"), show_alert=True)
        return
    await query.answer(text=outcome.message[:190])
    if outcome.ok and query.message is not None and query.message.text:
        try:
            await query.edit_message_text(
                text=escape(query.message.text[:3000], quote=False) + "\n\n✅ " + escape(outcome.message[:500], quote=False),
                reply_markup=None,
            )
        except BadRequest:
            pass
    await flush_outbox(context)


async def set_office_pending(update: Update, context: ContextTypes.DEFAULT_TYPE, pending: dict) -> None:
    dialogue, _ = services(context)
    people = dialogue.store.people
    key = people.user_key("telegram", update.effective_user.id)

    def write() -> None:
        with people.atomic():
            state = people.load_state(key)
            state["office_pending"] = pending
            people.save_state(key, state)

    await asyncio.to_thread(write)


async def office_pending_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """An admin's next message after "Write an answer" / "Close with a note": handled here, True if it was."""
    message = update.effective_message
    user = update.effective_user
    dialogue, office = services(context)
    escalation = office.settings.escalation_chat_id
    in_escalation_chat = escalation is not None and message.chat_id == escalation
    if user is None or (user.id not in office.settings.admin_user_ids and not in_escalation_chat):
        return False
    people = dialogue.store.people
    key = people.user_key("telegram", user.id)
    state = await asyncio.to_thread(people.load_state, key)
    pending = state.get("office_pending")
    if not pending or str(pending.get("chat")) != str(message.chat_id):
        return False
    text = (message.text or "").strip()

    def clear() -> None:
        with people.atomic():
            fresh = people.load_state(key)
            fresh.pop("office_pending", None)
            people.save_state(key, fresh)

    await asyncio.to_thread(clear)
    if text.lower().startswith("/cancel"):
        await send_plain(context, message.chat_id, office.texts.get("cancelled"))
        return True
    # Checked again at the moment of the action.
    if pending.get("action") == "write":
        allowed = admin_check(update, context)
    else:
        case = await asyncio.to_thread(office.store.cases.get, str(pending.get("ref")))
        allowed = case is not None and office.may_handle(case, user.id, message.chat_id)
    if not allowed:
        await refuse(update, context)
        return True
    actor = actor_of(update)
    if pending.get("action") == "write":
        outcome = await asyncio.to_thread(office.answer_with_text, int(pending["item"]), text, actor)
    else:
        outcome = await asyncio.to_thread(office.close, str(pending.get("ref")), text, actor)
    await send_plain(context, message.chat_id, outcome.message)
    await flush_outbox(context)
    return True


# --- errors ----------------------------------------------------------------------------------------


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure without personal data or the token; tell the person something went wrong."""
    error = context.error
    token = context.bot.token if context.bot else ""
    detail = str(error)
    if token:  # PTB may change the case of error text: hide the token's secret part in any case
        detail = re.sub(re.escape(token.split(":")[-1]), "<token>", detail, flags=re.IGNORECASE)
    update_id = getattr(update, "update_id", None)
    log.error("update %s failed: %s: %s", update_id, type(error).__name__, detail[:300])
    if isinstance(update, Update) and update.effective_chat is not None and is_private(update):
        try:
            dialogue = context.application.bot_data["dialogue"]
            await context.bot.send_message(chat_id=update.effective_chat.id, text=escape(dialogue.texts.get("conversation.error")))
        except Exception:
            pass
