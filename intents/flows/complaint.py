"""The complaint referral for parents, following section 10.3 of the policy.

First it suggests approaching the member of staff or the office personally and shows the formal complaints
route (a question typed there is answered, and the offer stays); only if the parent wants to go on does it
ask what the concern is about, who (optional), which child (optional), what has been tried, the outcome
wanted and how to be contacted (the number or the address, when they choose phone or email), then a
summary to confirm.
"""

from __future__ import annotations

from intents.flows.base import FlowContext, FlowOutcome, Prompt
from intents.flows.guided import GuidedFlow, Step

# The steps asking for the detail a contact choice needs before the office can use it (named as the option).
CONTACT_DETAILS = ("phone", "email")


class ComplaintReferral(GuidedFlow):
    name = "complaint"
    steps = (
        Step("route", kind="choice", options=("continue", "myself"), questions_welcome=True),
        Step("about", min_chars=5),
        Step("who", optional=True, expects="people"),
        Step("child", optional=True, expects="people"),
        Step("tried"),
        Step("outcome"),
        Step("contact", options=("here", "phone", "email", "in_person"), expects="contact"),
        Step("phone", min_chars=6, expects="contact", asked_if=("contact", "phone")),
        Step("email", min_chars=5, expects="contact", asked_if=("contact", "email")),
    )

    def after_choice(self, step: Step, choice: str, state: dict, ctx: FlowContext) -> FlowOutcome:
        if step.key == "route" and choice == "myself":
            return FlowOutcome(None, [Prompt(ctx.texts.get("complaint.myself"))])
        return self.advance(state, ctx)

    def in_summary(self, step: Step, state: dict) -> bool:
        return step.key != "route" and super().in_summary(step, state)

    def editable_steps(self, state: dict) -> list[Step]:
        return [s for s in super().editable_steps(state) if s.key != "route"]

    def submission(self, state: dict) -> dict:
        """The contact as the office needs it: "By phone: 07700 900123"."""
        record = super().submission(state)
        details = [record.pop(key, "") for key in CONTACT_DETAILS]
        detail = next((d for d in details if d), "")
        if detail:
            record["contact"] = f"{record.get('contact', '')}: {detail}"
        return record
