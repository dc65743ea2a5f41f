"""One person's turn, channel-free: a message, a button or a photo in; the replies to show out.

Telegram and the console both call `Dialogue.handle`. It asks the advisor, drives the flows in `intents/`,
stores what must be stored and queues what the office must see — all in one SQLite transaction per turn,
together with the update id, so a turn delivered twice is handled once and a restart continues where the
person was. Replies are data (`Outgoing`); channels render them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Iterable

import sqlite_utils

from bot.office import Office, load_office_answers
from bot.storage import Storage
from bot.texts import for_office, for_people, quoted_section
from intents.classify import IntentResult, interrupts_step
from intents.flows import (
    ALERT_ACTION,
    DECLINE_ACTION,
    FLOWS,
    Button,
    ClauseChoice,
    FlowContext,
    FlowInput,
    FlowOutcome,
    Prompt,
    safeguarding_prompt,
)
from knowledge.texts import Texts

log = logging.getLogger(__name__)

ROLES = ("staff", "parent")
MAX_MESSAGE_CHARS = 4000  # a flow answer may be long; beyond this we ask the person to shorten
SUGGESTION_FLOOR = 0.3  # an engine match below this is not worth offering as a breached clause
OFFICE_COMMANDS = {"unanswered", "reports", "case", "close", "stats", "answer", "answers", "unlearn"}


@dataclass(frozen=True)
class Person:
    """Who is talking, on which channel, and where replies to them go."""

    channel: str  # telegram | console
    user_id: str
    chat_id: str
    name: str = ""  # as the channel knows them; stored only on a report they choose to sign


@dataclass(frozen=True)
class Outgoing:
    """One reply: plain text and buttons, or an answer / a section the channel renders richly."""

    text: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()
    answer: object | None = None  # intents.advisor.Reply with a composed answer (or the office's own answer)
    section: object | None = None  # knowledge.clause.Clause, quoted in full
    kind: str = "text"  # text | answer | office_answer | section | safeguarding


class Dialogue:
    """The conversation service shared by every channel."""

    def __init__(self, advisor, storage: Storage, settings, texts: Texts | None = None, office: Office | None = None):
        self.advisor = advisor
        self.storage = storage
        self.settings = settings
        pack = advisor.engine.pack
        self.pack = pack
        self.texts = texts or for_people(settings, pack)
        self.office = office or Office(storage, advisor, settings, for_office(settings, pack), self.texts)
        # The office's own answers come from this database: the advisor gives exactly those.
        load_office_answers(advisor, storage)

    # --- entry point -------------------------------------------------------------------------------

    def handle(
        self,
        person: Person,
        *,
        text: str = "",
        action: str = "",
        photo: str = "",
        update_id: int | str | None = None,
        journal: Callable[[sqlite_utils.Database, str, list[Outgoing]], None] | None = None,
    ) -> list[Outgoing]:
        """Handle one input from one person; returns what to show them (possibly nothing).

        `journal(db, user_key, replies)` lets a channel record the replies in the turn's own transaction
        (Telegram puts them in the outbox), so a process killed before sending them still sends them later."""
        user_key = self.storage.user_key(person.channel, person.user_id)
        if update_id is not None and self.storage.already_handled(f"{person.channel}:{update_id}"):
            return []
        text = text or ""
        role = self.storage.role_of(user_key)
        # The model runs before the database lock is taken, so one slow answer does not hold up others.
        reply = None
        if text.strip() and not text.startswith("/") and not action and len(text) <= MAX_MESSAGE_CHARS:
            reply = self.advisor.respond(text, role or "staff")
        with self.storage.transaction() as db:
            state = self.storage.load_state(user_key)
            turn = _Turn(self, person, user_key, role, state, db)
            if action:
                out = turn.on_action(action)
            elif photo:
                out = turn.on_photo(photo)
            elif text.startswith("/"):
                out = turn.on_command(text)
            else:
                out = turn.on_text(text, reply)
            self.storage.save_state(user_key, turn.state, db)
            if update_id is not None:
                self.storage.mark_handled(f"{person.channel}:{update_id}", db)
            if journal is not None:
                journal(db, user_key, out)
        return out

    def resume(self, person: Person) -> list[Outgoing]:
        """Where the person was, if they were in the middle of a flow (after a restart); changes nothing."""
        user_key = self.storage.user_key(person.channel, person.user_id)
        turn = _Turn(self, person, user_key, self.storage.role_of(user_key), self.storage.load_state(user_key), None)
        if not turn.flow_state():
            return []
        return [turn.say("conversation.resume")] + turn.ask_again()

    # --- helpers the turn uses ----------------------------------------------------------------------

    def suggest_clauses(self, description: str) -> list[ClauseChoice]:
        try:
            search = self.advisor.engine.search(description, "staff")
        except Exception:  # a suggestion is a convenience; the report must go on without it
            log.exception("clause suggestion failed")
            return []
        return [
            ClauseChoice(m.clause.id, m.clause.label, m.clause.title) for m in search.matches if m.score >= SUGGESTION_FLOOR
        ][:3]

    def find_section(self, typed: str) -> list[ClauseChoice]:
        return [ClauseChoice(c.id, c.label, c.title) for c in self.pack.find_section(typed)]

    def flow_context(self, role: str | None) -> FlowContext:
        return FlowContext(self.texts, self.suggest_clauses, self.find_section, role or "staff")

    def is_safeguarding(self, text: str) -> bool:
        """A quick check, without the model, that a message may be about a child at risk (never rate-limited)."""
        rules = getattr(getattr(self.advisor, "classifier", None), "rules", None)
        try:
            return bool(rules and rules.risk_in(text))
        except Exception:
            return False

    def interrupts_flow(self, text: str, reply, flow: dict) -> bool:
        """Mid-flow, an answer to a step is weighed by what the step asked for (intents.classify.interrupts_step):
        "TikTok" for "where was it posted?" is an answer, not a child at risk."""
        rules = getattr(getattr(self.advisor, "classifier", None), "rules", None)
        if rules is None:
            return False
        expects = FLOWS[flow["flow"]].expects(flow)
        scores = reply.scores if isinstance(getattr(reply, "scores", None), dict) else {}
        result = IntentResult(reply.intent, scores, bool(getattr(reply, "safeguarding", False))) if reply is not None else None
        try:
            return interrupts_step(text, expects, result, rules)
        except Exception:  # the flow goes on; the rules are checked again below
            log.exception("mid-flow safeguarding check failed")
            return self.is_safeguarding(text)

    def safeguarding_text(self) -> str:
        """The safeguarding reply (`responses.safeguarding`, the advisor's: one text for the school to keep)."""
        return self.texts.get("responses.safeguarding")


class _Turn:
    """The work of one turn, inside one transaction."""

    def __init__(self, dialogue: Dialogue, person: Person, user_key: str, role: str | None, state: dict, db):
        self.d = dialogue
        self.t = dialogue.texts
        self.person = person
        self.user_key = user_key
        self.role = role
        self.state = state
        self.db = db

    # --- inputs ----------------------------------------------------------------------------------

    def on_command(self, text: str) -> list[Outgoing]:
        head, _, rest = text.strip().partition(" ")
        command = head[1:].split("@", 1)[0].lower()
        args = rest.strip()
        handler = getattr(self, f"cmd_{command}", None)
        if handler is None or command in OFFICE_COMMANDS:
            return [self.say("conversation.unknown_command")]
        return handler(args)

    def on_action(self, action: str) -> list[Outgoing]:
        kind, _, rest = action.partition(":")
        if action == "cancel":
            return self.cmd_cancel("")
        if kind == "role" and rest in ROLES:
            return self.set_role(rest)
        if kind == "fb":
            return self.feedback(rest)
        if kind == "sec":
            clause = self.d.pack.clause(rest)
            return [self.section(clause)] if clause else [self.say("conversation.button_expired")]
        if kind == "go" and rest in FLOWS:
            return self.start_flow(rest)
        if action in (ALERT_ACTION, DECLINE_ACTION):
            return self.alert_choice(action == ALERT_ACTION)
        if kind == "fg":
            return self.forget(rest == "yes")
        if kind == "f" and self.flow_state():
            return self.step(FlowInput(action=action))
        return [self.say("conversation.button_expired")]

    def on_photo(self, photo: str) -> list[Outgoing]:
        if self.flow_state():
            return self.step(FlowInput(photo=photo))
        # A photo outside a report's evidence step is not kept.
        return [self.say("conversation.not_a_text")]

    def on_text(self, text: str, reply) -> list[Outgoing]:
        if not text.strip():
            return [self.say("responses.empty")]
        if len(text) > MAX_MESSAGE_CHARS:
            too_long = [self.say("conversation.too_long", length=len(text), limit=MAX_MESSAGE_CHARS)]
            # Even an over-long message is read for a child at risk before anything else.
            return (self.safeguarding(text, "") if self.d.is_safeguarding(text) else []) + too_long
        in_flow = bool(self.flow_state())
        at_risk = reply is not None and (self.d.interrupts_flow(text, reply, self.flow_state()) if in_flow else reply.intent == "safeguarding")
        if at_risk:
            out = self.safeguarding(text, reply.reply)
            if in_flow:
                out += [self.say("conversation.resume")] + self.ask_again()
            return out
        if in_flow:
            return self.step(FlowInput(text=text))
        return self.answer(text, reply)

    # --- answering -----------------------------------------------------------------------------

    def answer(self, text: str, reply) -> list[Outgoing]:
        role = self.role or "staff"
        if reply.intent == "report_breach":
            return self.start_flow("breach")
        if reply.intent == "complaint":
            return self.start_flow("complaint")
        if reply.intent in ("greeting", "thanks", "help"):
            out = [Outgoing(reply.reply)]
            return out + self.role_reminder()
        keep_text = reply.intent in ("question", "out_of_scope")
        top = reply.matches[0].clause.id if reply.matches else ""
        question_id = self.d.storage.record_question(
            self.user_key, role, text if keep_text else "", reply.intent, reply.answered, reply.confidence, top if reply.answered else ""
        )
        out: list[Outgoing] = []
        if reply.intent == "out_of_scope":
            out.append(Outgoing(reply.reply))
        elif reply.answered and getattr(reply, "office", None) is not None:
            # The office's own earlier answer: no section to show in full, but feedback still counts.
            buttons = ((Button("👍", f"fb:up:{question_id}"), Button("👎", f"fb:dn:{question_id}")),)
            out.append(Outgoing(reply.reply, buttons, answer=reply, kind="office_answer"))
        elif reply.answered:
            concern = (
                Button(self.t.get("conversation.report_button"), "go:breach")
                if role == "staff"
                else Button(self.t.get("conversation.concern_button"), "go:complaint")
            )
            buttons = (
                (Button("👍", f"fb:up:{question_id}"), Button("👎", f"fb:dn:{question_id}")),
                (Button(self.t.get("conversation.full_section"), f"sec:{top}"), concern),
            )
            # "What bears on this": each further clause is one tap from its full text.
            also = getattr(reply.answer, "also", ()) if reply.answer is not None else ()
            buttons += tuple((Button(short_label(f"{c.label} {c.heading or c.title}"), f"sec:{c.id}"),) for c in also)
            out.append(Outgoing(reply.reply, buttons, answer=reply, kind="answer"))
        else:
            suggestions = list(reply.suggestions or reply.matches)[:3]
            item_id = self.d.storage.add_unanswered(
                question_id,
                self.user_key,
                self.person.channel,
                self.person.chat_id,
                role,
                text,
                [m.clause.id for m in suggestions],
                db=self.db,
            )
            if self.d.settings.office_notify == "each":
                item = self.d.storage.unanswered_item(item_id)
                notice, rows = self.d.office.unanswered_notice(item)
                self.d.storage.enqueue(self.db, target="office", text=notice, buttons=rows, kind="unanswered", ref=f"U-{item_id}")
            buttons = tuple(
                (Button(short_label(f"{m.clause.label} {m.clause.heading or m.clause.title}"), f"sec:{m.clause.id}"),)
                for m in suggestions
            )
            out.append(Outgoing(reply.reply, buttons))
        if reply.safeguarding:
            self.state["pending_alert"] = {"text": text[:2000], "context": "message"}
            out.append(Outgoing(self.t.get("safeguarding.offer"), self.offer_buttons(), kind="safeguarding"))
        return out + self.role_reminder()

    def role_reminder(self) -> list[Outgoing]:
        """Ask once for the role when someone starts asking without /start (answers fit staff meanwhile)."""
        if self.role or self.state.get("role_asked"):
            return []
        self.state["role_asked"] = True
        return [Outgoing(self.t.get("conversation.role_needed"), self.role_buttons())]

    def feedback(self, rest: str) -> list[Outgoing]:
        direction, _, qid = rest.partition(":")
        if direction not in ("up", "dn") or not qid.isdigit():
            return [self.say("conversation.button_expired")]
        ok = self.d.storage.record_feedback(int(qid), self.user_key, 1 if direction == "up" else -1)
        return [self.say("conversation.feedback_thanks" if ok else "conversation.feedback_unknown")]

    def section(self, clause) -> Outgoing:
        return Outgoing(quoted_section(self.t, clause), section=clause, kind="section")

    # --- flows ---------------------------------------------------------------------------------

    def flow_state(self) -> dict | None:
        flow = self.state.get("flow")
        return flow if isinstance(flow, dict) and flow.get("flow") in FLOWS else None

    def start_flow(self, name: str) -> list[Outgoing]:
        current = self.flow_state()
        if current and current["flow"] != name:
            flow_name = self.t.get(f"conversation.case_kinds.{current['flow']}")
            return [self.say("conversation.flow_in_progress", flow=flow_name)] + self.ask_again()
        if current:
            return self.ask_again()
        outcome = FLOWS[name].start(self.d.flow_context(self.role))
        return self.apply(name, outcome)

    def ask_again(self) -> list[Outgoing]:
        flow = self.flow_state()
        if not flow:
            return []
        prompts = FLOWS[flow["flow"]].ask(flow, self.d.flow_context(self.role))
        return [self.prompt(p) for p in prompts]

    def step(self, given: FlowInput) -> list[Outgoing]:
        flow = self.flow_state()
        outcome = FLOWS[flow["flow"]].handle(flow, given, self.d.flow_context(self.role))
        return self.apply(flow["flow"], outcome)

    def apply(self, name: str, outcome: FlowOutcome) -> list[Outgoing]:
        answers = (outcome.state or self.flow_state() or {}).get("answers", {})
        if outcome.state is None:
            self.state.pop("flow", None)
        else:
            self.state["flow"] = outcome.state
        out: list[Outgoing] = []
        if outcome.safeguarding:
            self.state["pending_alert"] = {"text": str(answers.get("what", ""))[:2000], "context": name}
            prompt = safeguarding_prompt(self.d.flow_context(self.role), urgent=True)
            out.append(Outgoing(prompt.text, prompt.buttons, kind="safeguarding"))
        if outcome.allegation:
            about_head = answers.get("leadership") == "yes"
            self.state["pending_alert"] = {
                "text": str(answers.get("what", ""))[:2000],
                "context": "allegation",
                "about_head": about_head,
            }
        out += [self.prompt(p) for p in outcome.prompts]
        if outcome.submission:
            out.append(self.store(outcome.submission))
        return out

    def store(self, submission: dict) -> Outgoing:
        kind = submission["kind"]
        storage = self.d.storage
        person = self.person
        role = self.role or ("parent" if kind == "complaint" else "staff")
        if kind == "breach":
            anonymous = submission.get("anonymous") == "anonymous"
            leadership = submission.get("leadership") == "yes"
            risk = submission.get("pupil_risk") or "none"
            fields = {
                "reporter_key": "" if anonymous else self.user_key,
                "reporter_channel": "" if anonymous else person.channel,
                "reporter_chat": "" if anonymous else person.chat_id,
                "reporter_name": "" if anonymous else person.name,
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
            ref = storage.create_case("BR", fields, self.db)
        else:
            fields = {
                "reporter_key": self.user_key,
                "reporter_channel": person.channel,
                "reporter_chat": person.chat_id,
                "reporter_name": person.name,
                "role": role,
                "routed_to": "office",
                "urgent": False,
                "about": submission.get("about", ""),
                "who": submission.get("who", ""),
                "tried": submission.get("tried", ""),
                "outcome": submission.get("outcome", ""),
                "contact": submission.get("contact", ""),
            }
            ref = storage.create_case("CR", fields, self.db)
        self.notify_office(ref)
        if kind == "breach":
            status_key = "conversation.status_line_anonymous" if fields["anonymous"] else "conversation.status_line_named"
            text = self.t.get(
                "conversation.stored.breach",
                ref=ref,
                handler=self.t.get(f"conversation.handlers.{fields['routed_to']}"),
                status_line=self.t.get(status_key, ref=ref),
            )
        else:
            text = self.t.get("conversation.stored.complaint", ref=ref, contact=fields["contact"] or "—")
        return Outgoing(text)

    def notify_office(self, ref: str) -> None:
        case = self.d.storage.case(ref)
        notice, rows = self.d.office.case_notice(case)
        self.d.storage.enqueue(self.db, target=self.d.office.target_for(case), text=notice, buttons=rows, kind="case", ref=ref)

    # --- safeguarding ----------------------------------------------------------------------------

    def offer_buttons(self) -> tuple[tuple[Button, ...], ...]:
        return (
            (Button(self.t.get("safeguarding.alert_button"), ALERT_ACTION),),
            (Button(self.t.get("safeguarding.decline_button"), DECLINE_ACTION),),
        )

    def safeguarding(self, text: str, reply_text: str) -> list[Outgoing]:
        context = self.flow_state()["flow"] if self.flow_state() else "message"
        self.state["pending_alert"] = {"text": text[:2000], "context": context}
        return [Outgoing(reply_text or self.d.safeguarding_text(), self.offer_buttons(), kind="safeguarding")]

    def alert_choice(self, accepted: bool) -> list[Outgoing]:
        pending = self.state.pop("pending_alert", None)
        if not pending:
            return [self.say("safeguarding.no_offer")]
        if not accepted:
            return [self.say("safeguarding.declined")]
        person = self.person
        fields = {
            "reporter_key": self.user_key,
            "reporter_channel": person.channel,
            "reporter_chat": person.chat_id,
            "reporter_name": person.name,
            "role": self.role or "",
            "routed_to": "escalation" if pending.get("about_head") else "office",
            "urgent": True,
            "text": pending.get("text", ""),
            "context": pending.get("context", "message"),
        }
        ref = self.d.storage.create_case("SA", fields, self.db)
        self.notify_office(ref)
        return [self.say("safeguarding.alerted", ref=ref)]

    # --- commands --------------------------------------------------------------------------------

    def cmd_start(self, args: str) -> list[Outgoing]:
        out = [self.say("conversation.welcome"), Outgoing(self.t.get("conversation.ask_role"), self.role_buttons())]
        if self.flow_state():
            out += [self.say("conversation.resume")] + self.ask_again()
        return out

    def cmd_role(self, args: str) -> list[Outgoing]:
        if args.lower() in ROLES:
            return self.set_role(args.lower())
        if self.role:
            role_name = self.t.get(f"conversation.role_names.{self.role}")
            return [Outgoing(self.t.get("conversation.role_current", role=role_name), self.role_buttons())]
        return [Outgoing(self.t.get("conversation.ask_role"), self.role_buttons())]

    def role_buttons(self) -> tuple[tuple[Button, ...], ...]:
        return ((Button(self.t.get("conversation.roles.staff"), "role:staff"), Button(self.t.get("conversation.roles.parent"), "role:parent")),)

    def set_role(self, role: str) -> list[Outgoing]:
        self.d.storage.set_role(self.user_key, role)
        self.role = role
        out = [self.say(f"conversation.role_set.{role}")]
        if self.flow_state():
            out += [self.say("conversation.resume")] + self.ask_again()
        return out

    def cmd_help(self, args: str) -> list[Outgoing]:
        return [self.say("responses.help")]

    def cmd_privacy(self, args: str) -> list[Outgoing]:
        return [self.say("conversation.privacy")]

    def cmd_agreement(self, args: str) -> list[Outgoing]:
        clauses = self.d.pack.agreement_clauses()
        if not clauses:
            return [self.say("conversation.no_agreement")]
        signed = [c for c in clauses if c.id.endswith("-agreement")] or clauses
        return [self.say("conversation.agreement_intro", section=signed[0].section)] + [self.section(c) for c in signed]

    def cmd_section(self, args: str) -> list[Outgoing]:
        wanted = args.strip().removeprefix("section").strip()
        if not wanted:
            return [self.say("conversation.section_usage")]
        found = self.d.pack.find_section(wanted)
        if not found:
            return [self.say("conversation.section_unknown", section=wanted[:20], sections=self.section_list())]
        return [self.section(c) for c in found]

    def section_list(self) -> str:
        seen: list[str] = []
        for clause in self.d.pack.clauses:
            if clause.section not in seen:
                seen.append(clause.section)
        return ", ".join(seen)

    def cmd_report(self, args: str) -> list[Outgoing]:
        return self.start_flow("breach")

    def cmd_complaint(self, args: str) -> list[Outgoing]:
        return self.start_flow("complaint")

    def cmd_cancel(self, args: str) -> list[Outgoing]:
        had = bool(self.flow_state())
        self.state.pop("flow", None)
        self.state.pop("forget", None)
        return [self.say("conversation.cancelled" if had else "conversation.nothing_to_cancel")]

    def cmd_status(self, args: str) -> list[Outgoing]:
        ref = args.strip().upper()
        if not ref:
            return [self.say("conversation.status_usage")]
        case = self.d.storage.case(ref)
        # The same answer for "no such case" and "not yours": nobody learns about others' reports.
        if case is None or not case.row.get("reporter_key") or case.row["reporter_key"] != self.user_key:
            return [self.say("conversation.status_unknown")]
        return [
            self.say(
                "conversation.status",
                ref=case.ref,
                kind=self.t.get(f"conversation.case_kinds.{case.kind}"),
                created=case.row["created"][:10],
                status=self.t.get(f"conversation.status_names.{case.status}"),
            )
        ]

    def cmd_mydata(self, args: str) -> list[Outgoing]:
        data = self.d.storage.data_of(self.user_key)
        t = self.t
        lines = [t.get("conversation.mydata_header")]
        if data["profile"]:
            lines.append(t.get("conversation.mydata_role", role=data["profile"]["role"]))
        if data["questions"]:
            lines.append(t.get("conversation.mydata_questions", count=len(data["questions"])))
            lines += [f"• {q['created'][:10]}: {q['text'] or '(' + q['intent'] + ')'}" for q in data["questions"][-50:]]
        if data["feedback"]:
            lines.append(t.get("conversation.mydata_feedback", count=len(data["feedback"])))
        open_items = [u for u in data["unanswered"] if u["status"] == "open"]
        if open_items:
            lines.append(t.get("conversation.mydata_unanswered", count=len(open_items)))
        if data["conversation"] or self.state:
            lines.append(t.get("conversation.mydata_conversation"))
        if data["cases"]:
            lines.append(t.get("conversation.mydata_cases", refs=", ".join(data["cases"])))
        if len(lines) == 1:
            lines.append(t.get("conversation.mydata_none"))
        return [Outgoing("\n".join(lines))]

    def cmd_forget(self, args: str) -> list[Outgoing]:
        self.state["forget"] = True
        buttons = ((Button(self.t.get("conversation.forget_yes"), "fg:yes"), Button(self.t.get("conversation.forget_no"), "fg:no")),)
        return [Outgoing(self.t.get("conversation.forget_confirm"), buttons)]

    def forget(self, confirmed: bool) -> list[Outgoing]:
        if not self.state.pop("forget", None):
            return [self.say("conversation.button_expired")]
        if not confirmed:
            return [self.say("conversation.forget_kept")]
        self.d.storage.forget(self.user_key)
        self.state = {}
        self.role = None
        return [self.say("conversation.forgotten")]

    # --- small things ------------------------------------------------------------------------------

    def say(self, key: str, **values) -> Outgoing:
        return Outgoing(self.t.get(key, **values))

    def prompt(self, prompt: Prompt) -> Outgoing:
        return Outgoing(prompt.text, prompt.buttons)


def short_label(text: str, limit: int = 48) -> str:
    """A button label that fits a phone: cut at a word, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:—- ") + "…"


def plain_buttons(outgoing: Iterable[Outgoing]) -> list[Button]:
    """Every button of a batch of replies, in order (the console numbers them)."""
    return [b for o in outgoing for row in o.buttons for b in row]
