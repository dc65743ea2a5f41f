"""Answers the school office gave in its own words, found again when someone asks the same question.

The office answers a question the policy could not; the question (never who asked it) and the office's words
are kept, and a later question matches an entry when it is a paraphrase of it. Matching uses the engine's
encoder: cosine similarity via `util.semantic_search` over the stored questions' embeddings, guarded by a
rapidfuzz check for the mistake the encoder makes with confidence — the same question about a different
thing or other people ("…on Spotify…" / "…on Apple Music…", "Can I use a VPN…" / "Can pupils use a VPN…"),
which scores as high as a true paraphrase.

The guard and the threshold were chosen on labelled pairs (paraphrase / different question on the same topic)
in tests/test_office_answers.py: the guard because cosine alone cannot tell such questions apart (a different
question scored 0.936), the threshold as the lowest at which the guarded matcher accepts no different question,
plus a margin (see SIMILARITY_THRESHOLD). Pure: no files, no database; the caller supplies the
entries and the embedding function. Safe to search from one thread while another adds or removes entries.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

import numpy as np
from rapidfuzz import fuzz, utils

from knowledge.lexicon import lexicon

# Cosine similarity (the engine's model — for the Clearwell pack its adapter — shorthand expanded) a new question
# needs with an answered one. Measured on the 146 labelled pairs in tests/test_office_answers.py: of the different
# questions the guard lets through, the closest scores 0.746, so 0.75 is the lowest threshold with no false match;
# 0.78 leaves a margin and accepts 14 of the 58 paraphrases (cosine alone at 0.78 would accept 27, but with 15
# wrong matches; it needs 0.94 to make none, and then accepts 2). With the base model before the pack's adapter
# the same measurement gave 0.72 / 0.76 and 18 paraphrases. Precision first: a missed paraphrase costs the office
# one more question; a wrong match would give someone the answer to another question in the office's name.
SIMILARITY_THRESHOLD = 0.78
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
    no yes any some all ok okay allowed allow let get got have has had what when where who whom whose how why
    which please just still also ever really don doesn didn isn aren wasn weren won shouldn couldn wouldn
    whats""".split()
)
# Who a question is about, by kind: "kids" and "pupils" are the same people, "pupils" and "staff" are not.
# Asked about other people, it is another question, however close the wording.
PEOPLE = {kind: " ".join(words) for kind, words in lexicon().office_groups.items()}  # data/lexicon.yaml
PEOPLE_OF = {word: f"@{kind}" for kind, words in PEOPLE.items() for word in words.split()}
SHARED_FRAME = 3  # content words in common from which a word changed on both sides is a changed detail
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
    differs: tuple[str, ...] = ()  # words that make it another question (the guard), if any
    accepted: bool = False


def _content_words(text: str) -> list[str]:
    """Words that carry the question's subject; people as their kind ("@pupils"), so "kids" matches "pupils"."""
    words = [w for w in utils.default_process(text).split() if len(w) > 1 and w not in FUNCTION_WORDS]
    return [PEOPLE_OF.get(w, w) for w in words]


def _unmatched(words: list[str], others: list[str]) -> list[str]:
    """Words with no counterpart among `others` (rapidfuzz: a typo, a plural or a prefix still counts)."""
    return [
        w
        for w in words
        if not any(fuzz.ratio(w, o) >= SAME_WORD or (min(len(w), len(o)) >= 4 and (w.startswith(o) or o.startswith(w))) for o in others)
    ]


def different_detail(asked: str, stored: str) -> tuple[str, ...]:
    """The guard: the words that make `asked` another question than `stored` despite close wording, or ().

    The encoder scores "the same sentence about another thing" almost like a paraphrase: "…lesson plans on
    Etsy?" for "…on TES?", "trainee teachers" for "supply teachers", "Can pupils use a VPN…" for "Can I use a
    VPN…". So, comparing content words with rapidfuzz (a typo, a plural or a prefix still counts as the same):
    - a question about other people (pupils rather than staff, parents rather than governors…) is another
      question ("kids" for "pupils" is not: people are compared by kind, see PEOPLE);
    - where the two share a wording (SHARED_FRAME content words or more), a word changed on both sides is a
      changed detail, not a rewording. Words only added or only dropped are allowed: "spotify in assembly ok?"
      is still "Can I play music from Spotify in assembly?"."""
    a, b = _content_words(asked), _content_words(stored)
    only_asked, only_stored = _unmatched(a, b), _unmatched(b, a)
    people = tuple(w for w in only_asked + only_stored if w.startswith("@"))
    if people:
        return people
    shared = len(a) - len(only_asked)
    if only_asked and only_stored and shared >= SHARED_FRAME:
        return tuple(only_asked + only_stored)
    return ()


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
                differs = different_detail(self.expand(question), self.expand(entry.question))
                judged.append(OfficeMatch(entry, similarity, differs, similarity >= self.threshold and not differs))
            out.append(judged)
        return out
