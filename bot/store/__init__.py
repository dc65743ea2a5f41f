"""The bot's memory: one SQLite file (WAL, mode 0600) holding questions, feedback, the office's work and cases.

The store is a set of rooms over one shared connection: `store.people`, `store.updates`, `store.questions`,
`store.unanswered`, `store.answers`, `store.cases`, `store.outbox`, `store.audit`, `store.privacy`, `store.signatures`,
`store.desk` (the office's desk), `store.evidence` (the web's screenshots, files) and `store.weekly` (anonymous
weekly counts, kept beyond retention for the governors' review). Every write that matters is one transaction
(`store.transaction()`; the rooms' own writes nest inside it), so a report is either stored whole or not at all. People are known only by a keyed hash of their channel and id
(`user_key`); the raw chat id is kept only where the bot must reach the person again (an unanswered
question, a report they may be told about), and retention deletes it with the rest. Schema changes are
recorded migrations (bot/store/schema.py).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.store.answers import Answers, Unanswered
from bot.store.audit import Audit
from bot.store.cases import CASE_KINDS, CASE_STATUSES, OPEN_STATUSES, Case, CaseKind, Cases, kind_of_ref
from bot.store.connection import Clock, Connection, create_private_file, stamp, utc_now
from bot.store.desk import DeskRoom
from bot.store.evidence import EvidenceFiles
from bot.store.outbox import Outbox
from bot.store.people import People, Updates
from bot.store.privacy import Privacy
from bot.store.questions import Questions
from bot.store.schema import migrations
from bot.store.signatures import Signatures
from bot.store.weekly import WeeklyCounts

__all__ = [
    "CASE_KINDS", "CASE_STATUSES", "OPEN_STATUSES", "Case", "CaseKind", "Store", "kind_of_ref", "migrations", "stamp", "utc_now",
]

EVIDENCE_FOLDER = "evidence"  # beside the database: screenshots sent with a web breach report


class Store:
    """All reads and writes of the bot's SQLite file, room by room. Thread-safe: one connection, one lock.

    `clock` gives the time every row is stamped with: the real time, unless a test or a simulation
    (bench/simulate_year.py) passes its own."""

    def __init__(self, path: Path | str, clock: Clock = utc_now):
        self.path = Path(path)
        create_private_file(self.path)
        self.connection = Connection(self.path, clock)
        with self.connection.reading() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            migrations.apply(db)
            db.freeze()  # the schema is final now: keep its answers (connection.py)
            pseudonym_key = db["meta"].get("pseudonym_key")["value"].encode()
        self.people = People(self.connection, pseudonym_key)
        self.updates = Updates(self.connection)
        self.questions = Questions(self.connection)
        self.unanswered = Unanswered(self.connection)
        self.answers = Answers(self.connection)
        self.cases = Cases(self.connection)
        self.outbox = Outbox(self.connection)
        self.audit = Audit(self.connection)
        self.evidence = EvidenceFiles(self.path.parent / EVIDENCE_FOLDER)
        self.weekly = WeeklyCounts(self.connection)
        self.privacy = Privacy(self.connection, self.cases, self.evidence)
        self.signatures = Signatures(self.connection)
        self.desk = DeskRoom(self.connection)

    @property
    def db(self):
        """The sqlite_utils database itself (for tests and one-off reads)."""
        return self.connection.db

    def now(self):
        """The time by the store's clock."""
        return self.connection.clock()

    def transaction(self):
        """Several writes as one, across rooms: all stored, or none."""
        return self.connection.atomic()

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def stats(self, days: int = 14) -> dict:
        """The office's numbers: questions and feedback over `days` days, and what is open or undelivered now."""
        open_cases = {name: 0 for name in CASE_KINDS}
        for case in self.cases.with_status(OPEN_STATUSES):
            open_cases[case.kind] += 1
        return {
            **self.questions.stats(days),
            "open_unanswered": self.unanswered.open_count(),
            "open_cases": open_cases,
            "undelivered": self.outbox.undelivered_count(),
        }

    def backup(self, destination: Path | str) -> Path:
        """A consistent copy while the bot runs (SQLite's online backup API), readable by the owner only."""
        destination = Path(destination)
        if destination.exists():
            destination.unlink()
        create_private_file(destination)
        target = sqlite3.connect(str(destination))
        try:
            with self.connection.reading() as db:
                db.conn.backup(target)
        finally:
            target.close()
        return destination

    def table_rows(self, table: str) -> tuple[list[str], list[dict]]:
        """A table's column names and rows, read at one moment (for the office's CSV export)."""
        with self.connection.reading() as db:
            return [c.name for c in db[table].columns], list(db[table].rows)
