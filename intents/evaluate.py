"""Measure the advisor on a labelled question file: ranking, abstention and intent accuracy.

The file (YAML) has `questions` (q, role, expect: acceptable clause ids), `out_of_scope` (q, role) and
`intents` (text, intent, role). Ranking is judged on the engine's candidates; abstention on `answered`;
intents on the reply, with the recall of safeguarding messages reported on its own.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from intents.advisor import Advisor
from knowledge.pack import read_yaml


@dataclass
class EvalReport:
    top1: float = 0.0
    top3: float = 0.0
    mrr: float = 0.0
    answered_in_scope: float = 0.0  # share of in-scope questions answered
    abstention_recall: float = 0.0  # share of out-of-scope questions not answered
    abstention_precision: float = 0.0  # of all not-answered questions, the share that were out of scope
    intent_accuracy: float = 0.0
    safeguarding_recall: float = 1.0  # share of messages labelled safeguarding that got the safeguarding reply
    counts: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)  # (question, role, expected, got)
    failures_by_section: dict = field(default_factory=dict)
    intent_confusions: list = field(default_factory=list)

    def as_dict(self) -> dict:
        keys = ("top1", "top3", "mrr", "answered_in_scope", "abstention_recall", "abstention_precision", "intent_accuracy", "safeguarding_recall")
        return {k: round(getattr(self, k), 4) for k in keys} | {"counts": self.counts}


def _by_role(items: list[dict]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        groups[item.get("role", "staff")].append(i)
    return groups


def _answer_all(advisor: Advisor, items: list[dict], key: str) -> list:
    replies: list = [None] * len(items)
    for role, idx in _by_role(items).items():
        for i, reply in zip(idx, advisor.respond_many([str(items[i][key]) for i in idx], role)):
            replies[i] = reply
    return replies


def evaluate(advisor: Advisor, path: Path) -> EvalReport:
    data = read_yaml(path)
    questions = data.get("questions") or []
    outside = data.get("out_of_scope") or []
    labelled = data.get("intents") or []
    report = EvalReport()
    known = {c.id for c in advisor.pack.clauses}
    bad = sorted({e for q in questions for e in q["expect"] if e not in known})
    if bad:
        raise ValueError(f"{path.name} expects clauses the pack does not have: {', '.join(bad)}")

    replies = _answer_all(advisor, questions, "q")
    searches: list = [None] * len(questions)
    for role, idx in _by_role(questions).items():
        for i, search in zip(idx, advisor.engine.search_many([str(questions[i]["q"]) for i in idx], role)):
            searches[i] = search
    hits1 = hits3 = answered = 0
    rr = 0.0
    by_section: Counter = Counter()
    for item, reply, search in zip(questions, replies, searches):
        expect = set(item["expect"])
        candidates = [m.clause.id for m in search.candidates]
        rank = next((i for i, cid in enumerate(candidates) if cid in expect), None)
        hits1 += rank == 0
        hits3 += rank is not None and rank < 3
        rr += 1.0 / (rank + 1) if rank is not None else 0.0
        answered += reply.answered
        if rank != 0:
            section = item["expect"][0].split(".")[0]
            by_section[section] += 1
            report.failures.append((item["q"], item.get("role", "staff"), item["expect"], candidates[:3]))
    n = max(len(questions), 1)
    report.top1, report.top3, report.mrr = hits1 / n, hits3 / n, rr / n
    report.answered_in_scope = answered / n
    report.failures_by_section = dict(by_section.most_common())

    out_replies = _answer_all(advisor, outside, "q")
    abstained = sum(not r.answered for r in out_replies)
    report.abstention_recall = abstained / max(len(outside), 1)
    not_answered_in = len(questions) - answered
    report.abstention_precision = abstained / max(abstained + not_answered_in, 1)
    for item, reply in zip(outside, out_replies):
        if reply.answered:
            report.failures.append((item["q"], item.get("role", "staff"), ["(out of scope)"], [m.clause.id for m in reply.matches]))

    intent_replies = _answer_all(advisor, labelled, "text")
    right = 0
    for item, reply in zip(labelled, intent_replies):
        if reply.intent == item["intent"]:
            right += 1
        else:
            report.intent_confusions.append((item["text"], item["intent"], reply.intent))
    report.intent_accuracy = right / max(len(labelled), 1)
    # A missed disclosure is far worse than a false alarm, so its recall is reported on its own.
    at_risk = [reply for item, reply in zip(labelled, intent_replies) if item["intent"] == "safeguarding"]
    report.safeguarding_recall = sum(r.intent == "safeguarding" for r in at_risk) / len(at_risk) if at_risk else 1.0
    report.counts = {"questions": len(questions), "out_of_scope": len(outside), "intents": len(labelled), "safeguarding": len(at_risk)}
    return report


def format_report(report: EvalReport, show_failures: int = 40) -> str:
    c = report.counts
    lines = [
        f"in-scope questions: {c.get('questions', 0)}   out-of-scope: {c.get('out_of_scope', 0)}   labelled intents: {c.get('intents', 0)}",
        f"top-1 {report.top1:.3f}   top-3 {report.top3:.3f}   MRR {report.mrr:.3f}",
        f"answered (in scope) {report.answered_in_scope:.3f}   abstention recall (out of scope not answered) {report.abstention_recall:.3f}   abstention precision {report.abstention_precision:.3f}",
        f"intent accuracy {report.intent_accuracy:.3f}   safeguarding recall {report.safeguarding_recall:.3f} ({c.get('safeguarding', 0)} labelled)",
    ]
    if report.failures_by_section:
        lines.append("top-1 misses by section: " + ", ".join(f"{s}: {n}" for s, n in report.failures_by_section.items()))
    for q, role, expected, got in report.failures[:show_failures]:
        lines.append(f"  ✗ [{role}] {q!r} expected {expected} got {got}")
    for text, want, got in report.intent_confusions[:show_failures]:
        lines.append(f"  ✗ intent {text!r}: expected {want}, got {got}")
    return "\n".join(lines)
