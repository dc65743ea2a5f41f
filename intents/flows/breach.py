"""The breach report: a member of staff (or anyone) tells the school about a post that may break the policy.

Steps: what happened, where, when, who, whether it concerns the headteacher or the office (then it goes to
the escalation chat), whether a pupil is at risk (the safeguarding response, flagged urgent), identifiable
(a data-protection breach) or whether a member of staff may pose a risk (an allegation: guidance, never a
breach report), screenshots, anonymity, the clauses that seem breached, then a summary to confirm or edit.
"""

from __future__ import annotations

from intents.flows.base import Button, ClauseChoice, FlowContext, FlowInput, FlowOutcome, Prompt, yes_or_no
from intents.flows.guided import GuidedFlow, Step, action
from intents.flows.safeguarding import allegation_prompt


class BreachReport(GuidedFlow):
    name = "breach"
    steps = (
        Step("what", min_chars=5),
        Step("where", options=("facebook", "instagram", "whatsapp", "x", "tiktok"), expects="place"),
        Step("when", options=("today", "yesterday", "this_week", "not_sure"), expects="time"),
        Step("who", expects="people"),
        Step("leadership", kind="choice", options=("no", "yes")),
        Step("pupil_risk", kind="choice", options=("none", "identifiable", "harm", "staff")),
        Step("evidence", kind="photos"),
        Step("anonymous", kind="choice", options=("named", "anonymous")),
        Step("clauses", kind="clauses"),
    )

    def has_intro(self, ctx: FlowContext) -> bool:
        return True

    def after_choice(self, step: Step, choice: str, state: dict, ctx: FlowContext) -> FlowOutcome:
        texts = ctx.texts
        if step.key == "pupil_risk" and choice == "staff":
            # An allegation against staff never becomes an ordinary breach report.
            about_head = state["answers"].get("leadership") == "yes"
            return FlowOutcome(None, [allegation_prompt(ctx, about_head)], allegation=True)
        if step.key == "pupil_risk" and choice == "harm":
            return self.advance(state, ctx, safeguarding=True)
        if step.key == "leadership" and choice == "yes":
            return self.advance(state, ctx, [Prompt(texts.get("breach.escalated"))])
        if step.key == "anonymous" and choice == "anonymous":
            return self.advance(state, ctx, [Prompt(texts.get("breach.anonymous_means"))])
        return self.advance(state, ctx)

    # --- the clauses step: the engine suggests, the reporter confirms or changes -------------------

    def step_prompt(self, step: Step, state: dict, ctx: FlowContext) -> Prompt:
        if step.kind != "clauses":
            return super().step_prompt(step, state, ctx)
        texts = ctx.texts
        if "suggested" not in state:
            description = " ".join(str(state["answers"].get(k, "")) for k in ("what", "where"))
            state["suggested"] = [vars(c) for c in ctx.suggest_clauses(description)[:3]]
        suggested = [ClauseChoice(**c) for c in state["suggested"]]
        cancel = (Button(texts.get("common.cancel"), "cancel"),)
        if not suggested:
            return Prompt(
                texts.get("breach.steps.clauses.ask_none"),
                ((Button(texts.get("breach.steps.clauses.office_decides"), action("clauses", "none")),), cancel),
            )
        listing = "\n".join(f"• {c.label} {c.title}".rstrip() for c in suggested)
        return Prompt(
            texts.get("breach.steps.clauses.ask", suggestions=listing),
            (
                (Button(texts.get("breach.steps.clauses.accept"), action("clauses", "yes")),),
                (Button(texts.get("breach.steps.clauses.office_decides"), action("clauses", "none")),),
                cancel,
            ),
        )

    def handle_step(self, step: Step, state: dict, value: str, given: FlowInput, ctx: FlowContext) -> FlowOutcome:
        if step.kind != "clauses":
            return super().handle_step(step, state, value, given, ctx)
        texts = ctx.texts
        suggested = [c["label"] for c in state.get("suggested", [])]
        typed = given.text.strip()
        answer = yes_or_no(typed) if typed else None
        if value == "yes" or (answer is True and suggested):
            state["answers"]["clauses"] = suggested
            return self.advance(state, ctx)
        if value == "none" or answer is False or typed.lower() in ("not sure", "unsure", "don't know", "dont know"):
            state["answers"]["clauses"] = []
            return self.advance(state, ctx)
        if given.photo or not typed:
            return FlowOutcome(state, [self.step_prompt(step, state, ctx)])
        chosen, unknown = [], []
        for part in typed.replace(";", ",").replace(" and ", ",").split(","):
            part = part.strip().removeprefix("section").strip()
            if not part:
                continue
            found = ctx.find_section(part)
            if found:
                chosen.extend(c.label for c in found if c.label not in chosen)
            else:
                unknown.append(part)
        if unknown or not chosen:
            shown = ", ".join(unknown) if unknown else typed
            return FlowOutcome(
                state,
                [Prompt(texts.get("breach.steps.clauses.unknown", sections=shown[:200])), self.step_prompt(step, state, ctx)],
            )
        state["answers"]["clauses"] = chosen
        return self.advance(state, ctx)

    def editable_steps(self, state: dict) -> list[Step]:
        return [s for s in self.steps if s.key not in ("pupil_risk",)]
