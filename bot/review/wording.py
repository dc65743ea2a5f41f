"""How the governors' review words its figures, for the PDF (pdf.py) and the desk's page (bot/desk/review.py)."""

from __future__ import annotations

from datetime import date


class FilledTexts:
    """texts.get with the review's own values filled in too."""

    def __init__(self, texts, values: dict):
        self.texts, self.values = texts, values

    def __call__(self, key: str, **more) -> str:
        return self.texts.get(key, **{**self.values, **{k: str(v) for k, v in more.items()}})


def who(role: str, count: int) -> str:
    return ("parent" if count == 1 else "parents") if role == "parent" else role


def day_text(day: date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "—"


def duration(hours: float | None) -> str:
    if hours is None:
        return "—"
    if hours < 48:
        return f"{hours:.0f} hours" if hours >= 1.5 else "1 hour" if hours >= 0.5 else "under an hour"
    return f"{hours / 24:.0f} days"


def change(first: int, second: int) -> str:
    if not first:
        return f"{second} (new)" if second else "0"
    delta = round(100 * (second - first) / first)
    return f"{second} ({'+' if delta >= 0 else ''}{delta}%)"


def cut(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
