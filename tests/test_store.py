"""The store on a real SQLite file: migrations, pseudonyms, cases and references, nested transactions, the
outbox, retention, /forget and backup."""

from __future__ import annotations

import sqlite3
import stat
from datetime import timedelta

import pytest

from bot.store import Store, stamp, utc_now

MIGRATIONS = ["m001_initial", "m002_office_answers", "m003_update_journal", "m004_answer_links", "m005_complaint_child", "m006_signatures", "m007_weekly_counts", "m008_desk", "m009_signing_web"]


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "sub" / "bot.db")
    yield s
    s.close()


def test_file_is_private_uses_wal_and_is_migrated(store, tmp_path):
    path = tmp_path / "sub" / "bot.db"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    applied = [r["name"] for r in store.db["_sqlite_migrations"].rows]
    assert applied == MIGRATIONS
    # Opening again applies nothing twice and keeps the pseudonym key.
    key = store.people.user_key("telegram", 42)
    again = Store(path)
    try:
        assert again.people.user_key("telegram", 42) == key
        assert [r["name"] for r in again.db["_sqlite_migrations"].rows] == MIGRATIONS
    finally:
        again.close()


def test_user_key_is_a_keyed_hash(store, tmp_path):
    key = store.people.user_key("telegram", 123456789)
    # A random 32-hex-digit key contains a given 9-digit run with negligible chance; a plain id would show.
    assert "123456789" not in key and len(key) == 32
    key = store.people.user_key("telegram", 42)
    assert key != store.people.user_key("console", 42) != store.people.user_key("telegram", 43)
    other = Store(tmp_path / "other.db")
    try:
        assert other.people.user_key("telegram", 42) != key  # a different database, a different key
    finally:
        other.close()


def test_case_references_count_per_prefix_and_year(store):
    with store.transaction() as db:
        first = store.cases.create("breach", {"what": "a", "reporter_key": "k"})
        second = store.cases.create("breach", {"what": "b", "reporter_key": "k"})
        referral = store.cases.create("complaint", {"about": "c", "reporter_key": "k"})
    year = utc_now().year
    assert (first, second, referral) == (f"BR-{year}-0001", f"BR-{year}-0002", f"CR-{year}-0001")
    assert store.cases.get(first.lower()).row["what"] == "a"
    assert store.cases.get("XX-2026-0001") is None and store.cases.get("") is None and store.cases.get("'; DROP TABLE x") is None
    assert [c.ref for c in store.cases.of_reporter("k")] == [first, second, referral]


def test_a_failed_transaction_stores_nothing(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.cases.create("breach", {"what": "half"})
            store.outbox.enqueue(target="office", text="notice")
            raise RuntimeError("crash before commit")
    assert not list(store.db["breach_reports"].rows)
    assert not list(store.db["outbox"].rows)
    with store.transaction():
        assert store.cases.create("breach", {"what": "whole"}).endswith("-0001")


def test_updates_are_marked_once(store):
    assert not store.updates.already_handled("telegram:7")
    store.updates.mark_handled("telegram:7")
    store.updates.mark_handled("telegram:7")
    assert store.updates.already_handled("telegram:7")


def test_outbox_retry_and_delivery(store):
    with store.transaction():
        first = store.outbox.enqueue(target="office", text="one", buttons=[[("Ack", "of:k:BR-1")]])
    [due] = store.outbox.due_messages()
    assert due["buttons"] == [[("Ack", "of:k:BR-1")]]
    store.outbox.mark_failed(first, "TimedOut", utc_now() + timedelta(minutes=5))
    assert store.outbox.due_messages() == []
    assert len(store.outbox.due_messages(now=utc_now() + timedelta(minutes=6))) == 1
    assert store.stats()["undelivered"] == 1
    store.outbox.mark_delivered(first, 99)
    assert store.stats()["undelivered"] == 0
    with store.transaction():
        blocked = store.outbox.enqueue(target="user", chat_id="5", text="x")
    store.outbox.mark_failed(blocked, "forbidden", None)
    assert store.db["outbox"].get(blocked)["status"] == "undeliverable"


def test_feedback_only_for_ones_own_question(store):
    mine = store.people.user_key("telegram", 1)
    qid = store.questions.record(mine, "staff", "Can I?", "question", True, 0.9, "6.5")
    assert store.questions.record_feedback(qid, mine, 1)
    assert store.questions.record_feedback(qid, mine, -1)  # changing one's mind replaces the vote
    assert not store.questions.record_feedback(qid, store.people.user_key("telegram", 2), 1)
    assert [r["value"] for r in store.db["feedback"].rows] == [-1]


def test_forget_erases_a_person_but_keeps_reports(store):
    me = store.people.user_key("telegram", 1)
    other = store.people.user_key("telegram", 2)
    store.people.set_role(me, "parent")
    store.people.set_role(other, "staff")
    qid = store.questions.record(me, "parent", "my question", "question", False, 0.1, "")
    store.questions.record_feedback(qid, me, 1)
    store.unanswered.add(qid, me, "telegram", "1", "parent", "my question", ["6.5"])
    store.people.save_state(me, {"flow": {"flow": "complaint"}})
    with store.transaction():
        ref = store.cases.create("complaint", {"reporter_key": me, "about": "x"})
    store.privacy.forget(me)
    for table in ("questions", "feedback", "unanswered", "profiles", "conversation_state"):
        assert store.db.execute(f"SELECT count(*) FROM {table} WHERE user_key = ?", [me]).fetchone()[0] == 0
    assert store.cases.get(ref) is not None
    assert store.people.role_of(other) == "staff"


def test_retention_deletes_what_is_past_its_time(store):
    me = store.people.user_key("telegram", 1)
    store.people.set_role(me, "staff")
    store.questions.record(me, "staff", "old question", "question", True, 0.9, "6.5")
    with store.transaction():
        ref = store.cases.create("breach", {"what": "old report"})
    # A year and a day later: questions and profiles go, the report stays.
    counts = store.privacy.purge(365, 7 * 365, now=utc_now() + timedelta(days=366))
    assert counts["questions"] == 1 and counts["profiles"] == 1
    assert not list(store.db["questions"].rows)
    assert store.cases.get(ref) is not None
    # Past the report retention it goes too.
    store.privacy.purge(365, 7 * 365, now=utc_now() + timedelta(days=7 * 365 + 1))
    assert store.cases.get(ref) is None


def test_backup_is_a_consistent_private_copy_while_open(store, tmp_path):
    with store.transaction():
        ref = store.cases.create("safeguarding", {"text": "alert"})
    target = store.backup(tmp_path / "backup.db")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("SELECT ref FROM safeguarding_alerts").fetchall() == [(ref,)]
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        copy.close()


def test_stats_counts_questions_feedback_and_open_items(store):
    me = store.people.user_key("telegram", 1)
    q1 = store.questions.record(me, "staff", "a", "question", True, 0.9, "6.5")
    store.questions.record(me, "staff", "b", "question", False, 0.1, "")
    store.questions.record(me, "staff", "", "greeting", False, 0.0, "")
    store.questions.record_feedback(q1, me, 1)
    stats = store.stats()
    assert stats["questions"] == 2 and stats["answered"] == 1
    assert stats["top_sections"] == [("6.5", 1)]
    assert stats["thumbs_up"] == 1 and stats["thumbs_down"] == 0
    assert stats["per_day"][0][0] == stamp()[:10]


def test_a_rooms_own_write_nests_inside_the_callers_transaction(store):
    me = store.people.user_key("telegram", 1)
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.people.set_role(me, "staff")  # commits alone, but here it is part of the caller's transaction
            store.questions.record(me, "staff", "q", "question", True, 0.9, "6.5")
            raise RuntimeError("crash before commit")
    assert store.people.role_of(me) is None and not list(store.db["questions"].rows)
    # A failure inside a nested block undoes that block only.
    with store.transaction():
        store.people.set_role(me, "parent")
        with pytest.raises(RuntimeError):
            with store.transaction():
                store.cases.create("breach", {"what": "half"})
                raise RuntimeError("inner failure")
    assert store.people.role_of(me) == "parent" and not list(store.db["breach_reports"].rows)


def test_one_map_of_case_kinds_names_prefixes_and_tables(store):
    from bot.store import CASE_KINDS, kind_of_ref

    assert {k.prefix for k in CASE_KINDS.values()} == {"BR", "CR", "SA"}
    assert all(store.db[k.table].exists() for k in CASE_KINDS.values())
    assert kind_of_ref("sa-2026-0001") is CASE_KINDS["safeguarding"] and kind_of_ref("XX-1") is None
    ref = store.cases.create("safeguarding", {"text": "alert", "urgent": True, "reporter_key": "k"})
    case = store.cases.get(ref)
    assert case.kind == "safeguarding" and case.row["urgent"] == 1 and case.status == "open"
    assert store.cases.update(ref, {"status": "closed"}) and not store.cases.update(ref, {"status": "open"}, unless_status="closed")
    assert store.cases.with_status() == [] and [c.ref for c in store.cases.with_status(("closed",))] == [ref]
