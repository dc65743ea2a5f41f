"""The texts a person is shown, as one `Texts`: the advisor's replies (`responses.yaml`, under `responses.`)
and the conversations' (`flows.yaml`: `conversation.`, `common.`, `breach.`, `complaint.`, `safeguarding.`, `signing.`).

The caller (bot/texts.py) passes the placeholders: the school's settings and its pack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from knowledge.texts import Texts

DATA = Path(__file__).resolve().parent / "data"
RESPONSES_YAML = DATA / "responses.yaml"
FLOWS_YAML = DATA / "flows.yaml"


def person_texts(placeholders: Mapping[str, object] | None = None) -> Texts:
    """Every text a person may be shown, with `placeholders` filled in when one is read."""
    return Texts.load(RESPONSES_YAML, FLOWS_YAML, placeholders=placeholders)
