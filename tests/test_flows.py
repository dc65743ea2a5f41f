"""The channel-free flows, driven as Telegram and the console drive them: state in, input in, state and
prompts out. No model: the engine's suggestions are injected."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from intents.flows import FLOWS, ClauseChoice, FlowContext, FlowInput
from bot.settings import Settings
from bot.texts import for_people
from knowledge.texts import Texts


@pytest.fixture(scope="module")
def ctx():
    pack = SimpleNamespace(school="Clearwell School", version="2026", title="Social Media Policy")
    texts = for_people(Settings(dsl_contact="Ms Rivera", complaints_policy_url="https://example.org/complaints"), pack)
    known = {"6.5": "Friend requests", "6.13": "Friending colleagues", "5.4": "Pupils"}
    return FlowContext(
        texts,
        suggest_clauses=lambda text: [ClauseChoice("6.5", "6.5", "Friend requests")] if "friend" in text.lower() else [],
        find_section=lambda typed: [ClauseChoice(typed, typed, known[typed])] if typed in known else [],
    )


def run(flow_name, inputs, ctx):
    """Start a flow and feed it inputs; the state goes through JSON each step, as it does in SQLite."""
    flow = FLOWS[flow_name]
    outcome = flow.start(ctx)
    outcomes = [outcome]
    for given in inputs:
        state = json.loads(json.dumps(outcome.state))
        outcome = flow.handle(state, given, ctx)
        outcomes.append(outcome)
        if outcome.state is None:
            break
    return outcomes


def T(text):
    return FlowInput(text=text)


def A(action):
    return FlowInput(action=action)


BREACH_INPUTS = [
    T("A member of staff accepted a friend request from a Year 6 pupil"),
    A("f:where:facebook"),
    T("Monday"),
    T("a teacher"),
    T("no"),
    A("f:pupil_risk:none"),
    FlowInput(photo="file-1"),
    FlowInput(photo="file-2"),
    A("f:evidence:done"),
    A("f:anonymous:named"),
    A("f:clauses:yes"),
]


def test_breach_report_from_start_to_submission(ctx):
    outcomes = run("breach", BREACH_INPUTS + [A("f:confirm:send")], ctx)
    assert "What happened" in outcomes[0].prompts[-1].text
    summary = outcomes[-2].prompts[-1].text
    assert "Year 6 pupil" in summary and "Facebook" in summary and "2 screenshot" in summary and "6.5" in summary
    final = outcomes[-1]
    assert final.state is None  # the flow has ended (FlowOutcome.finished, which said the same, is gone)
    assert final.submission == {
        "kind": "breach",
        "what": "A member of staff accepted a friend request from a Year 6 pupil",
        "where": "Facebook",
        "when": "Monday",
        "who": "a teacher",
        "leadership": "no",
        "pupil_risk": "none",
        "evidence": ["file-1", "file-2"],
        "anonymous": "named",
        "clauses": ["6.5"],
    }


def test_every_prompt_offers_cancel_and_buttons_fit_telegram(ctx):
    for outcome in run("breach", BREACH_INPUTS, ctx) + run("complaint", [A("f:route:continue")], ctx):
        for prompt in outcome.prompts:
            for row in prompt.buttons:
                for button in row:
                    assert len(button.action.encode()) <= 64
        if outcome.state and outcome.state["step"] != "confirm":
            assert any(b.action == "cancel" for row in outcome.prompts[-1].buttons for b in row)


def test_validation_keeps_the_step(ctx):
    flow = FLOWS["breach"]
    state = flow.start(ctx).state
    outcome = flow.handle(state, T("ok"), ctx)  # too short
    assert outcome.state["step"] == "what" and "more" in outcome.prompts[0].text
    outcome = flow.handle(state, T("x" * 2500), ctx)
    assert outcome.state["step"] == "what" and "2000" in outcome.prompts[0].text
    outcome = flow.handle(state, FlowInput(photo="f"), ctx)  # a photo is not an answer here
    assert outcome.state["step"] == "what" and "evidence" not in outcome.state["answers"]


def test_a_button_from_an_earlier_step_is_not_taken_as_an_answer(ctx):
    flow = FLOWS["breach"]
    outcomes = run("breach", BREACH_INPUTS[:3], ctx)
    state = outcomes[-1].state
    assert state["step"] == "who"
    outcome = flow.handle(state, A("f:where:tiktok"), ctx)
    assert outcome.state["step"] == "who" and outcome.state["answers"]["where"] == "Facebook"
    assert "earlier" in outcome.prompts[0].text


def test_choices_accept_typed_answers(ctx):
    outcomes = run("breach", BREACH_INPUTS[:5] + [T("maybe"), T("a pupil can be identified")], ctx)
    assert "choose" in outcomes[-2].prompts[0].text.lower()
    assert outcomes[-1].state["answers"]["pupil_risk"] == "identifiable"


def test_pupil_at_risk_flags_safeguarding_and_the_report_goes_on(ctx):
    outcomes = run("breach", BREACH_INPUTS[:5] + [A("f:pupil_risk:harm")], ctx)
    assert outcomes[-1].safeguarding and outcomes[-1].state["step"] == "evidence"


def test_staff_posing_a_risk_is_an_allegation_never_a_breach_report(ctx):
    outcomes = run("breach", BREACH_INPUTS[:5] + [A("f:pupil_risk:staff")], ctx)
    final = outcomes[-1]
    assert final.allegation and final.state is None and final.submission is None
    assert "allegation" in final.prompts[0].text and "Ms Rivera" in final.prompts[0].text
    about_head = run("breach", BREACH_INPUTS[:4] + [T("yes"), A("f:pupil_risk:staff")], ctx)[-1]
    assert "chair of governors" in about_head.prompts[0].text


def test_anonymous_is_explained(ctx):
    outcomes = run("breach", BREACH_INPUTS[:9] + [A("f:anonymous:anonymous")], ctx)
    assert "/status" in outcomes[-1].prompts[0].text


def test_typed_sections_are_checked(ctx):
    outcomes = run("breach", BREACH_INPUTS[:10] + [T("6.13, 99.9"), T("6.13 and 5.4")], ctx)
    assert "99.9" in outcomes[-2].prompts[0].text and outcomes[-2].state["step"] == "clauses"
    assert outcomes[-1].state["answers"]["clauses"] == ["6.13", "5.4"]


def test_edit_from_the_summary_returns_to_the_summary(ctx):
    outcomes = run("breach", BREACH_INPUTS + [A("f:confirm:edit"), A("f:confirm:edit-when"), T("Tuesday")], ctx)
    assert outcomes[-2].state["step"] == "when"
    assert outcomes[-1].state["step"] == "confirm" and "Tuesday" in outcomes[-1].prompts[-1].text


def test_complaint_suggests_the_personal_route_first(ctx):
    start = FLOWS["complaint"].start(ctx)
    text = start.prompts[-1].text
    assert "10.3" in text and "https://example.org/complaints" in text
    myself = run("complaint", [A("f:route:myself")], ctx)[-1]
    assert myself.state is None and myself.submission is None


def test_complaint_referral_submission(ctx):
    outcomes = run(
        "complaint",
        [A("f:route:continue"), T("Homework marking"), A("f:who:skip"), T("Sam, Year 4"), T("Spoke to the teacher"),
         T("Regular marking"), T("jane@example.org"), T("send")],
        ctx,
    )
    assert outcomes[-1].submission == {
        "kind": "complaint",
        "route": "continue",
        "about": "Homework marking",
        "who": "",
        "child": "Sam, Year 4",
        "tried": "Spoke to the teacher",
        "outcome": "Regular marking",
        "contact": "jane@example.org",  # typed: no need to ask again
    }
    assert "Route" not in outcomes[-2].prompts[-1].text


COMPLAINT_TO_CONTACT = [A("f:route:continue"), T("Homework marking"), A("f:who:skip"), A("f:child:skip"), T("Spoke to the teacher"),
                        T("Regular marking")]


def test_complaint_asks_which_child_optionally(ctx):
    asked = run("complaint", COMPLAINT_TO_CONTACT[:3], ctx)[-1]
    assert "Which child" in asked.prompts[-1].text and any(b.action == "f:child:skip" for row in asked.prompts[-1].buttons for b in row)
    skipped = run("complaint", COMPLAINT_TO_CONTACT, ctx)[-1]
    assert skipped.state["step"] == "contact" and skipped.state["answers"]["child"] == ""


@pytest.mark.parametrize("chosen, asked, detail", [(A("f:contact:phone"), "number", "07700 900123"),
                                                    (T("by phone"), "number", "07700 900123"),
                                                    (A("f:contact:email"), "email address", "jane@example.org")])
def test_complaint_by_phone_or_email_asks_for_the_number_or_address(ctx, chosen, asked, detail):
    outcomes = run("complaint", COMPLAINT_TO_CONTACT + [chosen, T(detail), T("send")], ctx)
    assert asked in outcomes[-3].prompts[-1].text and outcomes[-3].state["step"] in ("phone", "email")
    assert detail in outcomes[-2].prompts[-1].text  # in the summary
    label = "By email" if "email" in asked else "By phone" if chosen.action else "by phone"  # as typed
    assert outcomes[-1].submission["contact"] == f"{label}: {detail}"
    assert "phone" not in outcomes[-1].submission and "email" not in outcomes[-1].submission


def test_complaint_contact_changed_from_phone_drops_the_number(ctx):
    by_phone = COMPLAINT_TO_CONTACT + [A("f:contact:phone"), T("07700 900123")]
    edited = run("complaint", by_phone + [A("f:confirm:edit"), A("f:confirm:edit-contact"), A("f:contact:here")], ctx)[-1]
    assert edited.state["step"] == "confirm" and "07700" not in edited.prompts[-1].text
    to_email = run("complaint", by_phone + [A("f:confirm:edit"), A("f:confirm:edit-contact"), A("f:contact:email")], ctx)[-1]
    assert to_email.state["step"] == "email"  # an edit that needs a detail asks for it, then returns to the summary
    done = FLOWS["complaint"].handle(to_email.state, T("jane@example.org"), ctx)
    assert done.state["step"] == "confirm" and "jane@example.org" in done.prompts[-1].text and "07700" not in done.prompts[-1].text
    sent = FLOWS["complaint"].handle(done.state, T("send"), ctx)
    assert sent.submission["contact"] == "By email: jane@example.org"


def test_a_question_at_the_complaint_offer_is_handed_back_to_be_answered(ctx):
    start = FLOWS["complaint"].start(ctx)
    outcome = FLOWS["complaint"].handle(start.state, T("Can teachers post photos of my child on Facebook?"), ctx)
    assert outcome.question == "Can teachers post photos of my child on Facebook?" and outcome.state["step"] == "route"
    # A breach report's choices still insist on a button: a typed word there is no question to answer.
    assert not run("breach", BREACH_INPUTS[:5] + [T("maybe, I am not sure what you mean")], ctx)[-1].question


def test_texts_fill_settings_and_survive_odd_placeholders():
    texts = Texts({"a": "Hello {school_name}, {unknown}"}, {"school_name": "Clearwell"})
    assert texts.get("a") == "Hello Clearwell, {unknown}"
    assert texts.get("a", school_name="{evil}") == "Hello {evil}, {unknown}"
