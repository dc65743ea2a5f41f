"""What every guided conversation shares: prompts as data, the input a person gives, and the flow texts.

A flow never talks to a channel. It takes its saved state (a plain dict, stored as JSON after every step)
and what the person did (typed text, a pressed button, a photo) and returns the next state and what to
show. Telegram and the console render the same `Prompt`s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

FLOWS_YAML = Path(__file__).resolve().parent.parent / "data" / "flows.yaml"


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


@dataclass
class FlowContext:
    """What a flow may ask of the outside world, injected so flows stay pure and testable."""

    texts: "FlowTexts"
    suggest_clauses: Callable[[str], list[ClauseChoice]] = lambda text: []
    find_section: Callable[[str], list[ClauseChoice]] = lambda text: []
    role: str = "staff"


class _Blank(dict):
    """Unknown placeholders stay visible rather than crashing a reply."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class FlowTexts:
    """Every user-facing string of the flows, from `intents/data/flows.yaml`, with the school's settings filled in."""

    def __init__(self, data: dict, placeholders: dict[str, str] | None = None):
        self.data = data
        self.placeholders = {k: str(v) for k, v in (placeholders or {}).items()}

    @classmethod
    def load(cls, placeholders: dict[str, str] | None = None, path: Path | None = None) -> "FlowTexts":
        with (path or FLOWS_YAML).open(encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle) or {}, placeholders)

    def raw(self, key: str):
        node = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"flows.yaml has no text {key!r}")
            node = node[part]
        return node

    def get(self, key: str, **values) -> str:
        """The text at a dotted key, with settings and `values` filled in (values are inserted verbatim)."""
        template = self.raw(key)
        if isinstance(template, list):
            template = "\n".join(str(line) for line in template)
        return str(template).strip().format_map(_Blank({**self.placeholders, **values}))


def placeholders_from(settings, school: str = "", policy_version: str = "") -> dict[str, str]:
    """The settings a school's texts may mention, by placeholder name."""
    get = lambda name, default="": str(getattr(settings, name, default) or default)  # noqa: E731
    complaints = get("complaints_policy_url")
    return {
        "school_name": get("school_name") or school or "the school",
        "policy_version": policy_version,
        "dsl_contact": get("dsl_contact"),
        "deputy_dsl_contact": get("deputy_dsl_contact"),
        "office_contact": get("office_contact"),
        "office_hours": get("office_hours"),
        "complaints_url": complaints or "ask the school office for a copy",
        "emergency_text": get("emergency_text"),
        "ceop_text": get("ceop_text"),
        "nspcc_text": get("nspcc_text"),
        "childline_text": get("childline_text"),
        "retention_days": get("retention_days"),
        "report_retention_days": get("report_retention_days"),
        "report_retention_years": str(round(int(get("report_retention_days", "2555")) / 365, 1)).removesuffix(".0"),
    }


YES_WORDS = {"yes", "y", "yeah", "yep", "true", "correct", "ok", "okay", "sure"}
NO_WORDS = {"no", "n", "nope", "false", "none", "not really"}


def yes_or_no(text: str) -> bool | None:
    word = text.strip().lower().rstrip(".!")
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    return None
