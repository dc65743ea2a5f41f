"""The one SQLite connection every room of the store shares, its lock, and the store's timestamps.

Writes nest: a room's method opens `atomic()`, which is a transaction of its own when called alone and a
savepoint inside a caller's transaction (`sqlite_utils.Database.atomic`), so several writes become one.

sqlite_utils asks SQLite for the schema (table and view names, a table's columns) on every `db[name]`, every
`get` and every insert: most of a busy bot's queries. The store's schema changes only in its migrations, at
open, so after them the connection keeps those answers (`SchemaKeepingDatabase.freeze`).
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
from sqlite_utils.db import NotFoundError, Table


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


class KeptColumnsTable(Table):
    """A table whose columns are read from SQLite once (the schema is frozen: see SchemaKeepingDatabase)."""

    _kept_columns = None

    @property
    def columns(self):
        if self._kept_columns is None:
            self._kept_columns = Table.columns.fget(self)
        return self._kept_columns

    def exists(self) -> bool:
        return self.name in self.db.table_names()


class SchemaKeepingDatabase(sqlite_utils.Database):
    """sqlite_utils' Database that, once `freeze()` is called (after the migrations), keeps the schema's answers:
    table and view names, and one table object per name with its columns. Only the migrations change the schema."""

    _frozen = False

    def freeze(self) -> None:
        self._names: dict[tuple, list[str]] = {}
        self._tables: dict[str, Table] = {}
        self._frozen = True

    def table_names(self, fts4: bool = False, fts5: bool = False) -> list[str]:
        if not self._frozen:
            return super().table_names(fts4, fts5)
        key = ("tables", fts4, fts5)
        if key not in self._names:
            self._names[key] = super().table_names(fts4, fts5)
        return self._names[key]

    def view_names(self) -> list[str]:
        if not self._frozen:
            return super().view_names()
        if ("views",) not in self._names:
            self._names[("views",)] = super().view_names()
        return self._names[("views",)]

    def table(self, table_name: str, **kwargs) -> Table:
        if not self._frozen or kwargs:
            return super().table(table_name, **kwargs)
        if table_name not in self._tables:
            super().table(table_name)  # a view's name is refused here, as sqlite_utils does
            self._tables[table_name] = KeptColumnsTable(self, table_name, strict=self.strict)
        return self._tables[table_name]


class Connection:
    """One connection for every thread, behind one reentrant lock, and the clock every room stamps rows with
    (the real time, or a simulated one for a test or a simulated year)."""

    def __init__(self, path: Path, clock: Clock = utc_now):
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self.db = SchemaKeepingDatabase(conn)
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
