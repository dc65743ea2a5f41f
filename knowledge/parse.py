"""Turn a policy's plain text into clauses, verbatim, keeping every other piece of text in order.

Pure functions only: text in, `ParsedDocument` out. Copes with decimal numbers (1.1, 10.5, A.2.3),
numbers that start after leading spaces or mid-line (a PDF's wrapping), numbers printed twice or
skipped, "Section 3 — Title" headings, lettered items (a., (b), i.), bullet glyphs, unnumbered
paragraphs under a heading (named by heading and position, "Monitoring ¶2"), documents with no
numbering at all, and signed agreements with their signature block.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from knowledge.clause import Clause, ParsedDocument

NUMBERED = re.compile(r"^\s*((?:[A-Z]|\d{1,2})(?:\.\d{1,3})+)\.?\s+(\S.*)$")
TOP_HEADING = re.compile(r"^\s*(\d{1,2})\.?\s+(\S.*)$")
TOP_CLAUSE = re.compile(r"^\s*(\d{1,2})[.)]\s+([A-Z‘“\"'(].*)$")  # "3. Staff must not ..." (a sentence, not a title)
SECTION = re.compile(r"^\s*(?:Section|SECTION|Part|PART)\s+(\d{1,2}|[A-Z])\b\s*[—–:.-]*\s*(\S.*)?$")
APPENDIX = re.compile(r"^\s*(APPENDIX|Appendix|ANNEX|Annex)\s+([A-Z0-9]{1,2})\b[\s.:–—-]*(.*)$")
LETTERED = re.compile(r"^\s*\(?([a-z]|[ivx]{1,4})[.)]\s+(\S.*)$")
BULLET_GLYPH = re.compile(r"^\s*[•●▪◦‣○■□➢►\-–*]\s+")
MID_BULLET = re.compile(r"\s[•●▪◦‣■➢►]\s+")  # a bullet a PDF ran into the previous line
# A clause number after a sentence's end, inside a line: "...family members. 6.2 Clearwell School does not..."
MID_NUMBER = re.compile(r"(?<=[.;:!?”’\")])\s+((?:[A-Z]|\d{1,2})(?:\.\d{1,3})+)\.?\s+(?=[A-Z‘“\"'(])")
MID_SIGNATURE = re.compile(r"(?<=[.;!?])\s+(?=This policy (?:has been|was) (?:adopted|approved)\b)")
SIGNATURE = re.compile(
    r"^\s*(Signed\b|Signature\b|Date[d]?\s*[:.…_]|This policy (has been|was) (adopted|approved)|"
    r"Adopted by\b|Review date\b|.*[…_]{4,}|.*\.{6,})",
    re.IGNORECASE,
)
FRONT_MATTER = re.compile(
    r"^\s*(version\b|v\d|approved\b|adopted\b|date[d]?\b|review(ed)?\b|next review\b|last (updated|reviewed)\b|"
    r"issued\b|owner\b|author\b|ratified\b|status\b)",
    re.IGNORECASE,
)
# An introduction ending in ':' this long says something of its own ("If, in the future, the Governing body
# agrees that the school should have a presence on social media, the following guidelines…"): a clause.
INTRO_CLAUSE_WORDS = 12
SENTENCE_END = re.compile(r"[.:;!?)\"”’]\s*$")


def normalise(text: str) -> str:
    """Collapse runs of whitespace to one space: the only change ever made to the school's words."""
    return " ".join(text.split())


def strip_bullet(text: str) -> str:
    """An item's words without the bullet glyph in front (the glyph is layout, not policy)."""
    return BULLET_GLYPH.sub("", text, count=1) if BULLET_GLYPH.match(text) else text


def slug(text: str) -> str:
    """A short, stable id part from a heading ("Use of Social Media" → "use-of-social-media")."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    out = "-".join(words)[:40].strip("-")
    return out or "text"


def _is_heading_text(rest: str, *, allow_mixed: bool) -> bool:
    """A short line with no closing full stop that reads like a title."""
    rest = rest.strip()
    if not rest or len(rest) > 90 or rest[-1] in ".,;:" or not rest[0].isalpha():
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
    glyphs: bool = False  # the list is marked with bullet glyphs, so only a glyph starts an item

    def add(self, line: str) -> None:
        if BULLET_GLYPH.match(line) and self.items:
            self.listing = self.glyphs = True
            self.items.append(strip_bullet(line.strip()))
            return
        if LETTERED.match(line) and self.items:
            self.listing = True  # "(a) ..." under a numbered clause: an item of it, marker kept as printed
            self.items.append(line.strip())
            return
        starts_item = (
            self.listing and not self.glyphs and line[:1].isspace() and not self.items[-1].endswith(":")
        )
        if self.items and self.items[-1].rstrip().endswith(":") and line[:1].isspace() and not self.glyphs:
            self.listing = True
            starts_item = True
        if not self.items or starts_item:
            self.items.append(line.strip())
        else:
            self.items[-1] = f"{self.items[-1]} {line.strip()}"


@dataclass
class _Paragraph:
    """Text under a heading before (or without) any numbered clause: one paragraph or bullet item."""

    lines: list[str]
    bullet: bool = False

    @property
    def text(self) -> str:
        return normalise(" ".join(self.lines))


@dataclass(frozen=True)
class ParseDetails:
    """What the parser knows beyond the clauses: list lead-ins and text it could not place."""

    leads: dict[str, str]  # bullet clause id -> id of the clause that introduces its list ("Staff must not:")
    unplaced: tuple[str, ...]  # text kept in the document but in no clause
    headings: dict[str, str] = field(default_factory=dict)  # part ("6", "A", "A.2") -> its heading as read


class _Reader:
    """Walks the lines once, emitting clauses and document text in order."""

    def __init__(self, plain_headings: bool = False) -> None:
        self.clauses: list[Clause] = []
        self.pieces: list[tuple[str, str]] = []
        self.problems: list[str] = []
        self.leads: dict[str, str] = {}
        self.open: _Open | None = None
        self.part = ""
        self.part_heading = ""
        self.heading_open = False  # a heading may run over a second line
        self.unnumbered: list[_Paragraph] = []  # text after a heading, before its first clause
        self.gap = True  # a blank line came before this one
        self.mode = "body"  # "body" | "agreement" | "document"
        self.seen = Counter()
        self.plain_headings = plain_headings  # the document has no numbering: titles alone mark sections
        self.part_headings: dict[str, str] = {}

    # -- emitting -------------------------------------------------------------------------------
    def close(self) -> None:
        if self.open is not None:
            items = tuple(normalise(i) for i in self.open.items if normalise(i))
            if items:
                cid = self._unique(self.open.key)
                note = self.open.note
                if self.seen[self.open.key] > 1:
                    note = note or f"{_ordinal(self.seen[self.open.key])} {self.open.section}"
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
            self._close_unnumbered()

    def _note_heading(self) -> None:
        if self.part:
            self.part_headings[self.part] = self.part_heading

    def _unique(self, key: str) -> str:
        self.seen[key] += 1
        return key if self.seen[key] == 1 else f"{key}-{self.seen[key]}"

    def _close_unnumbered(self) -> None:
        paragraphs = [p for p in self.unnumbered if p.text]
        self.unnumbered = []
        if not paragraphs:
            return
        if self.mode == "document":
            self.pieces.extend(("text", p.text) for p in paragraphs)
            return
        if len(paragraphs) == 1 and self.part and not paragraphs[0].bullet:
            text = paragraphs[0].text
            if text.endswith(":") and len(text.split()) < INTRO_CLAUSE_WORDS:
                # A bare introduction to what follows ("the following guidelines should be followed:").
                self.pieces.append(("text", text))
            else:
                self.start(_Open(f"{self.part}.0", self.part, self.part, self.part_heading, [text]), "")
                self.close()
            return
        # Several paragraphs (or a document without numbers): one clause each, named by heading and position.
        base = self.part or slug(self.part_heading) if (self.part or self.part_heading) else "p"
        name = self.part_heading if not self.part else self.part
        lead_id = ""
        for n, paragraph in enumerate(paragraphs, 1):
            text = paragraph.text
            if n == len(paragraphs) and text.endswith(":") and not paragraph.bullet:
                self.pieces.append(("text", text))
                break
            key = f"{base}.p{n}" if self.part else f"{base}-{n}"
            section = f"{name} ¶{n}" if name else f"¶{n}"
            self.start(_Open(key, section, self.part or name, self.part_heading, [text]), "")
            self.close()
            cid = self.clauses[-1].id
            if paragraph.bullet and lead_id:
                self.leads[cid] = lead_id
            elif not paragraph.bullet:
                lead_id = cid if text.endswith(":") else ""

    def start(self, clause: _Open, marker: str) -> None:
        """Open a clause; its place among the pieces is kept so headings inside it stay in order."""
        self._note_heading()
        if marker:
            self.pieces.append(("marker", marker))
        clause.slot = len(self.pieces)
        self.pieces.append(("clause", ""))
        self.open = clause

    def heading(self, part: str, text: str, printed: str = "") -> None:
        self.close()
        self.mode = "body"
        self.part, self.part_heading = part, normalise(text)
        self.heading_open = True
        self.pieces.append(("heading", normalise(printed or (f"{part} {text}" if part else text))))

    # -- reading --------------------------------------------------------------------------------
    def line(self, raw: str, next_raw: str = "") -> None:
        stripped = raw.strip()
        if not stripped:
            self.gap = True
            return
        gap, self.gap = self.gap, False
        for piece in self._split_mid_line(raw):
            self._line(piece, gap, next_raw)
            self._note_heading()
            gap = False

    def _split_mid_line(self, raw: str) -> list[str]:
        """Split a line where a PDF ran a new clause, bullet or signature block into the previous one."""
        if self.mode == "document":
            return [raw]
        for pattern in (MID_NUMBER, MID_BULLET, MID_SIGNATURE):
            for m in pattern.finditer(raw):
                if m.start() <= len(raw) - len(raw.lstrip()):
                    continue
                if pattern is MID_NUMBER and not self._plausible_number(m.group(1)):
                    continue
                head, tail = raw[: m.start()], raw[m.start():].strip()
                return [head] + self._split_mid_line(tail)
        return [raw]

    def _plausible_number(self, number: str) -> bool:
        """A mid-line number is a clause only if it fits where we are (6.2 inside section 6, or the next section's .1)."""
        prefix, _, last = number.rpartition(".")
        if self.open is None and not self.part:
            return False
        current = self.open.key.split("-")[0].rpartition(".")[0] if self.open is not None else ""
        if prefix and prefix in (self.part, current):
            return True
        return last == "1" and prefix.split(".")[0] != "" and self.seen.total() > 0

    def _line(self, raw: str, gap: bool, next_raw: str) -> None:
        stripped = raw.strip()
        heading_open, self.heading_open = self.heading_open, False

        m = APPENDIX.match(raw)
        if m and (not m.group(3) or _is_heading_text(m.group(3), allow_mixed=True)) and "." not in m.group(3):
            self.heading("", f"{m.group(1)} {m.group(2)} {m.group(3)}")
            self.part = m.group(2)
            return
        m = SECTION.match(raw)
        if m and (not m.group(2) or _is_heading_text(m.group(2), allow_mixed=True)):
            self.heading(m.group(1), m.group(2) or "", printed=stripped)
            return
        m = NUMBERED.match(raw)
        if m and not SENTENCE_END.search(m.group(2)) and _is_heading_text(m.group(2), allow_mixed=False):
            self.heading(m.group(1), m.group(2), printed=stripped)
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
            self.heading(m.group(1), m.group(2), printed=stripped)
            return
        m = TOP_CLAUSE.match(raw)
        if m and int(m.group(1)) > 0 and self.mode != "document":
            self.close()
            self.mode = "body"
            number = m.group(1)
            self.part = self.part if self.part and not self.part.isdigit() else number
            self.start(_Open(number, number, number, self.part_heading, [m.group(2)]), raw[: m.start(2)].strip())
            return
        if SIGNATURE.match(raw):
            self.close()
            self.mode = "document"
            self.pieces.append(("text", stripped))
            return
        if self.mode == "document":
            self.pieces.append(("text", stripped))
            return
        if self._in_title(gap) and _is_subtitle(stripped):
            self.heading("", stripped)  # the document's title, above any section (may run over lines)
            return
        if self._in_title(gap) and self.pieces and FRONT_MATTER.match(stripped):
            self.pieces.append(("text", stripped))  # "Version 2.3 - approved by ..." under the title
            return
        if heading_open and not self.plain_headings and self.open is None and not self.unnumbered and (
            _is_subtitle(stripped) or (_is_subtitle(stripped[:1].upper() + stripped[1:]) and len(stripped.split()) <= 6)
        ):
            # A heading printed over several lines ("APPENDIX A" / "Requirements for ..." / "behalf of ...").
            self.pieces.append(("heading", stripped))
            self.part_heading = normalise(f"{self.part_heading} — {stripped}")
            self.heading_open = True
            return
        if gap and (self.plain_headings or self.open is None or self._may_end_clause()) and self._plain_heading(
            stripped, next_raw
        ):
            self.heading("", stripped)
            return
        m = LETTERED.match(raw)
        part_key = self.part or slug(self.part_heading)
        if m and self.open is None and not self.unnumbered or (
            m
            and self.open is not None
            and self.open.key.startswith(f"{part_key}.")
            and self._lettered_open()
            and not self._roman_under_letter(m.group(1))
        ):
            self.close()
            letter = m.group(1)
            marker = raw[: m.start(2)].strip()
            part = self.part or slug(self.part_heading)
            section = f"{self.part}({letter})" if self.part else f"{self.part_heading} ({letter})"
            self.start(_Open(f"{part}.{letter}", section, self.part, self.part_heading, [m.group(2)]), marker)
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
        self._add_unnumbered(stripped, gap)

    def _add_unnumbered(self, stripped: str, gap: bool) -> None:
        bullet = bool(BULLET_GLYPH.match(stripped))
        last = self.unnumbered[-1] if self.unnumbered else None
        # A blank line inside a sentence ("personal and" / "" / "professional lives") does not end a paragraph.
        continues = last is not None and not bullet and (
            not gap or (not SENTENCE_END.search(last.lines[-1]) and stripped[:1].islower())
        )
        if continues:
            last.lines.append(stripped)
        else:
            self.unnumbered.append(_Paragraph([strip_bullet(stripped)], bullet))

    def _in_title(self, gap: bool) -> bool:
        """At the top of the document, before any text: the first line, or one straight after a title line."""
        if self.clauses or self.open is not None or self.unnumbered or self.part:
            return False
        if not self.pieces:
            return True
        return not gap and all(kind == "heading" for kind, _ in self.pieces)

    def _plain_heading(self, stripped: str, next_raw: str) -> bool:
        """In a document without numbers, a short title-like line standing alone starts a section."""
        if not _is_subtitle(stripped) or len(stripped.split()) > 8 or BULLET_GLYPH.match(stripped):
            return False
        last = self.unnumbered[-1] if self.unnumbered else None
        if last is not None and not last.bullet and not SENTENCE_END.search(last.lines[-1]):
            return False  # the previous paragraph has not finished its sentence
        following = next_raw.strip()
        return (
            not following
            or following[:1].isupper()
            or bool(BULLET_GLYPH.match(following) or LETTERED.match(following) or NUMBERED.match(following))
        )

    def _may_end_clause(self) -> bool:
        """A title line after a finished sentence may start a new section even though a clause is open."""
        return (
            self.mode == "body"
            and self.open is not None
            and bool(SENTENCE_END.search(self.open.items[-1]))
            and not self.open.items[-1].rstrip().endswith(":")
        )

    def _roman_under_letter(self, marker: str) -> bool:
        """"(i)" after "(a)" numbers a sub-item of (a); "i." after "h." is the next letter."""
        if not re.fullmatch(r"[ivx]+", marker) or self.open is None:
            return False
        current = self.open.key.rsplit(".", 1)[-1]
        if len(current) == 1 and marker == chr(ord(current) + 1):
            return False
        return True

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
            and not LETTERED.match(raw)
        )


def _ordinal(n: int) -> str:
    return {2: "second", 3: "third", 4: "fourth"}.get(n, f"{n}th")


def _has_numbering(lines: list[str]) -> bool:
    """True when clauses are numbered (1.1, A.2, 3., Section 2): otherwise titles alone mark sections."""
    count = sum(
        1
        for line in lines
        if NUMBERED.match(line) or TOP_CLAUSE.match(line) or SECTION.match(line) or TOP_HEADING.match(line)
    )
    return count >= 3


TRAILING_NUMBER = re.compile(r"(?:(?<=[.;:!?”’\")])\s+|^\s*)((?:[A-Z]|\d{1,2})(?:\.\d{1,3})+)\.?\s*$")


def _carry_trailing_numbers(lines: list[str]) -> list[str]:
    """A clause number a PDF left at the end of a line ("...accounts. 4.2" / "Suspicious messages...")
    belongs at the start of the next line, where its text is."""
    out = list(lines)
    for i, line in enumerate(out):
        m = TRAILING_NUMBER.search(line)
        if not m:
            continue
        j = next((k for k in range(i + 1, len(out)) if out[k].strip()), None)
        if j is None or not out[j].lstrip()[:1].isupper():
            continue
        out[i] = line[: m.start()]
        out[j] = f"{m.group(1)} {out[j].lstrip()}"
    return out


def parse_document(text: str) -> tuple[ParsedDocument, ParseDetails]:
    """Split a policy's text into clauses, with the lead-ins of bullet lists and any text left unplaced."""
    lines = [raw.replace("\t", "    ") for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = _carry_trailing_numbers(lines)
    reader = _Reader(plain_headings=not _has_numbering(lines))
    for i, raw in enumerate(lines):
        following = next((line for line in lines[i + 1 :] if line.strip()), "")
        reader.line(raw, following)
    reader.close()
    reader.pieces = [p for p in reader.pieces if p != ("clause", "")]
    problems = list(reader.problems)
    for key, count in sorted(reader.seen.items()):
        if count > 1:
            problems.append(f"{key} is printed {count} times")
    problems.extend(_missing_numbers([c.section for c in reader.clauses]))
    unplaced = tuple(text for kind, text in reader.pieces if kind == "text")
    parsed = ParsedDocument(tuple(reader.clauses), tuple(reader.pieces), tuple(problems))
    return parsed, ParseDetails(dict(reader.leads), unplaced, dict(reader.part_headings))


def parse_policy(text: str) -> ParsedDocument:
    """Split a policy's text into clauses; report numbers printed twice and numbers skipped."""
    return parse_document(text)[0]


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
