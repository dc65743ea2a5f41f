"""What a turn stores: a finished report or complaint, or a safeguarding alert the person accepted, each as a
case with a reference, and the notice queued for the office (or the escalation chat) in the same transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.dialogue.outgoing import Outgoing, Person
from bot.office_routes import queue_notice

if TYPE_CHECKING:
    from bot.dialogue.turn import Turn


ANONYMOUS = {"reporter_key": "", "reporter_channel": "", "reporter_chat": "", "reporter_name": ""}


def reporter_fields(person: Person, user_key: str) -> dict:
    """Who reported, and where to tell them the outcome (ANONYMOUS instead, when they chose to be)."""
    return {"reporter_key": user_key, "reporter_channel": person.channel, "reporter_chat": person.chat_id, "reporter_name": person.name}


def breach_fields(submission: dict, reporter: dict, role: str) -> dict:
    anonymous = submission.get("anonymous") == "anonymous"
    leadership = submission.get("leadership") == "yes"
    risk = submission.get("pupil_risk") or "none"
    return {
        **(ANONYMOUS if anonymous else reporter),
        "role": role,
        "routed_to": "escalation" if leadership else "office",
        "urgent": risk == "harm",
        "anonymous": anonymous,
        "what": submission.get("what", ""),
        "where_": submission.get("where", ""),
        "when_": submission.get("when", ""),
        "who": submission.get("who", ""),
        "about_leadership": leadership,
        "pupil_risk": risk,
        "data_protection": risk == "identifiable",
        "evidence": list(submission.get("evidence") or []),
        "clauses": list(submission.get("clauses") or []),
    }


def complaint_fields(submission: dict, reporter: dict, role: str) -> dict:
    return {
        **reporter,
        "role": role,
        "routed_to": "office",
        "urgent": False,
        "about": submission.get("about", ""),
        "who": submission.get("who", ""),
        "child": submission.get("child", ""),
        "tried": submission.get("tried", ""),
        "outcome": submission.get("outcome", ""),
        "contact": submission.get("contact", ""),
    }


def store_submission(turn: Turn, submission: dict) -> Outgoing:
    """A finished breach report or complaint: stored, the office told, and the person given its reference."""
    kind = submission["kind"]
    role = turn.role or ("parent" if kind == "complaint" else "staff")
    reporter = reporter_fields(turn.person, turn.user_key)
    texts = turn.texts
    if kind == "breach":
        fields = breach_fields(submission, reporter, role)
        ref = turn.store.cases.create("breach", fields)
        notify_office(turn, ref)
        status_key = "conversation.status_line_anonymous" if fields["anonymous"] else "conversation.status_line_named"
        return Outgoing(
            texts.get(
                "conversation.stored.breach",
                ref=ref,
                handler=texts.get(f"conversation.handlers.{fields['routed_to']}"),
                status_line=texts.get(status_key, ref=ref),
            )
        )
    fields = complaint_fields(submission, reporter, role)
    ref = turn.store.cases.create("complaint", fields)
    notify_office(turn, ref)
    return Outgoing(texts.get("conversation.stored.complaint", ref=ref, contact=fields["contact"] or "—"))


def raise_alert(turn: Turn, pending: dict) -> str:
    """A safeguarding alert the person accepted; returns its reference."""
    fields = {
        **reporter_fields(turn.person, turn.user_key),
        "role": turn.role or "",
        "routed_to": "escalation" if pending.get("about_head") else "office",
        "urgent": True,
        "text": pending.get("text", ""),
        "context": pending.get("context", "message"),
    }
    ref = turn.store.cases.create("safeguarding", fields)
    notify_office(turn, ref)
    return ref


def notify_office(turn: Turn, ref: str) -> None:
    office = turn.dialogue.office
    case = turn.store.cases.get(ref)
    notice, rows = office.case_notice(case)
    queue_notice(turn.store, turn.dialogue.settings, target=case.route, text=notice, buttons=rows, kind="case", ref=ref)
