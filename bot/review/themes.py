"""What the bot could not answer, grouped into themes: the questions are embedded with the engine's own model
and grouped where they sit close together (sentence-transformers' community detection, on cosine). Each theme
gets a few redacted examples and a suggested action: the clause to add it to when one is close (or when the
office answered it with one), else that the policy is silent on it."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from bot.review.redact import redact

SAME_THEME = 0.55  # cosine to a theme's centre above which a question belongs to it
CLOSE_CLAUSE = 0.65  # a theme this close to a clause (its best entry in the engine's index) belongs in it
EXAMPLES = 3
MAX_THEMES = 40


@dataclass(frozen=True)
class Theme:
    title: str  # the most central question, redacted
    size: int
    roles: dict[str, int]
    examples: tuple[str, ...]  # redacted
    clause: str  # label of the clause to add it to, "" when the policy is silent
    clause_title: str
    closeness: float
    office_answered: int  # how many the office answered (with a clause or its own words)
    by_office: bool = False  # the clause is the one the office answered most of them with
    example_ids: tuple[int, ...] = ()  # the unanswered items shown: the title's first, then each example's

    @property
    def short_action(self) -> str:
        return f"add to {self.clause}" if self.clause else "the policy is silent"

    @property
    def action(self) -> str:
        if self.clause and self.by_office:
            return f"Add to clause {self.clause}, “{self.clause_title}”, which the office answered them with: say so in its text."
        if self.clause:
            return f"Add to clause {self.clause}, “{self.clause_title}”: say so in its text or its questions."
        return "The policy is silent on this: decide whether it should say something."


def find_themes(engine, questions: list[dict], known_words: frozenset[str], hidden: frozenset[int] = frozenset()) -> list[Theme]:
    """Themes among the unanswered `questions` (rows with text, role, answer_clause), largest first. A question
    no other resembles is a theme of one only while there is room (MAX_THEMES)."""
    from sentence_transformers import util

    rows = [q for q in questions if (q.get("text") or "").strip()]
    if not rows:
        return []
    vectors = np.asarray(engine.embed([essence(redact(q["text"], known_words)) for q in rows]), dtype=np.float32)
    groups = util.community_detection(vectors, threshold=SAME_THEME, min_community_size=1)
    clause_vectors, clause_of_entry = _entry_vectors(engine)
    themes = []
    for members in groups[:MAX_THEMES]:
        members = [int(m) for m in members]  # the first is the most central
        centre = vectors[members].mean(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        themes.append(_theme(engine, [rows[m] for m in members], centre, clause_vectors, clause_of_entry, known_words, hidden))
    themes.sort(key=lambda t: (-t.size, t.title))
    return themes


def _entry_vectors(engine) -> tuple[np.ndarray, np.ndarray]:
    index = engine.index
    vectors = index.vectors.numpy() if hasattr(index.vectors, "numpy") else np.asarray(index.vectors)
    return vectors, np.array([e.clause for e in index.entries])


def _theme(engine, rows, centre, entry_vectors, clause_of_entry, known_words, hidden) -> Theme:
    scores = entry_vectors @ centre
    best = int(np.argmax(scores))
    closeness = float(scores[best])
    clause = engine.pack.clauses[int(clause_of_entry[best])]
    # The office's own choice, when it answered most of these with one clause, outweighs the model's guess.
    chosen = Counter(r["answer_clause"] for r in rows if r.get("answer_clause"))
    office_clause = chosen.most_common(1)[0][0] if chosen and chosen.most_common(1)[0][1] * 2 > len(rows) else ""
    by_office = bool(office_clause and engine.pack.clause(office_clause))
    if by_office:
        clause = engine.pack.clause(office_clause)
    shown = [r for r in rows if r.get("id") not in hidden]
    examples: list[str] = []
    ids: list[int] = []
    for row in shown:
        text = _short(redact(row["text"], known_words))
        if text not in examples:
            examples.append(text)
            ids.append(row.get("id"))
    # The theme is named by its most central question that needed nothing taken out, when there is one.
    clean = [e for e in examples if "[" not in e and len(e) <= 120]
    if clean:
        first = examples.index(clean[0])
        examples.insert(0, examples.pop(first))
        ids.insert(0, ids.pop(first))
    examples, ids = examples[:EXAMPLES], ids[:EXAMPLES]
    near = by_office or closeness >= CLOSE_CLAUSE
    return Theme(
        title=essence(examples[0]) if examples else "(examples hidden by the office)",
        size=len(rows),
        roles=dict(Counter(r.get("role") or "staff" for r in rows)),
        examples=tuple(examples[1:]),
        clause=clause.label if near else "",
        clause_title=clause.title if near else "",
        closeness=round(closeness, 2),
        office_answered=sum(1 for r in rows if r.get("status") == "answered"),
        by_office=by_office,
        example_ids=tuple(ids),
    )


SENTENCE = re.compile(r"(?<=[.!?])\s+")


def essence(redacted: str) -> str:
    """What a question asks, without the sentences that only say who is asking ("Hi, I'm [name] ([email])."):
    two people's questions on one subject belong together however they introduce themselves."""
    sentences = [s for s in SENTENCE.split(redacted) if s.strip()]
    plain = [s for s in sentences if "[" not in s]
    return " ".join(plain) if plain else redacted


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def nearest_clause(engine, texts: list[str]) -> list[str]:
    """For each text, the clause id its words are nearest to, or "" when none is close (complaints by clause)."""
    if not texts:
        return []
    vectors = np.asarray(engine.embed(texts), dtype=np.float32)
    entry_vectors, clause_of_entry = _entry_vectors(engine)
    out = []
    for vector in vectors:
        scores = entry_vectors @ vector
        best = int(np.argmax(scores))
        out.append(engine.pack.clauses[int(clause_of_entry[best])].id if scores[best] >= CLOSE_CLAUSE else "")
    return out
