"""People and where they are in a conversation, known only by a pseudonym; and the updates already handled.

A person is a keyed hash of their channel and id (`user_key`), stable for this database and meaningless
without its key."""

from __future__ import annotations

import hashlib
import hmac
import json

from bot.store.connection import Connection, Room


class People(Room):
    """Profiles (the role a person chose) and conversation state."""

    def __init__(self, connection: Connection, pseudonym_key: bytes):
        super().__init__(connection)
        self._pseudonym_key = pseudonym_key

    def user_key(self, channel: str, user_id: int | str) -> str:
        """A pseudonym for a person: keyed hash, stable for this database, meaningless without its key."""
        message = f"{channel}:{user_id}".encode()
        return hmac.new(self._pseudonym_key, message, hashlib.sha256).hexdigest()[:32]

    def role_of(self, user_key: str) -> str | None:
        profile = self.row("profiles", user_key)
        return profile["role"] if profile else None

    def set_role(self, user_key: str, role: str) -> None:
        now = self.stamp()
        with self.atomic() as db:
            existing = self.row("profiles", user_key)
            created = existing["created"] if existing else now
            db["profiles"].upsert(
                {"user_key": user_key, "role": role, "created": created, "last_seen": now}, pk="user_key"
            )

    def load_state(self, user_key: str) -> dict:
        saved = self.row("conversation_state", user_key)
        if not saved:
            return {}
        try:
            return json.loads(saved["state"]) or {}
        except (ValueError, TypeError):
            return {}

    def save_state(self, user_key: str, state: dict) -> None:
        """Persist a person's conversation at this step (inside the caller's transaction, if one is open)."""
        with self.atomic() as db:
            if state:
                db["conversation_state"].upsert(
                    {"user_key": user_key, "state": json.dumps(state), "updated": self.stamp()}, pk="user_key"
                )
            else:
                db.execute("DELETE FROM conversation_state WHERE user_key = ?", [user_key])


class Updates(Room):
    """The channel updates already handled, so an update delivered twice is handled once."""

    def already_handled(self, update_id: int | str) -> bool:
        return self.row("processed_updates", str(update_id)) is not None

    def mark_handled(self, update_id: int | str) -> None:
        with self.atomic() as db:
            db["processed_updates"].insert({"update_id": str(update_id), "handled": self.stamp()}, pk="update_id", ignore=True)
