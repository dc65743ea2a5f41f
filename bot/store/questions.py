"""The questions people asked (text kept only for questions), the 👍/👎 they gave, and what they add up to.
Each is also counted, without text or person, in the week's anonymous counts (bot/store/weekly.py)."""

from __future__ import annotations

from datetime import timedelta

from bot.store.connection import Room
from bot.store.weekly import add_count, question_outcome


class Questions(Room):
    def record(
        self,
        user_key: str,
        role: str,
        text: str,
        intent: str,
        answered: bool,
        confidence: float,
        top_clause: str,
        *,
        nearest: str = "",
        outcome: str = "",
    ) -> int:
        """Store a question; the week's count takes its clause (`top_clause`, or for a question the bot could
        not answer its `nearest` guess) and its `outcome` (by default from the intent and `answered`)."""
        with self.atomic() as db:
            row = {
                "user_key": user_key,
                "role": role,
                "text": text,
                "intent": intent,
                "answered": int(bool(answered)),
                "confidence": float(confidence),
                "top_clause": top_clause,
                "created": self.stamp(),
            }
            question_id = int(db["questions"].insert(row).last_pk)
            add_count(db, row["created"], top_clause or nearest, role, outcome or question_outcome(intent, answered))
            return question_id

    def record_feedback(self, question_id: int, user_key: str, value: int) -> bool:
        """Store 👍 (+1) or 👎 (-1) once per person and question; False if the question is not theirs."""
        with self.atomic() as db:
            owner = self.row("questions", question_id)
            if owner is None or owner["user_key"] != user_key:
                return False
            before = db.execute(
                "SELECT value, created FROM feedback WHERE question_id = ? AND user_key = ?", [question_id, user_key]
            ).fetchone()
            if before is not None:  # a changed mind replaces the earlier press, in the counts too
                add_count(db, before[1], owner["top_clause"], owner["role"], _thumb(before[0]), -1)
            db.execute("DELETE FROM feedback WHERE question_id = ? AND user_key = ?", [question_id, user_key])
            row = {"question_id": question_id, "user_key": user_key, "value": 1 if value > 0 else -1, "created": self.stamp()}
            db["feedback"].insert(row)
            add_count(db, row["created"], owner["top_clause"], owner["role"], _thumb(row["value"]))
            return True

    def stats(self, days: int = 14) -> dict:
        """Questions per day, answered, the sections most answered with and the feedback, over `days` days."""
        since = self.stamp(self.now() - timedelta(days=days))
        with self.reading() as db:
            q = db.execute
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
        return {
            "days": days,
            "per_day": [(day, n, a or 0) for day, n, a in per_day],
            "questions": total,
            "answered": answered,
            "top_sections": [(clause, n) for clause, n in top],
            "thumbs_up": up,
            "thumbs_down": down,
        }


def _thumb(value: int) -> str:
    return "thumbs_up" if value > 0 else "thumbs_down"
