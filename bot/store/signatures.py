"""Signatures and acknowledgements: the school's roster, who signed which version, who asked first, and where a
person is in signing.

A signature is a record the school keeps (`SIGNATURE_RETENTION_DAYS`): /forget does not erase it, retention
does. Each row holds the version signed (the digest of the clauses shown, knowledge/signing.py), the clauses'
fingerprints live once per version in `sign_versions`, and the row says when and on which channel. A roster row
(`policybot office roster import`) has a code: `/start CODE` in Telegram or the web link `/sign/CODE` ties the person's
signature to their row; a signature given by name alone has no roster row, for the office to match. A web signer
may leave an email address with their signature (to be told when the text changes); one who is not on the roster
gets their own code with it, for a personal link.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta

import sqlite_utils

from bot.store.connection import Room, stamp, utc_now

ROSTER_KINDS = ("staff", "parent")
SIGNER_KIND = {"parent": "agreement", "staff": "acknowledgement"}  # what each roster kind signs


def create_tables(db: sqlite_utils.Database) -> None:
    """The migration's work (bot/store/schema.py names it, so it can be renumbered in one line)."""
    db["sign_versions"].create({"digest": str, "kind": str, "fingerprints": str, "first_seen": str}, pk="digest")
    db["roster"].create(
        {
            "id": int,
            "kind": str,  # staff | parent
            "name": str,
            "email": str,
            "classes": str,
            "code": str,  # for `/start CODE` (and a web signing link)
            "user_key": str,  # set when the person used their code
            "channel": str,
            "chat_id": str,
            "linked_at": str,
            "created": str,
        },
        pk="id",
    )
    db["roster"].create_index(["code"], unique=True)
    db["roster"].create_index(["user_key"])
    db["signatures"].create(
        {
            "id": int,
            "kind": str,  # agreement | acknowledgement
            "outcome": str,  # signed | asked
            "user_key": str,
            "roster_id": int,  # null: signed by name alone (the office matches it)
            "name": str,
            "role": str,  # staff: the role they gave
            "classes": str,  # parents: their children's classes ("" = prefer not to say)
            "digest": str,
            "channel": str,
            "chat_id": str,  # where a re-confirmation is sent
            "at": str,
            "question_item": int,  # outcome=asked: the unanswered item the question became
        },
        pk="id",
    )
    db["signatures"].create_index(["user_key", "kind"])
    db["sign_sessions"].create({"user_key": str, "state": str, "updated": str}, pk="user_key")


class Signatures(Room):
    # --- versions ----------------------------------------------------------------------------------

    def record_version(self, kind: str, digest: str, fingerprints: dict[str, str]) -> bool:
        """Remember a version of what `kind` signers are shown; True if it is new."""
        with self.atomic() as db:
            if db["sign_versions"].count_where("digest = ?", [digest]):
                return False
            db["sign_versions"].insert({"digest": digest, "kind": kind, "fingerprints": json.dumps(fingerprints), "first_seen": stamp()})
            return True

    def versions(self, kind: str) -> list[dict]:
        with self.reading() as db:
            return list(db["sign_versions"].rows_where("kind = ?", [kind], order_by="rowid"))

    def fingerprints(self, digest: str) -> dict[str, str]:
        row = self.row("sign_versions", digest)
        return json.loads(row["fingerprints"]) if row else {}

    # --- the roster --------------------------------------------------------------------------------

    def add_to_roster(self, kind: str, name: str, email: str = "", classes: str = "") -> dict:
        """A new roster row with a fresh code; the same person (kind, name, email) again returns their row."""
        with self.atomic() as db:
            same = list(db["roster"].rows_where("kind = ? AND name = ? AND email = ?", [kind, name, email]))
            if same:
                if classes and classes != same[0]["classes"]:
                    db["roster"].update(same[0]["id"], {"classes": classes})
                    same[0]["classes"] = classes
                return same[0]
            row = {"kind": kind, "name": name, "email": email, "classes": classes, "code": secrets.token_urlsafe(9),
                   "user_key": "", "channel": "", "chat_id": "", "linked_at": "", "created": stamp(), "reminded_at": ""}
            row["id"] = int(db["roster"].insert(row).last_pk)
            return row

    def roster(self) -> list[dict]:
        with self.reading() as db:
            return list(db["roster"].rows_where(order_by="id"))

    def roster_by_code(self, code: str) -> dict | None:
        with self.reading() as db:
            rows = list(db["roster"].rows_where("code = ?", [code]))
        return rows[0] if rows else None

    def roster_of(self, user_key: str) -> dict | None:
        with self.reading() as db:
            rows = list(db["roster"].rows_where("user_key = ?", [user_key], order_by="linked_at desc"))
        return rows[0] if rows else None

    def link(self, roster_id: int, user_key: str, channel: str, chat_id: str) -> None:
        """The person behind a roster row, known by the code they used."""
        with self.atomic() as db:
            db["roster"].update(roster_id, {"user_key": user_key, "channel": channel, "chat_id": str(chat_id), "linked_at": stamp()})
            # What they signed before using their code counts for their row too.
            db.execute("UPDATE signatures SET roster_id = ? WHERE user_key = ? AND roster_id IS NULL", [roster_id, user_key])

    def mark_reminded(self, roster_id: int, at: datetime | None = None) -> None:
        with self.atomic() as db:
            db["roster"].update(roster_id, {"reminded_at": stamp(at)})

    # --- signatures --------------------------------------------------------------------------------

    def record(self, *, kind: str, outcome: str, user_key: str, digest: str, channel: str, chat_id: str, name: str = "",
               role: str = "", classes: str = "", roster_id: int | None = None, question_item: int | None = None,
               email: str = "", code: str = "", at: datetime | None = None) -> int:
        row = {"kind": kind, "outcome": outcome, "user_key": user_key, "roster_id": roster_id, "name": name, "role": role,
               "classes": classes, "digest": digest, "channel": channel, "chat_id": str(chat_id), "at": stamp(at),
               "question_item": question_item, "email": email, "code": code}
        with self.atomic() as db:
            return int(db["signatures"].insert(row).last_pk)

    def latest(self, user_key: str, kind: str, outcome: str = "signed") -> dict | None:
        with self.reading() as db:
            rows = list(db["signatures"].rows_where("user_key = ? AND kind = ? AND outcome = ?", [user_key, kind, outcome],
                                                    order_by="id desc", limit=1))
        return rows[0] if rows else None

    def latest_of_roster(self, roster_id: int, kind: str) -> dict | None:
        """The latest signature tied to a roster row (whoever's browser or chat gave it)."""
        with self.reading() as db:
            rows = list(db["signatures"].rows_where("roster_id = ? AND kind = ? AND outcome = 'signed'", [roster_id, kind],
                                                    order_by="id desc", limit=1))
        return rows[0] if rows else None

    def by_code(self, code: str) -> dict | None:
        """The latest signature given with a personal code (a signer not on the roster who left an address)."""
        if not code:
            return None
        with self.reading() as db:
            rows = list(db["signatures"].rows_where("code = ? AND outcome = 'signed'", [code], order_by="id desc", limit=1))
        return rows[0] if rows else None

    @staticmethod
    def new_code() -> str:
        return secrets.token_urlsafe(12)

    def of_person(self, user_key: str) -> list[dict]:
        """Everything signed (or asked first) by one person, oldest first (for /mydata)."""
        with self.reading() as db:
            return list(db["signatures"].rows_where("user_key = ?", [user_key], order_by="id"))

    def all(self, kind: str | None = None) -> list[dict]:
        with self.reading() as db:
            where, params = ("kind = ?", [kind]) if kind else (None, [])
            return list(db["signatures"].rows_where(where, params, order_by="id"))

    def signers_behind(self, kind: str, digest: str) -> list[dict]:
        """Each person whose latest signature of `kind` is of another version: their latest signature."""
        latest: dict[str, dict] = {}
        for row in self.all(kind):
            if row["outcome"] == "signed":
                latest[row["user_key"]] = row
        return [row for row in latest.values() if row["digest"] != digest]

    # --- where a person is in signing ----------------------------------------------------------------

    def session(self, user_key: str) -> dict:
        row = self.row("sign_sessions", user_key)
        return json.loads(row["state"]) if row else {}

    def save_session(self, user_key: str, state: dict) -> None:
        with self.atomic() as db:
            if state:
                db["sign_sessions"].upsert({"user_key": user_key, "state": json.dumps(state), "updated": stamp()}, pk="user_key")
            else:
                db.execute("DELETE FROM sign_sessions WHERE user_key = ?", [user_key])

    # --- retention ---------------------------------------------------------------------------------

    def purge(self, signature_retention_days: int, retention_days: int, now: datetime | None = None) -> dict:
        """Signatures older than SIGNATURE_RETENTION_DAYS; unfinished signing after RETENTION_DAYS."""
        now = now or utc_now()
        with self.atomic() as db:
            return {
                "signatures": db.execute("DELETE FROM signatures WHERE at < ?", [stamp(now - timedelta(days=signature_retention_days))]).rowcount,
                "sign_sessions": db.execute("DELETE FROM sign_sessions WHERE updated < ?", [stamp(now - timedelta(days=retention_days))]).rowcount,
            }
