"""The school office's work, channel-free: unanswered questions, answering them (which teaches the bot),
the office's own answers the bot now gives, reports, cases, closing them and statistics (CSV export: bot/export.py).

An answer with a section teaches the engine the question (a taught question); an answer in the office's own
words is kept and given, labelled as the office's, to anyone who asks the same question later, until the
office unlearns it (an office answer). What is taught goes to the database and to the `Learner` (the running
advisor), when there is one.

Telegram handlers and `policybot office` call the same methods. Who may call them is checked by the caller
at the moment of each action (`Office.is_admin`); every action is written to the audit log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.protocol import ACKNOWLEDGE, ANSWER_WITH, CLOSE, DISMISS, EVIDENCE, WRITE, office_button
from bot.services import Learner
from bot.store import CASE_KINDS, OPEN_STATUSES, Case, Store, stamp
from bot.store.answers import ITEM_PREFIX  # U-12: one prefix for the store and the office
from bot.texts import for_office, quoted_section
from knowledge.office_answers import OfficeAnswer
from knowledge.pack import Pack
from knowledge.texts import Texts

ROUTE_FAILED_KIND = "route_failed"  # a reporter told their case has not reached its handler
CASE_NOTICE_KIND = "case"  # a case's notice to its handler (on Telegram, on email, or both)
OFFICE_ANSWER_PREFIX = "A-"  # an answer the office wrote, as the bot gives it again


@dataclass(frozen=True)
class Outcome:
    """The result of an office action: whether it happened, and what to tell the person who acted."""

    ok: bool
    message: str


def parse_item_ref(text: str) -> int | None:
    """"U-12" or "12" → 12; anything else → None."""
    text = (text or "").strip().upper().removeprefix(ITEM_PREFIX)
    return int(text) if text.isdigit() and len(text) < 10 else None


def parse_office_answer_ref(text: str) -> int | None:
    """"A-3" or "3" → 3; anything else → None."""
    text = (text or "").strip().upper().removeprefix(OFFICE_ANSWER_PREFIX)
    return int(text) if text.isdigit() and len(text) < 10 else None


def office_answer_of(row: dict) -> OfficeAnswer:
    """A stored row of `office_answers` as the advisor's entry."""
    return OfficeAnswer(
        id=int(row["id"]),
        question=row.get("question") or "",
        answer=row.get("answer") or "",
        answered_at=row.get("answered_at") or "",
        actor=row.get("answered_by") or "",
        role=row.get("role") or "",
    )


def load_office_answers(learner: Learner, store: Store) -> int:
    """Make the advisor give exactly the office answers this database holds (new ones learned, removed ones
    forgotten); returns how many changed."""
    return learner.follow_office_answers([office_answer_of(row) for row in store.answers.office_answers()])


def short_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%d %b %H:%M UTC")
    except (TypeError, ValueError):
        return iso or ""


class Office:
    """The office service over the store and the policy's clauses; what it answers teaches the `learner`
    (None in `policybot office`: the running bot learns from the database)."""

    def __init__(
        self,
        store: Store,
        pack: Pack,
        settings,
        learner: Learner | None,
        texts: Texts | None = None,
        person_texts: Texts | None = None,
    ):
        self.store = store
        self.pack = pack
        self.learner = learner
        self.settings = settings
        self.texts = texts or for_office(settings, pack)  # bot/data/office.yaml
        self.person_texts = person_texts  # bot.texts.for_people: what the asker/reporter is told

    # --- who may act ---------------------------------------------------------------------------------

    def is_admin(self, user_id: int | None, chat_id: int | None) -> bool:
        """Only ADMIN_USER_IDS, and only in the office chat or in private with the bot."""
        if user_id is None or int(user_id) not in self.settings.admin_user_ids:
            return False
        return chat_id is None or int(chat_id) == int(user_id) or int(chat_id) == self.settings.office_chat_id

    def is_escalation(self, user_id: int | None, chat_id: int | None) -> bool:
        """ESCALATION_USER_IDS (never office staff), in the escalation chat or in private with the bot: the
        people who see cases about the headteacher or the office (and only those)."""
        if user_id is None or int(user_id) not in getattr(self.settings, "escalation_user_ids", ()):
            return False
        if int(user_id) in self.settings.admin_user_ids:
            return False
        escalation = self.settings.escalation_chat_id
        return chat_id is None or int(chat_id) == int(user_id) or (escalation is not None and int(chat_id) == int(escalation))

    def may_handle(self, case: Case, user_id: int | None, chat_id: int | None) -> bool:
        """A case about the headteacher or the office is handled in the escalation chat only (by ESCALATION_USER_IDS
        when they are set); others by the office."""
        if case.route == "escalation":
            # Office staff never handle a report about themselves, even if they sit in the escalation chat.
            escalation = self.settings.escalation_chat_id
            in_chat = escalation is not None and chat_id is not None and int(chat_id) == int(escalation)
            if not in_chat or (user_id is not None and int(user_id) in self.settings.admin_user_ids):
                return False
            named = getattr(self.settings, "escalation_user_ids", ())
            return not named or (user_id is not None and int(user_id) in named)
        return self.is_admin(user_id, chat_id)

    # --- notices (what the office chat is sent) -----------------------------------------------------

    def unanswered_notice(self, item: dict) -> tuple[str, list[list[tuple[str, str]]]]:
        t = self.texts
        pack = self.pack
        clauses = [c for c in (pack.clause(cid) for cid in item.get("suggestions", [])[:3]) if c is not None]
        suggestions = (
            t.get("suggestions_line", sections=", ".join(f"{c.label} {c.title}".strip() for c in clauses))
            if clauses
            else t.get("no_suggestions")
        )
        text = t.get(
            "unanswered_notice",
            id=item["id"],
            role=item.get("role") or "staff",
            created=short_time(item.get("created", "")),
            text=item["text"],
            suggestions=suggestions,
        )
        rows = [[(t.get("answer_with", section=c.label), office_button(ANSWER_WITH, item["id"], c.id))] for c in clauses]
        rows.append([(t.get("write_answer"), office_button(WRITE, item["id"])), (t.get("dismiss"), office_button(DISMISS, item["id"]))])
        return text, rows

    def grouped_notice(self, items: list[dict]) -> tuple[str, list[list[tuple[str, str]]]]:
        """Several questions in one notice (a burst, bot/office_queue.py): each with its buttons, labelled U-n."""
        notices = [self.unanswered_notice(item) for item in items]
        text = "\n\n".join([self.texts.get("group_header", count=len(items))] + [body for body, _ in notices])
        rows = [
            [(self.texts.get("grouped_button", id=item["id"], label=label), action) for label, action in row]
            for item, (_, item_rows) in zip(items, notices)
            for row in item_rows
        ]
        return text, rows

    def case_notice(self, case: Case) -> tuple[str, list[list[tuple[str, str]]]]:
        t = self.texts
        row = dict(case.row)
        none = t.get("none_given")
        values = {k: (v if v not in (None, "") else none) for k, v in row.items()}
        if case.kind == "breach":
            evidence = json.loads(row.get("evidence") or "[]")
            clauses = json.loads(row.get("clauses") or "[]")
            values.update(
                urgent=t.get("urgent_marker") if row.get("urgent") else "",
                about_leadership=t.get("yes") if row.get("about_leadership") else t.get("no"),
                pupil_risk=t.get(f"pupil_risk.{row.get('pupil_risk') or 'none'}"),
                evidence_count=len(evidence),
                clauses=", ".join(clauses) or none,
                reporter=t.get("reporter_anonymous")
                if row.get("anonymous")
                else t.get("reporter_named", name=row.get("reporter_name") or none, role=row.get("role") or none),
            )
        if case.kind == "safeguarding":
            values["context"] = t.get(f"alert_context.{row.get('context') or 'message'}")
        text = t.get(f"case_notice.{case.kind}", **values)
        rows = [[(t.get("acknowledge"), office_button(ACKNOWLEDGE, case.ref)), (t.get("close_with_note"), office_button(CLOSE, case.ref))]]
        if case.kind == "breach" and json.loads(row.get("evidence") or "[]"):
            count = len(json.loads(row["evidence"]))
            rows.append([(t.get("show_evidence", count=count), office_button(EVIDENCE, case.ref))])
        return text, rows

    # --- unanswered questions -----------------------------------------------------------------------

    def unanswered(self) -> list[dict]:
        return self.store.unanswered.items("open")

    def unanswered_listing(self) -> str:
        items = self.unanswered()
        if not items:
            return self.texts.get("none_unanswered")
        return "\n".join(
            self.texts.get("unanswered_line", id=i["id"], role=i["role"], created=short_time(i["created"]), text=i["text"][:200])
            for i in items
        )

    def answer_with_clause(self, item_id: int, clause_ref: str, actor: str) -> Outcome:
        """Answer with a section: the asker gets the quoted clause, and the engine learns the question."""
        t = self.texts
        clause = self.pack.clause(clause_ref)
        if clause is None:
            found = self.pack.find_section(clause_ref)
            clause = found[0] if found else None
        if clause is None:
            return Outcome(False, t.get("unknown_section", section=clause_ref[:20]))
        item = self.store.unanswered.item(item_id)
        if item is None:
            return Outcome(False, t.get("unknown_item", ref=f"{ITEM_PREFIX}{item_id}"))
        pt = self.person_texts
        body = pt.get("conversation.office_answer_clause", question=item["text"], section=clause.label)
        message = f"{body}\n\n{quoted_section(pt, clause)}"
        with self.store.transaction():
            if not self.store.unanswered.resolve(item_id, "answered", actor, clause_id=clause.id):
                return Outcome(False, t.get("already_resolved", id=item_id, status=item["status"]))
            self.store.answers.teach_question(clause.id, item["text"])
            send_to_asker(self.store, item, message)
            self.store.audit.record(actor, "answer", f"{ITEM_PREFIX}{item_id}", f"section {clause.id}")
        if self.learner is not None:
            self.learner.learn_question(clause.id, item["text"])
        taught = t.get("taught", section=clause.label)
        return Outcome(True, t.get("answered", id=item_id, how=clause.label, actor=actor, taught=taught))

    def answer(self, item_id: int, answer: str, actor: str) -> Outcome:
        """`/answer U-n …`: a section of the pack ("6.13") answers with that clause; anything else is the office's words."""
        answer = answer.strip()
        if self.pack.find_section(answer) or self.pack.clause(answer):
            return self.answer_with_clause(item_id, answer, actor)
        return self.answer_with_text(item_id, answer, actor)

    def answer_with_text(self, item_id: int, answer: str, actor: str) -> Outcome:
        """Answer in the office's own words: the asker is sent it, and the bot keeps it for the same question
        asked again (the question's text and role only, not who asked)."""
        t = self.texts
        answer = (answer or "").strip()
        item = self.store.unanswered.item(item_id)
        if item is None:
            return Outcome(False, t.get("unknown_item", ref=f"{ITEM_PREFIX}{item_id}"))
        if not answer:
            return Outcome(False, t.get("answer_usage"))
        answer = answer[:3000]
        message = self.person_texts.get("conversation.office_answer", question=item["text"], answer=answer)
        with self.store.transaction():
            if not self.store.unanswered.resolve(item_id, "answered", actor, answer_text=answer):
                return Outcome(False, t.get("already_resolved", id=item_id, status=item["status"]))
            kept_id = self.store.answers.add_office_answer(item["text"], answer, item.get("role") or "", actor)
            send_to_asker(self.store, item, message)
            detail = f"written answer, kept as {OFFICE_ANSWER_PREFIX}{kept_id}"
            self.store.audit.record(actor, "answer", f"{ITEM_PREFIX}{item_id}", detail)
        row = self.store.answers.office_answer(kept_id)
        if self.learner is not None and row is not None:  # this process answers from it at once; others read the database
            self.learner.learn_office_answer(office_answer_of(row))
        taught = t.get("taught_text", ref=f"{OFFICE_ANSWER_PREFIX}{kept_id}")
        return Outcome(True, t.get("answered", id=item_id, how=t.get("written_answer"), actor=actor, taught=taught))

    # --- the office's own answers, as the bot gives them again ---------------------------------------

    def office_answers(self) -> list[OfficeAnswer]:
        return [office_answer_of(row) for row in self.store.answers.office_answers()]

    def office_answers_listing(self) -> str:
        entries = self.office_answers()
        if not entries:
            return self.texts.get("none_learned")
        return "\n".join(
            self.texts.get(
                "learned_line",
                ref=f"{OFFICE_ANSWER_PREFIX}{e.id}",
                role=e.role or "anyone",
                answered=short_time(e.answered_at),
                actor=e.actor,
                question=e.question[:200],
                answer=e.answer[:300],
            )
            for e in entries
        )

    def unlearn(self, answer_id: int, actor: str) -> Outcome:
        """Stop giving an answer the office wrote; it is removed from the database and from this bot."""
        t = self.texts
        ref = f"{OFFICE_ANSWER_PREFIX}{answer_id}"
        with self.store.transaction():
            if not self.store.answers.remove_office_answer(answer_id):
                return Outcome(False, t.get("unknown_learned", ref=ref))
            self.store.audit.record(actor, "unlearn", ref)
        if self.learner is not None:
            self.learner.forget_office_answer(answer_id)
        return Outcome(True, t.get("unlearned", ref=ref, actor=actor))

    def dismiss(self, item_id: int, actor: str) -> Outcome:
        t = self.texts
        item = self.store.unanswered.item(item_id)
        if item is None:
            return Outcome(False, t.get("unknown_item", ref=f"{ITEM_PREFIX}{item_id}"))
        with self.store.transaction():
            if not self.store.unanswered.resolve(item_id, "dismissed", actor):
                return Outcome(False, t.get("already_resolved", id=item_id, status=item["status"]))
            self.store.unanswered.drop_email(item_id)  # no answer will be emailed: the address is not kept
            self.store.audit.record(actor, "dismiss", f"{ITEM_PREFIX}{item_id}")
        return Outcome(True, t.get("dismissed", id=item_id, actor=actor))

    # --- cases --------------------------------------------------------------------------------------

    def reports(self, include_escalated: bool = False, *, audience: str = "", statuses: tuple[str, ...] = OPEN_STATUSES) -> list[Case]:
        """Cases in these statuses (open ones by default) that `audience` may see (`visible_to`); without an
        audience, the office's, plus those about the headteacher or the office when asked (the terminal)."""
        audience = audience or ("all" if include_escalated else "office")
        return [c for c in self.store.cases.with_status(statuses) if visible_to(c, audience)]

    def reports_listing(self, include_escalated: bool = False, *, audience: str = "", statuses: tuple[str, ...] = OPEN_STATUSES) -> str:
        cases = self.reports(include_escalated, audience=audience, statuses=statuses)
        if not cases:
            return self.texts.get("none_open")
        return "\n".join(self.case_line(c) for c in cases)

    def case_line(self, case: Case) -> str:
        t = self.texts
        return t.get(
            "case_line",
            ref=case.ref,
            kind=t.get(f"kinds.{case.kind}"),
            status=t.get(f"status_names.{case.status}"),
            created=short_time(case.row.get("created", "")),
            urgent=t.get("urgent_tag") if case.row.get("urgent") else "",
        )

    def case_detail(self, ref: str, include_escalated: bool = False, *, audience: str = "") -> Outcome:
        case = self.store.cases.get(ref)
        if case is None or not visible_to(case, audience or ("all" if include_escalated else "office")):
            return Outcome(False, self.texts.get("unknown_case", ref=(ref or "")[:20]))
        text, _ = self.case_notice(case)
        extra = [self.case_line(case)]
        if case.row.get("acknowledged_by"):
            extra.append(self.texts.get("acknowledged_line", actor=case.row["acknowledged_by"], at=short_time(case.row["acknowledged_at"])))
        if case.row.get("closed_by"):
            extra.append(
                self.texts.get("closed_line", actor=case.row["closed_by"], at=short_time(case.row["closed_at"]), note=case.row["close_note"])
            )
        return Outcome(True, text + "\n\n" + "\n".join(extra))

    def acknowledge(self, ref: str, actor: str) -> Outcome:
        t = self.texts
        case = self.store.cases.get(ref)
        if case is None:
            return Outcome(False, t.get("unknown_case", ref=(ref or "")[:20]))
        if case.status != "open":
            return Outcome(False, t.get("already_closed", ref=case.ref) if case.status == "closed" else t.get("acknowledged", ref=case.ref, actor=case.row["acknowledged_by"]))
        with self.store.transaction():
            self.store.cases.update(case.ref, {"status": "acknowledged", "acknowledged_by": actor, "acknowledged_at": stamp(self.store.now())})
            self.store.audit.record(actor, "acknowledge", case.ref)
        return Outcome(True, t.get("acknowledged", ref=case.ref, actor=actor))

    def close(self, ref: str, note: str, actor: str) -> Outcome:
        """Close a case with a note; a reporter who gave their identity is told."""
        t = self.texts
        note = (note or "").strip()
        case = self.store.cases.get(ref)
        if case is None:
            return Outcome(False, t.get("unknown_case", ref=(ref or "")[:20]))
        if not note:
            return Outcome(False, t.get("close_usage"))
        if case.status == "closed":
            return Outcome(False, t.get("already_closed", ref=case.ref))
        closing = {"status": "closed", "closed_by": actor, "closed_at": stamp(self.store.now()), "close_note": note[:2000]}
        with self.store.transaction():
            if not self.store.cases.update(case.ref, closing, unless_status="closed"):
                return Outcome(False, t.get("already_closed", ref=case.ref))
            self.store.audit.record(actor, "close", case.ref, note[:200])
            if case.row.get("reporter_chat") and self.person_texts is not None:
                pt = self.person_texts
                kind = pt.get(f"conversation.case_kinds.{case.kind}")
                tell_reporter(self.store, case, "case_update", pt.get("conversation.closed_notice", kind=kind, ref=case.ref, note=note[:1000]))
        return Outcome(True, t.get("closed", ref=case.ref, actor=actor, note=note[:500]))

    def route_failed(self, ref: str) -> bool:
        """A case's notice could not reach its handler: a reporter who gave their identity is told so, once,
        honestly, with the DSL's and the local authority's contacts. True if they were told now."""
        case = self.store.cases.get(ref)
        if case is None or not case.row.get("reporter_chat") or self.person_texts is None:
            return False
        if self.store.outbox.has(kind=ROUTE_FAILED_KIND, ref=ref):
            return False
        if self.store.outbox.delivered(kind=CASE_NOTICE_KIND, ref=ref):  # it reached its handler another way
            return False
        pt = self.person_texts
        message = pt.get("conversation.route_failed", ref=ref, handler=pt.get(f"conversation.handlers.{case.route}"))
        with self.store.transaction():
            tell_reporter(self.store, case, ROUTE_FAILED_KIND, message)
            self.store.audit.record("bot", "route_failed", ref)
        return True

    def evidence(self, ref: str) -> list:
        """A breach report's screenshots: Telegram file ids, and the files of those sent through the web chat."""
        case = self.store.cases.get(ref)
        if case is None or case.kind != "breach":
            return []
        ids = [str(i) for i in json.loads(case.row.get("evidence") or "[]")]
        files = [(i, self.store.evidence.path(i)) for i in ids]
        return [path if path is not None else i for i, path in files if path is None or path.exists()]

    # --- statistics and export ------------------------------------------------------------------------

    def stats_text(self, days: int = 14) -> str:
        s = self.store.stats(days)
        # Count only what the office may see: reports about the office itself stay out of its numbers.
        open_cases = {name: 0 for name in CASE_KINDS}
        for case in self.reports():
            open_cases[case.kind] += 1
        s["open_cases"] = open_cases
        share = round(100 * s["answered"] / s["questions"]) if s["questions"] else 0
        per_day = ", ".join(f"{day[5:]}: {n}" for day, n, _ in s["per_day"]) or "—"
        top = ", ".join(f"{clause} ({n})" for clause, n in s["top_sections"]) or "—"
        return self.texts.get(
            "stats",
            days=days,
            questions=s["questions"],
            answered=s["answered"],
            share=share,
            per_day=per_day,
            top=top,
            up=s["thumbs_up"],
            down=s["thumbs_down"],
            open_unanswered=s["open_unanswered"],
            open_breach=s["open_cases"]["breach"],
            open_complaint=s["open_cases"]["complaint"],
            open_safeguarding=s["open_cases"]["safeguarding"],
            undelivered=s["undelivered"],
        )

    # --- digest ------------------------------------------------------------------------------------

    def digest(self) -> list[tuple[str, list[list[tuple[str, str]]]]]:
        """The daily digest: a header, then one notice (with buttons) per open question."""
        items = self.unanswered()
        if not items:
            return []
        return [(self.texts.get("digest_header", count=len(items)), [])] + [self.unanswered_notice(i) for i in items]


AUDIENCES = ("office", "escalation", "all")


def visible_to(case: Case, audience: str) -> bool:
    """Who sees which case, in every channel: the office sees the cases routed to it; ESCALATION_USER_IDS (the
    escalation) see only those about the headteacher or the office; "all" is the terminal, which holds the
    database anyway."""
    if audience == "all":
        return True
    return (case.route == "escalation") == (audience == "escalation")


def tell_reporter(store: Store, case: Case, kind: str, message: str) -> None:
    """Queue a message for the person who raised a case (one who gave their identity), on their channel."""
    store.outbox.enqueue(
        target="user",
        channel=case.row.get("reporter_channel") or "telegram",
        chat_id=case.row["reporter_chat"],
        user_key=case.row.get("reporter_key") or "",
        kind=kind,
        ref=case.ref,
        text=message,
    )


def send_to_asker(store: Store, item: dict, message: str) -> None:
    """Queue the office's answer for the person who asked an unanswered question, on their channel; a web asker
    also finds it on their private link, and by email if they gave an address (looked up from the question
    when it is sent, so the address is kept nowhere else)."""
    ref = f"{ITEM_PREFIX}{item['id']}"
    user_key = item.get("user_key") or ""
    store.outbox.enqueue(
        target="user",
        channel=item.get("channel") or "telegram",
        chat_id=item.get("chat_id") or "",
        user_key=user_key,
        kind="answer",
        ref=ref,
        text=message,
    )
    current = store.unanswered.item(item["id"]) or item  # the address may have been given since `item` was read
    if current.get("link_hash"):
        store.unanswered.set_answer_message(item["id"], message)
    if current.get("email"):
        store.outbox.enqueue(target="user", channel="email", user_key=user_key, kind="answer", ref=ref, text=message)
