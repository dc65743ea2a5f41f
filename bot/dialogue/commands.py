"""A person's commands (/start, /role, /help, /section, /status, /mydata, /forget…), each `cmd_NAME(args)`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.dialogue.outgoing import ROLES, Outgoing
from bot.protocol import person_button
from intents.flows import Button

if TYPE_CHECKING:
    from bot.dialogue.turn import Turn


class Commands:
    def __init__(self, turn: Turn):
        self.turn = turn
        self.texts = turn.texts

    def cmd_start(self, args: str) -> list[Outgoing]:
        turn = self.turn
        return [turn.say("conversation.welcome"), Outgoing(self.texts.get("conversation.ask_role"), turn.role_buttons())] + turn.resume_flow()

    def cmd_role(self, args: str) -> list[Outgoing]:
        turn = self.turn
        if args.lower() in ROLES:
            return turn.set_role(args.lower())
        if turn.role:
            role_name = self.texts.get(f"conversation.role_names.{turn.role}")
            return [Outgoing(self.texts.get("conversation.role_current", role=role_name), turn.role_buttons())]
        return [Outgoing(self.texts.get("conversation.ask_role"), turn.role_buttons())]

    def cmd_help(self, args: str) -> list[Outgoing]:
        return [self.turn.say("responses.help")]

    def cmd_privacy(self, args: str) -> list[Outgoing]:
        return [self.turn.say("conversation.privacy")]

    def cmd_agreement(self, args: str) -> list[Outgoing]:
        clauses = self.turn.dialogue.pack.agreement_clauses()
        if not clauses:
            return [self.turn.say("conversation.no_agreement")]
        signed = [c for c in clauses if c.id.endswith("-agreement")] or clauses
        return [self.turn.say("conversation.agreement_intro", section=signed[0].section)] + [self.turn.section(c) for c in signed]

    def cmd_section(self, args: str) -> list[Outgoing]:
        wanted = args.strip().removeprefix("section").strip()
        if not wanted:
            return [self.turn.say("conversation.section_usage")]
        found = self.turn.dialogue.pack.find_section(wanted)
        if not found:
            return [self.turn.say("conversation.section_unknown", section=wanted[:20], sections=self.section_list())]
        return [self.turn.section(c) for c in found]

    def section_list(self) -> str:
        """The pack's section numbers, in order, each once."""
        return ", ".join(dict.fromkeys(clause.section for clause in self.turn.dialogue.pack.clauses))

    def cmd_report(self, args: str) -> list[Outgoing]:
        return self.turn.start_flow("breach")

    def cmd_complaint(self, args: str) -> list[Outgoing]:
        return self.turn.start_flow("complaint")

    def cmd_cancel(self, args: str) -> list[Outgoing]:
        state = self.turn.state
        had = bool(self.turn.flow_state())
        state.pop("flow", None)
        state.pop("forget", None)
        return [self.turn.say("conversation.cancelled" if had else "conversation.nothing_to_cancel")]

    def cmd_status(self, args: str) -> list[Outgoing]:
        ref = args.strip().upper()
        if not ref:
            return [self.turn.say("conversation.status_usage")]
        case = self.turn.store.cases.get(ref)
        # The same answer for "no such case" and "not yours": nobody learns about others' reports.
        if case is None or not case.row.get("reporter_key") or case.row["reporter_key"] != self.turn.user_key:
            return [self.turn.say("conversation.status_unknown")]
        return [
            self.turn.say(
                "conversation.status",
                ref=case.ref,
                kind=self.texts.get(f"conversation.case_kinds.{case.kind}"),
                created=case.row["created"][:10],
                status=self.texts.get(f"conversation.status_names.{case.status}"),
            )
        ]

    def cmd_mydata(self, args: str) -> list[Outgoing]:
        data = self.turn.store.privacy.data_of(self.turn.user_key)
        t = self.texts
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
        emailed = [u for u in open_items if u.get("email")]
        if emailed:
            lines.append(t.get("conversation.mydata_email", count=len(emailed)))
        if data["conversation"] or self.turn.state:
            lines.append(t.get("conversation.mydata_conversation"))
        if data["cases"]:
            lines.append(t.get("conversation.mydata_cases", refs=", ".join(data["cases"])))
        if len(lines) == 1:
            lines.append(t.get("conversation.mydata_none"))
        return [Outgoing("\n".join(lines))]

    def cmd_forget(self, args: str) -> list[Outgoing]:
        self.turn.state["forget"] = True
        buttons = ((Button(self.texts.get("conversation.forget_yes"), person_button("fg", "yes")), Button(self.texts.get("conversation.forget_no"), person_button("fg", "no"))),)
        return [Outgoing(self.texts.get("conversation.forget_confirm"), buttons)]

    def forget(self, confirmed: bool) -> list[Outgoing]:
        """The answer to /forget's question (`fg:yes` / `fg:no`)."""
        turn = self.turn
        if not turn.state.pop("forget", None):
            return [turn.say("conversation.button_expired")]
        if not confirmed:
            return [turn.say("conversation.forget_kept")]
        turn.store.privacy.forget(turn.user_key, erased=turn.dialogue.office.texts.get("erased_question"))
        turn.state = {}
        turn.role = None
        return [turn.say("conversation.forgotten")]
