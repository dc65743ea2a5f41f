"""Triage decides which messages go first when many people write at once: generous for anything that might
be about a child at risk, quiet for ordinary questions, and never the thing that decides the reply."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from intents.triage import UrgencyTriage

PACK = Path(__file__).resolve().parent.parent / "knowledge" / "packs" / "clearwell"


def labelled_messages() -> tuple[list[str], list[str]]:
    """Safeguarding messages and everything else, from the pack's evaluation sets (written independently)."""
    at_risk, other = [], []
    for name in ("eval.yaml", "heldout.yaml"):
        data = yaml.safe_load((PACK / name).read_text(encoding="utf-8"))
        for item in data["intents"]:
            (at_risk if item["intent"] == "safeguarding" else other).append(item["text"])
        other += [q["q"] if isinstance(q, dict) else q for q in data["questions"] + data["out_of_scope"]]
    return at_risk, other


@pytest.fixture(scope="module")
def triage() -> UrgencyTriage:
    return UrgencyTriage.load()


def test_every_safeguarding_message_goes_first_and_few_questions_do(triage):
    at_risk, other = labelled_messages()
    assert len(at_risk) >= 20 and len(other) >= 400
    assert [m for m in at_risk if not triage.possible(m)] == []
    flagged = [m for m in other if triage.possible(m)]
    # Measured 25 of 494 (5%); a lane that took most questions would be no lane at all.
    assert len(flagged) / len(other) < 0.08, flagged


def test_definite_is_the_safeguarding_rules_and_possible_is_wider(triage):
    rules_flag = "I think a pupil is being groomed online by an adult"
    # (A "goodbye message" is now a sign by rule, tests/test_safeguarding_signs.py; a "dark" one is only words.)
    only_words = "one of my year 10s posted a really dark message on insta and isn't answering anyone"
    assert triage.definite(rules_flag) and triage.possible(rules_flag)
    assert not triage.definite(only_words) and triage.possible(only_words)
    assert not triage.possible("Can I post a photo of sports day?")


@pytest.mark.parametrize("text", ["", " ", "\x00\x01", "🙂" * 3000, "<b>&amp;</b>", "x" * 20000])
def test_odd_input_is_triaged_without_error(triage, text):
    assert triage.possible(text) in (True, False)
    assert triage.definite(text) in (True, False)


def test_a_school_can_widen_the_words(tmp_path):
    custom = tmp_path / "triage.yaml"
    custom.write_text("version: 1\nurgent_words:\n  - '\\bpanic\\b'\nnearest_examples: {votes: 5, floor: 0.99}\n")
    widened = UrgencyTriage.load(path=custom)
    assert widened.possible("I am in a panic about my class")
    assert not UrgencyTriage.load().possible("I am in a panic about my class")
