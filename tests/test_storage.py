"""Storage on a real SQLite file: migrations, pseudonyms, cases and references, the outbox, retention,
/forget and backup."""

from __future__ import annotations

import sqlite3
import stat
from datetime import timedelta

import pytest

from bot.storage import Storage, stamp, utc_now


@pytest.fixture
def store(tmp_path):
    s = Storage(tmp_path / "sub" / "bot.db")
    yield s
    s.close()


def test_file_is_private_uses_wal_and_is_migrated(store, tmp_path):
    path = tmp_path / "sub" / "bot.db"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    applied = [r["name"] for r in store.db["_sqlite_migrations"].rows]
    assert applied == ["m001_initial", "m002_office_answers", "m003_update_journal"]
    # Opening again applies nothing twice and keeps the pseudonym key.
    key = store.user_key("telegram", 42)
    again = Storage(path)
    try:
        assert again.user_key("telegram", 42) == key
        assert [r["name"] for r in again.db["_sqlite_migrations"].rows] == ["m001_initial", "m002_office_answers", "m003_update_journal"]
    finally:
        again.close()


def test_user_key_is_a_keyed_hash(store, tmp_path):
    key = store.user_key("telegram", 123456789)
    # A random 32-hex-digit key contains a given 9-digit run with negligible chance; a plain id would show.
    assert "123456789" not in key and len(key) == 32
    key = store.user_key("telegram", 42)
    assert key != store.user_key("console", 42) != store.user_key("telegram", 43)
    other = Storage(tmp_path / "other.db")
    try:
        assert other.user_key("telegram", 42) != key  # a different database, a different key
    finally:
        other.close()


def test_case_references_count_per_prefix_and_year(store):
    with store.transaction() as db:
        first = store.create_case("BR", {"what": "a", "reporter_key": "k"}, db)
        second = store.create_case("BR", {"what": "b", "reporter_key": "k"}, db)
        referral = store.create_case("CR", {"about": "c", "reporter_key": "k"}, db)
    year = utc_now().year
    assert (first, second, referral) == (f"BR-{year}-0001", f"BR-{year}-0002", f"CR-{year}-0001")
    assert store.case(first.lower()).row["what"] == "a"
    assert store.case("XX-2026-0001") is None and store.case("") is None and store.case("'; DROP TABLE x") is None
    assert [c.ref for c in store.cases_of("k")] == [first, second, referral]


def test_a_failed_transaction_stores_nothing(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as db:
            store.create_case("BR", {"what": "half"}, db)
            store.enqueue(db, target="office", text="notice")
            raise RuntimeError("crash before commit")
    assert not list(store.db["breach_reports"].rows)
    assert not list(store.db["outbox"].rows)
    with store.transaction() as db:
        assert store.create_case("BR", {"what": "whole"}, db).endswith("-0001")


def test_updates_are_marked_once(store):
    assert not store.already_handled("telegram:7")
    store.mark_handled("telegram:7")
    store.mark_handled("telegram:7")
    assert store.already_handled("telegram:7")


def test_outbox_retry_and_delivery(store):
    with store.transaction() as db:
        first = store.enqueue(db, target="office", text="one", buttons=[[("Ack", "of:k:BR-1")]])
    [due] = store.due_messages()
    assert due["buttons"] == [[("Ack", "of:k:BR-1")]]
    store.mark_failed(first, "TimedOut", utc_now() + timedelta(minutes=5))
    assert store.due_messages() == []
    assert len(store.due_messages(now=utc_now() + timedelta(minutes=6))) == 1
    assert store.stats()["undelivered"] == 1
    store.mark_delivered(first, 99)
    assert store.stats()["undelivered"] == 0
    with store.transaction() as db:
        blocked = store.enqueue(db, target="user", chat_id="5", text="x")
    store.mark_failed(blocked, "forbidden", None)
    assert store.db["outbox"].get(blocked)["status"] == "undeliverable"


def test_feedback_only_for_ones_own_question(store):
    mine = store.user_key("telegram", 1)
    qid = store.record_question(mine, "staff", "Can I?", "question", True, 0.9, "6.5")
    assert store.record_feedback(qid, mine, 1)
    assert store.record_feedback(qid, mine, -1)  # changing one's mind replaces the vote
    assert not store.record_feedback(qid, store.user_key("telegram", 2), 1)
    assert [r["value"] for r in store.db["feedback"].rows] == [-1]


def test_forget_erases_a_person_but_keeps_reports(store):
    me = store.user_key("telegram", 1)
    other = store.user_key("telegram", 2)
    store.set_role(me, "parent")
    store.set_role(other, "staff")
    qid = store.record_question(me, "parent", "my question", "question", False, 0.1, "")
    store.record_feedback(qid, me, 1)
    store.add_unanswered(qid, me, "telegram", "1", "parent", "my question", ["6.5"])
    store.save_state(me, {"flow": {"flow": "complaint"}})
    with store.transaction() as db:
        ref = store.create_case("CR", {"reporter_key": me, "about": "x"}, db)
    store.forget(me)
    for table in ("questions", "feedback", "unanswered", "profiles", "conversation_state"):
        assert store.db.execute(f"SELECT count(*) FROM {table} WHERE user_key = ?", [me]).fetchone()[0] == 0
    assert store.case(ref) is not None
    assert store.role_of(other) == "staff"


def test_retention_deletes_what_is_past_its_time(store):
    me = store.user_key("telegram", 1)
    store.set_role(me, "staff")
    store.record_question(me, "staff", "old question", "question", True, 0.9, "6.5")
    with store.transaction() as db:
        ref = store.create_case("BR", {"what": "old report"}, db)
    # A year and a day later: questions and profiles go, the report stays.
    counts = store.purge(365, 7 * 365, now=utc_now() + timedelta(days=366))
    assert counts["questions"] == 1 and counts["profiles"] == 1
    assert not list(store.db["questions"].rows)
    assert store.case(ref) is not None
    # Past the report retention it goes too.
    store.purge(365, 7 * 365, now=utc_now() + timedelta(days=7 * 365 + 1))
    assert store.case(ref) is None


def test_backup_is_a_consistent_private_copy_while_open(store, tmp_path):
    with store.transaction() as db:
        ref = store.create_case("SA", {"text": "alert"}, db)
    target = store.backup(tmp_path / "backup.db")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("SELECT ref FROM safeguarding_alerts").fetchall() == [(ref,)]
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        copy.close()


def test_stats_counts_questions_feedback_and_open_items(store):
    me = store.user_key("telegram", 1)
    q1 = store.record_question(me, "staff", "a", "question", True, 0.9, "6.5")
    store.record_question(me, "staff", "b", "question", False, 0.1, "")
    store.record_question(me, "staff", "", "greeting", False, 0.0, "")
    store.record_feedback(q1, me, 1)
    stats = store.stats()
    assert stats["questions"] == 2 and stats["answered"] == 1
    assert stats["top_sections"] == [("6.5", 1)]
    assert stats["thumbs_up"] == 1 and stats["thumbs_down"] == 0
    assert stats["per_day"][0][0] == stamp()[:10]
