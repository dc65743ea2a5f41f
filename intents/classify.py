"""What the person wants: one of eight intents, from example messages (data) and safeguarding rules.

Nearest examples in embedding space decide between intents; the pack's own alternate questions count as
examples of `question`. Safeguarding is checked first with high-recall rules: a message suggesting a
child may be at risk is `safeguarding` even when it also reads like a question, unless it plainly asks
what the policy says (then it is a question, answered with the safeguarding contacts added).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.index import load_or_encode
from knowledge.pack import read_yaml

INTENTS = ("question", "report_breach", "complaint", "safeguarding", "greeting", "thanks", "help", "out_of_scope")
DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class IntentResult:
    intent: str
    scores: dict[str, float]
    safeguarding_risk: bool  # a risk pattern matched (even if the intent is a question about the rules)


@dataclass(frozen=True)
class SafeguardingRules:
    risk: tuple[re.Pattern, ...]
    policy_question: tuple[re.Pattern, ...]

    @classmethod
    def load(cls, path: Path = DATA / "safeguarding.yaml") -> "SafeguardingRules":
        data = read_yaml(path)
        compile_all = lambda items: tuple(re.compile(p, re.IGNORECASE) for p in items or ())
        return cls(compile_all(data.get("risk_patterns")), compile_all(data.get("policy_question_patterns")))

    def risk_in(self, text: str) -> bool:
        return any(p.search(text) for p in self.risk)

    def asks_about_policy(self, text: str) -> bool:
        return any(p.search(text) for p in self.policy_question)


def load_examples(path: Path = DATA / "intents.yaml") -> dict[str, list[str]]:
    data = read_yaml(path).get("intents") or {}
    unknown = set(data) - set(INTENTS)
    if unknown:
        raise ValueError(f"{path.name}: unknown intents {sorted(unknown)}")
    return {name: [str(e) for e in (spec or {}).get("examples") or ()] for name, spec in data.items()}


class IntentClassifier:
    """k-nearest examples per intent, over the same embeddings the engine uses (one encode per message)."""

    def __init__(self, encoder, cache_dir: Path | None = None, examples: dict[str, list[str]] | None = None, rules: SafeguardingRules | None = None, k: int = 3) -> None:
        self.examples = examples if examples is not None else load_examples()
        self.rules = rules or SafeguardingRules.load()
        self.k = k
        texts, labels = [], []
        for intent, items in self.examples.items():
            texts += items
            labels += [intent] * len(items)
        self.labels = np.array(labels)
        self.vectors = load_or_encode(encoder, texts, cache_dir) if texts else np.zeros((0, encoder.dimensions), np.float32)

    def scores(self, vector: np.ndarray) -> dict[str, float]:
        """Mean of the k best similarities to each intent's examples."""
        sims = self.vectors @ vector
        out = {}
        for intent in INTENTS:
            mine = sims[self.labels == intent]
            if mine.size:
                top = np.sort(mine)[-self.k :]
                out[intent] = float(top.mean())
        return out

    def classify(self, text: str, vector: np.ndarray, question_fit: float = 0.0) -> IntentResult:
        """`question_fit` is how well the message matches the policy's own questions (the engine's raw score)."""
        risk = self.rules.risk_in(text)
        scores = self.scores(vector)
        scores["question"] = max(scores.get("question", 0.0), question_fit)
        if risk and not self.rules.asks_about_policy(text):
            return IntentResult("safeguarding", scores, True)
        ranked = sorted(scores, key=scores.get, reverse=True)
        best = ranked[0] if ranked else "question"
        if risk:
            return IntentResult("question", scores, True)
        # Recall over precision for a child at risk: close to the top is enough.
        if scores.get("safeguarding", 0.0) >= 0.55 and scores["safeguarding"] >= scores[best] - 0.03:
            return IntentResult("safeguarding", scores, True)
        return IntentResult(best, scores, False)
