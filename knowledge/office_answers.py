"""Answers the school office gave in its own words, found again when someone asks the same question.

The office answers a question the policy could not; the question (never who asked it) and the office's words
are kept, and a later question matches an entry when it is a paraphrase of it. Matching uses the engine's
encoder: cosine similarity via `util.semantic_search` over the stored questions' embeddings, guarded by a
rapidfuzz check for the one mistake the encoder makes with confidence — the same question about a different
thing ("…on Spotify…" / "…on Apple Music…", "supply teachers" / "trainee teachers"), which scores almost as
high as a true paraphrase.

The threshold and the guard were chosen on labelled pairs (paraphrase / different question on the same topic)
in tests/test_office_answers.py: the lowest threshold at which the guarded matcher accepts no different
question, plus a margin (see SIMILARITY_THRESHOLD). Pure: no files, no database; the caller supplies the
entries and the embedding function. Safe to search from one thread while another adds or removes entries.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

import numpy as np
from rapidfuzz import fuzz, utils

# Cosine similarity (all-MiniLM-L6-v2, shorthand expanded) a new question needs with an answered one.
# Measured on the 74 labelled pairs in tests/test_office_answers.py: the closest different question that the
# guard lets through scores 0.831 (without the guard: 0.893, "trainee" for "supply" teachers), so 0.84 is the
# lowest threshold with no false match; 0.85 adds a margin and still accepts 13 of the 32 paraphrases. A
# missed paraphrase costs a question for the office; a wrong match gives someone another question's answer.
SIMILARITY_THRESHOLD = 0.85
# Near-ties (the office answered the same question twice) go to the most recent answer.
TIE_MARGIN = 0.01
CANDIDATES = 5
SEARCHED = 50  # nearest stored questions looked at, before those for the other role are set aside
# Two words are "the same word" for the guard when rapidfuzz says so (typos, plurals, crypto/cryptocurrency).
SAME_WORD = 80
# Words that carry no subject of their own: a question differing only in these is still the same question.
FUNCTION_WORDS = frozenset(
    """a an the i im i'm we you he she they it its me my our your his her their them us this that these those
    there here can could may might must shall should will would is are am was were be been being do does did
    done to for of in on at with by from into onto about over under through during via as or and but if so not
    no yes any some
    all ok okay allowed allow let get got have has had what when where who whom whose how why which
    please just still also ever really""".split()
)
_EMPTY = np.zeros((0, 0), dtype=np.float32)


@dataclass(frozen=True)
class OfficeAnswer:
    """One answer the office wrote: the question it answered, its words, when and by whom (an opaque string)."""

    id: int
    question: str
    answer: str
    answered_at: str  # ISO timestamp (UTC)
    actor: str
    role: str = ""  # who asked: staff | parent; the answer is given to the same role only ("" = anyone)

    def fits(self, role: str | None) -> bool:
        return not self.role or not role or self.role == role

    @property
    def answered_on(self) -> str:
        """The day it was answered, for people: "26 November 2026"."""
        try:
            moment = datetime.fromisoformat(self.answered_at)
        except (TypeError, ValueError):
            return (self.answered_at or "")[:10]
        return f"{moment.day} {moment:%B %Y}"


@dataclass(frozen=True)
class OfficeMatch:
    """A stored answer and how close its question is to the one asked."""

    entry: OfficeAnswer
    similarity: float  # cosine, -1..1
    swapped: tuple[str, str] | None = None  # the one word each question has that the other lacks, if that is all
    accepted: bool = False


def _content_words(text: str) -> list[str]:
    return [w for w in utils.default_process(text).split() if w not in FUNCTION_WORDS]


def _unmatched(words: list[str], others: list[str]) -> list[str]:
    """Words with no counterpart among `others` (rapidfuzz: a typo, a plural or a prefix still counts)."""
    return [
        w
        for w in words
        if not any(fuzz.ratio(w, o) >= SAME_WORD or (min(len(w), len(o)) >= 4 and (w.startswith(o) or o.startswith(w))) for o in others)
    ]


def swapped_word(asked: str, stored: str) -> tuple[str, str] | None:
    """The guard: if the two questions differ in exactly one content word each, that pair; else None.

    "Can I sell my lesson plans on TES?" / "…on Etsy?" is the same sentence about a different thing — the
    encoder scores it like a paraphrase, but the office's answer about one says nothing about the other.
    A paraphrase rewords more than one slot, or only adds or drops words."""
    a, b = _content_words(asked), _content_words(stored)
    only_asked, only_stored = _unmatched(a, b), _unmatched(b, a)
    if len(only_asked) == 1 and len(only_stored) == 1:
        return only_asked[0], only_stored[0]
    return None


class OfficeAnswers:
    """The office's answers, searchable by question. Adding or removing takes effect for the next search."""

    def __init__(
        self,
        embed: Callable[[list[str]], np.ndarray],
        expand: Callable[[str], str] | None = None,
        threshold: float = SIMILARITY_THRESHOLD,
    ) -> None:
        self.embed = embed  # the engine's query encoder, so questions and stored questions share one space
        self.expand = expand or (lambda text: text)
        self.threshold = threshold
        self._lock = threading.Lock()  # writers only; a search reads one immutable snapshot
        # (entries, their vectors) replaced as one, so a search never sees one without the other
        self._snapshot: tuple[tuple[OfficeAnswer, ...], np.ndarray] = ((), _EMPTY)

    # -- what it holds -------------------------------------------------------------------------
    def entries(self) -> tuple[OfficeAnswer, ...]:
        return self._snapshot[0]

    def __len__(self) -> int:
        return len(self._snapshot[0])

    def add(self, entries: Iterable[OfficeAnswer]) -> int:
        """Add (or replace, by id) entries; returns how many were new or changed."""
        return self._merge(list(entries), replace_all=False)

    def sync(self, entries: Iterable[OfficeAnswer]) -> int:
        """Hold exactly these entries (the database's): new ones are added, removed ones dropped, and the
        stored vectors of unchanged ones kept. Returns how many entries changed."""
        return self._merge(list(entries), replace_all=True)

    def remove(self, entry_id: int) -> bool:
        with self._lock:
            entries, vectors = self._snapshot
            keep = [i for i, e in enumerate(entries) if e.id != entry_id]
            if len(keep) == len(entries):
                return False
            self._snapshot = (tuple(entries[i] for i in keep), vectors[keep] if keep else _EMPTY)
            return True

    def clear(self) -> None:
        with self._lock:
            self._snapshot = ((), _EMPTY)

    def _merge(self, entries: list[OfficeAnswer], replace_all: bool) -> int:
        entries = [e for e in entries if e.question.strip() and e.answer.strip()]
        known = {e.id: e for e in self._snapshot[0]}
        # Encode outside the lock: a search never waits for the model.
        fresh = [e for e in entries if e.id not in known or known[e.id].question != e.question]
        fresh_vectors = dict(zip((e.id for e in fresh), self._encode([e.question for e in fresh])))
        with self._lock:
            current = {e.id: (e, v) for e, v in zip(*self._snapshot)}
            changed = 0
            merged = {} if replace_all else dict(current)
            for entry in entries:
                if entry.id in fresh_vectors:
                    vector = fresh_vectors[entry.id]
                elif entry.id in current and current[entry.id][0].question == entry.question:
                    vector = current[entry.id][1]
                else:  # changed by another writer meanwhile: encode under the lock (rare)
                    vector = self._encode([entry.question])[0]
                changed += current.get(entry.id, (None,))[0] != entry
                merged[entry.id] = (entry, vector)
            if replace_all:
                changed += len(set(current) - set(merged))
            ordered = sorted(merged.values(), key=lambda pair: pair[0].id)
            vectors = np.stack([v for _, v in ordered]).astype(np.float32) if ordered else _EMPTY
            self._snapshot = (tuple(e for e, _ in ordered), vectors)
            return changed

    def _encode(self, questions: list[str]) -> np.ndarray:
        if not questions:
            return _EMPTY
        return np.asarray(self.embed(questions), dtype=np.float32)

    # -- searching -----------------------------------------------------------------------------
    def best(self, question: str, vector: np.ndarray | None = None, role: str | None = None) -> OfficeMatch | None:
        """The answer to give for `question` (asked by `role`), or None when no answered question is close enough."""
        return self.best_many([question], None if vector is None else np.asarray(vector)[None, :], role)[0]

    def best_many(self, questions: list[str], vectors: np.ndarray | None = None, role: str | None = None) -> list[OfficeMatch | None]:
        """`best` for several questions at once; `vectors` are the engine's embeddings of them, if at hand."""
        out: list[OfficeMatch | None] = []
        for candidates in self.candidates_many(questions, vectors, role):
            accepted = [c for c in candidates if c.accepted]
            if not accepted:
                out.append(None)
                continue
            top = accepted[0].similarity
            out.append(max((c for c in accepted if c.similarity >= top - TIE_MARGIN), key=lambda c: (c.entry.answered_at, c.entry.id)))
        return out

    def nearest(self, question: str, vector: np.ndarray | None = None, role: str | None = None) -> OfficeMatch | None:
        """The closest answered question whether or not it is close enough (for the office and for tests)."""
        found = self.candidates_many([question], None if vector is None else np.asarray(vector)[None, :], role)[0]
        return found[0] if found else None

    def candidates_many(self, questions: list[str], vectors: np.ndarray | None = None, role: str | None = None) -> list[list[OfficeMatch]]:
        """For each question, the closest stored questions (best first), each judged against the threshold."""
        entries, matrix = self._snapshot  # writers replace the snapshot, never change it
        if not questions:
            return []
        if not entries:
            return [[] for _ in questions]
        from sentence_transformers import util
        import torch

        if vectors is None:
            vectors = self._encode(list(questions))
        hits = util.semantic_search(
            torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32)),
            torch.from_numpy(np.ascontiguousarray(matrix)),
            top_k=min(SEARCHED, len(entries)),
        )
        out = []
        for question, found in zip(questions, hits):
            judged = []
            for entry, hit in [(entries[h["corpus_id"]], h) for h in found if entries[h["corpus_id"]].fits(role)][:CANDIDATES]:
                similarity = float(hit["score"])
                swap = swapped_word(self.expand(question), self.expand(entry.question))
                judged.append(OfficeMatch(entry, similarity, swap, similarity >= self.threshold and swap is None))
            out.append(judged)
        return out
