"""The questions people asked (text kept only for questions), the 👍/👎 they gave, and what they add up to."""

from __future__ import annotations

from datetime import timedelta

from bot.store.connection import Room, stamp, utc_now


class Questions(Room):
    def record(
        self, user_key: str, role: str, text: str, intent: str, answered: bool, confidence: float, top_clause: str
    ) -> int:
        with self.atomic() as db:
            row = {
                "user_key": user_key,
                "role": role,
                "text": text,
                "intent": intent,
                "answered": int(bool(answered)),
                "confidence": float(confidence),
                "top_clause": top_clause,
                "created": stamp(),
            }
            return int(db["questions"].insert(row).last_pk)

    def record_feedback(self, question_id: int, user_key: str, value: int) -> bool:
        """Store 👍 (+1) or 👎 (-1) once per person and question; False if the question is not theirs."""
        with self.atomic() as db:
            owner = self.row("questions", question_id)
            if owner is None or owner["user_key"] != user_key:
                return False
            db.execute("DELETE FROM feedback WHERE question_id = ? AND user_key = ?", [question_id, user_key])
            db["feedback"].insert(
                {"question_id": question_id, "user_key": user_key, "value": 1 if value > 0 else -1, "created": stamp()}
            )
            return True

    def stats(self, days: int = 14) -> dict:
        """Questions per day, answered, the sections most answered with and the feedback, over `days` days."""
        since = stamp(utc_now() - timedelta(days=days))
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
