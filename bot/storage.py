"""The bot's memory: one SQLite file (WAL, mode 0600) holding questions, feedback, the office's work and cases.

Every write that matters is one transaction, so a report is either stored whole or not at all. People are
known only by a keyed hash of their channel and id (`user_key`); the raw chat id is kept only where the bot
must reach the person again (an unanswered question, a report they may be told about), and retention deletes
it with the rest. Schema changes are recorded migrations (`sqlite_utils.Migrations`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import sqlite_utils
from sqlite_utils import Migrations

# Case references: the prefix says which table holds the case.
CASE_KINDS = {"BR": "breach_reports", "CR": "complaint_referrals", "SA": "safeguarding_alerts"}
CASE_STATUSES = ("open", "acknowledged", "closed")

migrations = Migrations("policybot")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def stamp(moment: datetime | None = None) -> str:
    """Timestamps are ISO strings in UTC, so they sort and compare as text."""
    return (moment or utc_now()).astimezone(timezone.utc).isoformat(timespec="seconds")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["meta"].insert({"key": "pseudonym_key", "value": secrets.token_hex(32)})
    db["profiles"].create({"user_key": str, "role": str, "created": str, "last_seen": str}, pk="user_key")
    db["conversation_state"].create({"user_key": str, "state": str, "updated": str}, pk="user_key")
    db["processed_updates"].create({"update_id": str, "handled": str}, pk="update_id")
    db["questions"].create(
        {
            "id": int,
            "user_key": str,
            "role": str,
            "text": str,
            "intent": str,
            "answered": int,
            "confidence": float,
            "top_clause": str,
            "created": str,
        },
        pk="id",
    )
    db["questions"].create_index(["user_key"])
    db["questions"].create_index(["created"])
    db["feedback"].create(
        {"id": int, "question_id": int, "user_key": str, "value": int, "created": str}, pk="id"
    )
    db["feedback"].create_index(["question_id", "user_key"], unique=True)
    db["unanswered"].create(
        {
            "id": int,
            "question_id": int,
            "user_key": str,
            "channel": str,
            "chat_id": str,
            "role": str,
            "text": str,
            "suggestions": str,  # JSON list of clause ids, best first
            "status": str,  # open | answered | dismissed
            "created": str,
            "resolved_at": str,
            "resolved_by": str,
            "answer_clause": str,
            "answer_text": str,
        },
        pk="id",
    )
    db["unanswered"].create_index(["status"])
    # Only the question text the office approved, with no link to whoever asked it.
    db["learned_alternates"].create({"id": int, "clause_id": str, "text": str, "created": str}, pk="id")
    db["learned_alternates"].create_index(["clause_id", "text"], unique=True)
    db["case_counters"].create({"prefix_year": str, "last": int}, pk="prefix_year")
    case_columns = {
        "ref": str,
        "created": str,
        "status": str,
        "reporter_key": str,  # empty when anonymous
        "reporter_channel": str,
        "reporter_chat": str,
        "reporter_name": str,  # the name the person gave Telegram, when they chose to be named
        "role": str,
        "routed_to": str,  # office | escalation
        "urgent": int,
        "acknowledged_by": str,
        "acknowledged_at": str,
        "closed_by": str,
        "closed_at": str,
        "close_note": str,
    }
    db["breach_reports"].create(
        {
            **case_columns,
            "anonymous": int,
            "what": str,
            "where_": str,
            "when_": str,
            "who": str,
            "about_leadership": int,
            "pupil_risk": str,  # harm | identifiable | none
            "data_protection": int,
            "evidence": str,  # JSON list of Telegram file ids
            "clauses": str,  # JSON list of clause ids the reporter confirmed
        },
        pk="ref",
    )
    db["complaint_referrals"].create(
        {**case_columns, "about": str, "who": str, "tried": str, "outcome": str, "contact": str}, pk="ref"
    )
    db["safeguarding_alerts"].create({**case_columns, "text": str, "context": str}, pk="ref")
    db["audit_log"].create(
        {"id": int, "at": str, "actor": str, "action": str, "target": str, "detail": str}, pk="id"
    )
    db["outbox"].create(
        {
            "id": int,
            "created": str,
            "target": str,  # office | escalation | user
            "channel": str,  # telegram | console
            "chat_id": str,  # for target=user
            "user_key": str,  # for target=user, so /forget and retention can find it
            "kind": str,  # unanswered | case | case_update | answer | digest
            "ref": str,
            "text": str,
            "buttons": str,  # JSON rows of [label, action]
            "attempts": int,
            "next_attempt": str,
            "delivered_at": str,
            "message_id": int,
            "last_error": str,
            "status": str,  # pending | delivered | undeliverable
        },
        pk="id",
    )
    db["outbox"].create_index(["status", "next_attempt"])


@migrations()
def m002_office_answers(db: sqlite_utils.Database) -> None:
    # Answers the office wrote in its own words, given again to anyone asking the same question. The question
    # text only, with the role it was asked in: no link to whoever asked. Kept until the office removes it.
    db["office_answers"].create(
        {"id": int, "question": str, "answer": str, "role": str, "answered_at": str, "answered_by": str}, pk="id"
    )


@migrations()
def m003_update_journal(db: sqlite_utils.Database) -> None:
    # Telegram updates written down before Telegram is told they arrived; the body is blanked once handled
    # (bot/telegram/journal.py), and done rows are deleted after a week.
    db["update_journal"].create({"update_id": int, "body": str, "received": str, "done": str}, pk="update_id")
    db["update_journal"].create_index(["done"])


@dataclass(frozen=True)
class Case:
    """One breach report, complaint referral or safeguarding alert, as stored."""

    ref: str
    kind: str  # breach | complaint | safeguarding
    row: dict

    @property
    def status(self) -> str:
        return self.row.get("status") or "open"


_KIND_OF_PREFIX = {"BR": "breach", "CR": "complaint", "SA": "safeguarding"}


def create_private_file(path: Path) -> None:
    """Create the database file readable by its owner only, before SQLite opens it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)


class Storage:
    """All reads and writes of the bot's SQLite file. Thread-safe: one connection behind one lock."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        create_private_file(self.path)
        conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        with self._lock:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
            migrations.apply(self.db)
            self._pseudonym_key = self.db["meta"].get("pseudonym_key")["value"].encode()

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """Several writes as one: all stored, or none."""
        with self._lock, self.db.atomic():
            yield self.db

    # --- people -------------------------------------------------------------------------------------

    def user_key(self, channel: str, user_id: int | str) -> str:
        """A pseudonym for a person: keyed hash, stable for this database, meaningless without its key."""
        message = f"{channel}:{user_id}".encode()
        return hmac.new(self._pseudonym_key, message, hashlib.sha256).hexdigest()[:32]

    def role_of(self, user_key: str) -> str | None:
        with self._lock:
            rows = list(self.db["profiles"].rows_where("user_key = ?", [user_key]))
        return rows[0]["role"] if rows else None

    def set_role(self, user_key: str, role: str) -> None:
        now = stamp()
        with self.transaction() as db:
            existing = list(db["profiles"].rows_where("user_key = ?", [user_key]))
            created = existing[0]["created"] if existing else now
            db["profiles"].upsert(
                {"user_key": user_key, "role": role, "created": created, "last_seen": now}, pk="user_key"
            )

    def touch(self, user_key: str) -> None:
        with self._lock:
            self.db.execute("UPDATE profiles SET last_seen = ? WHERE user_key = ?", [stamp(), user_key])
            self.db.conn.commit()

    # --- conversation state ---------------------------------------------------------------------------

    def load_state(self, user_key: str) -> dict:
        with self._lock:
            rows = list(self.db["conversation_state"].rows_where("user_key = ?", [user_key]))
        if not rows:
            return {}
        try:
            return json.loads(rows[0]["state"]) or {}
        except (ValueError, TypeError):
            return {}

    def save_state(self, user_key: str, state: dict, db: sqlite_utils.Database | None = None) -> None:
        """Persist a person's conversation at this step (inside the caller's transaction if given)."""
        if db is None:
            with self.transaction() as db:
                self._write_state(db, user_key, state)
        else:
            self._write_state(db, user_key, state)

    @staticmethod
    def _write_state(db: sqlite_utils.Database, user_key: str, state: dict) -> None:
        if state:
            db["conversation_state"].upsert(
                {"user_key": user_key, "state": json.dumps(state), "updated": stamp()}, pk="user_key"
            )
        else:
            db.execute("DELETE FROM conversation_state WHERE user_key = ?", [user_key])

    # --- updates seen ---------------------------------------------------------------------------------

    def already_handled(self, update_id: int | str) -> bool:
        with self._lock:
            return bool(list(self.db["processed_updates"].rows_where("update_id = ?", [str(update_id)])))

    def mark_handled(self, update_id: int | str, db: sqlite_utils.Database | None = None) -> None:
        row = {"update_id": str(update_id), "handled": stamp()}
        if db is None:
            with self.transaction() as db:
                db["processed_updates"].insert(row, pk="update_id", ignore=True)
        else:
            db["processed_updates"].insert(row, pk="update_id", ignore=True)

    # --- questions, feedback, unanswered ----------------------------------------------------------------

    def record_question(
        self, user_key: str, role: str, text: str, intent: str, answered: bool, confidence: float, top_clause: str
    ) -> int:
        with self.transaction() as db:
            table = db["questions"].insert(
                {
                    "user_key": user_key,
                    "role": role,
                    "text": text,
                    "intent": intent,
                    "answered": int(bool(answered)),
                    "confidence": float(confidence),
                    "top_clause": top_clause,
                    "created": stamp(),
                }
            )
            return int(table.last_pk)

    def record_feedback(self, question_id: int, user_key: str, value: int) -> bool:
        """Store 👍 (+1) or 👎 (-1) once per person and question; False if the question is not theirs."""
        with self.transaction() as db:
            owner = list(db["questions"].rows_where("id = ? AND user_key = ?", [question_id, user_key]))
            if not owner:
                return False
            db.execute("DELETE FROM feedback WHERE question_id = ? AND user_key = ?", [question_id, user_key])
            db["feedback"].insert(
                {"question_id": question_id, "user_key": user_key, "value": 1 if value > 0 else -1, "created": stamp()}
            )
            return True

    def add_unanswered(
        self,
        question_id: int,
        user_key: str,
        channel: str,
        chat_id: str,
        role: str,
        text: str,
        suggestions: list[str],
        db: sqlite_utils.Database | None = None,
    ) -> int:
        row = {
            "question_id": question_id,
            "user_key": user_key,
            "channel": channel,
            "chat_id": str(chat_id),
            "role": role,
            "text": text,
            "suggestions": json.dumps(list(suggestions)),
            "status": "open",
            "created": stamp(),
            "resolved_at": "",
            "resolved_by": "",
            "answer_clause": "",
            "answer_text": "",
        }
        if db is None:
            with self.transaction() as db:
                return int(db["unanswered"].insert(row).last_pk)
        return int(db["unanswered"].insert(row).last_pk)

    def unanswered_item(self, item_id: int) -> dict | None:
        with self._lock:
            rows = list(self.db["unanswered"].rows_where("id = ?", [item_id]))
        return _decode_unanswered(rows[0]) if rows else None

    def unanswered_items(self, status: str = "open") -> list[dict]:
        with self._lock:
            rows = list(self.db["unanswered"].rows_where("status = ?", [status], order_by="id"))
        return [_decode_unanswered(r) for r in rows]

    def resolve_unanswered(
        self, item_id: int, status: str, by: str, clause_id: str = "", answer_text: str = "",
        db: sqlite_utils.Database | None = None,
    ) -> bool:
        """Mark an open item answered or dismissed; False if it was not open (so it is resolved only once)."""
        sql = (
            "UPDATE unanswered SET status = ?, resolved_at = ?, resolved_by = ?, answer_clause = ?, answer_text = ?"
            " WHERE id = ? AND status = 'open'"
        )
        params = [status, stamp(), by, clause_id, answer_text, item_id]
        if db is None:
            with self.transaction() as db:
                return db.execute(sql, params).rowcount == 1
        return db.execute(sql, params).rowcount == 1

    def add_learned_alternate(self, clause_id: str, text: str, db: sqlite_utils.Database | None = None) -> None:
        row = {"clause_id": clause_id, "text": text.strip(), "created": stamp()}
        if db is None:
            with self.transaction() as db:
                db["learned_alternates"].insert(row, ignore=True)
        else:
            db["learned_alternates"].insert(row, ignore=True)

    def learned_alternates(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(r["clause_id"], r["text"]) for r in self.db["learned_alternates"].rows_where(order_by="id")]

    # --- the office's own answers -------------------------------------------------------------------

    def add_office_answer(
        self, question: str, answer: str, role: str, actor: str, db: sqlite_utils.Database | None = None
    ) -> int:
        """Keep an answer the office wrote (inside the caller's transaction if given); returns its id."""
        row = {"question": question.strip(), "answer": answer.strip(), "role": role or "", "answered_at": stamp(), "answered_by": actor}
        if db is None:
            with self.transaction() as db:
                return int(db["office_answers"].insert(row).last_pk)
        return int(db["office_answers"].insert(row).last_pk)

    def office_answers(self) -> list[dict]:
        with self._lock:
            return list(self.db["office_answers"].rows_where(order_by="id"))

    def office_answer(self, answer_id: int) -> dict | None:
        with self._lock:
            rows = list(self.db["office_answers"].rows_where("id = ?", [answer_id]))
        return rows[0] if rows else None

    def remove_office_answer(self, answer_id: int, db: sqlite_utils.Database | None = None) -> bool:
        """Forget an office answer for good; False if there was none with that id."""
        if db is None:
            with self.transaction() as db:
                return db.execute("DELETE FROM office_answers WHERE id = ?", [answer_id]).rowcount == 1
        return db.execute("DELETE FROM office_answers WHERE id = ?", [answer_id]).rowcount == 1

    # --- cases --------------------------------------------------------------------------------------

    def _next_ref(self, db: sqlite_utils.Database, prefix: str, year: int) -> str:
        key = f"{prefix}-{year}"
        rows = list(db["case_counters"].rows_where("prefix_year = ?", [key]))
        number = (rows[0]["last"] if rows else 0) + 1
        db["case_counters"].upsert({"prefix_year": key, "last": number}, pk="prefix_year")
        return f"{prefix}-{year}-{number:04d}"

    def create_case(self, prefix: str, fields: dict, db: sqlite_utils.Database) -> str:
        """Store a new case inside the caller's transaction; returns its reference (BR-2026-0001)."""
        table = CASE_KINDS[prefix]
        now = utc_now()
        ref = self._next_ref(db, prefix, now.year)
        row = {
            "ref": ref,
            "created": stamp(now),
            "status": "open",
            "acknowledged_by": "",
            "acknowledged_at": "",
            "closed_by": "",
            "closed_at": "",
            "close_note": "",
            **fields,
        }
        for key, value in list(row.items()):
            if isinstance(value, (list, tuple, dict)):
                row[key] = json.dumps(value)
            elif isinstance(value, bool):
                row[key] = int(value)
        db[table].insert(row)
        return ref

    def case(self, ref: str) -> Case | None:
        ref = (ref or "").strip().upper()
        prefix = ref.split("-", 1)[0]
        if prefix not in CASE_KINDS:
            return None
        with self._lock:
            rows = list(self.db[CASE_KINDS[prefix]].rows_where("ref = ?", [ref]))
        return Case(ref, _KIND_OF_PREFIX[prefix], rows[0]) if rows else None

    def cases(self, statuses: tuple[str, ...] = ("open", "acknowledged")) -> list[Case]:
        marks = ",".join("?" for _ in statuses)
        out: list[Case] = []
        with self._lock:
            for prefix, table in CASE_KINDS.items():
                for row in self.db[table].rows_where(f"status IN ({marks})", list(statuses), order_by="created"):
                    out.append(Case(row["ref"], _KIND_OF_PREFIX[prefix], row))
        return sorted(out, key=lambda c: c.row["created"])

    def cases_of(self, user_key: str) -> list[Case]:
        out: list[Case] = []
        with self._lock:
            for prefix, table in CASE_KINDS.items():
                for row in self.db[table].rows_where("reporter_key = ?", [user_key], order_by="created"):
                    out.append(Case(row["ref"], _KIND_OF_PREFIX[prefix], row))
        return out

    def update_case(self, ref: str, changes: dict, db: sqlite_utils.Database, *, unless_status: str = "") -> bool:
        case = self.case(ref)
        if case is None or (unless_status and case.status == unless_status):
            return False
        db[CASE_KINDS[ref.split("-", 1)[0]]].update(case.ref, changes)
        return True

    # --- audit --------------------------------------------------------------------------------------

    def audit(self, actor: str, action: str, target: str, detail: str = "", db: sqlite_utils.Database | None = None) -> None:
        row = {"at": stamp(), "actor": actor, "action": action, "target": target, "detail": detail}
        if db is None:
            with self.transaction() as db:
                db["audit_log"].insert(row)
        else:
            db["audit_log"].insert(row)

    def audit_entries(self) -> list[dict]:
        with self._lock:
            return list(self.db["audit_log"].rows_where(order_by="id"))

    # --- outbox -------------------------------------------------------------------------------------

    def enqueue(
        self,
        db: sqlite_utils.Database,
        *,
        target: str,
        text: str,
        buttons: list[list[tuple[str, str]]] | None = None,
        kind: str = "",
        ref: str = "",
        channel: str = "telegram",
        chat_id: str = "",
        user_key: str = "",
        not_before: datetime | None = None,
    ) -> int:
        """Queue a message for the office, the escalation chat or a person (inside the caller's transaction).

        `not_before` holds it back from the outbox job: a turn's own replies are journalled here and sent by
        the turn itself; only if that fails, or the process dies first, does the job send them later."""
        row = {
            "created": stamp(),
            "target": target,
            "channel": channel,
            "chat_id": str(chat_id),
            "user_key": user_key,
            "kind": kind,
            "ref": ref,
            "text": text,
            "buttons": json.dumps([[list(b) for b in row] for row in (buttons or [])]),
            "attempts": 0,
            "next_attempt": stamp(not_before),
            "delivered_at": "",
            "message_id": None,
            "last_error": "",
            "status": "pending",
        }
        return int(db["outbox"].insert(row).last_pk)

    def due_messages(self, channel: str = "telegram", now: datetime | None = None, limit: int = 50) -> list[dict]:
        with self._lock:
            rows = list(
                self.db["outbox"].rows_where(
                    "status = 'pending' AND channel = ? AND next_attempt <= ?",
                    [channel, stamp(now)],
                    order_by="id",
                    limit=limit,
                )
            )
        for row in rows:
            row["buttons"] = [[tuple(b) for b in r] for r in json.loads(row["buttons"] or "[]")]
        return rows

    def messages_for(self, user_key: str, channel: str = "console") -> list[dict]:
        """Pending messages for one person on a channel that collects them (the console)."""
        with self._lock:
            return list(
                self.db["outbox"].rows_where(
                    "status = 'pending' AND channel = ? AND user_key = ?", [channel, user_key], order_by="id"
                )
            )

    def mark_delivered(self, message_id_in_outbox: int, telegram_message_id: int | None = None) -> None:
        with self.transaction() as db:
            db["outbox"].update(
                message_id_in_outbox,
                {"status": "delivered", "delivered_at": stamp(), "message_id": telegram_message_id, "last_error": ""},
            )

    def discard_sent(self, outbox_ids: list[int]) -> None:
        """Forget journalled replies once the person has them: a delivered reply need not be kept."""
        if not outbox_ids:
            return
        with self.transaction() as db:
            db.execute(f"DELETE FROM outbox WHERE id IN ({','.join('?' for _ in outbox_ids)})", list(outbox_ids))

    def retry_soon(self, outbox_ids: list[int], error: str) -> None:
        """Journalled replies that could not be sent in their turn: the outbox job takes them from now on."""
        if not outbox_ids:
            return
        with self.transaction() as db:
            for outbox_id in outbox_ids:
                db["outbox"].update(outbox_id, {"next_attempt": stamp(), "last_error": error[:200]})

    def mark_failed(self, outbox_id: int, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt; retry at `retry_at`, or never (undeliverable) if None."""
        with self.transaction() as db:
            row = db["outbox"].get(outbox_id)
            db["outbox"].update(
                outbox_id,
                {
                    "attempts": (row["attempts"] or 0) + 1,
                    "last_error": error[:200],
                    "next_attempt": stamp(retry_at) if retry_at else row["next_attempt"],
                    "status": "pending" if retry_at else "undeliverable",
                },
            )

    def undelivered(self) -> list[dict]:
        with self._lock:
            return list(self.db["outbox"].rows_where("status != 'delivered'", order_by="id"))

    # --- statistics --------------------------------------------------------------------------------

    def stats(self, days: int = 14) -> dict:
        since = stamp(utc_now() - timedelta(days=days))
        with self._lock:
            q = self.db.execute
            per_day = q(
                "SELECT substr(created, 1, 10) AS day, count(*), sum(answered) FROM questions"
                " WHERE created >= ? AND intent = 'question' GROUP BY day ORDER BY day",
                [since],
            ).fetchall()
            total, answered = q(
                "SELECT count(*), coalesce(sum(answered), 0) FROM questions WHERE created >= ? AND intent = 'question'",
                [since],
            ).fetchone()
            top = q(
                "SELECT top_clause, count(*) AS n FROM questions WHERE created >= ? AND answered = 1 AND top_clause != ''"
                " GROUP BY top_clause ORDER BY n DESC LIMIT 5",
                [since],
            ).fetchall()
            up, down = q(
                "SELECT coalesce(sum(value > 0), 0), coalesce(sum(value < 0), 0) FROM feedback WHERE created >= ?",
                [since],
            ).fetchone()
            open_unanswered = q("SELECT count(*) FROM unanswered WHERE status = 'open'").fetchone()[0]
            # A reply still within its turn (journalled, not yet due) is in flight, not undelivered.
            undelivered = q(
                "SELECT count(*) FROM outbox WHERE status = 'undeliverable' OR "
                "(status = 'pending' AND (attempts > 0 OR next_attempt <= ?))",
                [stamp()],
            ).fetchone()[0]
        open_cases = {kind: 0 for kind in _KIND_OF_PREFIX.values()}
        for case in self.cases():
            open_cases[case.kind] += 1
        return {
            "days": days,
            "per_day": [(day, n, a or 0) for day, n, a in per_day],
            "questions": total,
            "answered": answered,
            "top_sections": [(clause, n) for clause, n in top],
            "thumbs_up": up,
            "thumbs_down": down,
            "open_unanswered": open_unanswered,
            "open_cases": open_cases,
            "undelivered": undelivered,
        }

    # --- a person's data ------------------------------------------------------------------------------

    def data_of(self, user_key: str) -> dict:
        """Everything stored about one person (for /mydata)."""
        with self._lock:
            profile = list(self.db["profiles"].rows_where("user_key = ?", [user_key]))
            questions = list(self.db["questions"].rows_where("user_key = ?", [user_key], order_by="id"))
            feedback = list(self.db["feedback"].rows_where("user_key = ?", [user_key], order_by="id"))
            unanswered = list(self.db["unanswered"].rows_where("user_key = ?", [user_key], order_by="id"))
            state = list(self.db["conversation_state"].rows_where("user_key = ?", [user_key]))
        return {
            "profile": profile[0] if profile else None,
            "questions": questions,
            "feedback": feedback,
            "unanswered": unanswered,
            "conversation": bool(state),
            "cases": [c.ref for c in self.cases_of(user_key)],
        }

    def forget(self, user_key: str) -> dict:
        """Erase a person's questions, feedback, unanswered items, profile and conversation. Cases stay."""
        counts = {}
        with self.transaction() as db:
            for table in ("feedback", "unanswered", "questions", "profiles", "conversation_state"):
                counts[table] = db.execute(f"DELETE FROM {table} WHERE user_key = ?", [user_key]).rowcount
            # Messages to them, sent or not, hold their chat id and their questions: they go too.
            db.execute("DELETE FROM outbox WHERE user_key = ?", [user_key])
        return counts

    # --- retention and backup --------------------------------------------------------------------------

    def purge(self, retention_days: int, report_retention_days: int, now: datetime | None = None) -> dict:
        """Delete personal data older than its retention period; returns how many rows went from each table."""
        now = now or utc_now()
        short = stamp(now - timedelta(days=retention_days))
        long = stamp(now - timedelta(days=report_retention_days))
        counts: dict[str, int] = {}
        with self.transaction() as db:
            run = lambda sql, params: db.execute(sql, params).rowcount  # noqa: E731
            counts["feedback"] = run("DELETE FROM feedback WHERE created < ?", [short])
            counts["unanswered"] = run("DELETE FROM unanswered WHERE created < ?", [short])
            counts["questions"] = run("DELETE FROM questions WHERE created < ?", [short])
            counts["profiles"] = run("DELETE FROM profiles WHERE last_seen < ?", [short])
            counts["conversation_state"] = run("DELETE FROM conversation_state WHERE updated < ?", [short])
            counts["processed_updates"] = run(
                "DELETE FROM processed_updates WHERE handled < ?", [stamp(now - timedelta(days=min(7, retention_days)))]
            )
            counts["outbox"] = run(
                "DELETE FROM outbox WHERE (status = 'delivered' AND delivered_at < ?) OR created < ?", [short, long]
            )
            for table in CASE_KINDS.values():
                counts[table] = run(f"DELETE FROM {table} WHERE created < ?", [long])
            counts["audit_log"] = run("DELETE FROM audit_log WHERE at < ?", [long])
        return counts

    def backup(self, destination: Path | str) -> Path:
        """A consistent copy while the bot runs (SQLite's online backup API), readable by the owner only."""
        destination = Path(destination)
        if destination.exists():
            destination.unlink()
        create_private_file(destination)
        target = sqlite3.connect(str(destination))
        try:
            with self._lock:
                self.db.conn.backup(target)
        finally:
            target.close()
        return destination


def _decode_unanswered(row: dict) -> dict:
    row = dict(row)
    try:
        row["suggestions"] = json.loads(row.get("suggestions") or "[]")
    except ValueError:
        row["suggestions"] = []
    return row
