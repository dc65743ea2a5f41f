"""The review's charts, drawn with matplotlib (Agg, no display) into PNG files the PDF embeds."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bot.review.gather import Review  # noqa: E402

COLOURS = {"staff": "#1f5f8b", "parent": "#e39b2d"}
ROLE_LABELS = {"staff": "Staff", "parent": "Parents"}
DPI = 200
plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False})


def weekly_questions(review: Review, texts, path: Path) -> Path:
    """Stacked bars: questions per week, staff and parents, with the months marked."""
    fig, ax = plt.subplots(figsize=(7.2, 2.3))
    x = range(len(review.weeks))
    bottom = [0] * len(review.weeks)
    for role, counts in review.questions_by_week.items():
        ax.bar(x, counts, bottom=bottom, width=0.85, color=COLOURS.get(role, "#888888"), label=ROLE_LABELS.get(role, role))
        bottom = [b + c for b, c in zip(bottom, counts)]
    ticks = [n for n, w in enumerate(review.weeks) if n == 0 or w[5:7] != review.weeks[n - 1][5:7]]
    step = max(1, (len(ticks) + 11) // 12)
    months = [date.fromisoformat(review.weeks[n]) for n in ticks[::step]]
    ax.set_xticks(ticks[::step], [m.strftime("%b\n%Y") if n == 0 or m.month == 1 else m.strftime("%b") for n, m in enumerate(months)])
    ax.set_ylabel(texts.get("charts.questions"))
    ax.set_title(texts.get("charts.weekly"), loc="left", fontsize=10)
    ax.legend(frameon=False, ncols=2, loc="upper right")
    return _save(fig, path)


def top_clauses(review: Review, texts, path: Path, limit: int = 10) -> Path:
    """Horizontal bars: the clauses asked about most, staff and parents stacked."""
    shown = review.clauses[:limit][::-1]
    fig, ax = plt.subplots(figsize=(7.2, 0.26 * max(len(shown), 3) + 0.7))
    labels = [_cut(f"{c.label}  {c.title}") for c in shown]
    left = [0] * len(shown)
    for role in ("staff", "parent"):
        values = [c.by_role.get(role, 0) for c in shown]
        ax.barh(labels, values, left=left, color=COLOURS[role], label=ROLE_LABELS[role], height=0.7)
        left = [a + b for a, b in zip(left, values)]
    ax.set_title(texts.get("charts.top"), loc="left", fontsize=10)
    ax.legend(frameon=False, ncols=2, loc="lower right")
    ax.tick_params(axis="y", length=0)
    return _save(fig, path)


def case_times(review: Review, texts, path: Path) -> Path | None:
    """Median days to acknowledge and to close, per kind of case; None when there were no cases."""
    kinds = [k for k, s in review.cases.items() if s.count]
    if not kinds:
        return None
    fig, ax = plt.subplots(figsize=(7.2, 2.2))
    width = 0.38
    for offset, (name, colour) in enumerate((("acknowledge", "#1f5f8b"), ("close", "#7a9e3b"))):
        values = [(_median(getattr(review.cases[k], f"hours_to_{name}")) or 0) / 24 for k in kinds]
        positions = [n + (offset - 0.5) * width for n in range(len(kinds))]
        bars = ax.bar(positions, values, width=width, color=colour, label=texts.get(f"charts.{name}"))
        ax.bar_label(bars, fmt="%.1f", fontsize=8, padding=2)
    ax.set_xticks(range(len(kinds)), [texts.get(f"kinds.{k}") for k in kinds])
    ax.set_ylabel(texts.get("charts.days"))
    ax.set_title(texts.get("charts.cases"), loc="left", fontsize=10)
    ax.legend(frameon=False, ncols=2, loc="upper right")
    ax.margins(y=0.2)
    return _save(fig, path)


def _median(values: list[float]) -> float | None:
    from statistics import median

    return median(values) if values else None


def _cut(text: str, limit: int = 46) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path
