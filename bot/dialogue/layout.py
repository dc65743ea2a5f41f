"""How a reply is laid out, whatever the channel: an answer's verdict, then its section, the quote, the details,
a note, related sections and the safeguarding contacts; the office's own answer with who answered set apart
from their words; a section quoted in full. Channels style the parts (Telegram as HTML tags, the web as
paragraphs with a link to the clause); the order and what goes in lives here, once.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.dialogue.outgoing import Outgoing

# The kinds of part, in the words a renderer styles them by.
VERDICT = "verdict"  # an answer's verdict line
SECTION = "section"  # "Section 6.5 · Friend requests": links to the clause (`clause_id`)
QUOTE = "quote"  # the policy's words (or the office's), verbatim
DETAIL = "detail"  # "it depends" situations, further clauses
NOTE = "note"  # a remark beneath an answer
SEE_ALSO = "see_also"  # related sections
CONTACTS = "contacts"  # the safeguarding contacts beneath an answer
HEADING = "heading"  # the office's answer: who answered and when
ATTRIBUTION = "attribution"  # the office's answer: that it is not the policy's wording
TITLE = "title"  # a section quoted in full: its number and heading (links to the clause)
TEXT = "text"  # any other reply, as written


@dataclass(frozen=True)
class Part:
    style: str
    text: str
    clause_id: str = ""  # for SECTION and TITLE: the clause the line names


def answer_parts(reply) -> list[Part]:
    """The advisor's answer: verdict, section, quote, details, note, related sections, contacts."""
    answer = reply.answer
    if answer is None and getattr(reply, "office", None) is not None:
        return office_parts(reply)
    if answer is None:
        return [Part(TEXT, reply.reply)]
    parts = [Part(VERDICT, answer.verdict_line), Part(SECTION, answer.section_line, getattr(answer, "clause_id", "")), Part(QUOTE, answer.quote)]
    # "It depends": a line per situation; "what bears on this": a line per further clause.
    parts += [Part(DETAIL, line) for line in getattr(answer, "details", ())]
    if answer.note:
        parts.append(Part(NOTE, answer.note))
    if answer.see_also_line:
        parts.append(Part(SEE_ALSO, answer.see_also_line))
    if reply.contacts:  # the safeguarding contacts the advisor gives beneath an answer
        parts.append(Part(CONTACTS, reply.contacts))
    return parts


def office_parts(reply) -> list[Part]:
    """The school office's own answer: who answered and when, their words set apart, and that it is not a
    quote from the policy (so nobody mistakes it for the policy's wording)."""
    office = reply.office
    parts = [Part(HEADING, office.heading), Part(QUOTE, office.text), Part(ATTRIBUTION, office.note)]
    if reply.contacts:
        parts.append(Part(CONTACTS, reply.contacts))
    return parts


def section_parts(outgoing: Outgoing) -> list[Part]:
    """A section in full: its first line ("Section 6.5 — Friend requests"), then the clause's words."""
    clause = outgoing.section
    return [Part(TITLE, outgoing.text.split("\n", 1)[0], getattr(clause, "id", "")), Part(QUOTE, clause.text)]


def has_answer(outgoing: Outgoing) -> bool:
    reply = outgoing.answer
    return reply is not None and (getattr(reply, "answer", None) is not None or getattr(reply, "office", None) is not None)


def parts_of(outgoing: Outgoing) -> list[Part]:
    """One reply as parts in order: an answer, a section in full, or its text as written."""
    if has_answer(outgoing):
        return answer_parts(outgoing.answer)
    if outgoing.section is not None:
        return section_parts(outgoing)
    return [Part(TEXT, outgoing.text)]
