"""Keyword evidence: TF-IDF over each clause's words (its text, heading, summary and the questions people ask).

A small embedding model blurs distinctive words ("wikipedia", "logo", "email", "uniform"); a word that
occurs in few clauses is strong evidence for those clauses. This gives each clause a 0..1 keyword score.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict

STOPWORDS = frozenset(
    """a an the and or of to in on for is are was were be been being i me my mine we us our you your yours it its this
    that these those with at by from as can could should would do does did doing not no if so what whats how when who
    which about any have has had will just im i'm ive i've there their they them he she his her hers than then also very
    really some into out up down over again only own same too s t don't dont isn't isnt am get got go going one ok okay
    please pls thanks hi hello anyone anything something policy say says allowed""".split()
)
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


# Words are compared by their first seven letters after the suffix ("disciplined", "disciplinary").
PREFIX = 7


def stem(word: str) -> str:
    """A light stemmer: enough to meet "posting"/"posted"/"posts" at "post"."""
    if len(word) <= 4:
        return word
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:PREFIX] if PREFIX else word


def terms(text: str) -> list[str]:
    return [stem(w) for w in WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]


class KeywordIndex:
    """Sublinear TF-IDF vectors per clause, cosine-scored through an inverted index."""

    def __init__(self, documents: list[str]) -> None:
        self._documents = [terms(d) for d in documents]
        self._original = list(self._documents)
        self._build()

    def reset(self) -> None:
        """Forget words added since the index was built."""
        self._documents = list(self._original)
        self._build()

    def _build(self) -> None:
        count = len(self._documents)
        df = Counter(t for doc in self._documents for t in set(doc))
        self.idf = {t: math.log((count + 1) / (n + 0.5)) for t, n in df.items()}
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for position, doc in enumerate(self._documents):
            weights = self._weights(doc)
            for term, weight in weights.items():
                self.postings[term].append((position, weight))

    def _weights(self, doc: list[str]) -> dict[str, float]:
        tf = Counter(doc)
        weights = {t: (1 + math.log(n)) * self.idf.get(t, 0.0) for t, n in tf.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {t: w / norm for t, w in weights.items() if w > 0}

    def add(self, position: int, text: str) -> None:
        """More words for a clause (a question the office taught); rebuilt at once, it is cheap."""
        self._documents[position] = self._documents[position] + terms(text)
        self._build()

    def scores(self, text: str) -> dict[int, float]:
        """Cosine similarity of the text with each clause that shares a word with it."""
        query = self._weights(terms(text))
        out: dict[int, float] = defaultdict(float)
        for term, weight in query.items():
            for position, doc_weight in self.postings.get(term, ()):
                out[position] += weight * doc_weight
        return out
