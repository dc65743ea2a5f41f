"""Pack loading: enrichment applied and checked, sections found as printed, the parents' agreement found."""

from dataclasses import replace

import pytest

from knowledge.pack import PackError, apply_enrichment, load_pack


def test_every_clearwell_clause_is_curated_with_a_verdict_and_questions_people_ask():
    pack = load_pack()
    assert len(pack.clauses) == 84
    for clause in pack.clauses:
        assert clause.curated and clause.heading and clause.verdict and clause.summary, clause.id
        assert len(clause.alternates) + len(clause.ruling_questions()) >= 8, clause.id


def test_every_clearwell_clause_has_rulings_and_says_who_it_governs():
    from knowledge.clause import VERDICT_KINDS

    pack = load_pack()
    for clause in pack.clauses:
        assert clause.rulings, clause.id
        assert clause.actor and clause.target and clause.channel, clause.id
        for ruling in clause.rulings:
            assert ruling.kind in VERDICT_KINDS and ruling.says and ruling.when, clause.id
            # The opening word is chosen for the question; a ruling's own line never starts with one.
            assert not ruling.says.lower().startswith(("yes", "no ")), (clause.id, ruling.says)
            assert len(ruling.asks) >= 3, (clause.id, ruling.when)
    # A clause that decides one situation one way and another the other way (6.1: school hours, own time).
    assert {r.kind for r in pack.clause("6.1").rulings} >= {"not_allowed", "allowed"}


def test_sections_are_found_as_printed():
    pack = load_pack()
    assert [c.id for c in pack.find_section("6.2")] == ["6.2", "6.2-2"]
    assert [c.id for c in pack.find_section("A.4(c)")] == ["A.4.c"]
    assert pack.find_section("6.7") == []
    # The parts must match, not just the digits: there is no section 12, and 1.2 is not it.
    assert pack.find_section("12") == [] and [c.id for c in pack.find_section("1.2")] == ["1.2"]
    assert pack.find_section("613") == [] and [c.id for c in pack.find_section("section 6.13")] == ["6.13"]
    assert pack.clause("6.2-2").label == "6.2 (second 6.2)"


def test_the_parents_agreement_is_found_without_naming_its_number():
    pack = load_pack()
    assert [c.id for c in pack.agreement_clauses()] == ["10.5", "10.5-agreement"]
    without = replace(pack, clauses=tuple(c for c in pack.clauses if not c.id.startswith("10.")))
    without.__dict__.pop("clauses_by_id", None)
    assert without.agreement_clauses() == []


def test_enrichment_naming_an_unknown_clause_or_bad_value_is_an_error():
    clauses = load_pack().clauses
    with pytest.raises(PackError, match="6.7"):
        apply_enrichment(clauses, {"clauses": {"6.7": {"heading": "missing"}}})
    with pytest.raises(PackError, match="audience"):
        apply_enrichment(clauses, {"clauses": {"6.5": {"audience": "pupils"}}})
    with pytest.raises(PackError, match="verdict_kind"):
        apply_enrichment(clauses, {"clauses": {"6.5": {"verdict_kind": "maybe"}}})
