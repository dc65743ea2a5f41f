"""The dialogue service every channel shares: one turn per update (handled once), forged buttons refused,
and no input — however odd — left without a reply or raising."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.dialogue import Person

pytestmark = pytest.mark.slow

ME = Person("telegram", "8001", "8001", "Me")


def test_an_update_delivered_twice_is_handled_once(dialogue, store):
    dialogue.handle(ME, text="/report", update_id=10)
    first = dialogue.handle(ME, text="A post naming a pupil on a public page", update_id=11)
    again = dialogue.handle(ME, text="A post naming a pupil on a public page", update_id=11)
    assert first and again == []
    state = store.people.load_state(store.people.user_key("telegram", ME.user_id))
    assert state["flow"]["step"] == "where"


def test_confirming_twice_stores_the_report_once(dialogue, store):
    dialogue.handle(ME, text="/complaint", update_id=1)
    dialogue.handle(ME, action="f:route:continue", update_id=2)
    for number, text in enumerate(["Class blog shows names", "Year 3", "skip", "Emailed", "Remove them", "Reply here"], 3):
        dialogue.handle(ME, text=text, update_id=number)
    dialogue.handle(ME, action="f:confirm:send", update_id=20)
    assert dialogue.handle(ME, action="f:confirm:send", update_id=20) == []
    later = dialogue.handle(ME, action="f:confirm:send", update_id=21)  # a new press of the old button
    assert "no longer active" in later[0].text
    assert len(list(store.db["complaint_referrals"].rows)) == 1
    assert len(list(store.db["outbox"].rows)) == 1


def test_a_photo_outside_the_evidence_step_is_not_kept(dialogue, store):
    out = dialogue.handle(ME, photo="AgACAgQAAx0")
    assert out and "AgACAgQAAx0" not in str(list(store.db["conversation_state"].rows))
    dialogue.handle(ME, text="/report")
    out = dialogue.handle(ME, photo="AgACAgQAAx0")
    assert "words" in out[0].text
    assert "AgACAgQAAx0" not in str(list(store.db["conversation_state"].rows))


@pytest.mark.parametrize(
    "action",
    ["f:what:x", "sec:99.99", "fb:up:abc", "fb:up:999999", "role:admin", "go:nothing", "fg:yes", "sg:alert", "of:k:BR-2026-0001",
     "", ":", "f:confirm:send", "cancel", "x" * 300],
)
def test_forged_or_stale_buttons_get_a_reply_and_change_nothing(dialogue, store, action):
    out = dialogue.handle(ME, action=action) if action else dialogue.handle(ME, text="")
    assert out and all(o.text for o in out)
    for table in ("breach_reports", "complaint_referrals", "safeguarding_alerts", "feedback", "profiles", "outbox"):
        assert not list(store.db[table].rows), table


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300) | st.sampled_from(["/", "/section", "/status ", "/start@bot", "/role teacher", "<b>&", "\x00\x1b", "‏שלום", " "]))
def test_any_text_gets_a_reply_in_or_out_of_a_flow(dialogue, text):
    out = dialogue.handle(ME, text=text)
    assert out and all(o.text for o in out)
    dialogue.handle(ME, text="/report")
    inside = dialogue.handle(ME, text=text)
    assert inside and all(o.text for o in inside)
    dialogue.handle(ME, text="/cancel")


def test_an_over_long_message_is_still_read_for_a_child_at_risk(dialogue):
    plain = dialogue.handle(ME, text="word " * 1000)
    assert len(plain) == 1 and "shorten" in plain[0].text
    urgent = dialogue.handle(ME, text="word " * 900 + " I think a pupil is being groomed online by an adult " + "word " * 100)
    assert urgent[0].kind == "safeguarding" and "999" in urgent[0].text
    assert "shorten" in urgent[-1].text


def test_asking_for_help_in_words_gets_the_help_command_text(dialogue):
    """/help and "what can you do?" give one help text (responses.help), as Telegram's /help did."""
    [command] = dialogue.handle(ME, text="/help")
    asked = dialogue.handle(ME, text="what can you do?")
    assert "/status" in command.text
    assert asked[0].text == command.text


def test_a_section_number_is_read_with_its_dots(dialogue):
    """/section 12 is not 1.2: the policy has no section 12, and the person is told so with the list."""
    [missing] = dialogue.handle(ME, text="/section 12")
    assert "I can't find section 12" in missing.text and "1.2" in missing.text
    [found] = dialogue.handle(ME, text="/section 1.2")
    assert found.kind == "section" and found.section.id == "1.2"


def to_pupil_risk(dialogue):
    dialogue.handle(ME, text="/report")
    for text in ["A post naming a pupil on a public page", "Facebook", "today", "A teaching assistant", "no"]:
        out = dialogue.handle(ME, text=text)
    assert "pupil" in out[-1].text.lower()


def actions(outgoing):
    return [b.action for o in outgoing for row in o.buttons for b in row]


@pytest.mark.parametrize("choice", ["sg:alert", "sg:no"])
def test_after_the_safeguarding_offer_mid_report_the_open_step_comes_back_with_its_buttons(dialogue, store, choice):
    to_pupil_risk(dialogue)
    urgent = dialogue.handle(ME, action="f:pupil_risk:harm")
    assert urgent[0].kind == "safeguarding" and "f:evidence:done" in actions(urgent)
    after = dialogue.handle(ME, action=choice)
    assert ("SA-" in after[0].text) == (choice == "sg:alert")
    assert "Back to where you were" in after[-2].text and "screenshots" in after[-1].text
    assert [b.action for row in after[-1].buttons for b in row] == ["f:evidence:done", "cancel"]
    # …and the report goes on from there.
    assert "anonymously" in dialogue.handle(ME, action="f:evidence:done")[-1].text


def test_a_question_at_the_complaint_offer_is_answered_and_the_offer_kept(dialogue, store):
    store.people.set_role(store.people.user_key("telegram", ME.user_id), "parent")
    [route] = dialogue.handle(ME, text="/complaint")
    out = dialogue.handle(ME, text="Can I share photos of other children from sports day?")
    assert "choose one of the buttons" not in " ".join(o.text for o in out)
    assert out[0].kind == "answer" and "10." in out[0].text  # the parents' section of the policy answers it
    assert "Back to where you were" in out[-2].text and out[-1].text == route.text
    assert "f:route:continue" in actions(out[-1:])
    # The offer still stands: pressing it goes on with the complaint.
    assert "What is your concern about" in dialogue.handle(ME, action="f:route:continue")[-1].text
    # A stray word is still asked to choose (it is no question to send to the office).
    dialogue.handle(ME, text="/cancel")
    dialogue.handle(ME, text="/complaint")
    waiting = len(store.unanswered.items())
    [choose, again] = dialogue.handle(ME, text="hmm")
    assert "choose one of the buttons" in choose.text.lower() and len(store.unanswered.items()) == waiting


def test_a_complaint_by_phone_asks_for_the_number_and_which_child(dialogue, store):
    store.people.set_role(store.people.user_key("telegram", ME.user_id), "parent")
    dialogue.handle(ME, text="/complaint")
    dialogue.handle(ME, action="f:route:continue")
    dialogue.handle(ME, text="Photos of my daughter on the class page")
    [child] = dialogue.handle(ME, action="f:who:skip")
    assert "Which child" in child.text and "f:child:skip" in actions([child])
    for text in ["Amira, Year 2", "Asked the teacher", "Take them down"]:
        out = dialogue.handle(ME, text=text)
    [number] = dialogue.handle(ME, action="f:contact:phone")
    assert "number" in number.text
    [summary] = dialogue.handle(ME, text="07700 900123")
    assert "07700 900123" in summary.text and "Amira, Year 2" in summary.text
    stored = dialogue.handle(ME, action="f:confirm:send")
    ref = next(w.strip(".,") for w in stored[-1].text.split() if w.startswith("CR-"))
    row = store.cases.get(ref).row
    assert row["contact"] == "By phone: 07700 900123" and row["child"] == "Amira, Year 2"
    [notice] = [m for m in store.outbox.due_messages() if m["ref"] == ref]
    assert "07700 900123" in notice["text"] and "Child: Amira, Year 2" in notice["text"]


def test_with_no_settings_the_dsl_contact_still_says_what_to_do_now(dialogue):
    """The session's settings are the defaults: every reply naming the DSL carries 999, the NSPCC and CEOP."""
    urgent = dialogue.handle(ME, text="I think a pupil is being groomed online by an adult")
    assert urgent[0].kind == "safeguarding"
    [told] = dialogue.handle(ME, action="sg:alert")  # "Please still tell the DSL directly ({dsl_contact})"
    assert "SA-" in told.text and "999" in told.text and "0808 800 5000" in told.text and "CEOP" in told.text
    assert "ask the school office for their number" not in urgent[0].text
