"""Anonymous weekly counts that outlive retention: how many questions per week, clause, role and outcome, and
how many 👍/👎 and office answers. No text and no person: a year's review can be written from them after the
questions themselves have been deleted (RETENTION_DAYS)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlite_utils

from bot.store.connection import Room

TABLE = "weekly_counts"
# What a count counts. A question: answered | unanswered (the bot hedged; the clause is its nearest guess) |
# office_answer (the office's own earlier words were given) | out_of_scope | safeguarding. Feedback: thumbs_up |
# thumbs_down. The office's work on an unanswered question: office_answered (with the clause it chose, or none
# for its own words), office_redirected (the bot's nearest clause, when the office chose another), dismissed.
QUESTION_OUTCOMES = ("answered", "unanswered", "office_answer", "out_of_scope", "safeguarding")


def week_of(moment: str | datetime | date) -> str:
    """The Monday (ISO date) of the week a timestamp falls in: "2026-11-26T10:00:00+00:00" → "2026-11-23"."""
    if isinstance(moment, str):
        moment = date.fromisoformat(moment[:10])
    elif isinstance(moment, datetime):
        moment = moment.date()
    return (moment - timedelta(days=moment.weekday())).isoformat()


def add_count(db: sqlite_utils.Database, moment: str | datetime, clause: str, role: str, outcome: str, delta: int = 1) -> None:
    """One more (or, with delta=-1, one fewer) in this week's count; called inside the writer's transaction."""
    db.execute(
        f"INSERT INTO {TABLE} (week, clause, role, outcome, n) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (week, clause, role, outcome) DO UPDATE SET n = n + excluded.n",
        [week_of(moment), clause or "", role or "", outcome, delta],
    )


def question_outcome(intent: str, answered: bool) -> str:
    if intent == "question":
        return "answered" if answered else "unanswered"
    return intent


class WeeklyCounts(Room):
    def rows(self, first_week: str = "", last_week: str = "9999") -> list[dict]:
        """Counts for the weeks from `first_week` to `last_week` (Mondays, ISO), oldest first."""
        with self.reading() as db:
            return list(
                db[TABLE].rows_where("week >= ? AND week <= ? AND n != 0", [first_week, last_week], order_by="week, clause, role, outcome")
            )
