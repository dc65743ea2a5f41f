"""Triage for a busy bot: which messages might be about a child at risk, decided at once, without the model.

The answer lanes (bot/answer_pool.py, bot/telegram/concurrency.py) use it to put such messages before
ordinary questions, so a burst of questions never keeps a safeguarding reply waiting. It decides order,
never the reply: the classifier and its safeguarding rules decide that, with the model.

Two levels: `definite` — the safeguarding rules flag it (answered at once, outside any batch); `possible`
— also the concern rules, words of harm or distress (data/triage.yaml), or words nearest to the
safeguarding examples (TF-IDF over the intent examples). Being generous here costs only order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from intents.classify import DATA, SafeguardingRules, load_examples
from knowledge.pack import read_yaml
from knowledge.lexical import KeywordIndex

TRIAGE_YAML = DATA / "triage.yaml"
SAFEGUARDING = "safeguarding"


@dataclass
class UrgencyTriage:
    rules: SafeguardingRules
    words: tuple[re.Pattern, ...]
    examples: KeywordIndex | None
    labels: tuple[str, ...]
    votes: int = 2
    floor: float = 0.2

    @classmethod
    def load(
        cls, rules: SafeguardingRules | None = None, examples: dict[str, list[str]] | None = None, path: Path = TRIAGE_YAML
    ) -> "UrgencyTriage":
        data = read_yaml(path)
        nearest = data.get("nearest_examples") or {}
        examples = examples if examples is not None else load_examples()
        texts, labels = [], []
        for intent, items in examples.items():
            texts += items
            labels += [intent] * len(items)
        return cls(
            rules=rules or SafeguardingRules.load(),
            words=tuple(re.compile(p, re.IGNORECASE) for p in data.get("urgent_words") or ()),
            examples=KeywordIndex(texts) if texts else None,
            labels=tuple(labels),
            votes=int(nearest.get("votes", 2)),
            floor=float(nearest.get("floor", 0.2)),
        )

    @classmethod
    def for_classifier(cls, classifier) -> "UrgencyTriage":
        """The same rules and examples the classifier uses (a school's edits to them count here too)."""
        return cls.load(getattr(classifier, "rules", None), getattr(classifier, "examples", None))

    def definite(self, text: str) -> bool:
        try:
            return bool(text) and self.rules.risk_in(text)
        except Exception:  # triage only orders the work; a failure here must not lose the message
            return False

    def possible(self, text: str) -> bool:
        if not text:
            return False
        try:
            return (
                self.rules.risk_in(text)
                or self.rules.concern_in(text)
                or any(p.search(text) for p in self.words)
                or self.near_safeguarding_examples(text)
            )
        except Exception:
            return False

    def near_safeguarding_examples(self, text: str) -> bool:
        if self.examples is None:
            return False
        nearest = sorted(self.examples.scores(text[:2000]).items(), key=lambda item: -item[1])[:5]
        close = [score for position, score in nearest if self.labels[position] == SAFEGUARDING]
        return len(close) >= self.votes and max(close) >= self.floor
