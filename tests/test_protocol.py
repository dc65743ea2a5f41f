"""The callback-data codec and the flood gate, without Telegram or the model."""

import pytest

from bot.protocol import (
    ACKNOWLEDGE,
    ANSWER_WITH,
    OFFICE,
    PERSON,
    WRITE,
    decode,
    is_safeguarding_button,
    office_button,
)
from bot.flood import FloodGate, Verdict


def test_office_buttons_round_trip_and_forged_data_reads_as_nothing():
    assert office_button(ANSWER_WITH, 12, "6.5") == "of:a:12:6.5"
    button = decode("of:a:12:6.5")
    assert (button.audience, button.kind, button.args) == (OFFICE, ANSWER_WITH, ("12", "6.5"))
    assert decode(office_button(ACKNOWLEDGE, "BR-2026-0001")).args == ("BR-2026-0001",)
    for forged in ("of:", "of:zz", "of:x:y:z", "of:k:BR-2026-0001' OR '1'='1", "of:w:", "of:" + "9" * 55, "of:a:1"):
        assert decode(forged) is None, forged
    with pytest.raises(ValueError):
        office_button(WRITE, "not a number")


def test_a_persons_button_counts_only_in_the_pressers_own_private_chat():
    button = decode("go:breach")
    assert button.audience == PERSON
    assert button.valid_in("private", 42, 42)
    assert not button.valid_in("private", 42, 43)  # someone else's chat
    assert not button.valid_in("supergroup", -1001, 42)  # a group
    assert decode("of:d:3").valid_in("supergroup", -1001, 42)  # the office's: checked against ADMIN_USER_IDS at the press
    assert decode("nonsense") is None and decode(None) is None
    assert is_safeguarding_button("sg:alert") and not is_safeguarding_button("go:breach")


def test_the_flood_gate_says_slow_down_once_a_window():
    gate = FloodGate(per_minute=2, window=60)
    verdicts = [gate.check("m1", now=t) for t in (0, 1, 2, 3, 4)]
    assert verdicts == [Verdict.ALLOWED, Verdict.ALLOWED, Verdict.WARN, Verdict.QUIET, Verdict.QUIET]
    assert gate.check("m2", now=5) is Verdict.ALLOWED  # each person their own
    assert gate.check("m1", now=61) is Verdict.ALLOWED  # the window moved on
    assert gate.check("m1", now=61.5) is Verdict.ALLOWED
    assert gate.check("m1", now=62) is Verdict.QUIET  # told at 2 s: not again within the window
    assert gate.check("m1", now=63) is Verdict.WARN


def test_person_buttons_are_built_in_one_place():
    from bot.protocol import person_button

    assert person_button("sec", "6.5") == "sec:6.5" and person_button("fb", "up", 12) == "fb:up:12"
    assert decode(person_button("role", "staff")).kind == "role"
    with pytest.raises(ValueError):
        person_button("zz", 1)
    with pytest.raises(ValueError):
        person_button("sec", "x" * 80)


def test_the_flood_gate_lets_idle_keys_go(monkeypatch):
    import bot.flood

    monkeypatch.setattr(bot.flood, "PRUNE_ABOVE", 3)
    gate = FloodGate(per_minute=1)
    for n in range(4):
        assert gate.check(f"k{n}", now=0.0) is Verdict.ALLOWED
    assert gate.check("k0", now=1.0) is Verdict.WARN  # still within its window: remembered
    assert gate.check("new", now=200.0) is Verdict.ALLOWED  # past the window: the idle keys went
    assert set(gate.seen) == {"new"}
