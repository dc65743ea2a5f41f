"""What is kept about one person (/mydata), erasing it (/forget), and retention (older rows deleted)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.store.cases import CASE_KINDS, Cases
from bot.store.connection import Connection, Room, stamp, utc_now

# Signatures are not among them: a signature is a record the school keeps (SIGNATURE_RETENTION_DAYS).
PERSONAL_TABLES = ("feedback", "unanswered", "questions", "profiles", "conversation_state", "sign_sessions")


class Privacy(Room):
    def __init__(self, connection: Connection, cases: Cases):
        super().__init__(connection)
        self.cases = cases

    def data_of(self, user_key: str) -> dict:
        """Everything stored about one person (for /mydata)."""
        with self.reading() as db:
            by_person = lambda table: list(db[table].rows_where("user_key = ?", [user_key], order_by="rowid"))  # noqa: E731
            profile, state = by_person("profiles"), by_person("conversation_state")
            questions, feedback, unanswered = by_person("questions"), by_person("feedback"), by_person("unanswered")
        return {
            "profile": profile[0] if profile else None,
            "questions": questions,
            "feedback": feedback,
            "unanswered": unanswered,
            "conversation": bool(state),
            "cases": [c.ref for c in self.cases.of_reporter(user_key)],
        }

    def forget(self, user_key: str) -> dict:
        """Erase a person's questions, feedback, unanswered items, profile and conversation. Cases stay."""
        counts = {}
        with self.atomic() as db:
            for table in PERSONAL_TABLES:
                counts[table] = db.execute(f"DELETE FROM {table} WHERE user_key = ?", [user_key]).rowcount
            # Messages to them, sent or not, hold their chat id and their questions: they go too.
            db.execute("DELETE FROM outbox WHERE user_key = ?", [user_key])
        return counts

    def purge(self, retention_days: int, report_retention_days: int, now: datetime | None = None) -> dict:
        """Delete personal data older than its retention period; returns how many rows went from each table."""
        now = now or utc_now()
        short = stamp(now - timedelta(days=retention_days))
        long = stamp(now - timedelta(days=report_retention_days))
        updates = stamp(now - timedelta(days=min(7, retention_days)))
        deletions = {
            "feedback": ("created < ?", [short]),
            "unanswered": ("created < ?", [short]),
            "questions": ("created < ?", [short]),
            "profiles": ("last_seen < ?", [short]),
            "conversation_state": ("updated < ?", [short]),
            "processed_updates": ("handled < ?", [updates]),
            "outbox": ("(status = 'delivered' AND delivered_at < ?) OR created < ?", [short, long]),
            **{kind.table: ("created < ?", [long]) for kind in CASE_KINDS.values()},
            "audit_log": ("at < ?", [long]),
        }
        with self.atomic() as db:
            return {table: db.execute(f"DELETE FROM {table} WHERE {where}", params).rowcount for table, (where, params) in deletions.items()}
