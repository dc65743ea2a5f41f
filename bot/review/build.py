"""One review, from the store and the engine to the PDF."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot.review.gather import Review, gather, read_sources
from bot.review.health import clause_vectors, pack_health
from bot.review.pdf import render_review
from bot.review.redact import vocabulary
from bot.review.themes import find_themes, nearest_clause
from bot.texts import for_review

REPO_DATA = [Path(__file__).resolve().parents[2] / folder / "data" for folder in ("intents", "knowledge", "bot")]


def known_words(pack) -> frozenset[str]:
    """Ordinary words, as opposed to names: every word of the policy and of the bot's own texts and examples."""
    texts = [c.text + " " + c.title + " " + " ".join(c.alternates) + " " + " ".join(c.ruling_questions()) for c in pack.clauses]
    for folder in REPO_DATA:
        texts += [path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.yaml"))]
    texts.append(pack.school)
    return vocabulary(*texts)


def build_review(store, engine, start: date, end: date, hidden: frozenset[int] = frozenset()) -> Review:
    """The review's figures, themes and pack health for [start, end]; `hidden` are unanswered items (U-12 → 12)
    the office chose not to show as examples."""
    pack = engine.pack
    sources = read_sources(store, start, end)
    complaints = sources.cases.get("complaint", [])
    about = nearest_clause(engine, [r.get("about") or "" for r in complaints])
    review = gather(pack, sources, start, end, {r["ref"]: cid for r, cid in zip(complaints, about)})
    review.themes = find_themes(engine, [q for q in review.unanswered], known_words(pack), hidden)
    review.health = pack_health(pack, clause_vectors(engine))
    return review


def write_review(store, engine, settings, start: date, end: date, out: Path | str, hidden: frozenset[int] = frozenset()) -> Path:
    """Build the review and write it as a PDF at `out`."""
    review = build_review(store, engine, start, end, hidden)
    return render_review(review, for_review(settings, engine.pack), out)
