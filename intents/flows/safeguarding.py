"""The safeguarding response: shown at once, in any state, without losing the flow the person was in.

The bot never investigates. It tells the person what to do now (999, the DSL, CEOP, the duty in A.2.3,
Childline for a pupil) and offers to alert the office; the caller keeps the offer in the person's state.
"""

from __future__ import annotations

from intents.flows.base import Button, FlowContext, Prompt

ALERT_ACTION = "sg:alert"
DECLINE_ACTION = "sg:no"


def safeguarding_prompt(ctx: FlowContext, urgent: bool = False) -> Prompt:
    """What to do now, with the offer to alert the office."""
    texts = ctx.texts
    text = texts.get("responses.safeguarding")  # the advisor's reply: one text for the school to keep
    if urgent:
        text = texts.get("safeguarding.urgent_prefix") + "\n\n" + text
    return Prompt(text, offer_buttons(ctx))


def allegation_prompt(ctx: FlowContext, about_head: bool = False) -> Prompt:
    """A concern that a member of staff poses a risk to a child: to the DSL or head, never a breach report."""
    key = "safeguarding.allegation_head" if about_head else "safeguarding.allegation"
    return Prompt(ctx.texts.get(key), offer_buttons(ctx))


def offer_buttons(ctx: FlowContext) -> tuple[tuple[Button, ...], ...]:
    return (
        (Button(ctx.texts.get("safeguarding.alert_button"), ALERT_ACTION),),
        (Button(ctx.texts.get("safeguarding.decline_button"), DECLINE_ACTION),),
    )
