"""The outbox: messages for the office, the escalation chat or a person, kept until they are delivered.

A turn's own replies are journalled here too, held back (`not_before`) while the turn sends them itself;
only if that fails, or the process dies first, does the outbox job send them later."""

from __future__ import annotations

import json
from datetime import datetime

from bot.store.connection import Room, stamp

Buttons = list[list[tuple[str, str]]]


class Outbox(Room):
    def enqueue(
        self,
        *,
        target: str,
        text: str,
        buttons: Buttons | None = None,
        kind: str = "",
        ref: str = "",
        channel: str = "telegram",
        chat_id: str = "",
        user_key: str = "",
        not_before: datetime | None = None,
    ) -> int:
        """Queue a message (in the caller's transaction, if one is open); returns its outbox id."""
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
        with self.atomic() as db:
            return int(db["outbox"].insert(row).last_pk)

    def due_messages(self, channel: str = "telegram", now: datetime | None = None, limit: int = 50) -> list[dict]:
        with self.reading() as db:
            rows = list(
                db["outbox"].rows_where(
                    "status = 'pending' AND channel = ? AND next_attempt <= ?", [channel, stamp(now)], order_by="id", limit=limit
                )
            )
        for row in rows:
            row["buttons"] = [[tuple(b) for b in r] for r in json.loads(row["buttons"] or "[]")]
        return rows

    def messages_for(self, user_key: str, channel: str = "console") -> list[dict]:
        """Pending messages for one person on a channel that collects them (the console)."""
        with self.reading() as db:
            return list(
                db["outbox"].rows_where("status = 'pending' AND channel = ? AND user_key = ?", [channel, user_key], order_by="id")
            )

    def mark_delivered(self, outbox_id: int, channel_message_id: int | None = None) -> None:
        with self.atomic() as db:
            db["outbox"].update(
                outbox_id, {"status": "delivered", "delivered_at": stamp(), "message_id": channel_message_id, "last_error": ""}
            )

    def discard_sent(self, outbox_ids: list[int]) -> None:
        """Forget journalled replies once the person has them: a delivered reply need not be kept."""
        if not outbox_ids:
            return
        with self.atomic() as db:
            db.execute(f"DELETE FROM outbox WHERE id IN ({','.join('?' for _ in outbox_ids)})", list(outbox_ids))

    def retry_soon(self, outbox_ids: list[int], error: str) -> None:
        """Journalled replies that could not be sent in their turn: the outbox job takes them from now on."""
        if not outbox_ids:
            return
        with self.atomic() as db:
            for outbox_id in outbox_ids:
                db["outbox"].update(outbox_id, {"next_attempt": stamp(), "last_error": error[:200]})

    def mark_failed(self, outbox_id: int, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt; retry at `retry_at`, or never (undeliverable) if None."""
        with self.atomic() as db:
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

    def held(self, *, target: str, kinds: tuple[str, ...], now: datetime | None = None) -> list[dict]:
        """Messages to `target` of these kinds not yet due nor tried: still free to change before they go."""
        marks = ",".join("?" for _ in kinds)
        with self.reading() as db:
            return list(db["outbox"].rows_where(
                f"status = 'pending' AND attempts = 0 AND target = ? AND kind IN ({marks}) AND next_attempt > ?",
                [target, *kinds, stamp(now)], order_by="id",
            ))

    def last_due(self, *, target: str, kinds: tuple[str, ...]) -> str:
        """When the latest message to `target` of these kinds was (or is) due to go; "" if there was none."""
        marks = ",".join("?" for _ in kinds)
        with self.reading() as db:
            row = db.execute(f"SELECT max(next_attempt) FROM outbox WHERE target = ? AND kind IN ({marks})", [target, *kinds]).fetchone()
        return row[0] or ""

    def rewrite(self, outbox_id: int, *, text: str, buttons: Buttons, ref: str) -> None:
        """Change a message that has not gone yet (see `held`)."""
        with self.atomic() as db:
            db["outbox"].update(outbox_id, {"text": text, "buttons": json.dumps([[list(b) for b in r] for r in buttons]), "ref": ref})

    def has(self, *, kind: str, ref: str) -> bool:
        """Whether a message of this kind about this reference was ever queued (delivered or not)."""
        with self.reading() as db:
            return db.execute("SELECT 1 FROM outbox WHERE kind = ? AND ref = ? LIMIT 1", [kind, ref]).fetchone() is not None

    def delivered(self, *, kind: str, ref: str) -> bool:
        """Whether a message of this kind about this reference reached its target (on any channel)."""
        with self.reading() as db:
            query = "SELECT 1 FROM outbox WHERE kind = ? AND ref = ? AND status = 'delivered' LIMIT 1"
            return db.execute(query, [kind, ref]).fetchone() is not None

    def undelivered_count(self) -> int:
        """Messages given up on or overdue; a reply still within its turn (journalled, not yet due) is in flight."""
        with self.reading() as db:
            return db.execute(
                "SELECT count(*) FROM outbox WHERE status = 'undeliverable' OR "
                "(status = 'pending' AND (attempts > 0 OR next_attempt <= ?))",
                [stamp()],
            ).fetchone()[0]
