"""The answer engine: find the clauses that answer a question, role-aware, with a calibrated confidence.

Each clause scores by its best-matching text (semantic similarity via `util.semantic_search`), helped by
rapidfuzz's lexical match against the questions people ask. The confidence is a logistic map of that
score; below the threshold the engine does not pretend to know, but still returns its best candidates.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process, utils

from knowledge.clause import Clause
from knowledge.index import QUESTION_KINDS, ClauseIndex
from knowledge.lexical import KeywordIndex
from knowledge.pack import Pack
from knowledge.shorthand import expander, load_shorthand

ROLES = ("staff", "parent")
# "can I…", "am I allowed…", "my post…": the asker asks about their own conduct.
FIRST_PERSON = re.compile(r"\b(i|i'm|im|me|my|myself|we|our)\b", re.IGNORECASE)
# "a teacher posted…", "my son's TA is…", "can teachers…": the question is about what a member of staff did.
STAFF_SUBJECT = re.compile(
    r"^\W*(?:(?:mum|dad|parent) here\W+)?(?:(?:can|could|may|should|is|are|do|does|did|why (?:does|did|is))\s+)?"
    r"(?:a|an|the|my|our|his|her|their|one of the|my (?:son|daughter|child|kid)'?s?|(?:son|daughter|child|kid)'?s)?\s*"
    r"(?:old |former |class |form |pe |supply |new )?(?:teachers?|ta|tas|teaching assistants?|staff|members? of staff|sir|miss|head|headteacher|"
    r"coach|governors?|lunchtime supervisor|school)\b",
    re.IGNORECASE,
)
# "can teachers…", "is staff allowed…": a parent asking what staff may do is answered from the staff rules.
ABOUT_STAFF = re.compile(r"\b(teachers?|staff|sir|miss|headteacher|head|ta|tas|governors?|employees?|they|them|he|she)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Tuning:
    """How the signals combine. Defaults were set on the Clearwell development set (see README)."""

    text_bonus: float = 0.02  # policy wording vs. a question: asymmetric, so it scores lower for the same fit
    fuzzy_weight: float = 0.2
    keyword_weight: float = 0.35  # TF-IDF evidence from distinctive words
    fuzzy_floor: float = 0.55
    audience_penalty: float = 0.06  # a clause written for the other role
    own_conduct_penalty: float = 0.16  # ...when the asker plainly asks about their own conduct
    audience_bonus: float = 0.02  # a clause written for the asker's role
    support_k: int = 3  # a clause many of whose questions fit is surer than one with a single lucky fit
    support_weight: float = 0.4
    calibration_mid: float = 0.59  # raw score at which confidence is 0.5, for a clause with alternate questions
    # ...and for a clause known only by its wording (an uncurated pack): policy wording matches a question less
    # closely, so the same confidence comes at a lower raw score (set on the Clearwell pack stripped of its notes).
    calibration_mid_wording_only: float = 0.47
    calibration_scale: float = 0.05
    top_k_entries: int = 200


@dataclass(frozen=True)
class Match:
    clause: Clause
    score: float  # calibrated, 0..1
    raw: float = 0.0
    sentence: str = ""  # the clause sentence closest to the question (for shortening a long quote)

    def to_json(self) -> dict:
        return {
            "id": self.clause.id,
            "section": self.clause.section,
            "heading": self.clause.title,
            "text": self.clause.text,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class Search:
    question: str
    role: str
    answered: bool
    confidence: float
    matches: tuple[Match, ...]
    # For a parent, the staff rule that fitted the question best, when the answer comes from elsewhere.
    staff_rule: Clause | None = None
    candidates: tuple[Match, ...] = field(default=(), repr=False)  # the longer list, for reports
    # How closely the message resembles any question people ask about this policy (plain cosine, 0..1):
    # comparable with intent examples, unlike the combined score.
    question_similarity: float = 0.0


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class PolicyEngine:
    """Answers from one pack. Thread-safe for searches; `add_alternate` appends to the index."""

    def __init__(self, pack: Pack, encoder, cache_dir: Path | str | None = None, threshold: float = 0.5, tuning: Tuning | None = None) -> None:
        self.pack = pack
        self.encoder = encoder
        self.threshold = threshold
        self.tuning = tuning or Tuning()
        self.expand = expander(load_shorthand(pack.shorthand))
        self.index = ClauseIndex(pack.clauses, encoder, Path(cache_dir) if cache_dir else None, self.expand)
        self.keywords = KeywordIndex(
            [self.expand(" ".join((c.text, c.heading, c.summary, *c.alternates))) for c in pack.clauses]
        )
        self._refresh_fuzzy()

    # -- teaching ------------------------------------------------------------------------------
    def add_alternate(self, clause_id: str, question: str) -> bool:
        """The office answered `question` with `clause_id`: match it from now on. True if it was new."""
        added = self.index.add_learned(clause_id, [question])
        if added:
            self.keywords.add(self.index.position(clause_id), self.expand(question))
            self._refresh_fuzzy()
        return bool(added)

    def add_alternates(self, pairs: list[tuple[str, str]]) -> int:
        """Load many learned questions at once (start-up); unknown clause ids are skipped."""
        by_clause: dict[str, list[str]] = {}
        for clause_id, question in pairs:
            if self.pack.clause(clause_id) is not None:
                by_clause.setdefault(clause_id, []).append(question)
        added = 0
        for cid, qs in by_clause.items():
            fresh = self.index.add_learned(cid, qs)
            if fresh:
                added += fresh
                self.keywords.add(self.index.position(cid), self.expand(" ".join(qs)))
        if added:
            self._refresh_fuzzy()
        return added

    def forget_learned(self) -> None:
        """Drop every question the office taught since start-up (tests; reloading from the database)."""
        self.index.forget_learned()
        self.keywords.reset()
        self._refresh_fuzzy()


    def _refresh_fuzzy(self) -> None:
        self._fuzzy_choices = {
            i: utils.default_process(e.text) for i, e in enumerate(self.index.entries) if e.kind in QUESTION_KINDS
        }

    # -- searching -----------------------------------------------------------------------------
    def embed(self, questions: list[str]) -> np.ndarray:
        """Query embeddings (shorthand expanded), batched."""
        return self.encoder.encode([self.expand(q) for q in questions])

    def search(self, question: str, role: str = "staff", vector: np.ndarray | None = None) -> Search:
        if vector is None:
            vector = self.embed([question])[0]
        return self.search_many([question], role, np.asarray(vector)[None, :])[0]

    def search_many(self, questions: list[str], role: str = "staff", vectors: np.ndarray | None = None) -> list[Search]:
        from sentence_transformers import util
        import torch

        if not questions:
            return []
        if vectors is None:
            vectors = self.embed(questions)
        top_k = min(self.tuning.top_k_entries, len(self.index.entries))
        hits = util.semantic_search(torch.from_numpy(np.ascontiguousarray(vectors)), self.index.vectors, top_k=top_k)
        return [self._rank(q, role, h) for q, h in zip(questions, hits)]

    def _rank(self, question: str, role: str, hits: list[dict]) -> Search:
        t = self.tuning
        entries = self.index.entries
        asked: dict[int, list[float]] = {}
        worded: dict[int, float] = {}
        best_sentence: dict[int, tuple[float, str]] = {}
        for hit in hits:
            entry = entries[hit["corpus_id"]]
            score = float(hit["score"])
            if entry.kind in QUESTION_KINDS:
                asked.setdefault(entry.clause, []).append(score)  # hits arrive best first
            elif score > worded.get(entry.clause, -1.0):
                worded[entry.clause] = score
            if entry.kind in ("sentence", "text") and score > best_sentence.get(entry.clause, (-1.0, ""))[0]:
                best_sentence[entry.clause] = (score, entry.text)
        fuzzy = self._fuzzy(question)
        keyword = self.keywords.scores(self.expand(question))
        raw: dict[int, float] = {}
        for position in set(asked) | set(worded) | set(fuzzy) | set(keyword):
            fits = asked.get(position, [0.0])
            support = sum(fits[: t.support_k]) / t.support_k
            question_score = (1 - t.support_weight) * fits[0] + t.support_weight * support
            base = max(question_score, worded.get(position, 0.0) + t.text_bonus)
            base += t.fuzzy_weight * max(0.0, fuzzy.get(position, 0.0) - t.fuzzy_floor)
            base += t.keyword_weight * keyword.get(position, 0.0)
            raw[position] = base
        unadjusted = dict(raw)
        about_staff = bool(ABOUT_STAFF.search(question))
        own_conduct = bool(FIRST_PERSON.search(question)) and not about_staff
        # A parent asking what a member of staff did is answered from the staff rules.
        judged_as = "staff" if role == "parent" and STAFF_SUBJECT.search(question) else role
        for position in raw:
            raw[position] += self._audience_adjustment(self.index.clauses[position], judged_as, own_conduct, about_staff and judged_as == role)
        ranked = sorted(raw, key=raw.get, reverse=True)
        if own_conduct:
            # "Can I…" is answered by a rule written for the asker when one fits well enough at all.
            mine = [p for p in ranked if self._audience_adjustment(self.index.clauses[p], role, False, False) >= 0]
            if mine and self._calibrate(raw[mine[0]], mine[0]) >= self.threshold:
                ranked = [mine[0]] + [p for p in ranked if p != mine[0]]
        matches = tuple(
            Match(self.index.clauses[p], self._calibrate(raw[p], p), raw[p], best_sentence.get(p, (0, ""))[1]) for p in ranked[:10]
        )
        confidence = matches[0].score if matches else 0.0
        staff_rule = None
        if role == "parent" and matches and unadjusted:
            top_plain = max(unadjusted, key=unadjusted.get)
            clause = self.index.clauses[top_plain]
            if clause.audience in ("staff", "site_creators") and clause.id != matches[0].clause.id:
                staff_rule = clause
        question_similarity = max((fits[0] for fits in asked.values()), default=0.0)
        question_similarity = max(question_similarity, max(worded.values(), default=0.0))
        return Search(
            question_similarity=question_similarity,
            question=question,
            role=role,
            answered=confidence >= self.threshold,
            confidence=confidence,
            matches=matches[:3],
            staff_rule=staff_rule,
            candidates=matches,
        )

    def has_questions_for(self, clause_id: str) -> bool:
        """Whether the pack knows questions people ask for this clause (curated or learned), not only its wording."""
        try:
            return self.index.position(clause_id) in self.index.asked_clauses
        except (KeyError, ValueError):
            return False

    def _fuzzy(self, question: str) -> dict[int, float]:
        """Best lexical match (0..1) per clause among the questions people ask."""
        query = utils.default_process(self.expand(question))
        if len(query) < 3 or not self._fuzzy_choices:
            return {}
        out: dict[int, float] = {}
        found = process.extract(
            query, self._fuzzy_choices, scorer=fuzz.token_set_ratio, processor=None, limit=40, score_cutoff=self.tuning.fuzzy_floor * 100
        )
        for _text, score, key in found:
            clause = self.index.entries[key].clause
            out[clause] = max(out.get(clause, 0.0), score / 100.0)
        return out

    def _audience_adjustment(self, clause: Clause, role: str, own_conduct: bool, about_staff: bool) -> float:
        """Prefer clauses written for the asker; strongly so when they ask about their own conduct.

        A parent asking what a teacher may do is answered from the staff rules, with no preference."""
        t = self.tuning
        if clause.audience == "everyone" or (role == "parent" and about_staff):
            return 0.0
        mine = "parents" if role == "parent" else "staff"
        if clause.audience == mine or (role == "staff" and clause.audience == "site_creators"):
            return t.audience_bonus
        return -(t.own_conduct_penalty if own_conduct else t.audience_penalty)

    def _calibrate(self, raw: float, position: int) -> float:
        t = self.tuning
        mid = t.calibration_mid if position in self.index.asked_clauses else t.calibration_mid_wording_only
        return _sigmoid((raw - mid) / t.calibration_scale)
