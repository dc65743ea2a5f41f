"""What is kept about one person (/mydata), erasing it (/forget), and retention (older rows deleted)."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

from bot.store.answers import ITEM_PREFIX
from bot.store.cases import CASE_KINDS, Cases
from bot.store.connection import Connection, Room, stamp, utc_now
from bot.store.evidence import EvidenceFiles, web_ids

PERSONAL_TABLES = ("feedback", "unanswered", "questions", "profiles", "conversation_state")
ERASED = "[erased at the asker's request]"


class Privacy(Room):
    def __init__(self, connection: Connection, cases: Cases, evidence: EvidenceFiles | None = None):
        super().__init__(connection)
        self.cases = cases
        self.evidence = evidence

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

    def forget(self, user_key: str, erased: str = ERASED) -> dict:
        """Erase a person's questions, feedback, unanswered items, profile and conversation (with the screenshots
        of a report they had not sent), and their questions' words from the office's notices (`erased` stands in
        for them). Cases stay, with their evidence."""
        counts = {}
        with self.atomic() as db:
            unsent = [row["state"] for row in db["conversation_state"].rows_where("user_key = ?", [user_key])]
            items = list(db.execute("SELECT id, text FROM unanswered WHERE user_key = ?", [user_key]).fetchall())
            for item_id, text in items:
                counts["notices"] = counts.get("notices", 0) + _erase_from_notices(db, f"{ITEM_PREFIX}{item_id}", text or "", erased)
            for table in PERSONAL_TABLES:
                counts[table] = db.execute(f"DELETE FROM {table} WHERE user_key = ?", [user_key]).rowcount
            # Messages to them, sent or not, hold their chat id and their questions: they go too.
            db.execute("DELETE FROM outbox WHERE user_key = ?", [user_key])
        if self.evidence is not None:
            counts["evidence"] = self.evidence.delete(web_ids(" ".join(unsent)))
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
            expired = [row["evidence"] for row in db["breach_reports"].rows_where("created < ?", [long], select="evidence")]
            counts = {table: db.execute(f"DELETE FROM {table} WHERE {where}", params).rowcount for table, (where, params) in deletions.items()}
        if self.evidence is not None:
            # A report's screenshots go with it; files nothing holds any more (a report never sent) after a day.
            counts["evidence"] = self.evidence.delete(web_ids(" ".join(e or "" for e in expired)))
            counts["evidence"] += self.evidence.sweep(self.held_evidence(), now=now.timestamp())
        return counts

    def held_evidence(self) -> set[str]:
        """The web evidence ids some report or some conversation in progress still holds."""
        with self.reading() as db:
            stored = [row["evidence"] or "" for row in db["breach_reports"].rows_where(select="evidence")]
            states = [row["state"] or "" for row in db["conversation_state"].rows_where(select="state")]
        return set(web_ids(" ".join(stored + states)))


def _erase_from_notices(db, ref: str, text: str, erased: str) -> int:
    """The office's notices of one unanswered item (alone, in a group, or in a digest): one not yet sent about
    it alone is dropped; in any other, its words are replaced. Returns how many notices changed."""
    rows = db.execute(
        "SELECT id, ref, status, text FROM outbox WHERE target != 'user' AND"
        " (ref = ? OR ',' || ref || ',' LIKE ? OR (kind LIKE 'digest%' AND ? != '' AND instr(text, ?) > 0))",
        [ref, f"%,{ref},%", text, text],
    ).fetchall()
    for outbox_id, row_ref, status, body in rows:
        if status == "pending" and row_ref in (ref, ""):
            db.execute("DELETE FROM outbox WHERE id = ?", [outbox_id])
        elif text:
            redacted = (body or "").replace(text, erased).replace(escape(text, quote=False), erased)
            db.execute("UPDATE outbox SET text = ? WHERE id = ?", [redacted, outbox_id])
    return len(rows)
