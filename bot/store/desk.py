"""The desk's room: single-use sign-in links and signed-in sessions (hashes of their secrets only), notes
the office adds to a case, signatures the office matches to the roster by hand, and the review's examples
the office hid."""

from __future__ import annotations

import hashlib
from datetime import datetime

from bot.store.connection import Room, stamp


def digest(secret: str) -> str:
    """What the database keeps of a link's token or a session's id: a leaked copy signs nobody in."""
    return hashlib.sha256(secret.encode()).hexdigest()


class DeskRoom(Room):
    def add_link(self, token: str, identity: str, now: datetime, expires: datetime) -> None:
        with self.atomic() as db:
            db["desk_links"].insert(
                {"token_hash": digest(token), "identity": identity, "created": stamp(now), "expires": stamp(expires), "used_at": ""}
            )

    def tidy(self, before: datetime) -> None:
        """Forget links that expired, and sessions last seen, before `before` (nothing in them is needed after)."""
        with self.atomic() as db:
            db.execute("DELETE FROM desk_links WHERE expires < ?", [stamp(before)])
            db.execute("DELETE FROM desk_sessions WHERE last_seen < ?", [stamp(before)])

    def use_link(self, token: str, now: datetime) -> tuple[str, dict | None]:
        """Use a link once: ("ok", row), or ("unknown" | "used" | "expired", row or None)."""
        with self.atomic() as db:
            row = self.row("desk_links", digest(token))
            if row is None:
                return "unknown", None
            if row["used_at"]:
                return "used", row
            if stamp(now) >= row["expires"]:
                return "expired", row
            changed = db.execute(
                "UPDATE desk_links SET used_at = ? WHERE token_hash = ? AND used_at = ''", [stamp(now), row["token_hash"]]
            )
            return ("ok", row) if changed.rowcount == 1 else ("used", row)

    def start_session(self, session_id: str, identity: str, csrf: str, now: datetime) -> None:
        with self.atomic() as db:
            db["desk_sessions"].insert(
                {"id_hash": digest(session_id), "identity": identity, "csrf": csrf, "created": stamp(now), "last_seen": stamp(now), "ended": "", "flash": ""}
            )

    def session(self, session_id: str) -> dict | None:
        row = self.row("desk_sessions", digest(session_id))
        return row if row and not row["ended"] else None

    def touch_session(self, session_id: str, now: datetime) -> None:
        with self.atomic() as db:
            db["desk_sessions"].update(digest(session_id), {"last_seen": stamp(now)})

    def set_flash(self, session_id: str, message: str) -> None:
        """What the next page tells the office (the outcome of what it just did), shown once."""
        with self.atomic() as db:
            db["desk_sessions"].update(digest(session_id), {"flash": message[:1000]})

    def take_flash(self, session_id: str) -> str:
        with self.atomic() as db:
            row = self.row("desk_sessions", digest(session_id))
            if not row or not row["flash"]:
                return ""
            db["desk_sessions"].update(digest(session_id), {"flash": ""})
            return row["flash"]

    def end_session(self, session_id: str, now: datetime) -> None:
        with self.atomic() as db:
            db.execute("UPDATE desk_sessions SET ended = ? WHERE id_hash = ? AND ended = ''", [stamp(now), digest(session_id)])

    def add_note(self, ref: str, note: str, actor: str) -> None:
        with self.atomic() as db:
            db["case_notes"].insert({"ref": ref, "at": stamp(), "actor": actor, "note": note})

    def notes(self, ref: str) -> list[dict]:
        with self.reading() as db:
            return list(db["case_notes"].rows_where("ref = ?", [ref], order_by="id"))

    def match_signature(self, signature_id: int, roster_id: int) -> bool:
        """A signature given by name alone, tied by hand to a roster row (as if the person had used their code),
        with the same signer's other unmatched signatures of that kind; the row's person is then known by the
        signer's key, so what they sign later is theirs too. False if the signature was matched already."""
        with self.atomic() as db:
            signature = self.row("signatures", signature_id)
            if signature is None or signature["roster_id"] is not None:
                return False
            db.execute(
                "UPDATE signatures SET roster_id = ? WHERE roster_id IS NULL AND (id = ? OR (user_key = ? AND user_key != '' AND kind = ?))",
                [roster_id, signature_id, signature["user_key"], signature["kind"]],
            )
            db.execute(
                "UPDATE roster SET user_key = ?, channel = ?, chat_id = ?, linked_at = ? WHERE id = ? AND user_key = ''",
                [signature["user_key"], signature["channel"], signature["chat_id"], stamp(self.now()), roster_id],
            )
            return True

    # The review's examples the office hid (`policybot office review --hide`, the desk's "hide this example"):
    # kept as the audit log's own lines (review_hide / review_show of U-12), so who hid what, and when, is
    # recorded once, and an example stays hidden as long as the audit log is kept (longer than the question).

    def hidden_examples(self) -> frozenset[int]:
        """The unanswered items whose last review_hide / review_show is a hide."""
        state: dict[int, bool] = {}
        with self.reading() as db:
            for row in db["audit_log"].rows_where("action IN ('review_hide', 'review_show')", order_by="id"):
                target = (row["target"] or "").upper().removeprefix("U-")
                if target.isdigit():
                    state[int(target)] = row["action"] == "review_hide"
        return frozenset(item for item, hidden in state.items() if hidden)
