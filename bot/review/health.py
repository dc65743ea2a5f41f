"""The pack's health for the governors: numbers printed twice or skipped, placeholders left in the text, and
pairs of similar clauses whose verdicts point opposite ways, for a person to read side by side.

Numbering comes from the parser's own findings (knowledge/health.py); placeholders from the clause text; the
similar pairs from the engine's own embeddings of each clause, so nothing here is written for one school."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from knowledge.health import health_report
from knowledge.pack import Pack

# A verdict and the verdicts that say the opposite about the same kind of action.
OPPOSITE = {
    "allowed": {"not_allowed", "advised_against"},
    "not_allowed": {"allowed", "required"},
    "required": {"not_allowed", "advised_against"},
    "advised_against": {"allowed", "required"},
}
SIMILAR = 0.58  # cosine between two clauses' texts above which they speak of the same thing
MAX_PAIRS = 6
PLACEHOLDERS = re.compile(
    r"\binsert\s+(?:the\s+)?(?:school|academy|trust|name|date|contact|head|number|address|url|link|person|role)[\w\s]{0,20}?"
    r"(?=[-–—.,;:)\]]|\s+(?:hosted|or|and|will|must|may|is|the)\b|$)"
    r"|\[[^\]]{2,40}\]|<<?[^<>]{2,40}>>?|\b(?:XXX+|TBC|TBD|tbc)\b|_{4,}|\.{5,}",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Placeholder:
    clause: str  # label as printed
    found: str  # the placeholder as written


@dataclass(frozen=True)
class OppositePair:
    first: str  # clause label
    first_verdict: str
    first_text: str
    second: str
    second_verdict: str
    second_text: str
    similarity: float


@dataclass(frozen=True)
class PackHealth:
    duplicates: tuple[str, ...]  # "6.2 is printed 2 times"
    missing: tuple[str, ...]  # "6.7 is missing"
    placeholders: tuple[Placeholder, ...]
    opposite: tuple[OppositePair, ...]

    @property
    def findings(self) -> int:
        return len(self.duplicates) + len(self.missing) + len(self.placeholders) + len(self.opposite)


def placeholders_in(pack: Pack) -> tuple[Placeholder, ...]:
    """Template wording the school never filled in ("Insert school name", "[date]", "XXXX")."""
    found = []
    for clause in pack.clauses:
        for match in PLACEHOLDERS.finditer(clause.text):
            found.append(Placeholder(clause.label, " ".join(match.group(0).split())))
    return tuple(found)


def opposite_pairs(pack: Pack, vectors: np.ndarray, threshold: float = SIMILAR, limit: int = MAX_PAIRS) -> tuple[OppositePair, ...]:
    """Clauses that read alike (cosine of their texts' unit vectors, one row per clause) but whose verdicts
    are opposite (one allows what another forbids): most alike first."""
    clauses = pack.clauses
    similarity = vectors @ vectors.T
    pairs = []
    for i, first in enumerate(clauses):
        for j in range(i + 1, len(clauses)):
            second = clauses[j]
            if second.verdict_kind in OPPOSITE.get(first.verdict_kind, ()) and similarity[i, j] >= threshold:
                pairs.append((float(similarity[i, j]), first, second))
    pairs.sort(key=lambda p: -p[0])
    return tuple(
        OppositePair(a.label, a.verdict_kind, a.text, b.label, b.verdict_kind, b.text, round(score, 2)) for score, a, b in pairs[:limit]
    )


def clause_vectors(engine) -> np.ndarray:
    """Each clause's own text as the engine embedded it (one unit row per clause, in pack order)."""
    index = engine.index
    rows = {e.clause: n for n, e in enumerate(index.entries) if e.kind == "text"}
    vectors = index.vectors.numpy() if hasattr(index.vectors, "numpy") else np.asarray(index.vectors)
    return np.stack([vectors[rows[i]] for i in range(len(engine.pack.clauses))])


def pack_health(pack: Pack, vectors: np.ndarray | None) -> PackHealth:
    report = health_report(pack)
    return PackHealth(
        duplicates=report.duplicates,
        missing=report.missing,
        placeholders=placeholders_in(pack),
        opposite=opposite_pairs(pack, vectors) if vectors is not None else (),
    )
