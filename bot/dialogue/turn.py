"""The work of one turn, inside the turn's one transaction: an input dispatched, the flows driven, the
safeguarding offer made or taken up, the role set."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.dialogue import answering, records
from bot.dialogue.commands import Commands
from bot.dialogue.outgoing import ButtonRows, Outgoing, Person
from bot.protocol import OFFICE_COMMANDS, ROLES, person_button
from bot.texts import quoted_section
from intents.advisor import Reply
from intents.flows import ALERT_ACTION, DECLINE_ACTION, FLOWS, Button, FlowInput, FlowOutcome, Prompt, safeguarding_prompt
from intents.flows.base import reads_as_question

if TYPE_CHECKING:
    from bot.dialogue.service import Dialogue

MAX_MESSAGE_CHARS = 4000  # a flow answer may be long; beyond this we ask the person to shorten


class Turn:
    """One person's turn: what they said or pressed, read against where they are (`state`)."""

    def __init__(self, dialogue: Dialogue, person: Person, user_key: str, role: str | None, state: dict):
        self.dialogue = dialogue
        self.texts = dialogue.texts
        self.store = dialogue.store
        self.person = person
        self.user_key = user_key
        self.role = role
        self.state = state
        self.commands = Commands(self)

    # --- inputs ----------------------------------------------------------------------------------

    def on_command(self, text: str) -> list[Outgoing]:
        head, _, rest = text.strip().partition(" ")
        command = head[1:].split("@", 1)[0].lower()
        handler = getattr(self.commands, f"cmd_{command}", None)
        if handler is None or command in OFFICE_COMMANDS:
            return [self.say("conversation.unknown_command")]
        return handler(rest.strip())

    def on_action(self, action: str) -> list[Outgoing]:
        kind, _, rest = action.partition(":")
        if action == "cancel":
            return self.commands.cmd_cancel("")
        if kind == "role" and rest in ROLES:
            return self.set_role(rest)
        if kind == "fb":
            return answering.feedback(self, rest)
        if kind == "sec":
            clause = self.dialogue.pack.clause(rest)
            return [self.section(clause)] if clause else [self.say("conversation.button_expired")]
        if kind == "go" and rest in FLOWS:
            return self.start_flow(rest)
        if action in (ALERT_ACTION, DECLINE_ACTION):
            return self.alert_choice(action == ALERT_ACTION)
        if kind == "fg":
            return self.commands.forget(rest == "yes")
        if kind == "f" and self.flow_state():
            return self.step(FlowInput(action=action))
        return [self.say("conversation.button_expired")]

    def on_photo(self, photo: str) -> list[Outgoing]:
        if self.flow_state():
            return self.step(FlowInput(photo=photo))
        # A photo outside a report's evidence step is not kept.
        return [self.say("conversation.not_a_text")]

    def on_text(self, text: str, reply: Reply | None) -> list[Outgoing]:
        if not text.strip():
            return [self.say("responses.empty")]
        if len(text) > MAX_MESSAGE_CHARS:
            too_long = [self.say("conversation.too_long", length=len(text), limit=MAX_MESSAGE_CHARS)]
            # Even an over-long message is read for a child at risk before anything else.
            return (self.safeguarding(text, "") if self.dialogue.is_safeguarding(text) else []) + too_long
        if self.at_risk(text, reply):
            return self.safeguarding_interrupt(text, reply)
        if self.flow_state():
            return self.step(FlowInput(text=text), reply)
        return answering.answer_message(self, text, reply)

    def at_risk(self, text: str, reply: Reply | None) -> bool:
        """The safeguarding triage of a message (or a caption): mid-flow weighed by what the step asked for."""
        if reply is None:
            return False
        flow = self.flow_state()
        return self.dialogue.interrupts_flow(text, reply, flow) if flow else reply.intent == "safeguarding"

    def safeguarding_interrupt(self, text: str, reply: Reply) -> list[Outgoing]:
        out = self.safeguarding(text, reply.reply)
        if self.flow_state():
            out += [self.say("conversation.resume")] + self.ask_again()
        return out

    # --- flows ---------------------------------------------------------------------------------

    def flow_state(self) -> dict | None:
        flow = self.state.get("flow")
        return flow if isinstance(flow, dict) and flow.get("flow") in FLOWS else None

    def start_flow(self, name: str) -> list[Outgoing]:
        current = self.flow_state()
        if current and current["flow"] != name:
            flow_name = self.texts.get(f"conversation.case_kinds.{current['flow']}")
            return [self.say("conversation.flow_in_progress", flow=flow_name)] + self.ask_again()
        if current:
            return self.ask_again()
        outcome = FLOWS[name].start(self.dialogue.flow_context(self.role))
        return self.apply(name, outcome)

    def ask_again(self) -> list[Outgoing]:
        flow = self.flow_state()
        if not flow:
            return []
        prompts = FLOWS[flow["flow"]].ask(flow, self.dialogue.flow_context(self.role))
        return [self.prompt(p) for p in prompts]

    def step(self, given: FlowInput, reply: Reply | None = None) -> list[Outgoing]:
        flow = self.flow_state()
        outcome = FLOWS[flow["flow"]].handle(flow, given, self.dialogue.flow_context(self.role))
        if outcome.question and self.is_new_question(outcome.question, reply):
            # A question typed where the flow offered a choice: answered, and the offer made again.
            self.apply(flow["flow"], FlowOutcome(outcome.state))
            return answering.answer_message(self, outcome.question, reply) + self.resume_flow()
        return self.apply(flow["flow"], outcome)

    @staticmethod
    def is_new_question(text: str, reply: Reply | None) -> bool:
        """A message the advisor read as a question, that asks something rather than misses a button."""
        if reply is None or reply.intent not in answering.QUESTION_INTENTS:
            return False
        return reply.answered or reads_as_question(text)

    def apply(self, name: str, outcome: FlowOutcome) -> list[Outgoing]:
        answers = (outcome.state or self.flow_state() or {}).get("answers", {})
        if outcome.state is None:
            self.state.pop("flow", None)
        else:
            self.state["flow"] = outcome.state
        out: list[Outgoing] = []
        if outcome.safeguarding:
            self.state["pending_alert"] = {"text": str(answers.get("what", ""))[:2000], "context": name}
            prompt = safeguarding_prompt(self.dialogue.flow_context(self.role), urgent=True)
            out.append(Outgoing(prompt.text, prompt.buttons, kind="safeguarding"))
        if outcome.allegation:
            self.state["pending_alert"] = {
                "text": str(answers.get("what", ""))[:2000],
                "context": "allegation",
                "about_head": answers.get("leadership") == "yes",
            }
        out += [self.prompt(p) for p in outcome.prompts]
        if outcome.submission:
            out.append(records.store_submission(self, outcome.submission))
        return out

    # --- safeguarding ----------------------------------------------------------------------------

    def offer_buttons(self) -> ButtonRows:
        return (
            (Button(self.texts.get("safeguarding.alert_button"), ALERT_ACTION),),
            (Button(self.texts.get("safeguarding.decline_button"), DECLINE_ACTION),),
        )

    def safeguarding(self, text: str, reply_text: str) -> list[Outgoing]:
        flow = self.flow_state()
        self.state["pending_alert"] = {"text": text[:2000], "context": flow["flow"] if flow else "message"}
        return [Outgoing(reply_text or self.dialogue.safeguarding_text(), self.offer_buttons(), kind="safeguarding")]

    def alert_choice(self, accepted: bool) -> list[Outgoing]:
        pending = self.state.pop("pending_alert", None)
        if not pending:
            return [self.say("safeguarding.no_offer")]
        if not accepted:
            return [self.say("safeguarding.declined")] + self.resume_flow()
        # A report or a complaint left open by the interruption is shown again, buttons and all.
        return [self.say("safeguarding.alerted", ref=records.raise_alert(self, pending))] + self.resume_flow()

    # --- role --------------------------------------------------------------------------------------

    def role_buttons(self) -> ButtonRows:
        texts = self.texts
        return ((Button(texts.get("conversation.roles.staff"), person_button("role", "staff")), Button(texts.get("conversation.roles.parent"), person_button("role", "parent"))),)

    def set_role(self, role: str) -> list[Outgoing]:
        self.store.people.set_role(self.user_key, role)
        self.role = role
        return [self.say(f"conversation.role_set.{role}")] + self.resume_flow()

    def role_reminder(self) -> list[Outgoing]:
        """Ask once for the role when someone starts asking without /start (answers fit staff meanwhile)."""
        if self.role or self.state.get("role_asked"):
            return []
        self.state["role_asked"] = True
        return [Outgoing(self.texts.get("conversation.role_needed"), self.role_buttons())]

    # --- small things ------------------------------------------------------------------------------

    def resume_flow(self) -> list[Outgoing]:
        """"Back to where you were" and the step again, if the person is in a flow."""
        return [self.say("conversation.resume")] + self.ask_again() if self.flow_state() else []

    def say(self, key: str, **values) -> Outgoing:
        return Outgoing(self.texts.get(key, **values))

    def prompt(self, prompt: Prompt) -> Outgoing:
        return Outgoing(prompt.text, prompt.buttons)

    def section(self, clause) -> Outgoing:
        return Outgoing(quoted_section(self.texts, clause), section=clause, kind="section")
