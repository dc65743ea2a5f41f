"""What every guided conversation shares: prompts as data, and the input a person gives.

A flow never talks to a channel. It takes its saved state (a plain dict, stored as JSON after every step)
and what the person did (typed text, a pressed button, a photo) and returns the next state and what to
show. Telegram and the console render the same `Prompt`s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from knowledge.texts import Texts


@dataclass(frozen=True)
class Button:
    """A button: what it says, and the action string sent back when pressed (≤ 64 bytes for Telegram)."""

    label: str
    action: str


@dataclass(frozen=True)
class Prompt:
    """One message to show: plain text (channels escape it) and rows of buttons."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True)
class FlowInput:
    """What the person did: typed `text`, pressed a button (`action`), or sent a photo (`photo` file id)."""

    text: str = ""
    action: str = ""
    photo: str = ""


@dataclass(frozen=True)
class ClauseChoice:
    """A clause offered to the person (the engine's suggestion, or a section they typed)."""

    id: str
    label: str
    title: str = ""


@dataclass
class FlowOutcome:
    """A step's result: the state to save (None when the flow has ended), what to show, and what to store."""

    state: dict | None
    prompts: list[Prompt] = field(default_factory=list)
    submission: dict | None = None  # the finished record, for the caller to store and acknowledge
    safeguarding: bool = False  # show the safeguarding response now (the flow goes on)
    allegation: bool = False  # a concern that a member of staff poses a risk: guidance, never a breach report
    # A typed message that answers no option of a step that welcomes questions: the caller may answer it as a
    # question and ask the step again, instead of showing `prompts` ("please choose one of the buttons").
    question: str = ""


@dataclass
class FlowContext:
    """What a flow may ask of the outside world, injected so flows stay pure and testable."""

    texts: Texts  # intents.texts.person_texts: the flows read theirs, and the safeguarding reply
    suggest_clauses: Callable[[str], list[ClauseChoice]] = lambda text: []
    find_section: Callable[[str], list[ClauseChoice]] = lambda text: []
    role: str = "staff"


YES_WORDS = {"yes", "y", "yeah", "yep", "true", "correct", "ok", "okay", "sure"}
NO_WORDS = {"no", "n", "nope", "false", "none", "not really"}


def reads_as_question(text: str) -> bool:
    """A message that asks something rather than picks an answer: a question mark, or a sentence of some length."""
    return "?" in text or len(text.split()) >= 4


def yes_or_no(text: str) -> bool | None:
    word = text.strip().lower().rstrip(".!")
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    return None
