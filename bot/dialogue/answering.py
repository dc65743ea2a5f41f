"""Answering a question in a turn: the advisor's reply with its buttons, the question recorded (its text only
for questions), and a question the bot could not answer put before the office."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import office_queue
from bot.answer_links import LINK_CHANNELS, link_url, new_token, token_hash
from bot.dialogue.outgoing import ButtonRows, Outgoing, short_label
from bot.protocol import person_button
from intents.advisor import Reply
from intents.flows import Button

if TYPE_CHECKING:
    from bot.dialogue.turn import Turn

SMALL_TALK = ("greeting", "thanks", "help")
QUESTION_INTENTS = ("question", "out_of_scope")  # what answer_message answers in words (no flow, no small talk)


def answer_message(turn: Turn, text: str, reply: Reply) -> list[Outgoing]:
    """What the person is shown for a message outside any flow."""
    role = turn.role or "staff"
    if reply.intent == "report_breach":
        return turn.start_flow("breach")
    if reply.intent == "complaint":
        return turn.start_flow("complaint")
    if reply.intent in SMALL_TALK:
        return [Outgoing(reply.reply)] + turn.role_reminder()
    keep_text = reply.intent in ("question", "out_of_scope")
    top = reply.matches[0].clause.id if reply.matches else ""
    question_id = turn.store.questions.record(
        turn.user_key, role, text if keep_text else "", reply.intent, reply.answered, reply.confidence, top if reply.answered else "",
        nearest=top, outcome="office_answer" if reply.answered and reply.office is not None else "",
    )
    if reply.intent == "out_of_scope":
        out = [Outgoing(reply.reply)]
    elif reply.answered and reply.office is not None:
        # The office's own earlier answer: no section to show in full, but feedback still counts.
        out = [Outgoing(reply.reply, (feedback_row(question_id),), answer=reply, kind="office_answer")]
    elif reply.answered:
        out = [Outgoing(reply.reply, answered_buttons(turn, reply, question_id, top), answer=reply, kind="answer")]
    else:
        out = unanswered(turn, text, reply, question_id)
    if reply.safeguarding:
        turn.state["pending_alert"] = {"text": text[:2000], "context": "message"}
        out.append(Outgoing(turn.texts.get("safeguarding.offer"), turn.offer_buttons(), kind="safeguarding"))
    return out + turn.role_reminder()


def feedback_row(question_id: int) -> tuple[Button, ...]:
    return (Button("👍", person_button("fb", "up", question_id)), Button("👎", person_button("fb", "dn", question_id)))


def answered_buttons(turn: Turn, reply: Reply, question_id: int, top: str) -> ButtonRows:
    """👍/👎, the full section, a report or concern, and each further clause one tap from its full text."""
    texts = turn.texts
    concern = (
        Button(texts.get("conversation.report_button"), person_button("go", "breach"))
        if (turn.role or "staff") == "staff"
        else Button(texts.get("conversation.concern_button"), person_button("go", "complaint"))
    )
    rows: ButtonRows = (feedback_row(question_id), (Button(texts.get("conversation.full_section"), person_button("sec", top)), concern))
    also = reply.answer.also if reply.answer is not None else ()
    return rows + tuple((Button(short_label(f"{c.label} {c.heading or c.title}"), person_button("sec", c.id)),) for c in also)


def unanswered(turn: Turn, text: str, reply: Reply, question_id: int) -> list[Outgoing]:
    """Kept for the office (noticed at once or with a burst, or in the daily digest), up to the person's daily
    share; the person sees the nearest sections and, on a channel that cannot reach them again, a private link
    where the answer will appear."""
    suggestions = list(reply.suggestions or reply.matches)[:3]
    store, person, settings = turn.store, turn.person, turn.dialogue.settings
    buttons = tuple(
        (Button(short_label(f"{m.clause.label} {m.clause.heading or m.clause.title}"), person_button("sec", m.clause.id)),) for m in suggestions
    )
    limit = settings.office_queue_per_person_per_day
    if not reply.safeguarding and office_queue.at_daily_limit(store, turn.user_key, limit):
        return [Outgoing(not_passed_on(turn, reply.reply, limit), buttons)]
    item_id = store.unanswered.add(
        question_id, turn.user_key, person.channel, person.chat_id, turn.role or "staff", text, [m.clause.id for m in suggestions]
    )
    if settings.office_notify == "each":
        office_queue.notify_office(store, turn.dialogue.office, store.unanswered.item(item_id), settings)
    out = [Outgoing(reply.reply, buttons)]
    if person.channel in LINK_CHANNELS:
        token = new_token()  # shown this once; only its hash is kept
        store.unanswered.set_link(item_id, token_hash(token))
        link = turn.texts.get("conversation.answer_link", url=link_url(settings, token))
        out.append(Outgoing(link.rstrip(), kind="answer_link"))
    return out


def not_passed_on(turn: Turn, reply_text: str, limit: int) -> str:
    """The reply, saying the question was not passed to the office today instead of "I've noted it"."""
    noted = turn.texts.get("responses.office_will_answer")
    full = turn.texts.get("conversation.office_queue_full", limit=limit)
    return reply_text.replace(noted, full) if noted in reply_text else f"{reply_text}\n\n{full}"


def feedback(turn: Turn, rest: str) -> list[Outgoing]:
    """A 👍 or 👎 pressed on an answer (`fb:up:12`)."""
    direction, _, qid = rest.partition(":")
    if direction not in ("up", "dn") or not qid.isdigit():
        return [turn.say("conversation.button_expired")]
    ok = turn.store.questions.record_feedback(int(qid), turn.user_key, 1 if direction == "up" else -1)
    if ok and direction == "dn":
        disliked_to_office(turn, int(qid))
    return [turn.say("conversation.feedback_thanks" if ok else "conversation.feedback_unknown")]


def disliked_to_office(turn: Turn, question_id: int) -> None:
    """A 👎 puts the question before the office again (its unanswered queue), with the answer that was disliked;
    once per question while it is open."""
    store, person = turn.store, turn.person
    question = store.questions.row("questions", question_id)
    if not question or not question.get("text") or store.unanswered.open_for_question(question_id) is not None:
        return
    clause = question.get("top_clause") or ""
    store.unanswered.add(
        question_id, turn.user_key, person.channel, person.chat_id, question.get("role") or turn.role or "staff",
        question["text"], [clause] if clause else [], disliked=clause or "?",
    )
