"""Every text the bot shows, loaded one way (`knowledge.texts.Texts`), with ONE map of placeholders built from the
school's settings and its policy pack.

A placeholder named as a setting is that setting (`{dsl_contact}`, `{school_name}`, `{complaints_policy_url}`);
the pack gives `{policy_version}`. The people's texts (`intents/data/responses.yaml` and `flows.yaml`), the
office's (`bot/data/office.yaml`) and Telegram's command menu (`bot/data/telegram.yaml`) all read this map.
"""

from __future__ import annotations

from pathlib import Path

from intents.texts import person_texts
from knowledge.texts import Texts

DATA = Path(__file__).resolve().parent / "data"
OFFICE_YAML = DATA / "office.yaml"
TELEGRAM_YAML = DATA / "telegram.yaml"
WEB_YAML = DATA / "web.yaml"

# The settings a text may name, as they are named in Settings (and in .env, upper-cased).
SETTINGS_NAMED = (
    "dsl_contact",
    "deputy_dsl_contact",
    "local_authority_contact",
    "office_contact",
    "office_hours",
    "emergency_text",
    "ceop_text",
    "nspcc_text",
    "childline_text",
    "retention_days",
    "report_retention_days",
    "signature_retention_days",
)


def placeholders(settings, pack) -> dict[str, str]:
    """What `{placeholders}` in every text stand for, from the settings and the pack (with their defaults)."""
    values = {name: str(getattr(settings, name)) for name in SETTINGS_NAMED}
    values["school_name"] = settings.school_name or pack.school or "the school"
    values["policy_version"] = pack.version or pack.title
    values["complaints_policy_url"] = settings.complaints_policy_url or "ask the school office for a copy"
    values["report_retention_years"] = str(round(settings.report_retention_days / 365, 1)).removesuffix(".0")
    return values


def for_people(settings, pack) -> Texts:
    """What a person is shown: the advisor's replies (`responses.`) and the conversations' texts."""
    return person_texts(placeholders(settings, pack))


def for_office(settings=None, pack=None) -> Texts:
    """What the school office is shown (with the same placeholders, when the settings and pack are given)."""
    return Texts.load(OFFICE_YAML, placeholders=placeholders(settings, pack) if settings is not None else None)


def for_web(settings, pack) -> Texts:
    """The web chat's own page texts (labels, headings); its replies are the people's texts above."""
    return Texts.load(WEB_YAML, placeholders=placeholders(settings, pack))


def command_menu() -> list[tuple[str, str]]:
    """Telegram's command menu: (command, what it does), in order."""
    return [(name, str(description)) for name, description in Texts.load(TELEGRAM_YAML).raw("commands").items()]


def quoted_section(texts: Texts, clause) -> str:
    """A clause in full, as /section, the "Full section" button and the office's answer with a section give it:
    "Section 6.5 — Friend requests" and the clause's words in quotes beneath."""
    heading = f" — {clause.title}" if clause.title else ""
    return f"{texts.get('responses.section', section=clause.label)}{heading}\n{texts.get('responses.quote', quote=clause.text)}"


REVIEW_YAML = DATA / "review.yaml"


def for_review(settings, pack) -> Texts:
    """The governors' annual review's headings and explanations (`policybot office review`)."""
    return Texts.load(REVIEW_YAML, placeholders=placeholders(settings, pack))
