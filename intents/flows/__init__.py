"""Channel-free conversation flows: breach report, complaint referral and the safeguarding response.

Telegram and the console drive the same flows; a flow's state is a plain dict the caller saves after
every step, so a restart continues where the person was.
"""

from intents.flows.base import Button, ClauseChoice, FlowContext, FlowInput, FlowOutcome, Prompt
from intents.flows.breach import BreachReport
from intents.flows.complaint import ComplaintReferral
from intents.flows.guided import GuidedFlow
from intents.flows.safeguarding import ALERT_ACTION, DECLINE_ACTION, allegation_prompt, safeguarding_prompt

FLOWS: dict[str, GuidedFlow] = {"breach": BreachReport(), "complaint": ComplaintReferral()}

__all__ = [
    "ALERT_ACTION",
    "DECLINE_ACTION",
    "FLOWS",
    "BreachReport",
    "Button",
    "ClauseChoice",
    "ComplaintReferral",
    "FlowContext",
    "FlowInput",
    "FlowOutcome",
    "GuidedFlow",
    "Prompt",
    "allegation_prompt",
    "safeguarding_prompt",
]
