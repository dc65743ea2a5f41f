"""Finding a clause by typing: a section number ("6.13") or words (every word must appear), best first."""

from __future__ import annotations

import re

from knowledge.pack import Pack

SHOWN_AT_MOST = 10


def find_clauses(pack: Pack, query: str) -> list:
    query = (query or "").strip()
    if not query:
        return []
    found = list(pack.find_section(query))
    clause = pack.clause(query)
    if clause is not None and clause not in found:
        found.insert(0, clause)
    words = [w for w in re.findall(r"\w+", query.lower()) if len(w) > 1]
    if words:
        scored = []
        for clause in pack.clauses:
            heading = f"{clause.title} {clause.heading}".lower()
            body = f"{clause.text} {' '.join(clause.alternates)}".lower()
            if all(w in heading or w in body for w in words):
                scored.append((-sum(2 if w in heading else 1 for w in words), clause.order, clause))
        found += [c for *_, c in sorted(scored, key=lambda s: s[:2]) if c not in found]
    return found[:SHOWN_AT_MOST]
