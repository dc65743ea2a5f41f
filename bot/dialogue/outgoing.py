"""What a turn takes in and gives out: who is talking (`Person`) and one reply (`Outgoing`), as data the
channels render."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from bot.protocol import ROLES  # noqa: F401  (the one list of roles, re-exported for the dialogue)
from intents.advisor import Reply
from intents.flows import Button
from knowledge.clause import Clause

ButtonRows = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Person:
    """Who is talking, on which channel, and where replies to them go."""

    channel: str  # telegram | console
    user_id: str
    chat_id: str
    name: str = ""  # as the channel knows them; stored only on a report they choose to sign


@dataclass(frozen=True)
class Outgoing:
    """One reply: plain text and buttons, or an answer / a section the channel renders richly."""

    text: str = ""
    buttons: ButtonRows = ()
    answer: Reply | None = None  # the advisor's reply with a composed answer (or the office's own answer)
    section: Clause | None = None  # quoted in full
    kind: str = "text"  # text | answer | office_answer | section | safeguarding | answer_link (its URL the last line)


def short_label(text: str, limit: int = 48) -> str:
    """A button label that fits a phone: cut at a word, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:—- ") + "…"


def plain_buttons(outgoing: Iterable[Outgoing]) -> list[Button]:
    """Every button of a batch of replies, in order (the console numbers them)."""
    return [b for o in outgoing for row in o.buttons for b in row]
