"""Texts kept in data files, and the one way their `{placeholders}` are filled.

Every text a person or the office is shown lives in a YAML file a school may reword. `Texts` reads those
files (one loader) and fills placeholders like `string.Template.safe_substitute`: a placeholder with no value
stays visible as written, never an error, and a value is inserted verbatim (its own braces are not read).
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Mapping

import yaml


class _Braces(string.Template):
    """`{name}` placeholders; nothing else in a text is special (no escapes, no format specs)."""

    delimiter = "{"
    pattern = r"\{(?:(?P<named>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<braced>(?!))|(?P<escaped>(?!))|(?P<invalid>(?!)))"


def fill(template: str, values: Mapping[str, object]) -> str:
    """`template` with each `{name}` that `values` has replaced by it; the others are left as they are."""
    return _Braces(str(template)).safe_substitute(values)


def read_texts(path: Path | str) -> dict:
    """The texts of one YAML file, without its `version` key."""
    with Path(path).open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    data.pop("version", None)
    return data


def _find(node, key: str):
    """The value at a dotted key; a flat key that itself holds dots ("verdict.allowed") is found too."""
    if isinstance(node, dict) and key in node:
        return node[key]
    head, _, rest = key.partition(".")
    if rest and isinstance(node, dict) and isinstance(node.get(head), dict):
        return _find(node[head], rest)
    raise KeyError(key)


class Texts:
    """Texts by dotted key, with the school's placeholders (settings, pack) filled in whenever one is read."""

    def __init__(self, data: dict, placeholders: Mapping[str, object] | None = None):
        self.data = data
        self.placeholders = {k: str(v) for k, v in (placeholders or {}).items()}

    @classmethod
    def load(cls, *paths: Path | str, placeholders: Mapping[str, object] | None = None) -> "Texts":
        """The texts of several files as one tree (their top-level keys are kept apart by name)."""
        data: dict = {}
        for path in paths:
            data.update(read_texts(path))
        return cls(data, placeholders)

    def raw(self, key: str):
        """The text (or the group of texts) at a dotted key, as written."""
        try:
            return _find(self.data, key)
        except KeyError:
            raise KeyError(f"no text {key!r}") from None

    def has(self, key: str) -> bool:
        try:
            _find(self.data, key)
        except KeyError:
            return False
        return True

    def get(self, key: str, **values) -> str:
        """The text at a dotted key, with the placeholders and then `values` filled in (values win)."""
        template = self.raw(key)
        if isinstance(template, list):
            template = "\n".join(str(line) for line in template)
        return fill(str(template).strip(), {**self.placeholders, **values})

    def within(self, key: str) -> "Texts":
        """The texts under one key, as their own `Texts` with the same placeholders."""
        return Texts(self.raw(key), self.placeholders)

    def filled(self) -> dict[str, str]:
        """Every top-level text with the placeholders filled (the others are left for the caller to fill)."""
        return {key: self.get(key) for key, value in self.data.items() if not isinstance(value, dict)}
