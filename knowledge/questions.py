"""Questions derived from a clause's own wording ("X must not Y" → "can X Y"), for packs nobody curated yet.

A short question matches a short question better than a long passage with a small model; turning each
rule sentence into the question it answers gives every clause question-shaped entries on day one.
"""

from __future__ import annotations

import re

from knowledge.clause import Clause
from knowledge.lexicon import lexicon

MODAL = re.compile(
    r"^(?P<subject>.{3,160}?)\s+(?P<modal>must not|must never|should not|should never|may not|cannot|can not|"
    r"must|should|can only|may only|may|can|are expected to|is expected to|are advised to|are strongly advised to|"
    r"is advised|will be|will)\s+(?P<rest>.+)$",
    re.IGNORECASE,
)
PRONOUNS = [
    (r"\bthemselves\b", "myself"),
    (r"\btheir\b", "my"),
    (r"\bthey\b", "I"),
    (r"\byour\b", "my"),
    (r"\byourself\b", "myself"),
    (r"\byou\b", "I"),
]
# Who a rule is addressed to (the one lexicon's words for staff, parents and anyone).
PEOPLE = re.compile(
    rf"\b({lexicon().alternation('staff', 'parent', 'anyone')}|users?|school representatives?|paid staff members?)\b",
    re.IGNORECASE,
)


def _first_sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.;!?])\s+", text) if len(s.split()) >= 4]


def _clip(words: str, limit: int) -> str:
    parts = words.split()
    return " ".join(parts[:limit])


def question_for(sentence: str) -> str | None:
    """The question a rule sentence answers, or None when the sentence states no rule."""
    m = MODAL.match(sentence.strip().rstrip(".;:"))
    if not m:
        return None
    subject, rest = m.group("subject"), m.group("rest")
    rest = re.split(r"\.\s|;\s", rest)[0]
    for pattern, repl in PRONOUNS:
        rest = re.sub(pattern, repl, rest, flags=re.IGNORECASE)
    if PEOPLE.search(subject) and len(subject.split()) <= 12:
        rest = re.sub(r"^(also|at all times|always|never|only)\s+", "", rest, flags=re.IGNORECASE)
        return f"can I {_clip(rest, 28)}"
    return f"can {_clip(subject, 14)} {_clip(rest, 20)}".strip()


def questions_from_clause(clause: Clause) -> list[str]:
    """Up to three derived questions per clause."""
    out = []
    for sentence in _first_sentences(clause.text):
        q = question_for(sentence)
        if q and q not in out:
            out.append(q)
        if len(out) == 3:
            break
    return out
