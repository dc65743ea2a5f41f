"""Guessed verdicts for policies nobody has curated: a list item is read with the lead-in that governs it, and a
guess never turns a prohibition into a permission (or the reverse) on real policies' lists."""

from pathlib import Path

import pytest
import yaml

from knowledge.guess import guess_verdict_kind

FIXTURE = Path(__file__).parent / "fixtures" / "list_items.yaml"
NO = {"not_allowed", "advised_against"}
YES = {"allowed", "required"}


def _items():
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    return [(p["policy"], item) for p in data["policies"] for item in p["items"]]


def test_the_fixture_covers_several_real_policies():
    policies = {policy for policy, _ in _items()}
    assert len(policies) >= 5 and len(_items()) >= 100


@pytest.mark.parametrize("policy, item", _items(), ids=lambda v: v if isinstance(v, str) else v["item"][:40])
def test_a_guessed_verdict_never_inverts_a_list_item(policy, item):
    got = guess_verdict_kind(item["item"], item["lead"])
    want = item["verdict"]
    inverted = (want in NO and got in YES) or (want in YES and got in NO and got != "advised_against")
    assert not inverted, f"{policy}: {item['lead']!r} / {item['item']!r}: guessed {got}, reads as {want}"


@pytest.mark.parametrize(
    "lead, item, kind",
    [
        ("For example, employees are prohibited from using social media to:", "breach any obligations they may have relating to confidentiality;", "not_allowed"),
        ("Staff must not:", "accept friend requests from pupils", "not_allowed"),
        ("Staff should:", "never share their passwords", "not_allowed"),
        ("Content posted must be:", "not defamatory towards any individual", "not_allowed"),
        ("Content posted must be:", "respectful of others", "required"),
        ("Councillors are advised to follow these guidelines:", "Post only what is acceptable for the world to view", "required"),
        ("You may:", "share the school's official posts", "allowed"),
    ],
)
def test_a_list_item_takes_its_lead_in_unless_it_opens_with_a_rule_of_its_own(lead, item, kind):
    assert guess_verdict_kind(item, lead) == kind


def test_an_instruction_that_opens_a_sentence_decides_it():
    assert guess_verdict_kind("Double check your photos before you upload: ensure they don't show your address.") == "required"
    assert guess_verdict_kind("Never post photographs of pupils on a personal account.") == "not_allowed"
    assert guess_verdict_kind("Some comments may not require a response.") != "not_allowed"
