"""The clause model: one numbered (or named) piece of a policy, verbatim, plus the school's notes on it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

AUDIENCES = ("staff", "parents", "everyone", "site_creators")
VERDICT_KINDS = (
    "not_allowed",
    "allowed",
    "needs_approval",
    "required",
    "advised_against",
    "information",
)


@dataclass(frozen=True)
class Ruling:
    """One situation a clause decides: when it applies, the verdict on that action, and one line saying so.

    `asks` are example messages that belong to this ruling (they also help find the clause). `says` never
    opens with Yes or No: the answer adds whichever fits the form of the question (knowledge/rulings.py)."""

    when: str
    kind: str
    says: str
    asks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Clause:
    """A clause as the document prints it, enriched with what the school says about it.

    `text` is the clause verbatim with whitespace normalised; `items` is the same text split into
    its lead paragraph and list items, for display only. `section` is the number as printed
    ("6.2", "A.4 c", "5"), while `id` is unique and stable ("6.2-2" for a second 6.2).
    """

    id: str
    section: str
    text: str
    part: str = ""  # the top-level section the clause sits in ("6", "A.4")
    part_heading: str = ""  # that section's heading as printed
    items: tuple[str, ...] = ()
    order: int = 0
    note: str = ""  # parser's remark, e.g. "second 6.2"
    # Enrichment (curated or guessed):
    heading: str = ""
    audience: str = "everyone"
    verdict_kind: str = "information"
    verdict: str = ""
    summary: str = ""
    alternates: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    curated: bool = False
    rulings: tuple[Ruling, ...] = ()
    # Who the clause governs and whom it concerns (knowledge/subject.py); empty: read from the wording.
    actor: str = ""
    target: str = ""
    channel: str = ""

    def ruling_questions(self) -> tuple[str, ...]:
        """Every example message of every ruling."""
        return tuple(q for r in self.rulings for q in r.asks)

    @property
    def label(self) -> str:
        """The section as a person reads it, with the parser's remark ("6.2 (second 6.2)")."""
        return f"{self.section} ({self.note})" if self.note else self.section

    @property
    def title(self) -> str:
        """The best heading to show: the curated one, else the document's section heading."""
        return self.heading or self.part_heading

    def with_notes(self, **notes) -> "Clause":
        return replace(self, **notes)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "section": self.section,
            "text": self.text,
            "part": self.part,
            "part_heading": self.part_heading,
            "items": list(self.items),
            "order": self.order,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Clause":
        return cls(
            id=data["id"],
            section=data["section"],
            text=data["text"],
            part=data.get("part", ""),
            part_heading=data.get("part_heading", ""),
            items=tuple(data.get("items") or (data["text"],)),
            order=int(data.get("order", 0)),
            note=data.get("note", ""),
        )


@dataclass(frozen=True)
class ParsedDocument:
    """What the parser found: the clauses, and every other piece of text in document order."""

    clauses: tuple[Clause, ...]
    # Every piece of the source in order: ("marker", "6.2") | ("clause", id) | ("heading", text) | ("text", text)
    pieces: tuple[tuple[str, str], ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)
