"""Questions the bot could not answer, and what the office answered them with.

Two kinds of answer teach the running bot: a question the office answered with a section becomes one more
way of asking for that clause (a *taught question*, table `learned_alternates`), and an answer in the
office's own words is kept and given again to the same question (an *office answer*). Neither keeps any
link to whoever asked.
"""

from __future__ import annotations

import json

from bot.store.connection import Room
from bot.store.weekly import add_count

ITEM_PREFIX = "U-"  # an unanswered item's reference (U-12), in the office's notices and the outbox


class Unanswered(Room):
    """The open items the office sees (U-12), with the chat to send the answer to."""

    def add(
        self, question_id: int, user_key: str, channel: str, chat_id: str, role: str, text: str, suggestions: list[str],
        disliked: str = "",
    ) -> int:
        """A new open item; `disliked` is the clause of an answer the asker gave 👎 (the item is that question again)."""
        row = {
            "question_id": question_id,
            "user_key": user_key,
            "channel": channel,
            "chat_id": str(chat_id),
            "role": role,
            "text": text,
            "suggestions": json.dumps(list(suggestions)),
            "status": "open",
            "created": self.stamp(),
            "resolved_at": "",
            "resolved_by": "",
            "answer_clause": "",
            "answer_text": "",
            "disliked": disliked,
        }
        with self.atomic() as db:
            return int(db["unanswered"].insert(row).last_pk)

    def item(self, item_id: int) -> dict | None:
        row = self.row("unanswered", item_id)
        return _decoded(row) if row else None

    def items(self, status: str = "open") -> list[dict]:
        with self.reading() as db:
            rows = list(db["unanswered"].rows_where("status = ?", [status], order_by="id"))
        return [_decoded(r) for r in rows]

    def resolve(self, item_id: int, status: str, by: str, clause_id: str = "", answer_text: str = "") -> bool:
        """Mark an open item answered or dismissed; False if it was not open (so it is resolved only once).
        The week's counts keep what the office did, and whether it chose another clause than the bot's nearest."""
        with self.atomic() as db:
            now = self.stamp()
            changed = db.execute(
                "UPDATE unanswered SET status = ?, resolved_at = ?, resolved_by = ?, answer_clause = ?, answer_text = ?"
                " WHERE id = ? AND status = 'open'",
                [status, now, by, clause_id, answer_text, item_id],
            )
            if changed.rowcount != 1:
                return False
            item = self.item(item_id)
            nearest = item["suggestions"][0] if item["suggestions"] else ""
            if status == "answered":
                add_count(db, now, clause_id, item["role"], "office_answered")
                if clause_id and clause_id != nearest:
                    add_count(db, now, nearest, item["role"], "office_redirected")
            else:
                add_count(db, now, nearest, item["role"], status)
            return True

    # --- a web asker's private link and email address (bot/answer_links.py) ----------------------------

    def set_link(self, item_id: int, link_hash: str) -> None:
        with self.atomic() as db:
            db["unanswered"].update(item_id, {"link_hash": link_hash})

    def by_link(self, link_hash: str) -> dict | None:
        """The question a private link is for (looked up by the token's hash), or None."""
        if not link_hash:
            return None
        with self.reading() as db:
            rows = list(db["unanswered"].rows_where("link_hash = ?", [link_hash], limit=1))
        return _decoded(rows[0]) if rows else None

    def set_email(self, item_id: int, email: str) -> bool:
        """Keep (or, with "", erase) the address the answer is to be emailed to; only while the question is open."""
        with self.atomic() as db:
            changed = db.execute("UPDATE unanswered SET email = ? WHERE id = ? AND status = 'open'", [email, item_id])
            return changed.rowcount == 1

    def drop_email(self, item_id: int) -> None:
        """The address is no longer needed (the answer was sent, or none will be): erased."""
        with self.atomic() as db:
            db.execute("UPDATE unanswered SET email = '' WHERE id = ?", [item_id])

    def set_answer_message(self, item_id: int, message: str) -> None:
        """The office's answer as the asker was sent it, for their private link."""
        with self.atomic() as db:
            db["unanswered"].update(item_id, {"answer_message": message})

    def open_for_question(self, question_id: int) -> dict | None:
        with self.reading() as db:
            rows = list(db["unanswered"].rows_where("question_id = ? AND status = 'open'", [question_id], limit=1))
        return _decoded(rows[0]) if rows else None
    def count_since(self, user_key: str, since: str) -> int:
        """How many questions one person has put before the office since a moment (any status)."""
        with self.reading() as db:
            return db.execute("SELECT count(*) FROM unanswered WHERE user_key = ? AND created >= ?", [user_key, since]).fetchone()[0]

    def open_count(self) -> int:
        with self.reading() as db:
            return db.execute("SELECT count(*) FROM unanswered WHERE status = 'open'").fetchone()[0]


class Answers(Room):
    """Taught questions (question → clause) and office answers (question → the office's words)."""

    def teach_question(self, clause_id: str, text: str) -> None:
        with self.atomic() as db:
            db["learned_alternates"].insert({"clause_id": clause_id, "text": text.strip(), "created": self.stamp()}, ignore=True)

    def taught_questions(self) -> list[tuple[str, str]]:
        """(clause id, question) pairs, oldest first."""
        with self.reading() as db:
            return [(r["clause_id"], r["text"]) for r in db["learned_alternates"].rows_where(order_by="id")]

    def add_office_answer(self, question: str, answer: str, role: str, actor: str) -> int:
        """Keep an answer the office wrote; returns its id."""
        row = {"question": question.strip(), "answer": answer.strip(), "role": role or "", "answered_at": self.stamp(), "answered_by": actor}
        with self.atomic() as db:
            return int(db["office_answers"].insert(row).last_pk)

    def office_answers(self) -> list[dict]:
        with self.reading() as db:
            return list(db["office_answers"].rows_where(order_by="id"))

    def office_answer(self, answer_id: int) -> dict | None:
        return self.row("office_answers", answer_id)

    def remove_office_answer(self, answer_id: int) -> bool:
        """Forget an office answer for good; False if there was none with that id."""
        with self.atomic() as db:
            return db.execute("DELETE FROM office_answers WHERE id = ?", [answer_id]).rowcount == 1


def _decoded(row: dict) -> dict:
    row = dict(row)
    try:
        row["suggestions"] = json.loads(row.get("suggestions") or "[]")
    except ValueError:
        row["suggestions"] = []
    return row
