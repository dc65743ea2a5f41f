"""The governors' annual review: anonymous weekly counts that outlive retention, the store's injectable clock,
redaction, the pack's health, and a PDF written from a simulated month driven through the real dialogue."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from bot.review.gather import gather, read_sources
from bot.review.health import opposite_pairs, pack_health, placeholders_in
from bot.review.redact import redact, vocabulary
from bot.store import Store

REPO = Path(__file__).resolve().parents[1]


class Clock:
    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clocked(tmp_path):
    clock = Clock(datetime(2025, 9, 1, 9, 0, tzinfo=timezone.utc))
    store = Store(tmp_path / "review.db", clock=clock)
    yield store, clock
    store.close()


def test_rows_are_stamped_by_the_stores_clock(clocked):
    store, clock = clocked
    question = store.questions.record("k", "staff", "can I?", "question", True, 0.9, "6.5")
    ref = store.cases.create("breach", {"what": "x", "reporter_key": "k"})
    assert store.questions.row("questions", question)["created"] == "2025-09-01T09:00:00+00:00"
    assert ref == "BR-2025-0001" and store.cases.get(ref).row["created"].startswith("2025-09-01")


def test_weekly_counts_outlive_retention_and_a_changed_mind_counts_once(clocked, pack):
    store, clock = clocked
    first = store.questions.record("k", "staff", "can I add a pupil?", "question", True, 0.9, "6.5")
    store.questions.record_feedback(first, "k", -1)
    store.questions.record_feedback(first, "k", +1)  # changed their mind: one 👍, no 👎
    store.questions.record("p", "parent", "something odd", "question", False, 0.2, "", nearest="10.2")
    clock.moment += timedelta(days=100)
    store.questions.record("k", "staff", "friend request?", "question", True, 0.9, "6.5")
    assert store.privacy.purge(retention_days=30, report_retention_days=3000)["questions"] == 2
    assert [r["created"][:10] for r in store.db["questions"].rows] == ["2025-12-10"]
    review = gather(pack, read_sources(store, date(2025, 9, 1), date(2025, 12, 31)), date(2025, 9, 1), date(2025, 12, 31))
    assert review.questions == 3 and review.answered == 2
    assert review.outcomes["thumbs_up"] == 1 and review.outcomes.get("thumbs_down", 0) == 0
    assert [(c.clause, c.by_role, c.halves) for c in review.clauses] == [("6.5", {"staff": 2}, (1, 1))]
    assert review.questions_by_week["parent"][0] == 1
    # No wording, nothing that points to a person.
    assert set(store.db["weekly_counts"].columns_dict) == {"week", "clause", "role", "outcome", "n"}


def test_the_office_choosing_another_clause_marks_the_bots_guess_as_confusing(clocked, pack):
    store, _ = clocked
    for n in range(2):
        qid = store.questions.record(f"k{n}", "staff", "odd one", "question", False, 0.3, "", nearest="6.13")
        item = store.unanswered.add(qid, f"k{n}", "console", "1", "staff", "odd one", ["6.13", "6.5"])
        assert store.unanswered.resolve(item, "answered", "office", clause_id="6.5")
    review = gather(pack, read_sources(store, date(2025, 9, 1), date(2025, 9, 30)), date(2025, 9, 1), date(2025, 9, 30))
    [confusing] = review.confusing
    assert (confusing.clause, confusing.hedged, confusing.redirected) == ("6.13", 2, 2)


def test_signatures_are_none_recorded_until_a_table_feeds_them(clocked, pack):
    store, _ = clocked
    period = (date(2025, 9, 1), date(2025, 9, 30))
    assert gather(pack, read_sources(store, *period), *period).coverage is None
    store.db["signatures"].insert_all(  # as bot/store/signatures.py writes them
        [{"digest": "v1", "kind": "agreement", "outcome": "signed"}] * 3 + [{"digest": "v1", "kind": "acknowledgement", "outcome": "asked"}]
    )
    coverage = gather(pack, read_sources(store, *period), *period).coverage
    assert [(c.version, c.kind, c.signed, c.asked) for c in coverage] == [("v1", "parent", 3, 0), ("v1", "staff", 0, 1)]


@pytest.mark.parametrize(
    "text, gone, kept",
    [
        ("Can I add Mrs Patel on Facebook? email jo.bloggs@gmail.com or 07700 900123", ["Patel", "jo.bloggs", "900123"], ["Facebook"]),
        ("my son Jayden was tagged by @coolkid99 on TikTok", ["Jayden", "coolkid99"], ["TikTok", "my son"]),
        ("Hi, I'm Олена Коваленко, call +44 20 7946 0958", ["Олена", "Коваленко", "7946"], ["Hi"]),
        ("Can my child wear a smartwatch? I named the SENCo", [], ["wear", "the SENCo"]),
    ],
)
def test_redaction_takes_out_names_emails_phones_and_handles(text, gone, kept):
    known = vocabulary("hi can i add on facebook email or my son was tagged by on tiktok call child wear a smartwatch named the senco")
    redacted = redact(text, known)
    assert not [g for g in gone if g in redacted], redacted
    assert all(k in redacted for k in kept), redacted


def test_pack_health_finds_the_numbering_and_the_unfilled_template(pack):
    health = pack_health(pack, None)
    assert health.duplicates == ("6.2 is printed 2 times", "6.3 is printed 2 times")
    assert health.missing == ("6.7 is missing", "9.3 is missing")
    assert {p.clause for p in placeholders_in(pack)} == {"A.3.1", "A.3.2", "A.3.7", "A.3.8"}
    assert all(p.found.lower() == "insert school name" for p in placeholders_in(pack))


def test_similar_clauses_with_opposite_verdicts_are_paired_whatever_the_pack(pack):
    from dataclasses import replace

    clauses = pack.clauses[:4]
    kinds = ("allowed", "not_allowed", "not_allowed", "information")
    small = replace(pack, clauses=tuple(replace(c, verdict_kind=k) for c, k in zip(clauses, kinds)))
    vectors = np.eye(4, dtype=np.float32)
    vectors[1] = vectors[0] * 0.8 + vectors[1] * 0.6  # clause 2 reads like clause 1; clause 3 like nothing
    vectors[3] = vectors[0]  # clause 4 reads like clause 1 but decides nothing
    [pair] = opposite_pairs(small, vectors)
    assert (pair.first, pair.first_verdict, pair.second, pair.second_verdict) == (clauses[0].label, "allowed", clauses[1].label, "not_allowed")


def _simulator():
    spec = importlib.util.spec_from_file_location("simulate_year", REPO / "bench" / "simulate_year.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("simulate_year", module)
    spec.loader.exec_module(module)
    return module


def test_a_simulated_month_through_the_real_dialogue_makes_a_readable_review(advisor, bot_settings, untaught_engine, tmp_path, monkeypatch):
    from pypdf import PdfReader

    from bot.review import build_review, write_review
    from bot.store.questions import Questions

    simulator = _simulator()
    asked = []
    record = Questions.record

    def counting(self, user_key, role, text, intent, *args, **kwargs):
        asked.append(intent)
        return record(self, user_key, role, text, intent, *args, **kwargs)

    monkeypatch.setattr(Questions, "record", counting)
    start = date(2025, 9, 1)
    store, clock, tally = simulator.simulate(
        advisor, bot_settings, tmp_path / "month.db", start, 28, per_day=2, sample=20, retention_days=14, people=12, seed=3
    )
    try:
        end = start + timedelta(days=27)
        assert tally.questions >= 30 and tally.unanswered and tally.purged, tally
        # The first weeks' questions are gone, but the review counts them from the weekly counts.
        assert min(r["created"] for r in store.db["questions"].rows) >= "2025-09-08T07:00"  # the last purge: 22 September
        review = build_review(store, advisor.engine, start, end)
        assert review.questions == sum(1 for intent in asked if intent == "question")
        path = write_review(store, advisor.engine, bot_settings, start, end, tmp_path / "review.pdf")
    finally:
        store.close()
    pages = [page.extract_text() for page in PdfReader(path).pages]
    text = "\n".join(pages)
    for heading in ("In brief", "Contents", "What people asked about", "What the policy could not answer",
                    "Clauses people found confusing", "Breach reports, complaint referrals and safeguarding alerts",
                    "Signatures and acknowledgements", "The policy's own health", "How this review was made"):
        assert heading in text, heading
    assert f"Page 1 of {len(pages)}" in pages[0] and f"Page {len(pages)} of {len(pages)}" in pages[-1]
    assert "No signatures recorded" in text
    flat = " ".join(text.split())
    for finding in ("6.2 is printed 2 times", "6.3 is printed 2 times", "6.7 is missing", "9.3 is missing", "Insert school name"):
        assert finding in flat, finding
    assert f"{review.questions} questions about the policy" in flat
    # Nobody's name, address, number or handle; no safeguarding message's words.
    for personal in ("Siobhán", "O'Hara", "siobhan", "07700", "900123", "Олена", "Коваленко", "olena_k", "Tremaine", "7946", "Jayden"):
        assert personal not in text, personal
    for row in store_rows(tmp_path / "month.db", "safeguarding_alerts"):
        assert row["text"][:40] not in flat
    assert "The policy is silent on this" in flat or "Add to clause" in flat


def store_rows(path: Path, table: str) -> list[dict]:
    store = Store(path)
    try:
        return list(store.db[table].rows)
    finally:
        store.close()


@pytest.mark.parametrize(
    "argv, says",
    [
        (["--from", "2025-09-01", "--to", "last week"], "YYYY-MM-DD"),
        (["--from", "2026-09-01", "--to", "2025-08-31"], "before"),
        (["--from", "2025-09-01", "--to", "2026-08-31", "--hide", "twelve"], "U-12"),
    ],
)
def test_the_review_command_refuses_bad_dates_and_items_before_loading_the_model(argv, says, tmp_path, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "bot.db"))
    assert main(["office", "review", *argv, "--out", str(tmp_path / "r.pdf")]) == 2
    assert says in capsys.readouterr().err and not (tmp_path / "r.pdf").exists()


def test_an_older_database_gets_weekly_counts_from_what_it_still_holds(tmp_path):
    path = tmp_path / "old.db"
    store = Store(path)
    qid = store.questions.record("k", "parent", "can I post the play?", "question", True, 0.9, "6.9")
    store.questions.record_feedback(qid, "k", -1)
    # As it was before the weekly counts existed.
    store.db["weekly_counts"].drop()
    store.db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm007_weekly_counts'")
    store.db.conn.commit()
    store.close()
    again = Store(path)
    try:
        counts = {(r["clause"], r["role"], r["outcome"]): r["n"] for r in again.weekly.rows()}
    finally:
        again.close()
    assert counts == {("6.9", "parent", "answered"): 1, ("6.9", "parent", "thumbs_down"): 1}
