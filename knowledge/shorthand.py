"""Expand phone shorthand ("fb", "insta", "kid") into the words the policy uses, before matching."""

from __future__ import annotations

import re
from pathlib import Path

from knowledge.pack import read_yaml

DEFAULTS = Path(__file__).resolve().parent / "data" / "shorthand.yaml"
WORD = re.compile(r"[\w/']+", re.UNICODE)


def load_shorthand(pack_shorthand: dict[str, str] | None = None) -> dict[str, str]:
    """The project's defaults, overridden and extended by the pack's own list."""
    table = {str(k).lower(): str(v) for k, v in (read_yaml(DEFAULTS).get("shorthand") or {}).items()}
    table.update({k.lower(): v for k, v in (pack_shorthand or {}).items()})
    return table


def expander(table: dict[str, str]):
    """A function that rewrites whole shorthand words; everything else is left as typed."""
    if not table:
        return lambda text: text

    def expand(text: str) -> str:
        return WORD.sub(lambda m: table.get(m.group(0).lower(), m.group(0)), text)

    return expand
