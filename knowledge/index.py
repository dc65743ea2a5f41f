"""The retrieval index: every text that speaks for a clause, embedded once and cached on disk.

A clause is represented by its verbatim text, its sentences, its heading (alone, and before the text), its
summary, questions derived from its wording, and the alternate questions people ask (curated, or learned from
the office). The embeddings are cached in a file keyed by the model and the exact texts, so a warm start never re-encodes.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.clause import Clause
from knowledge.generic import generic_questions
from knowledge.questions import questions_from_clause

# What kind of text an entry is: alternates are questions (symmetric with the query); the rest is policy wording.
QUESTION_KINDS = ("alternate", "ruling", "learned", "generic")
# Questions the school or the office wrote for a clause (a generic question fills a gap, it is not the school's).
OWN_QUESTION_KINDS = ("alternate", "ruling", "learned")
SENTENCE_SPLIT = re.compile(r"(?<=[.;:!?])\s+(?=[A-Z‘'\"(])")


@dataclass(frozen=True)
class Entry:
    clause: int  # position of the clause in the pack
    kind: str  # "text" | "sentence" | "in_context" | "heading" | "summary" | "derived" | "alternate" | "ruling" | "learned"
    text: str
    ruling: int = -1  # for a ruling's example message: which of the clause's rulings it belongs to


def sentences(text: str) -> list[str]:
    """Split a clause into sentences (only where a new sentence clearly starts)."""
    parts = [p.strip() for p in SENTENCE_SPLIT.split(text) if p.strip()]
    return parts if len(parts) > 1 else []


def clause_entries(position: int, clause: Clause, expand) -> list[Entry]:
    """All the texts that stand for one clause, de-duplicated."""
    out: list[Entry] = [Entry(position, "text", clause.text)]
    out += [Entry(position, "sentence", s) for s in sentences(clause.text)]
    if len(clause.items) > 1:
        # A list item means little without its lead-in ("Staff must not: use the school logo").
        lead = clause.items[0]
        out += [Entry(position, "sentence", f"{lead} {item}") for item in clause.items[1:]]
    if clause.heading:  # the clause's own heading; a section heading shared by many clauses tells them apart poorly
        out.append(Entry(position, "heading", clause.heading))
        # ...but read with the clause it says what the clause is about: "Official accounts: Photographs of pupils
        # may only be published…" is about the school's account, not a personal one; "If things go wrong:
        # Serious or repeated breaches…" answers "what happens if I break the rules".
        out.append(Entry(position, "in_context", f"{clause.heading}: {clause.text}"))
    if clause.summary:
        out.append(Entry(position, "summary", clause.summary))
    out += [Entry(position, "derived", q) for q in questions_from_clause(clause)]
    # A ruling's example that is also one of the clause's alternates stays the ruling's (it tells the rulings apart).
    out += [Entry(position, "ruling", expand(a), n) for n, ruling in enumerate(clause.rulings) for a in ruling.asks if a.strip()]
    out += [Entry(position, "alternate", expand(a)) for a in clause.alternates if a.strip()]
    seen: set[tuple[str, str]] = set()
    unique = []
    for entry in out:
        key = (entry.kind in QUESTION_KINDS and "q" or "t", entry.text.lower())
        if key not in seen:
            seen.add(key)
            unique.append(entry)
    return unique


def cache_key(model_fingerprint: str, texts: list[str]) -> str:
    digest = hashlib.sha256(model_fingerprint.encode())
    for text in texts:
        digest.update(b"\x00" + text.encode("utf-8"))
    return digest.hexdigest()[:24]


def load_or_encode(encoder, texts: list[str], cache_dir: Path | None) -> np.ndarray:
    """Embeddings for the texts, from the disk cache when the model and texts are unchanged."""
    key = cache_key(encoder.fingerprint, texts)
    path = Path(cache_dir) / f"embeddings-{key}.npy" if cache_dir else None
    if path is not None and path.exists():
        try:
            vectors = np.load(path, allow_pickle=False)
            if vectors.shape == (len(texts), encoder.dimensions):
                return vectors
        except (OSError, ValueError):
            pass  # a damaged cache file is rebuilt below
    vectors = encoder.encode(texts)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a reader never sees half a file.
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy.tmp")
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, vectors, allow_pickle=False)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only cache folder only costs a re-encode next start
    return vectors


class ClauseIndex:
    """Entries and their embeddings; learned alternates are appended in memory as the office teaches."""

    def __init__(self, clauses: tuple[Clause, ...], encoder, cache_dir: Path | None, expand=lambda t: t) -> None:
        import torch

        self.clauses = clauses
        self.encoder = encoder
        self.expand = expand
        self.entries: list[Entry] = []
        generic = generic_questions(clauses)
        for position, clause in enumerate(clauses):
            self.entries += clause_entries(position, clause, expand)
            self.entries += [Entry(position, "generic", expand(q)) for q in generic.get(position, ())]
        vectors = load_or_encode(encoder, [e.text for e in self.entries], cache_dir)
        self._torch = torch
        self.vectors = torch.from_numpy(np.ascontiguousarray(vectors))
        self._position = {c.id: i for i, c in enumerate(clauses)}
        # Clauses that people's questions speak for (curated or learned alternates).
        self.asked_clauses = {e.clause for e in self.entries if e.kind in OWN_QUESTION_KINDS}
        self._pack_size = len(self.entries)  # learned questions are appended after the pack's own entries

    def position(self, clause_id: str) -> int:
        """Where a clause stands in the pack (KeyError for an unknown id)."""
        return self._position[clause_id]

    def add_learned(self, clause_id: str, questions: list[str]) -> int:
        """Teach the index new questions for a clause; returns how many were new."""
        position = self._position.get(clause_id)
        if position is None:
            raise KeyError(clause_id)
        known = {e.text.lower() for e in self.entries if e.clause == position and e.kind in QUESTION_KINDS}
        fresh = []
        for q in questions:
            text = self.expand(" ".join(q.split()))
            if text and text.lower() not in known:
                known.add(text.lower())
                fresh.append(text)
        if not fresh:
            return 0
        vectors = self._torch.from_numpy(self.encoder.encode(fresh))
        self.entries += [Entry(position, "learned", t) for t in fresh]
        self.asked_clauses.add(position)
        self.vectors = self._torch.cat([self.vectors, vectors])
        return len(fresh)

    def forget_learned(self) -> None:
        """Back to the pack's own entries (learned questions are kept in the database, not here)."""
        self.entries = self.entries[: self._pack_size]
        self.vectors = self.vectors[: self._pack_size]
        self.asked_clauses = {e.clause for e in self.entries if e.kind in OWN_QUESTION_KINDS}
