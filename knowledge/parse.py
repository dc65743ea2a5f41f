"""Turn a policy's plain text into clauses, verbatim, keeping every other piece of text in order.

Pure functions only: text in, `ParsedDocument` out. Copes with numbers that start after leading
spaces, numbers printed twice or skipped, unnumbered opening paragraphs, lettered items under a
heading, list items whose bullet marks were lost, and signed agreements with their signature block.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from knowledge.clause import Clause, ParsedDocument

NUMBERED = re.compile(r"^\s*((?:[A-Z]|\d{1,2})(?:\.\d{1,3})+)\.?\s+(\S.*)$")
TOP_HEADING = re.compile(r"^\s*(\d{1,2})\.?\s+(\S.*)$")
APPENDIX = re.compile(r"^\s*(APPENDIX|Appendix|ANNEX|Annex)\s+([A-Z0-9]{1,2})\b[\s.:–—-]*(.*)$")
LETTERED = re.compile(r"^\s*\(?([a-z]|[ivx]{1,4})[.)]\s+(\S.*)$")
BULLET_GLYPH = re.compile(r"^\s*[•●▪◦‣○■□➢►\-–*]\s+")
SIGNATURE = re.compile(
    r"^\s*(Signed\b|Signature\b|Date[d]?\s*[:.…_]|This policy (has been|was) (adopted|approved)|"
    r"Adopted by\b|Review date\b|.*[…_]{4,}|.*\.{6,})",
    re.IGNORECASE,
)
SENTENCE_END = re.compile(r"[.:;!?)\"”’]\s*$")


def normalise(text: str) -> str:
    """Collapse runs of whitespace to one space: the only change ever made to the school's words."""
    return " ".join(text.split())


def _is_heading_text(rest: str, *, allow_mixed: bool) -> bool:
    """A short line with no closing full stop that reads like a title."""
    rest = rest.strip()
    if not rest or len(rest) > 90 or rest[-1] in ".,;" or not rest[0].isalpha():
        return False
    letters = [c for c in rest if c.isalpha()]
    if len(letters) < 3:
        return False
    if sum(c.isupper() for c in letters) >= 0.8 * len(letters):
        return True
    return allow_mixed and rest[0].isupper() and len(rest.split()) <= 12


def _is_subtitle(line: str) -> bool:
    """A title line with no sentence punctuation in it."""
    return _is_heading_text(line, allow_mixed=True) and not re.search(r"[,.;:]", line) and len(line.split()) <= 10


@dataclass
class _Open:
    """The clause being read: its number, lines as items, and whether a list has begun."""

    key: str
    section: str
    part: str
    part_heading: str
    items: list[str] = field(default_factory=list)
    listing: bool = False
    note: str = ""
    slot: int = -1  # where in the document's pieces this clause stands

    def add(self, line: str) -> None:
        starts_item = self.listing and line[:1].isspace() and not self.items[-1].endswith(":")
        if self.items and self.items[-1].rstrip().endswith(":") and line[:1].isspace():
            self.listing = True
            starts_item = True
        if not self.items or starts_item:
            self.items.append(line.strip())
        else:
            self.items[-1] = f"{self.items[-1]} {line.strip()}"


class _Reader:
    """Walks the lines once, emitting clauses and document text in order."""

    def __init__(self) -> None:
        self.clauses: list[Clause] = []
        self.pieces: list[tuple[str, str]] = []
        self.problems: list[str] = []
        self.open: _Open | None = None
        self.part = ""
        self.part_heading = ""
        self.heading_open = False  # a heading may run over a second line
        self.unnumbered: list[str] = []  # text after a heading, before its first clause
        self.mode = "body"  # "body" | "agreement" | "document"
        self.seen = Counter()

    # -- emitting -------------------------------------------------------------------------------
    def close(self) -> None:
        if self.open is not None:
            items = tuple(normalise(i) for i in self.open.items if normalise(i))
            if items:
                key = self.open.key
                self.seen[key] += 1
                cid = key if self.seen[key] == 1 else f"{key}-{self.seen[key]}"
                note = self.open.note
                if self.seen[key] > 1:
                    note = note or f"{_ordinal(self.seen[key])} {self.open.section}"
                self.clauses.append(
                    Clause(
                        id=cid,
                        section=self.open.section,
                        text=" ".join(items),
                        part=self.open.part,
                        part_heading=self.open.part_heading,
                        items=items,
                        order=len(self.clauses),
                        note=note,
                    )
                )
                self.pieces[self.open.slot] = ("clause", cid)
            self.open = None
        if self.unnumbered:
            text = normalise(" ".join(self.unnumbered))
            self.unnumbered = []
            if text.endswith(":") or self.mode == "document":
                # An introduction to what follows ("the following guidelines should be followed:").
                self.pieces.append(("text", text))
            else:
                self.start(_Open(f"{self.part}.0", self.part, self.part, self.part_heading, [text]), "")
                self.close()

    def start(self, clause: _Open, marker: str) -> None:
        """Open a clause; its place among the pieces is kept so headings inside it stay in order."""
        if marker:
            self.pieces.append(("marker", marker))
        clause.slot = len(self.pieces)
        self.pieces.append(("clause", ""))
        self.open = clause

    def heading(self, part: str, text: str) -> None:
        self.close()
        self.mode = "body"
        self.part, self.part_heading = part, normalise(text)
        self.heading_open = True
        self.pieces.append(("heading", normalise(f"{part} {text}" if part else text)))

    # -- reading --------------------------------------------------------------------------------
    def line(self, raw: str) -> None:
        stripped = raw.strip()
        if not stripped:
            return
        heading_open, self.heading_open = self.heading_open, False

        m = APPENDIX.match(raw)
        if m and (not m.group(3) or _is_heading_text(m.group(3), allow_mixed=True)) and "." not in m.group(3):
            self.heading("", f"{m.group(1)} {m.group(2)} {m.group(3)}")
            self.part = m.group(2)
            return
        m = NUMBERED.match(raw)
        if m and not SENTENCE_END.search(m.group(2)) and _is_heading_text(m.group(2), allow_mixed=False):
            self.heading(m.group(1), m.group(2))
            return
        if m:
            self.close()
            self.mode = "body"
            number = m.group(1)
            marker = raw[: m.start(2)].strip()
            self.start(_Open(number, number, self.part, self.part_heading, [m.group(2)]), marker)
            return
        m = TOP_HEADING.match(raw)
        if m and _is_heading_text(m.group(2), allow_mixed=True) and int(m.group(1)) > 0:
            self.heading(m.group(1), m.group(2))
            return
        if SIGNATURE.match(raw):
            self.close()
            self.mode = "document"
            self.pieces.append(("text", stripped))
            return
        if self.mode == "document":
            self.pieces.append(("text", stripped))
            return
        if heading_open and self.open is None and not self.unnumbered and (
            _is_subtitle(stripped) or (_is_subtitle(stripped[:1].upper() + stripped[1:]) and len(stripped.split()) <= 6)
        ):
            # A heading printed over several lines ("APPENDIX A" / "Requirements for ..." / "behalf of ...").
            self.pieces.append(("heading", stripped))
            self.part_heading = normalise(f"{self.part_heading} — {stripped}")
            self.heading_open = True
            return
        m = LETTERED.match(raw)
        if m and self.open is None or (m and self.open is not None and self.open.key.startswith(f"{self.part}.") and self._lettered_open()):
            self.close()
            letter = m.group(1)
            marker = raw[: m.start(2)].strip()
            self.start(_Open(f"{self.part}.{letter}", f"{self.part}({letter})", self.part, self.part_heading, [m.group(2)]), marker)
            return
        if self.open is not None:
            if self.mode == "body" and self._starts_block(raw):
                lead = self.open
                self.close()
                kind = "agreement" if re.search(r"\b(agree|sign)", lead.items[0], re.I) else "text"
                self.mode = "agreement"
                self.start(_Open(f"{lead.key}-{kind}", lead.section, lead.part, lead.part_heading, [stripped]), "")
                self.open.note = "the agreement" if kind == "agreement" else "quoted text"
                return
            self.open.add(raw)
            return
        self.unnumbered.append(stripped)

    def _lettered_open(self) -> bool:
        """True when the open clause is itself a lettered item (so a new letter starts a sibling)."""
        return self.open is not None and re.fullmatch(r".+\.([a-z]|[ivx]{1,4})", self.open.key) is not None

    def _starts_block(self, raw: str) -> bool:
        """Unindented paragraphs after a lead-in ending with ':' are a quoted block (a form to sign)."""
        assert self.open is not None
        return (
            len(self.open.items) == 1
            and self.open.items[0].rstrip().endswith(":")
            and not raw[:1].isspace()
            and not BULLET_GLYPH.match(raw)
        )


def _ordinal(n: int) -> str:
    return {2: "second", 3: "third", 4: "fourth"}.get(n, f"{n}th")


def parse_policy(text: str) -> ParsedDocument:
    """Split a policy's text into clauses; report numbers printed twice and numbers skipped."""
    reader = _Reader()
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        reader.line(raw.replace("\t", "    "))
    reader.close()
    reader.pieces = [p for p in reader.pieces if p != ("clause", "")]
    problems = list(reader.problems)
    for key, count in sorted(reader.seen.items()):
        if count > 1:
            problems.append(f"{key} is printed {count} times")
    problems.extend(_missing_numbers([c.section for c in reader.clauses]))
    return ParsedDocument(tuple(reader.clauses), tuple(reader.pieces), tuple(problems))


def _missing_numbers(sections: list[str]) -> list[str]:
    """Numbers skipped inside a run (6.6 then 6.8 → "6.7 is missing")."""
    missing = []
    last: dict[str, int] = {}
    for section in sections:
        m = re.fullmatch(r"(.+)\.(\d+)", section)
        if not m:
            continue
        prefix, n = m.group(1), int(m.group(2))
        prev = last.get(prefix)
        if prev is not None and n > prev + 1:
            missing.extend(f"{prefix}.{k} is missing" for k in range(prev + 1, n))
        last[prefix] = max(n, prev or 0)
    return missing
