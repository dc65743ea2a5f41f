"""The health report `policybot pack show` prints: what the parser understood and what to check.

Counts the clauses, and lists numbers printed twice or skipped, clauses so long or so short that
the parser may have split the document wrongly, text it could not place in any clause, what changed
since the last version, and how many clauses still carry only guessed notes. Reads the pack folder
only; never loads the embedding model.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from knowledge.ingest import Changes
from knowledge.pack import Pack, read_yaml
from knowledge.parse import parse_document

LONG_WORDS = 220  # a clause longer than this probably swallowed the next one
SHORT_WORDS = 5  # a clause shorter than this is probably a stray fragment


@dataclass(frozen=True)
class HealthReport:
    clause_count: int
    duplicates: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    long: tuple[tuple[str, int], ...] = ()  # (clause id, words)
    short: tuple[tuple[str, int], ...] = ()
    unplaced: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    other_problems: tuple[str, ...] = ()
    curated: int = 0
    changes: Changes | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def healthy(self) -> bool:
        return self.clause_count > 0 and not (self.long or self.short or self.unplaced)

    def to_dict(self) -> dict:
        return {
            "clause_count": self.clause_count,
            "duplicates": list(self.duplicates),
            "missing": list(self.missing),
            "long": [list(x) for x in self.long],
            "short": [list(x) for x in self.short],
            "unplaced": list(self.unplaced),
            "dropped": list(self.dropped),
            "other_problems": list(self.other_problems),
            "curated": self.curated,
            "changes": self.changes.to_dict() if self.changes else None,
        }


def health_report(pack: Pack) -> HealthReport:
    stored = _stored(pack)
    problems = tuple(pack.problems)
    duplicates = tuple(p for p in problems if re.search(r"printed \d+ times$", p))
    missing = tuple(p for p in problems if p.endswith(" is missing"))
    other = tuple(p for p in problems if p not in duplicates and p not in missing)
    words = [(c.id, len(c.text.split())) for c in pack.clauses]
    changes_file = pack.folder / "changes.json"
    changes = None
    if changes_file.exists():
        try:
            changes = Changes.from_dict(json.loads(changes_file.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            other += ("changes.json is damaged",)
    return HealthReport(
        clause_count=len(pack.clauses),
        duplicates=duplicates,
        missing=missing,
        long=tuple((cid, n) for cid, n in words if n > LONG_WORDS),
        # A list item under its lead-in ("Staff must not:" / "• use TikTok") is short by nature.
        short=tuple((cid, n) for cid, n in words if n < SHORT_WORDS and cid not in (stored.get("leads") or {})),
        unplaced=tuple(stored.get("unplaced") or ()),
        dropped=tuple(stored.get("dropped") or ()),
        other_problems=other,
        curated=sum(1 for c in pack.clauses if c.curated),
        changes=changes,
    )


def _stored(pack: Pack) -> dict:
    """What the parser recorded at ingest; for a pack with no clauses.json, read its text again."""
    path = pack.folder / "clauses.json"
    if path.exists():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            return {}
    meta = read_yaml(pack.folder / "pack.yaml")
    text = pack.folder / str(meta.get("text", meta.get("source", "policy.txt")))
    if not text.is_file():
        return {}
    return {"unplaced": list(parse_document(text.read_text(encoding="utf-8"))[1].unplaced)}


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def format_report(report: HealthReport) -> list[str]:
    """The report as lines of plain text, most important first."""
    lines = [f"Clauses found: {report.clause_count} ({report.curated} with the school's own notes, "
             f"{report.clause_count - report.curated} with guessed notes)"]
    if report.duplicates:
        lines.append("Numbers printed more than once (both kept): " + "; ".join(report.duplicates))
    if report.missing:
        lines.append("Numbers skipped in the document: " + "; ".join(report.missing))
    if report.long:
        lines.append(
            f"Very long clauses (over {LONG_WORDS} words; did two run together?): "
            + ", ".join(f"{cid} ({n} words)" for cid, n in report.long)
        )
    if report.short:
        lines.append(
            f"Very short clauses (under {SHORT_WORDS} words; a stray fragment?): "
            + ", ".join(f"{cid} ({n} words)" for cid, n in report.short)
        )
    if report.unplaced:
        lines.append(f"Text not placed in any clause ({len(report.unplaced)} pieces; never quoted in answers):")
        lines.extend(f"  - {_short(t)}" for t in report.unplaced)
    if report.dropped:
        kinds = sorted(set(report.dropped))
        lines.append(f"Page headers, footers and numbers dropped: {len(kinds)} distinct lines, e.g. "
                     + "; ".join(_short(t, 50) for t in kinds[:3]))
    for problem in report.other_problems:
        lines.append(f"Problem: {problem}")
    if report.changes is not None:
        c = report.changes
        lines.append(
            f"Changes since {c.previous_version or 'the previous version'}: {len(c.added)} added, "
            f"{len(c.removed)} removed, {len(c.reworded)} reworded, {c.unchanged} unchanged"
        )
        for label, ids in (("added", c.added), ("removed", c.removed), ("reworded", c.reworded)):
            if ids:
                lines.append(f"  {label}: {', '.join(ids)}")
        if c.moved:
            lines.append("  same text, new number: " + ", ".join(f"{cid} (now {sec})" for cid, sec in c.moved))
    if report.healthy and not (report.duplicates or report.missing):
        lines.append("Nothing looks wrong.")
    return lines
