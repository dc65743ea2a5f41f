"""The complaint referral for parents, following section 10.3 of the policy.

First it suggests approaching the member of staff or the office personally and shows the formal complaints
route; only if the parent wants to go on does it ask what the concern is about, who (optional), what has
been tried, the outcome wanted and how to be contacted, then a summary to confirm.
"""

from __future__ import annotations

from intents.flows.base import FlowContext, FlowOutcome, Prompt
from intents.flows.guided import GuidedFlow, Step


class ComplaintReferral(GuidedFlow):
    name = "complaint"
    steps = (
        Step("route", kind="choice", options=("continue", "myself")),
        Step("about", min_chars=5),
        Step("who", optional=True, expects="people"),
        Step("tried"),
        Step("outcome"),
        Step("contact", options=("here", "phone", "email", "in_person"), expects="contact"),
    )

    def after_choice(self, step: Step, choice: str, state: dict, ctx: FlowContext) -> FlowOutcome:
        if step.key == "route" and choice == "myself":
            return FlowOutcome(None, [Prompt(ctx.texts.get("complaint.myself"))])
        return self.advance(state, ctx)

    def summary_lines(self, state: dict, ctx: FlowContext) -> list[str]:
        return [line for step, line in zip(self.steps, super().summary_lines(state, ctx)) if step.key != "route"]

    def editable_steps(self, state: dict) -> list[Step]:
        return [s for s in self.steps if s.key != "route"]
