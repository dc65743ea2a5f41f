"""The dialogue's replies as what a page shows: blocks of text (a verdict, a section line linking to the
policy page, a quote), buttons as form buttons, and the safeguarding reply set apart. Data only: the
templates escape every string."""

from __future__ import annotations

from dataclasses import dataclass

from bot.dialogue import Outgoing
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


def anchor(clause_id: str) -> str:
    """A clause's anchor on the policy page (clause ids are unique: a second 6.2 is 6.2-2)."""
    return "clause-" + "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in clause_id)


def said(text: str) -> Entry:
    return Entry("you", tuple(Block("", line) for line in text.split("\n") if line.strip()) or (Block("", text),))


def answer_blocks(reply) -> list[Block]:
    answer = reply.answer
    if answer is None and getattr(reply, "office", None) is not None:
        office = reply.office
        blocks = [Block("verdict", office.heading), Block("quote", office.text), Block("note", office.note)]
    elif answer is None:
        return paragraphs(reply.reply)
    else:
        blocks = [
            Block("verdict", answer.verdict_line),
            Block("section", answer.section_line, anchor(answer.clause_id)),
            Block("quote", answer.quote),
        ]
        blocks += [Block("", line) for line in answer.details]
        if answer.note:
            blocks.append(Block("note", answer.note))
        if answer.see_also_line:
            blocks.append(Block("", answer.see_also_line))
    if reply.contacts:
        blocks.append(Block("note", reply.contacts))
    return blocks


def paragraphs(text: str) -> list[Block]:
    return [Block("", line) for line in text.split("\n") if line.strip()]


def buttons_of(outgoing: Outgoing) -> tuple[tuple[tuple[str, str], ...], ...]:
    """A reply's buttons as (label, data) rows: only a person's buttons the codec reads back (never the office's)."""
    rows = []
    for row in outgoing.buttons:
        kept = []
        for button in row:
            callback = decode(button.action)
            if callback is not None and callback.audience == PERSON:
                kept.append((button.label, button.action))
        if kept:
            rows.append(tuple(kept))
    return tuple(rows)


def entry(outgoing: Outgoing, emergency_text: str) -> Entry:
    """One reply as a transcript entry."""
    reply = outgoing.answer
    if reply is not None and (reply.answer is not None or getattr(reply, "office", None) is not None):
        blocks = answer_blocks(reply)
    elif outgoing.section is not None:
        clause = outgoing.section
        first = outgoing.text.split("\n", 1)[0]
        blocks = [Block("section", first, anchor(clause.id)), Block("quote", clause.text)]
    elif outgoing.kind == "safeguarding":
        # The emergency line goes first, set apart; the rest of the reply beneath it.
        blocks = [b for b in paragraphs(outgoing.text) if emergency_text not in b.text]
        return Entry("bot", tuple(blocks), buttons_of(outgoing), "safeguarding", emergency_text)
    elif outgoing.kind == "answer_link":  # the private page for the office's answer: its URL is the last line
        intro, _, url = outgoing.text.rpartition("\n")
        blocks = paragraphs(intro) + [Block("link", url, url)]
    else:
        blocks = paragraphs(outgoing.text)
    return Entry("bot", tuple(blocks), buttons_of(outgoing), outgoing.kind)
