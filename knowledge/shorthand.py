"""Expand phone shorthand ("fb", "insta", "kid") into the words the policy uses, before matching."""

from __future__ import annotations

import re
from pathlib import Path

from knowledge.pack import read_yaml

DEFAULTS = Path(__file__).resolve().parent / "data" / "shorthand.yaml"
WORD = re.compile(r"[\w/']+", re.UNICODE)
OWN = re.compile(r"\bown\s+$", re.IGNORECASE)


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
        def word(m: re.Match) -> str:
            # "my own kid" is family, not "my own pupil": a word after "own" keeps its everyday sense.
            if OWN.search(text, max(0, m.start() - 12), m.start()):  # (a short look back: long messages stay linear)
                return m.group(0)
            return table.get(m.group(0).lower(), m.group(0))

        return WORD.sub(word, text)

    return expand
