"""The conversation service every channel shares: one person's input in, the replies to show out.

Telegram and the console both call `Dialogue.handle`. It asks the advisor, drives the flows in `intents/`,
stores what must be stored and queues what the office must see — all in one SQLite transaction per turn,
together with the update id, so a turn delivered twice is handled once and a restart continues where the
person was.
"""

from __future__ import annotations

import logging
from typing import Callable

from bot.dialogue.outgoing import Outgoing, Person
from bot.dialogue.turn import MAX_MESSAGE_CHARS, Turn
from bot.office import Office
from bot.services import Answerer
from bot.store import Store
from intents.advisor import Reply
from intents.classify import IntentResult, interrupts_step
from intents.flows import FLOWS, ClauseChoice, FlowContext
from knowledge.texts import Texts

log = logging.getLogger(__name__)

SUGGESTION_FLOOR = 0.3  # an engine match below this is not worth offering as a breached clause
# `journal(user_key, replies)`: a channel records the turn's replies inside the turn's own transaction.
Journal = Callable[[str, list[Outgoing]], None]


class Dialogue:
    """One turn at a time, per person, over the store; the office (shared with the channel) is told what it must see."""

    def __init__(self, advisor: Answerer, store: Store, settings, office: Office, texts: Texts):
        self.advisor = advisor
        self.store = store
        self.settings = settings
        self.office = office
        self.texts = texts
        self.pack = advisor.pack

    # --- entry point -------------------------------------------------------------------------------

    def handle(
        self,
        person: Person,
        *,
        text: str = "",
        action: str = "",
        photo: str = "",
        caption: str = "",
        update_id: int | str | None = None,
        journal: Journal | None = None,
    ) -> list[Outgoing]:
        """Handle one input from one person; returns what to show them (possibly nothing).

        `journal(user_key, replies)` lets a channel record the replies in the turn's own transaction
        (Telegram puts them in the outbox), so a process killed before sending them still sends them later.
        A photo's or a file's `caption` is read for a child at risk like any text, in any state."""
        people = self.store.people
        user_key = people.user_key(person.channel, person.user_id)
        seen = f"{person.channel}:{update_id}"
        if update_id is not None and self.store.updates.already_handled(seen):
            return []
        text = text or ""
        role = people.role_of(user_key)
        # The model runs before the database lock is taken, so one slow answer does not hold up others.
        reply = None
        if text.strip() and not text.startswith("/") and not action and len(text) <= MAX_MESSAGE_CHARS:
            reply = self.advisor.respond(text, role or "staff")
        if caption.strip() and not action and len(caption) <= MAX_MESSAGE_CHARS:
            reply = self.advisor.respond(caption, role or "staff")
        with self.store.transaction():
            turn = Turn(self, person, user_key, role, people.load_state(user_key))
            if action:
                out = turn.on_action(action)
            elif caption.strip() and turn.at_risk(caption, reply):
                out = turn.safeguarding_interrupt(caption, reply)
            elif photo:
                out = turn.on_photo(photo)
            elif caption:  # a file or a voice note with words: read for a child at risk, otherwise not kept
                out = [turn.say("conversation.not_a_text")]
            elif text.startswith("/"):
                out = turn.on_command(text)
            else:
                out = turn.on_text(text, reply)
            people.save_state(user_key, turn.state)
            if update_id is not None:
                self.store.updates.mark_handled(seen)
            if journal is not None:
                journal(user_key, out)
        return out

    def resume(self, person: Person) -> list[Outgoing]:
        """Where the person was, if they were in the middle of a flow (after a restart); changes nothing."""
        people = self.store.people
        user_key = people.user_key(person.channel, person.user_id)
        return Turn(self, person, user_key, people.role_of(user_key), people.load_state(user_key)).resume_flow()

    def awaiting(self, person: Person) -> tuple[str, int]:
        """What the person's flow waits for now ("" outside a flow; "photos" at a report's evidence step, see
        GuidedFlow.expects) and how many photos it holds: a channel offers the right input (the web, a file field)."""
        people = self.store.people
        flow = people.load_state(people.user_key(person.channel, person.user_id)).get("flow")
        if not isinstance(flow, dict) or flow.get("flow") not in FLOWS:
            return "", 0
        guided = FLOWS[flow["flow"]]
        answers = flow.get("answers") or {}
        photos = sum(len(answers.get(s.key) or ()) for s in getattr(guided, "steps", ()) if s.kind == "photos")
        return guided.expects(flow), photos

    # --- what the turn asks of the engine -----------------------------------------------------------

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
        try:
            return bool(self.advisor.classifier.rules.risk_in(text))
        except Exception:
            return False

    def interrupts_flow(self, text: str, reply: Reply, flow: dict) -> bool:
        """Mid-flow, an answer to a step is weighed by what the step asked for (intents.classify.interrupts_step):
        "TikTok" for "where was it posted?" is an answer, not a child at risk."""
        expects = FLOWS[flow["flow"]].expects(flow)
        result = IntentResult(reply.intent, reply.scores, reply.safeguarding)
        try:
            return interrupts_step(text, expects, result, self.advisor.classifier.rules)
        except Exception:  # the flow goes on; the rules are checked again below
            log.exception("mid-flow safeguarding check failed")
            return self.is_safeguarding(text)

    def safeguarding_text(self) -> str:
        """The safeguarding reply (`responses.safeguarding`, the advisor's: one text for the school to keep)."""
        return self.texts.get("responses.safeguarding")
