"""Measure the advisor on a labelled file: ranking, whether it answers or hedges, verdicts, intents, safeguarding.

The file (YAML) may hold:
- `questions`: q, role, expect (every acceptable clause id, best first), and optionally `answer` ("yes"/"no",
  the truthful short answer to a clear yes/no question as asked);
- `out_of_scope`: q (or a plain string), role;
- `intents`: text, intent, role;
- `messages`: text, lang, role, safeguarding (true/false) — a safeguarding set, in any language.

Everything is judged on the reply a person would get. `answered` means the reply commits to its first match
(a verdict, a quote given as the answer, or a "what bears on this" reply); a hedge or a refusal is not
answered. Answered precision is the share of answered in-scope questions whose first match is acceptable.
A contradiction is a reply whose Yes/No opens against the labelled answer of a clear yes/no question.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from intents.advisor import Advisor
from knowledge.pack import read_yaml

METRICS = (
    "top1",
    "top3",
    "mrr",
    "answered_in_scope",
    "answered_precision",
    "abstention_recall",
    "abstention_precision",
    "contradictions",
    "intent_accuracy",
    "safeguarding_recall",
    "safeguarding_false_alarms",
    "non_english_notice",
)


@dataclass
class EvalReport:
    top1: float = 0.0
    top3: float = 0.0
    mrr: float = 0.0
    answered_in_scope: float = 0.0  # share of in-scope questions answered (not hedged)
    answered_precision: float = 1.0  # of the in-scope questions answered, the share answered with an acceptable clause
    abstention_recall: float = 0.0  # share of out-of-scope questions not answered
    abstention_precision: float = 0.0  # of all not-answered questions, the share that were out of scope
    contradictions: float = 0.0  # of the clear yes/no questions, the share whose reply opens with the wrong Yes/No
    intent_accuracy: float = 0.0
    safeguarding_recall: float = 1.0  # share of messages labelled safeguarding that got the safeguarding reply
    safeguarding_false_alarms: float = 0.0  # share of other messages (any language) that got it
    non_english_notice: float = 1.0  # share of non-English messages told that the bot answers in English
    counts: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)  # (question, role, expected, got, note)
    # In-scope questions hedged although the first match was acceptable: (question, role, got, confidence)
    hedged_right: list = field(default_factory=list)
    failures_by_section: dict = field(default_factory=dict)
    intent_confusions: list = field(default_factory=list)
    by_language: dict = field(default_factory=dict)  # lang -> {"at_risk": n, "caught": n, "others": n, "alarms": n}

    def as_dict(self) -> dict:
        return {k: round(getattr(self, k), 4) for k in METRICS} | {"counts": self.counts}


def _by_role(items: list[dict]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        groups[item.get("role", "staff")].append(i)
    return groups


def _text(item, key: str) -> str:
    return str(item if isinstance(item, str) else item[key])


def _answer_all(advisor: Advisor, items: list, key: str) -> list:
    replies: list = [None] * len(items)
    normal = [{"role": "staff", key: i} if isinstance(i, str) else i for i in items]
    for role, idx in _by_role(normal).items():
        for i, reply in zip(idx, advisor.respond_many([_text(normal[i], key) for i in idx], role)):
            replies[i] = reply
    return replies


def _answer_word(reply) -> str | None:
    """The Yes/No the reply opens with, if any."""
    word = getattr(reply, "answer_word", None)
    if word is not None or not reply.verdict:
        return word
    first = reply.verdict.split()[0].strip("—-,.!:").lower() if reply.verdict.split() else ""
    return first if first in ("yes", "no") else None


def evaluate(advisor: Advisor, path: Path) -> EvalReport:
    data = read_yaml(path)
    questions = data.get("questions") or []
    outside = data.get("out_of_scope") or []
    labelled = data.get("intents") or []
    messages = data.get("messages") or []
    report = EvalReport()
    known = {c.id for c in advisor.pack.clauses}
    bad = sorted({e for q in questions for e in q["expect"] if e not in known})
    if bad:
        raise ValueError(f"{path.name} expects clauses the pack does not have: {', '.join(bad)}")

    replies = _answer_all(advisor, questions, "q")
    hits1 = hits3 = answered = answered_right = 0
    yes_no = contradicted = 0
    rr = 0.0
    by_section: Counter = Counter()
    for item, reply in zip(questions, replies):
        expect = set(item["expect"])
        shown = [m.clause.id for m in reply.matches]
        rank = next((i for i, cid in enumerate(shown) if cid in expect), None)
        hits1 += rank == 0
        hits3 += rank is not None and rank < 3
        rr += 1.0 / (rank + 1) if rank is not None else 0.0
        committed = bool(reply.answered) and reply.intent == "question" and getattr(reply, "office", None) is None
        answered += committed
        answered_right += committed and rank == 0
        note = "answered" if committed else "hedged"
        if rank == 0 and not committed and reply.intent == "question":
            report.hedged_right.append((item["q"], item.get("role", "staff"), shown[:3], reply.confidence))
        wanted = str(item.get("answer", "")).lower()
        if wanted in ("yes", "no"):
            yes_no += 1
            word = _answer_word(reply) if committed else None
            if word in ("yes", "no") and word != wanted:
                contradicted += 1
                note += f", opened {word!r} where the answer is {wanted!r}"
        if rank != 0 or "opened" in note:
            section = item["expect"][0].split(".")[0]
            by_section[section] += rank != 0
            report.failures.append((item["q"], item.get("role", "staff"), item["expect"], shown[:3], note))
    n = max(len(questions), 1)
    report.top1, report.top3, report.mrr = hits1 / n, hits3 / n, rr / n
    report.answered_in_scope = answered / n
    report.answered_precision = answered_right / answered if answered else 1.0
    report.contradictions = contradicted / yes_no if yes_no else 0.0
    report.failures_by_section = dict(by_section.most_common())

    out_replies = _answer_all(advisor, outside, "q")
    abstained = sum(not (r.answered and r.intent == "question") for r in out_replies)
    report.abstention_recall = abstained / max(len(outside), 1)
    not_answered_in = len(questions) - answered
    report.abstention_precision = abstained / max(abstained + not_answered_in, 1)
    for item, reply in zip(outside, out_replies):
        if reply.answered and reply.intent == "question":
            report.failures.append((_text(item, "q"), "staff" if isinstance(item, str) else item.get("role", "staff"), ["(out of scope)"], [m.clause.id for m in reply.matches], "answered"))

    intent_replies = _answer_all(advisor, labelled, "text")
    right = 0
    for item, reply in zip(labelled, intent_replies):
        if reply.intent == item["intent"]:
            right += 1
        else:
            report.intent_confusions.append((item["text"], item["intent"], reply.intent))
    report.intent_accuracy = right / max(len(labelled), 1)
    at_risk = [reply for item, reply in zip(labelled, intent_replies) if item["intent"] == "safeguarding"]
    others = [reply for item, reply in zip(labelled, intent_replies) if item["intent"] != "safeguarding"]

    # A safeguarding set: recall above all, false alarms per language, and the notice for other languages.
    message_replies = _answer_all(advisor, messages, "text")
    languages: dict[str, Counter] = defaultdict(Counter)
    notices = foreign = 0
    for item, reply in zip(messages, message_replies):
        lang = str(item.get("lang", "en"))
        caught = reply.intent == "safeguarding"
        if item.get("safeguarding"):
            at_risk.append(reply)
            languages[lang]["at_risk"] += 1
            languages[lang]["caught"] += caught
            if not caught:
                report.intent_confusions.append((item["text"], "safeguarding", reply.intent))
        else:
            others.append(reply)
            languages[lang]["others"] += 1
            languages[lang]["alarms"] += caught
            if caught:
                report.intent_confusions.append((item["text"], item.get("kind", "not safeguarding"), "safeguarding"))
        if lang != "en" and not lang.startswith("en-"):
            foreign += 1
            told = bool(getattr(reply, "language", None)) and getattr(reply, "language", "en") != "en"
            notices += told
            languages[lang]["notice"] += told
    report.safeguarding_recall = sum(r.intent == "safeguarding" for r in at_risk) / len(at_risk) if at_risk else 1.0
    report.safeguarding_false_alarms = sum(r.intent == "safeguarding" for r in others) / len(others) if others else 0.0
    report.non_english_notice = notices / foreign if foreign else 1.0
    report.by_language = {lang: dict(c) for lang, c in sorted(languages.items())}
    report.counts = {
        "questions": len(questions),
        "out_of_scope": len(outside),
        "intents": len(labelled),
        "messages": len(messages),
        "safeguarding": len(at_risk),
        "yes_no": yes_no,
        "answered": answered,
    }
    return report


def format_hedged_right(report: EvalReport, show: int = 40) -> str:
    """The questions hedged although the first match was acceptable (what a bolder answer/hedge rule would win)."""
    lines = [f"hedged though the first match was right: {len(report.hedged_right)}"]
    for q, role, got, confidence in report.hedged_right[:show]:
        lines.append(f"  ~ [{role}] {q!r} got {got} (confidence {confidence:.2f})")
    return "\n".join(lines)


def format_report(report: EvalReport, show_failures: int = 40) -> str:
    c = report.counts
    lines = []
    if c.get("questions") or c.get("out_of_scope"):
        lines += [
            f"in-scope questions: {c.get('questions', 0)}   out-of-scope: {c.get('out_of_scope', 0)}   labelled intents: {c.get('intents', 0)}",
            f"top-1 {report.top1:.3f}   top-3 {report.top3:.3f}   MRR {report.mrr:.3f}",
            f"answered (in scope) {report.answered_in_scope:.3f}   answered precision {report.answered_precision:.3f}"
            f" ({c.get('answered', 0)} answered)   contradicted yes/no {report.contradictions:.3f} (of {c.get('yes_no', 0)})",
            f"out of scope not answered {report.abstention_recall:.3f}   abstention precision {report.abstention_precision:.3f}",
        ]
    if c.get("intents") or c.get("messages"):
        lines.append(
            f"intent accuracy {report.intent_accuracy:.3f}   safeguarding recall {report.safeguarding_recall:.3f} ({c.get('safeguarding', 0)} labelled)"
            f"   false alarms {report.safeguarding_false_alarms:.3f}"
        )
    if c.get("messages"):
        lines.append(f"non-English messages told the bot answers in English: {report.non_english_notice:.3f}")
        for lang, n in report.by_language.items():
            lines.append(
                f"  {lang:8} at risk caught {n.get('caught', 0)}/{n.get('at_risk', 0)}   false alarms {n.get('alarms', 0)}/{n.get('others', 0)}"
                + (f"   notice {n.get('notice', 0)}/{n.get('at_risk', 0) + n.get('others', 0)}" if lang != "en" else "")
            )
    if report.failures_by_section:
        lines.append("top-1 misses by section: " + ", ".join(f"{s}: {n}" for s, n in report.failures_by_section.items()))
    for q, role, expected, got, note in report.failures[:show_failures]:
        lines.append(f"  ✗ [{role}] {q!r} expected {expected} got {got} ({note})")
    for text, want, got in report.intent_confusions[:show_failures]:
        lines.append(f"  ✗ intent {text!r}: expected {want}, got {got}")
    return "\n".join(lines)
