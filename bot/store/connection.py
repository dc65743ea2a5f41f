"""The one SQLite connection every room of the store shares, its lock, and the store's timestamps.

Writes nest: a room's method opens `atomic()`, which is a transaction of its own when called alone and a
savepoint inside a caller's transaction (`sqlite_utils.Database.atomic`), so several writes become one.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import sqlite_utils
from sqlite_utils.db import NotFoundError


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def stamp(moment: datetime | None = None) -> str:
    """Timestamps are ISO strings in UTC, so they sort and compare as text."""
    return (moment or utc_now()).astimezone(timezone.utc).isoformat(timespec="seconds")


def create_private_file(path: Path) -> None:
    """Create the database file readable by its owner only, before SQLite opens it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)


Clock = Callable[[], datetime]


class Connection:
    """One connection for every thread, behind one reentrant lock, and the clock every room stamps rows with
    (the real time, or a simulated one for a test or a simulated year)."""

    def __init__(self, path: Path, clock: Clock = utc_now):
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self.db = sqlite_utils.Database(conn)
        self.lock = threading.RLock()
        self.clock = clock

    @contextmanager
    def atomic(self) -> Iterator[sqlite_utils.Database]:
        """Several writes as one: all stored, or none (a savepoint when a transaction is already open)."""
        with self.lock, self.db.atomic():
            yield self.db

    @contextmanager
    def reading(self) -> Iterator[sqlite_utils.Database]:
        with self.lock:
            yield self.db

    def close(self) -> None:
        with self.lock:
            self.db.conn.close()


class Room:
    """One part of the store (people, cases, the outbox…) over the shared connection."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def atomic(self):
        return self.connection.atomic()

    def reading(self):
        return self.connection.reading()

    def now(self) -> datetime:
        """The store's time (its clock)."""
        return self.connection.clock()

    def stamp(self, moment: datetime | None = None) -> str:
        """A timestamp for a row: `moment`, or now by the store's clock."""
        return stamp(moment or self.now())

    def row(self, table: str, key) -> dict | None:
        """The row with this primary key, or None."""
        with self.reading() as db:
            try:
                return db[table].get(key)
            except NotFoundError:
                return None
