"""The school office's side of the Telegram bot: one handler per command, one per button verb, and the
"Write an answer" / "Close with a note" conversations.

Every command and button checks the caller at the moment it is used (`Office.is_admin` for the office's
work; `Office.may_handle` for a case, which for a report about the headteacher or the office means the
escalation chat). Anyone else gets the same polite refusal, whether or not the thing exists.

"Write an answer" waits for that admin's next message in that chat only (a `ConversationHandler` per chat
and user), for a few minutes at most, and any other office command ends the wait; the answer is then shown
with the question for confirmation before it is sent to the person who asked.
"""

from __future__ import annotations

import asyncio
import warnings
from html import escape

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.office import Office, Outcome, parse_item_ref, parse_office_answer_ref
from bot.protocol import (
    ACKNOWLEDGE,
    ANSWER_WITH,
    CLOSE,
    DISCARD,
    DISMISS,
    EVIDENCE,
    OFFICE_ANY,
    OFFICE_COMMANDS,
    SEND,
    WRITE,
    decode,
    office_button,
    office_pattern,
)
from bot.store import CASE_STATUSES, OPEN_STATUSES
from bot.telegram.render import render_plain_text
from bot.telegram.replies import deliver, send_in_order
from bot.telegram.services import actor_of, flush_outbox, is_private, send_plain, services

WRITING, CONFIRMING, CLOSING = range(3)
COMMANDS_ONLY = filters.UpdateType.MESSAGE
LISTED_AT_MOST = 20  # /unanswered posts at most this many notices


def office_of(context: ContextTypes.DEFAULT_TYPE) -> Office:
    return services(context).office


def is_admin_here(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user, chat = update.effective_user, update.effective_chat
    return office_of(context).is_admin(user.id if user else None, chat.id if chat else None)


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text = office_of(context).texts.get("refused")
    if update.callback_query is not None:
        await update.callback_query.answer(text=text, show_alert=True)
    elif update.effective_chat is not None:
        await send_plain(context, update.effective_chat.id, text)


async def may_handle_case(update: Update, context: ContextTypes.DEFAULT_TYPE, ref: str):
    """The case, if the caller may handle it here; None for "no such case" and "not yours" alike."""
    office = office_of(context)
    case = await asyncio.to_thread(office.store.cases.get, ref)
    user, chat = update.effective_user, update.effective_chat
    if case is None or not office.may_handle(case, user.id if user else None, chat.id if chat else None):
        return None
    return case


# --- commands --------------------------------------------------------------------------------------


def guarded(action, allowed, run):
    """A command handler: `allowed(update, context)` says whether the caller may use it (and as whom: anything
    true); `run(update, context, caller)` calls `action`; its reply is sent, then the outbox is flushed."""

    async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message is None:
            return
        caller = allowed(update, context)
        if not caller:
            await refuse(update, context)
            return
        reply = await run(update, context, caller)
        if reply:
            await send_plain(context, update.effective_chat.id, reply)
        await flush_outbox(context)

    command.__name__ = action.__name__
    command.__doc__ = action.__doc__
    return command


def admins_only(action):
    """A command for admins (refused to anyone else)."""
    return guarded(action, is_admin_here, lambda update, context, _caller: action(
        office_of(context), context.args or [], rest_of(update, len(context.args or [])), update))


def audience_here(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """Whose cases the caller sees here: "office" (an admin), "escalation" (one of ESCALATION_USER_IDS, in the
    escalation chat or in private), or "" (nobody's)."""
    if is_admin_here(update, context):
        return "office"
    user, chat = update.effective_user, update.effective_chat
    return "escalation" if office_of(context).is_escalation(user.id if user else None, chat.id if chat else None) else ""


def cases_command(action):
    """A command about cases, for admins (the office's cases) and ESCALATION_USER_IDS (only the cases about the
    headteacher or the office); refused to anyone else."""
    return guarded(action, audience_here, lambda update, context, audience: action(office_of(context), context.args or [], audience))


def rest_of(update: Update, count: int) -> str:
    """The text after the command and its first word, as typed (line breaks kept): a note or an answer."""
    parts = (update.effective_message.text or "").split(None, 2)
    return parts[2].strip() if count >= 2 and len(parts) == 3 else ""


@admins_only
async def unanswered(office: Office, args, rest, update: Update) -> str:
    """/unanswered: each open question as a notice with its buttons."""
    items = await asyncio.to_thread(office.unanswered)
    if not items:
        return office.texts.get("none_unanswered")
    for item in items[:LISTED_AT_MOST]:
        text, rows = office.unanswered_notice(item)
        await deliver(update.get_bot(), office.store.outbox, update.effective_chat.id, render_plain_text(text, rows))
    return ""


@cases_command
async def reports(office: Office, args, audience: str) -> str:
    """/reports, or /reports --all with the closed ones too: the office's cases to an admin, those about the
    headteacher or the office to ESCALATION_USER_IDS (never to the office)."""
    statuses = CASE_STATUSES if "--all" in args else OPEN_STATUSES
    return await asyncio.to_thread(lambda: office.reports_listing(audience=audience, statuses=statuses))


@cases_command
async def case(office: Office, args, audience: str) -> str:
    """/case REF (a case the caller may see; any other is "no such case")"""
    if not args:
        return office.texts.get("case_usage")
    return (await asyncio.to_thread(lambda: office.case_detail(args[0], audience=audience))).message


@admins_only
async def close(office: Office, args, rest, update: Update) -> str:
    """/close REF note"""
    if len(args) < 2 or not rest:
        return office.texts.get("close_usage")
    found = await asyncio.to_thread(office.store.cases.get, args[0])
    if found is not None and found.route == "escalation":
        # A report about the headteacher or the office is not the office's to see or close.
        return office.texts.get("unknown_case", ref=args[0][:20])
    return (await asyncio.to_thread(office.close, args[0], rest, actor_of(update))).message


@admins_only
async def stats(office: Office, args, rest, update: Update) -> str:
    return await asyncio.to_thread(office.stats_text)


@admins_only
async def answers(office: Office, args, rest, update: Update) -> str:
    """/answers: the office's own answers the bot gives."""
    return await asyncio.to_thread(office.office_answers_listing)


@admins_only
async def unlearn(office: Office, args, rest, update: Update) -> str:
    """/unlearn A-n"""
    answer_id = parse_office_answer_ref(args[0]) if args else None
    if answer_id is None:
        return office.texts.get("unlearn_usage")
    return (await asyncio.to_thread(office.unlearn, answer_id, actor_of(update))).message


@admins_only
async def answer(office: Office, args, rest, update: Update) -> str:
    """/answer U-n section-or-text"""
    item_id = parse_item_ref(args[0]) if args else None
    if item_id is None or not rest:
        return office.texts.get("answer_usage")
    return (await asyncio.to_thread(office.answer, item_id, rest, actor_of(update))).message


async def desk(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/desk in a private chat: a single-use sign-in link to the office's desk (bot/desk/), for ADMIN_USER_IDS
    and ESCALATION_USER_IDS only; with the web app off, the desk is not enabled."""
    from bot.desk.access import DeskAccess, desk_enabled, desk_texts

    office, user = office_of(context), update.effective_user
    if update.effective_message is None:
        return
    access = DeskAccess(office.settings, office.store)
    identity = f"tg:{user.id}" if user else None
    if not access.may_sign_in(identity):
        return await refuse(update, context)
    texts = desk_texts(office.settings, office.pack)
    if not desk_enabled(office.settings):
        reply = texts.get("desk_not_enabled")
    elif not is_private(update):
        reply = texts.get("desk_private_only")
    else:
        url = await asyncio.to_thread(access.issue_link, identity, actor_of(update))
        # Sent now or not at all: a sign-in link is never kept in the outbox (it would outlive its 10 minutes).
        await send_in_order(context.bot, update.effective_chat.id, render_plain_text(texts.get("desk_link_message", url=url)))
        return
    await send_plain(context, update.effective_chat.id, reply)


COMMAND_HANDLERS = {
    "unanswered": unanswered, "reports": reports, "case": case, "close": close,
    "stats": stats, "answer": answer, "answers": answers, "unlearn": unlearn,
}
assert set(COMMAND_HANDLERS) == set(OFFICE_COMMANDS)


# --- buttons ---------------------------------------------------------------------------------------


async def show_outcome(update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: Outcome) -> None:
    """Tell the presser what happened; on success, say so under the notice and take off the buttons about
    the same question or case (a notice of several questions keeps the others')."""
    query = update.callback_query
    await query.answer(text=outcome.message[:190])
    if outcome.ok and query.message is not None and query.message.text:
        try:
            await query.edit_message_text(
                text=escape(query.message.text[:3000], quote=False) + "\n\n✅ " + escape(outcome.message[:500], quote=False),
                reply_markup=buttons_about_others(query.message.reply_markup, query.data),
            )
        except BadRequest:
            pass
    await flush_outbox(context)


def buttons_about_others(markup: InlineKeyboardMarkup | None, pressed: str | None) -> InlineKeyboardMarkup | None:
    """The keyboard without the buttons about what the pressed one was about (its question or case)."""
    acted = decode(pressed)
    if markup is None or acted is None:
        return None
    rows = [[b for b in row if (other := decode(b.callback_data)) is None or other.args[:1] != acted.args[:1]]
            for row in markup.inline_keyboard]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


async def on_answer_with(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer with a section: of:a:<item>:<clause>."""
    if not is_admin_here(update, context):
        return await refuse(update, context)
    item, clause = context.matches[0].groups()
    outcome = await asyncio.to_thread(office_of(context).answer_with_clause, int(item), clause, actor_of(update))
    await show_outcome(update, context, outcome)


async def on_dismiss(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not is_admin_here(update, context):
        return await refuse(update, context)
    [item] = context.matches[0].groups()
    await show_outcome(update, context, await asyncio.to_thread(office_of(context).dismiss, int(item), actor_of(update)))


async def on_acknowledge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    [ref] = context.matches[0].groups()
    if await may_handle_case(update, context, ref) is None:
        return await refuse(update, context)
    await show_outcome(update, context, await asyncio.to_thread(office_of(context).acknowledge, ref, actor_of(update)))


async def on_evidence(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A breach report's screenshots, shown in the chat where the case is handled, on request only."""
    [ref] = context.matches[0].groups()
    if await may_handle_case(update, context, ref) is None:
        return await refuse(update, context)
    await update.callback_query.answer()
    for file_id in await asyncio.to_thread(office_of(context).evidence, ref):
        await context.bot.send_photo(chat_id=update.effective_chat.id, photo=file_id, caption=ref)


async def on_forged(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Office data that is no office button (forged, or a confirmation no longer waited for)."""
    await refuse(update, context)


# --- "Write an answer" and "Close with a note": the next message of that admin in that chat ------------


def pending(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> dict:
    """What this admin is writing in this chat (kept with the admin, not with anyone's conversation)."""
    return context.user_data.setdefault("office_reply", {}).setdefault(chat_id, {})


async def start_writing(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query, office = update.callback_query, office_of(context)
    [item] = context.matches[0].groups()
    if not is_admin_here(update, context):
        await refuse(update, context)
        raise ApplicationHandlerStop(ConversationHandler.END)
    if await asyncio.to_thread(office.store.unanswered.item, int(item)) is None:
        await query.answer(text=office.texts.get("unknown_item", ref=f"U-{item}"), show_alert=True)
        raise ApplicationHandlerStop(ConversationHandler.END)
    chat_id = update.effective_chat.id
    pending(context, chat_id).clear()
    pending(context, chat_id).update(item=int(item))
    await query.answer()
    await send_plain(context, chat_id, office.texts.get("write_prompt", id=item))
    raise ApplicationHandlerStop(WRITING)


async def got_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """The admin's answer: shown with the question, with Send / Don't send."""
    office, chat_id = office_of(context), update.effective_chat.id
    wanted = pending(context, chat_id)
    item = await asyncio.to_thread(office.store.unanswered.item, int(wanted.get("item", 0)))
    if not is_admin_here(update, context):
        await refuse(update, context)
        raise ApplicationHandlerStop(ConversationHandler.END)
    if item is None or item["status"] != "open":
        gone = office.texts.get("already_resolved", id=item["id"], status=item["status"]) if item else office.texts.get(
            "unknown_item", ref=f"U-{wanted.get('item')}")
        await send_plain(context, chat_id, gone)
        raise ApplicationHandlerStop(ConversationHandler.END)
    text = (update.effective_message.text or "").strip()[:3000]
    wanted["text"] = text
    rows = [[(office.texts.get("send_answer"), office_button(SEND, item["id"])),
             (office.texts.get("discard_answer"), office_button(DISCARD, item["id"]))]]
    confirm = office.texts.get("write_confirm", id=item["id"], question=item["text"][:1000], answer=text)
    await send_plain(context, chat_id, confirm, rows)
    raise ApplicationHandlerStop(CONFIRMING)


async def send_written(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Send: checked again now, then sent to the asker and kept as the office's answer."""
    [item] = context.matches[0].groups()
    wanted = pending(context, update.effective_chat.id)
    if not is_admin_here(update, context):
        await refuse(update, context)
        raise ApplicationHandlerStop(ConversationHandler.END)
    if wanted.get("item") != int(item) or not wanted.get("text"):
        await update.callback_query.answer(text=office_of(context).texts.get("reply_expired"), show_alert=True)
        raise ApplicationHandlerStop(ConversationHandler.END)
    outcome = await asyncio.to_thread(office_of(context).answer_with_text, int(item), wanted.pop("text"), actor_of(update))
    await show_outcome(update, context, outcome)
    raise ApplicationHandlerStop(ConversationHandler.END)


async def discard_written(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    [item] = context.matches[0].groups()
    pending(context, update.effective_chat.id).clear()
    await show_outcome(update, context, Outcome(True, office_of(context).texts.get("discarded", id=item)))
    raise ApplicationHandlerStop(ConversationHandler.END)


async def start_closing(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    [ref] = context.matches[0].groups()
    if await may_handle_case(update, context, ref) is None:
        await refuse(update, context)
        raise ApplicationHandlerStop(ConversationHandler.END)
    chat_id = update.effective_chat.id
    pending(context, chat_id).clear()
    pending(context, chat_id).update(ref=ref)
    await update.callback_query.answer()
    await send_plain(context, chat_id, office_of(context).texts.get("close_prompt", ref=ref))
    raise ApplicationHandlerStop(CLOSING)


async def got_note(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    ref = str(pending(context, update.effective_chat.id).pop("ref", ""))
    if await may_handle_case(update, context, ref) is None:  # checked again at the moment of the action
        await refuse(update, context)
        raise ApplicationHandlerStop(ConversationHandler.END)
    note = (update.effective_message.text or "").strip()
    outcome = await asyncio.to_thread(office_of(context).close, ref, note, actor_of(update))
    await send_plain(context, update.effective_chat.id, outcome.message)
    await flush_outbox(context)
    raise ApplicationHandlerStop(ConversationHandler.END)


async def cancel_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    pending(context, update.effective_chat.id).clear()
    await send_plain(context, update.effective_chat.id, office_of(context).texts.get("cancelled"))
    raise ApplicationHandlerStop(ConversationHandler.END)


async def end_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Another office command ends the wait; the command itself is handled as usual (next group)."""
    pending(context, update.effective_chat.id).clear()
    return ConversationHandler.END


def reply_conversation(minutes: float) -> ConversationHandler:
    words = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
    with warnings.catch_warnings():
        # PTB warns that with per_message=False a button is tracked per chat and user, not per message:
        # exactly what is wanted here (the admin who pressed, in that chat).
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CallbackQueryHandler(start_writing, pattern=office_pattern(WRITE)),
                CallbackQueryHandler(start_closing, pattern=office_pattern(CLOSE)),
            ],
            states={
                WRITING: [MessageHandler(words, got_answer)],
                CONFIRMING: [
                    CallbackQueryHandler(send_written, pattern=office_pattern(SEND)),
                    CallbackQueryHandler(discard_written, pattern=office_pattern(DISCARD)),
                ],
                CLOSING: [MessageHandler(words, got_note)],
            },
            fallbacks=[
                CommandHandler("cancel", cancel_reply, filters=COMMANDS_ONLY),
                CommandHandler(list(OFFICE_COMMANDS), end_reply, filters=COMMANDS_ONLY),
            ],
            per_chat=True,
            per_user=True,
            allow_reentry=True,
            conversation_timeout=minutes * 60,
            name="office_reply",
        )


def office_handlers(reply_minutes: float) -> dict[int, list]:
    """The office's handlers by group: the pending reply first (group -1), then commands and buttons."""
    buttons = [
        CallbackQueryHandler(on_answer_with, pattern=office_pattern(ANSWER_WITH)),
        CallbackQueryHandler(on_dismiss, pattern=office_pattern(DISMISS)),
        CallbackQueryHandler(on_acknowledge, pattern=office_pattern(ACKNOWLEDGE)),
        CallbackQueryHandler(on_evidence, pattern=office_pattern(EVIDENCE)),
        CallbackQueryHandler(on_forged, pattern=OFFICE_ANY),
    ]
    commands = [CommandHandler(name, handler, filters=COMMANDS_ONLY) for name, handler in COMMAND_HANDLERS.items()]
    commands.append(CommandHandler("desk", desk, filters=COMMANDS_ONLY))  # the office's desk: a sign-in link
    return {-1: [reply_conversation(reply_minutes)], 0: commands + buttons}
