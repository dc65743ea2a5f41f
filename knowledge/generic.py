"""Questions people ask about almost any social media policy, for packs nobody has curated (data/generic_questions.yaml).

Each topic names the words a clause on it carries ("disciplinary", "dismissal"); the clause that carries them most
strongly (its heading counts double) is given the topic's questions, so a policy the bot has never seen answers
"what happens if I break the policy?" from its disciplinary clause. A pack with questions of its own gets none.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from knowledge.clause import Clause
from knowledge.pack import read_yaml

GENERIC = Path(__file__).resolve().parent / "data" / "generic_questions.yaml"


@lru_cache(maxsize=1)
def topics() -> tuple[tuple[str, re.Pattern, tuple[str, ...]], ...]:
    data = read_yaml(GENERIC).get("topics") or {}
    return tuple(
        (name, re.compile(spec["clause_words"], re.IGNORECASE), tuple(str(q) for q in spec.get("questions") or ()))
        for name, spec in data.items()
    )


def generic_questions(clauses: tuple[Clause, ...] | list[Clause]) -> dict[int, list[str]]:
    """Per clause position, the generic questions it answers best (empty for a curated pack)."""
    if any(c.alternates or c.rulings for c in clauses):
        return {}
    out: dict[int, list[str]] = {}
    for _name, pattern, questions in topics():
        best, best_score = None, 0
        for position, clause in enumerate(clauses):
            score = len(pattern.findall(clause.text)) + 2 * len(pattern.findall(f"{clause.heading} {clause.part_heading}"))
            if score > best_score:
                best, best_score = position, score
        if best is not None:
            out.setdefault(best, []).extend(questions)
    return out
