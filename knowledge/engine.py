"""The answer engine: find the clauses that answer a message, and say how likely the first one is right.

Each candidate clause is described by a few signals — how closely the message matches the questions people
ask about it and its own wording (semantic similarity via `util.semantic_search`), lexical evidence (rapidfuzz,
TF-IDF), whether the clause is written for the asker, and whether it is about the same people and the same
kind of account as the message (knowledge/subject.py). A long message is also read sentence by sentence, and
by its question sentence. The signals are combined by weights fitted on labelled development questions
(data/ranker.yaml, `python bench/fit_ranker.py`), and the chance that the first clause is right comes from a
logistic model fitted the same way; below the threshold the engine does not pretend to know.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process, utils

from knowledge.clause import Clause
from knowledge.index import QUESTION_KINDS, ClauseIndex
from knowledge.lexical import KeywordIndex
from knowledge.lexicon import Lexicon, lexicon, message_sentences
from knowledge.pack import Pack, read_yaml
from knowledge.roles import ROLES
from knowledge.shorthand import expander, load_shorthand
from knowledge.subject import Subject, agreement, of_clause_text, of_question

RANKER = Path(__file__).resolve().parent / "data" / "ranker.yaml"
# The signals describing one candidate clause for one message (names as in data/ranker.yaml).
FEATURES = (
    "best",  # the better of the closest question people ask and the closest wording
    "asked",  # the closest question people ask about the clause
    "support",  # the mean of its three closest questions (a clause many of whose questions fit)
    "worded",  # the closest of its own wording, sentences, heading and summary
    "fuzzy",  # rapidfuzz token-set match with its questions, above a floor
    "keyword",  # TF-IDF over its distinctive words
    "part_best",  # a long message: the best fit of any one of its sentences
    "focus_best",  # a long message: the fit of its question sentence
    "audience_mine",  # written for the asker's role
    "audience_other",  # written for the other role
    "own_other",  # ...while the asker plainly asks about their own conduct
    "actor_match",
    "actor_clash",
    "target_match",
    "target_clash",
    "channel_match",
    "channel_clash",
    "curated",  # the school's notes name questions people ask about it
)
# What the answer/hedge decision looks at (the first candidate, and how far ahead it is).
DECISION = (
    "score", "margin", "best", "asked", "worded", "part_best", "focus_best", "long", "words", "curated", "clash", "vague",
    "agree_best", "agree_part", "agree_focus",  # the first clause is also first by the whole message / a sentence / the question
    "outsider",  # the message names someone outside the school (a club coach, a private tutor, another school)
    # Two acceptable clauses competing should not look like doubt: how far ahead the first is of the best
    # candidate that is not its kin (the same section, or a clause the school lists as related)...
    "margin_kin",
    # ...and, for a long message, the share of its sentences whose best clause is the first or its kin.
    "votes",
)
DEFAULT_WEIGHTS = {
    "best": 1.0, "fuzzy": 0.2, "keyword": 0.35, "audience_mine": 0.02, "audience_other": -0.06, "own_other": -0.1,
    "actor_clash": -0.03, "target_clash": -0.03, "channel_clash": -0.03,
}
DEFAULT_DECISION = {"intercept": -11.8, "score": 20.0}
TEXT_BONUS = 0.02  # policy wording vs a question: asymmetric, so it scores lower for the same fit
FUZZY_FLOOR = 0.55
SUPPORT_K = 3
SUPPORT_WEIGHT = 0.4
TOP_K_ENTRIES = 200
CANDIDATES = 12  # clauses described per message
LONG_WORDS = 18  # a message this long with two sentences or more is also read sentence by sentence
MAX_PARTS = 8
LEAD_IN_REACH = 12  # how many clauses after a lead-in may be what it introduces
CHANNEL_MARGIN = 0.1  # how far behind a clause about the account the message names may be and still answer it
OFFICE_SAME_QUESTION = 0.95  # cosine with a question the office taught: the same question, answered as it did
OWN_RULE_MARGIN = 0.1  # how far behind a rule written for the asker may be and still answer "can I…"


@dataclass(frozen=True)
class Ranker:
    """Weights of the signals, and the logistic model of "the first clause is right"."""

    weights: dict[str, float]
    decision: dict[str, float]
    source: str = "defaults"
    decision_long: dict[str, float] | None = None  # long messages are judged by their own model, when fitted
    decision_uncurated: dict[str, float] | None = None  # ...and clauses nobody wrote questions for by theirs
    weights_uncurated: dict[str, float] | None = None  # a pack nobody curated ranks by its own weights

    @classmethod
    def load(cls, path: Path = RANKER) -> "Ranker":
        data = read_yaml(path)
        if not data:
            return cls(dict(DEFAULT_WEIGHTS), dict(DEFAULT_DECISION))
        weights = {k: float(v) for k, v in (data.get("weights") or {}).items()}
        weights_uncurated = {k: float(v) for k, v in (data.get("weights_uncurated") or {}).items()} or None
        decision = {k: float(v) for k, v in (data.get("decision") or {}).items()}
        long = {k: float(v) for k, v in (data.get("decision_long") or {}).items()} or None
        uncurated = {k: float(v) for k, v in (data.get("decision_uncurated") or {}).items()} or None
        named = set(decision) | set(long or ()) | set(uncurated or ())
        unknown = ((set(weights) | set(weights_uncurated or ())) - set(FEATURES)) | (named - set(DECISION) - {"intercept"})
        if unknown:
            raise ValueError(f"{path.name}: unknown signals {sorted(unknown)}")
        return cls(weights, decision, str(path), long, uncurated, weights_uncurated)

    def vector(self, curated: bool = True) -> np.ndarray:
        weights = self.weights if curated or not self.weights_uncurated else self.weights_uncurated
        return np.array([weights.get(f, 0.0) for f in FEATURES], dtype=np.float64)

    def probability(self, values: dict[str, float]) -> float:
        if not values.get("curated") and self.decision_uncurated:
            model = self.decision_uncurated
        elif values.get("long") and self.decision_long:
            model = self.decision_long
        else:
            model = self.decision
        z = model.get("intercept", 0.0) + sum(model.get(k, 0.0) * v for k, v in values.items())
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


@dataclass(frozen=True)
class Match:
    clause: Clause
    score: float  # the chance (0..1) that this clause answers the message, for the first; scaled alike for the rest
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
    long: bool = False  # a message of several sentences, read sentence by sentence too
    vague: bool = False  # ...whose question carries no topic of its own ("AIBU?", "what should I do?")
    subject: Subject = field(default_factory=Subject)
    decision: dict = field(default_factory=dict, repr=False)  # what the answer/hedge decision looked at
    # The closest question the office taught for another clause than the first (cosine), if any: a near
    # paraphrase answered differently makes the engine unsure rather than confidently wrong.
    learned_elsewhere: float = 0.0
    # For the first clause: how close each of its rulings' example messages comes (ruling -> (cosine, example)).
    ruling_fits: dict = field(default_factory=dict, repr=False)
    # For the first clause: how close the closest question the office taught for it comes (cosine; 0 if none).
    # When that is closer than any ruling's example, the office chose the clause and no verdict: quote it plainly.
    learned_fit: float = 0.0


@dataclass(frozen=True)
class Described:
    """One message's candidates and their signals (for ranking, and for fitting the weights)."""

    positions: list[int]
    features: np.ndarray  # len(positions) × len(FEATURES)
    best_sentence: dict[int, str]
    question_similarity: float
    long: bool
    vague: bool
    subject: Subject
    words: int
    learned: dict[int, float]  # best cosine to an office-taught question, per clause
    part_winners: tuple[int, ...] = ()  # a long message: each sentence's best clause (a position)
    ruling_fits: dict[int, dict[int, tuple[float, str]]] = field(default_factory=dict)  # clause -> ruling -> (fit, example)


def agreement_of(features: np.ndarray, top: int) -> dict[str, float]:
    """Whether the first clause is also the best by the whole message, by its best sentence and by its question."""
    def first_by(name: str) -> float:
        column = features[:, FEATURES.index(name)]
        return float(column[top] >= column.max() - 1e-9)

    return {"agree_best": first_by("best"), "agree_part": first_by("part_best"), "agree_focus": first_by("focus_best")}


def kinship(clauses) -> list[set[int]]:
    """Per clause (by position), the clauses that may answer the same message with it: those printed under the
    same number ("6.2" and its second "6.2"), and those the school lists as related to it, either way round."""
    position = {c.id: i for i, c in enumerate(clauses)}
    kin: list[set[int]] = [set() for _ in clauses]
    by_section: dict[str, set[int]] = {}
    for i, c in enumerate(clauses):
        by_section.setdefault(c.section, set()).add(i)
    for i, c in enumerate(clauses):
        kin[i] |= by_section[c.section] - {i}
        for other in c.related:
            j = position.get(other)
            if j is not None and j != i:
                kin[i].add(j)
                kin[j].add(i)
    return kin


def kin_signals(kin: list[set[int]], positions: list[int], part_winners, scores: np.ndarray, order: np.ndarray) -> dict[str, float]:
    """How far the first candidate is ahead of the best one that is not its kin (`margin_kin`: two clauses that
    may both answer the message competing is no doubt), and the share of a long message's sentences whose best
    clause is the first or its kin (`votes`, 1.0 for a message read whole). `order` ranks the candidates,
    whose clauses are `positions`."""
    top = positions[order[0]]
    family = kin[top] | {top}
    rivals = [float(scores[i]) for i in order[1:] if positions[i] not in family]
    votes = sum(w in family for w in part_winners) / len(part_winners) if part_winners else 1.0
    return {"margin_kin": float(scores[order[0]]) - (max(rivals) if rivals else 0.0), "votes": votes}


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class PolicyEngine:
    """Answers from one pack. Thread-safe for searches; `add_alternate` appends to the index."""

    def __init__(
        self,
        pack: Pack,
        encoder,
        cache_dir: Path | str | None = None,
        threshold: float = 0.5,
        ranker: Ranker | None = None,
        lex: Lexicon | None = None,
    ) -> None:
        self.pack = pack
        self.encoder = encoder
        self.threshold = threshold
        self.ranker = ranker or Ranker.load()
        self.lexicon = lex or lexicon()
        self.expand = expander(load_shorthand(pack.shorthand))
        self.index = ClauseIndex(pack.clauses, encoder, Path(cache_dir) if cache_dir else None, self.expand)
        self.keywords = KeywordIndex(
            [self.expand(" ".join((c.text, c.heading, c.summary, *c.alternates, *c.ruling_questions()))) for c in pack.clauses]
        )
        self.subjects = [self._clause_subject(c) for c in pack.clauses]
        self.kin = kinship(pack.clauses)
        # Within a clause, the words that tell its rulings apart ("evening", "weekend" against "lunch").
        self.ruling_words = {
            i: KeywordIndex([self.expand(" ".join((r.when, *r.asks))) for r in c.rulings])
            for i, c in enumerate(pack.clauses)
            if len(c.rulings) > 1
        }
        self._refresh_fuzzy()

    def _clause_subject(self, clause: Clause) -> Subject:
        if clause.actor or clause.target or clause.channel:
            return Subject(clause.actor, clause.target, clause.channel)
        return of_clause_text(clause.text, self.lexicon)

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
        """The questions people ask, prepared for rapidfuzz, grouped by clause (a message is compared only with
        its candidate clauses' questions)."""
        by_clause: dict[int, list[str]] = {}
        for entry in self.index.entries:
            if entry.kind in QUESTION_KINDS:
                by_clause.setdefault(entry.clause, []).append(utils.default_process(entry.text))
        self._fuzzy_choices = by_clause

    # -- searching -----------------------------------------------------------------------------
    def embed(self, questions: list[str]) -> np.ndarray:
        """Query embeddings (shorthand expanded), batched."""
        return self.encoder.encode([self.expand(q) for q in questions])

    def search(self, question: str, role: str = "staff", vector: np.ndarray | None = None) -> Search:
        if vector is None:
            vector = self.embed([question])[0]
        return self.search_many([question], role, np.asarray(vector)[None, :])[0]

    def search_many(self, questions: list[str], role: str = "staff", vectors: np.ndarray | None = None) -> list[Search]:
        return [self._rank(q, role, d) for q, d in zip(questions, self.describe_many(questions, role, vectors))]

    def describe_many(self, questions: list[str], role: str = "staff", vectors: np.ndarray | None = None) -> list[Described]:
        """Each message's candidate clauses and their signals (one batched encode for all the parts)."""
        from sentence_transformers import util
        import torch

        if not questions:
            return []
        if vectors is None:
            vectors = self.embed(questions)
        parts = [self._parts(q) for q in questions]
        flat = [p for ps, _focus in parts for p in ps]
        part_vectors = self.embed(flat) if flat else np.zeros((0, vectors.shape[1]), dtype=np.float32)
        everything = np.concatenate([np.asarray(vectors, dtype=np.float32), part_vectors]) if flat else np.asarray(vectors, dtype=np.float32)
        top_k = min(TOP_K_ENTRIES, len(self.index.entries))
        hits = util.semantic_search(torch.from_numpy(np.ascontiguousarray(everything)), self.index.vectors, top_k=top_k)
        out, cursor = [], len(questions)
        for q, h, (ps, focus) in zip(questions, hits, parts):
            part_hits = hits[cursor : cursor + len(ps)]
            cursor += len(ps)
            out.append(self._describe(q, role, h, part_hits, focus))
        return out

    def _parts(self, question: str) -> tuple[list[str], int | None]:
        """A long message's sentences (for reading it piece by piece) and which one asks the question."""
        words = question.split()
        sentences = [s for s in message_sentences(question) if len(s.split()) >= 3]
        if len(words) < LONG_WORDS or len(sentences) < 2:
            return [], None
        sentences = sentences[-MAX_PARTS:]
        focus = None
        for i in range(len(sentences) - 1, -1, -1):
            s = sentences[i]
            if ("?" in s or self.lexicon.form(s) != "open") and not self.lexicon.vague(s):
                focus = i
                break
        return sentences, focus

    def _fits(self, hits: list[dict], rulings: dict | None = None) -> tuple[dict[int, list[float]], dict[int, float], dict[int, tuple[float, str]], dict[int, float]]:
        """Per clause: its questions' fits (best first), its best wording fit, closest sentence and learned fit;
        `rulings` collects, per clause and ruling, the closest example message and its fit."""
        entries = self.index.entries
        asked: dict[int, list[float]] = {}
        worded: dict[int, float] = {}
        sentence: dict[int, tuple[float, str]] = {}
        learned: dict[int, float] = {}
        for hit in hits:
            entry = entries[hit["corpus_id"]]
            score = float(hit["score"])
            if entry.kind in QUESTION_KINDS:
                asked.setdefault(entry.clause, []).append(score)  # hits arrive best first
                if entry.kind == "learned":
                    learned[entry.clause] = max(learned.get(entry.clause, -1.0), score)
                if entry.kind == "ruling" and rulings is not None:
                    mine = rulings.setdefault(entry.clause, {})
                    if score > mine.get(entry.ruling, (-1.0, ""))[0]:
                        mine[entry.ruling] = (score, entry.text)
            elif score > worded.get(entry.clause, -1.0):
                worded[entry.clause] = score
            if entry.kind in ("sentence", "text") and score > sentence.get(entry.clause, (-1.0, ""))[0]:
                sentence[entry.clause] = (score, entry.text)
        return asked, worded, sentence, learned

    @staticmethod
    def _best(asked: dict[int, list[float]], worded: dict[int, float], position: int) -> tuple[float, float, float, float]:
        fits = asked.get(position, [0.0])
        support = sum(fits[:SUPPORT_K]) / SUPPORT_K
        question_score = (1 - SUPPORT_WEIGHT) * fits[0] + SUPPORT_WEIGHT * support
        wording = worded.get(position, 0.0)
        return max(question_score, wording + TEXT_BONUS), fits[0], support, wording

    def _describe(self, question: str, role: str, hits: list[dict], part_hits: list[list[dict]], focus: int | None) -> Described:
        ruling_fits: dict[int, dict[int, tuple[float, str]]] = {}
        asked, worded, sentence, learned = self._fits(hits, ruling_fits)
        keyword = self.keywords.scores(self.expand(question))
        parts = [self._fits(h, ruling_fits if i == focus else None)[:2] for i, h in enumerate(part_hits)]
        first = {p: self._best(asked, worded, p)[0] for p in set(asked) | set(worded)}
        pool = set(sorted(first, key=first.get, reverse=True)[:CANDIDATES])
        pool |= set(sorted(keyword, key=keyword.get, reverse=True)[:3])
        for a, w in parts:
            part_first = {p: self._best(a, w, p)[0] for p in set(a) | set(w)}
            pool |= set(sorted(part_first, key=part_first.get, reverse=True)[:3])
        positions = sorted(pool)
        fuzzy = self._fuzzy(question, positions)
        subject = of_question(question, role, self.lexicon)
        own_conduct = subject.actor == ("parent" if role == "parent" else "staff") and bool(self.lexicon.first_person.search(question))
        rows = []
        by_part = np.array([[self._best(a, w, p)[0] for p in positions] for a, w in parts]).reshape(len(parts), len(positions))
        part_winners = tuple(positions[int(i)] for i in by_part.argmax(axis=1)) if len(positions) else ()
        for p in positions:
            best, top_asked, support, wording = self._best(asked, worded, p)
            part_best = max((self._best(a, w, p)[0] for a, w in parts), default=best)
            focus_best = self._best(*parts[focus], p)[0] if focus is not None else best
            audience = self._audience(self.index.clauses[p], role)
            agree = agreement(subject, self.subjects[p])
            values = {
                "best": best,
                "asked": top_asked,
                "support": support,
                "worded": wording,
                "fuzzy": max(0.0, fuzzy.get(p, 0.0) - FUZZY_FLOOR),
                "keyword": keyword.get(p, 0.0),
                "part_best": part_best,
                "focus_best": focus_best,
                "audience_mine": float(audience > 0),
                "audience_other": float(audience < 0),
                "own_other": float(audience < 0 and own_conduct),
                "curated": float(p in self.index.asked_clauses),
                **agree,
            }
            rows.append([values[f] for f in FEATURES])
        similarity = max([fits[0] for fits in asked.values()] + list(worded.values()) + [0.0])
        last = message_sentences(question)[-1] if question.strip() else ""
        return Described(
            positions=positions,
            features=np.array(rows, dtype=np.float64).reshape(len(positions), len(FEATURES)),
            best_sentence={p: s for p, (_score, s) in sentence.items()},
            question_similarity=similarity,
            long=bool(part_hits),
            vague=bool(part_hits) and focus is None and self.lexicon.vague(last),
            subject=subject,
            words=len(question.split()),
            learned=learned,
            part_winners=part_winners,
            ruling_fits=ruling_fits,
        )

    def _said_channel_first(self, d: Described, scores: np.ndarray, order: np.ndarray) -> np.ndarray:
        """When the message names the kind of account ("on the school's page", "my own Facebook"), a clause about
        the other kind does not answer it while one about the same kind fits nearly as well."""
        clash = d.features[:, FEATURES.index("channel_clash")]
        if not clash[order[0]] or CHANNEL_MARGIN <= 0:
            return order
        for i in order[1:]:
            if not clash[i] and scores[i] >= scores[order[0]] - CHANNEL_MARGIN:
                return np.concatenate([[i], [j for j in order if j != i]])
        return order

    def _lead_in_gives_way(self, d: Described, order: np.ndarray) -> np.ndarray:
        """A lead-in ("Parents may be asked to agree to and sign the following:", "Staff must not:") says nothing
        on its own: when it comes first, what it introduces — the agreement, the list's best item among the
        candidates — answers instead, and the lead-in follows it."""
        first = self.index.clauses[d.positions[order[0]]]
        if not first.text.rstrip().endswith(":"):
            return order
        for rank, i in enumerate(order[1:], 1):
            clause = self.index.clauses[d.positions[i]]
            if clause.part == first.part and first.order < clause.order <= first.order + LEAD_IN_REACH:
                return np.concatenate([[i], [order[0]], [j for j in order[1:] if j != i]])
        return order

    def _audience(self, clause: Clause, role: str) -> int:
        """+1 for a clause written for the asker's role, -1 for the other role's, 0 for everyone."""
        if clause.audience == "everyone":
            return 0
        mine = "parents" if role == "parent" else "staff"
        if clause.audience == mine or (role == "staff" and clause.audience == "site_creators"):
            return 1
        return -1

    def _rank(self, question: str, role: str, described: Described) -> Search:
        d = described
        if not d.positions:
            return Search(question, role, False, 0.0, (), question_similarity=d.question_similarity, subject=d.subject)
        scores = d.features @ self.ranker.vector(curated=bool(self.index.asked_clauses))
        order = np.argsort(-scores, kind="stable")
        order = self._said_channel_first(d, scores, order)
        order = self._lead_in_gives_way(d, order)
        ranked = [d.positions[i] for i in order]
        top_row = d.features[order[0]]
        values = dict(zip(FEATURES, top_row))
        second = float(scores[order[1]]) if len(order) > 1 else 0.0
        decision = {
            "score": float(scores[order[0]]),
            "margin": float(scores[order[0]]) - second,
            "best": values["best"],
            "asked": values["asked"],
            "worded": values["worded"],
            "part_best": values["part_best"],
            "focus_best": values["focus_best"],
            "long": float(d.long),
            "words": math.log1p(d.words),
            "curated": values["curated"],
            "clash": values["actor_clash"] + values["target_clash"] + values["channel_clash"],
            "vague": float(d.vague),
            **agreement_of(d.features, int(order[0])),
            "outsider": float(d.subject.outsider),
            **kin_signals(self.kin, d.positions, d.part_winners, scores, order),
        }
        confidence = self.ranker.probability(decision)
        if d.learned.get(ranked[0], 0.0) >= OFFICE_SAME_QUESTION:
            confidence = max(confidence, OFFICE_SAME_QUESTION)  # the office answered this very question with it
        learned_elsewhere = max((s for p, s in d.learned.items() if p != ranked[0]), default=0.0)
        # Later candidates get the same scale, shifted by how far behind the first they are.
        matches = tuple(
            Match(
                self.index.clauses[p],
                confidence if i == 0 else self.ranker.probability({**decision, "score": float(scores[order[i]]), "margin": 0.0}),
                float(scores[order[i]]),
                d.best_sentence.get(p, ""),
            )
            for i, p in enumerate(ranked[:10])
        )
        staff_rule = None
        if role == "parent":
            plain = int(np.argmax(d.features[:, FEATURES.index("best")]))
            clause = self.index.clauses[d.positions[plain]]
            if clause.audience in ("staff", "site_creators") and clause.id != matches[0].clause.id:
                staff_rule = clause
        return Search(
            question=question,
            role=role,
            answered=confidence >= self.threshold,
            confidence=confidence,
            matches=matches[:3],
            staff_rule=staff_rule,
            candidates=matches,
            question_similarity=d.question_similarity,
            long=d.long,
            vague=d.vague,
            subject=d.subject,
            decision=decision,
            learned_elsewhere=learned_elsewhere,
            ruling_fits=self._ruling_fits(question, ranked[0], d.ruling_fits.get(ranked[0], {})),
            learned_fit=d.learned.get(ranked[0], 0.0),
        )

    def _ruling_fits(self, question: str, position: int, fits: dict[int, tuple[float, str]]) -> dict[int, tuple[float, str, float]]:
        """Per ruling of the clause: (closest example's cosine, that example, TF-IDF fit of the distinctive words)."""
        words = self.ruling_words.get(position)
        lexical = words.scores(self.expand(question)) if words is not None else {}
        rulings = self.index.clauses[position].rulings
        return {i: (*fits.get(i, (0.0, "")), lexical.get(i, 0.0)) for i in range(len(rulings))}

    def subject_of(self, clause_id: str) -> Subject:
        """Who the clause governs and whom it concerns (the school's note, else read from its wording)."""
        try:
            return self.subjects[self.index.position(clause_id)]
        except KeyError:
            return Subject()

    def has_questions_for(self, clause_id: str) -> bool:
        """Whether the pack knows questions people ask for this clause (curated or learned), not only its wording."""
        try:
            return self.index.position(clause_id) in self.index.asked_clauses
        except (KeyError, ValueError):
            return False

    def _fuzzy(self, question: str, positions: list[int]) -> dict[int, float]:
        """Best lexical match (0..1) per candidate clause among the questions people ask about it."""
        query = utils.default_process(self.expand(question))
        if len(query) < 3:
            return {}
        out: dict[int, float] = {}
        for position in positions:
            choices = self._fuzzy_choices.get(position)
            if not choices:
                continue
            found = process.extractOne(query, choices, scorer=fuzz.token_set_ratio, processor=None, score_cutoff=FUZZY_FLOOR * 100)
            if found is not None:
                out[position] = found[1] / 100.0
        return out
