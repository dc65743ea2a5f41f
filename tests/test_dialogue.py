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
    for number, text in enumerate(["Class blog shows names", "Year 3", "Emailed", "Remove them", "Reply here"], 3):
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
