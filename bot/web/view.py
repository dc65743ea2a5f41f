"""The dialogue's replies as what a page shows: the layout every channel shares (bot.dialogue.layout) as blocks
of text (a verdict, a section line linking to the clause on the policy page, a quote), buttons as form buttons,
and the safeguarding reply set apart with its emergency line first. Data only: the templates escape every string."""

from __future__ import annotations

from dataclasses import dataclass

from bot.dialogue import Outgoing, layout
from bot.protocol import PERSON, decode


@dataclass(frozen=True)
class Block:
    style: str  # "" (a paragraph) | verdict | section | quote | note
    text: str
    link: str = ""  # an anchor on the policy page, for a section line


@dataclass(frozen=True)
class Entry:
    """One line of the transcript: the person's words, or one reply with its buttons."""

    speaker: str  # you | bot
    blocks: tuple[Block, ...]
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()  # rows of (label, callback data)
    kind: str = "text"
    emergency: str = ""  # on a safeguarding reply: the emergency line, shown first and large
    number: int = 0  # its place in the session's transcript (the script asks for entries after the last it has)


# How each part of the shared layout is shown; a part's text that runs over several lines becomes paragraphs.
STYLES = {
    layout.VERDICT: "verdict",
    layout.SECTION: "section",
    layout.TITLE: "section",
    layout.QUOTE: "quote",
    layout.HEADING: "verdict",
    layout.NOTE: "note",
    layout.ATTRIBUTION: "note",
    layout.CONTACTS: "note",
}


def anchor(clause_id: str) -> str:
    """A clause's anchor on the policy page (clause ids are unique: a second 6.2 is 6.2-2)."""
    return "clause-" + "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in clause_id)


def paragraphs(text: str, style: str = "") -> list[Block]:
    return [Block(style, line) for line in text.split("\n") if line.strip()]


def said(text: str) -> Entry:
    return Entry("you", tuple(paragraphs(text)) or (Block("", text),))


def blocks_of(outgoing: Outgoing) -> list[Block]:
    blocks: list[Block] = []
    for part in layout.parts_of(outgoing):
        style = STYLES.get(part.style, "")
        if style == "quote":  # the policy's words as one block, its line breaks kept by the stylesheet
            blocks.append(Block(style, part.text))
        elif part.clause_id:
            blocks.append(Block(style, part.text, anchor(part.clause_id)))
        else:
            blocks += paragraphs(part.text, style)
    return blocks


def buttons_of(outgoing: Outgoing, words: dict[str, str] | None = None) -> tuple[tuple[tuple[str, str], ...], ...]:
    """A reply's buttons as (label, data) rows: only a person's buttons the codec reads back (never the office's).
    `words` adds words to a label that is only a symbol, by the button's kind and first argument ("fb:up": 👍)."""
    rows = []
    for row in outgoing.buttons:
        kept = []
        for button in row:
            callback = decode(button.action)
            if callback is not None and callback.audience == PERSON:
                extra = (words or {}).get(":".join((callback.kind, *callback.args[:1])), "")
                kept.append((f"{button.label} {extra}" if extra else button.label, button.action))
        if kept:
            rows.append(tuple(kept))
    return tuple(rows)


def entry(outgoing: Outgoing, emergency_text: str, words: dict[str, str] | None = None) -> Entry:
    """One reply as a transcript entry; a safeguarding reply's emergency line goes first, set apart."""
    blocks = blocks_of(outgoing)
    buttons = buttons_of(outgoing, words)
    if outgoing.kind == "answer_link":  # the private page for the office's answer: its URL is the last line
        intro, _, url = outgoing.text.rpartition("\n")
        blocks = paragraphs(intro) + [Block("link", url, url)]
    if outgoing.kind == "safeguarding":
        blocks = [b for b in blocks if emergency_text not in b.text]
        return Entry("bot", tuple(blocks), buttons, "safeguarding", emergency_text)
    return Entry("bot", tuple(blocks), buttons, outgoing.kind)


def notice(text: str) -> Entry:
    """A line from the web chat itself (a limit reached, a button that no longer works)."""
    return Entry("bot", tuple(paragraphs(text)), kind="notice")
