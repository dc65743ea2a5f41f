"""Knowledge packs: a folder holding one school's policy, the clauses found in it, and the school's notes.

A pack folder holds:
  pack.yaml        name, school, title, version/date, and the source file's name
  <source>         the policy exactly as the school gave it (text extracted from PDF/DOCX is kept too)
  clauses.json     the clauses the parser found (written by `policybot ingest`)
  enrichment.yaml  per clause: heading, audience, verdict kind, plain verdict, summary, alternate questions
  eval.yaml        labelled questions for `policybot eval` (optional)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from knowledge.clause import AUDIENCES, VERDICT_KINDS, Clause, Ruling
from knowledge.parse import parse_policy

DEFAULT_PACKS_DIR = Path(__file__).resolve().parent / "packs"
DEFAULT_PACK = "clearwell"

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> dict:
    """Read a YAML file as a mapping (an absent file reads as empty)."""
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader) or {}


class PackError(Exception):
    """A pack that cannot be loaded: names the file and what is wrong."""


@dataclass(frozen=True)
class Pack:
    """One school's policy as clauses, with the school's notes applied."""

    name: str
    folder: Path
    school: str
    title: str
    version: str
    clauses: tuple[Clause, ...]
    shorthand: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    def clause(self, clause_id: str) -> Clause | None:
        return self.clauses_by_id.get(clause_id)

    @cached_property
    def clauses_by_id(self) -> dict[str, Clause]:
        return {c.id: c for c in self.clauses}

    def find_section(self, printed: str) -> list[Clause]:
        """Clauses whose printed number is `printed` ("6.2" finds both printed 6.2s; "a4c" finds A.4(c))."""
        wanted = _section_key(printed)
        return [c for c in self.clauses if _section_key(c.section) == wanted or _section_key(c.id) == wanted]

    def agreement_clauses(self) -> list[Clause]:
        """What parents are asked to sign: the signed text found by the parser, with its lead-in clause."""
        signed = [c for c in self.clauses if c.id.endswith("-agreement")]
        if not signed:
            return [c for c in self.clauses if c.audience == "parents" and "agree" in c.text.lower() and "sign" in c.text.lower()]
        leads = {c.id.removesuffix("-agreement") for c in signed}
        return [c for c in self.clauses if c.id in leads or c in signed]

    @property
    def source_path(self) -> Path:
        meta = read_yaml(self.folder / "pack.yaml")
        return self.folder / meta.get("source", "policy.txt")


def _section_key(text: str) -> tuple[str, ...]:
    """A section number as its parts, so punctuation may differ ("A.4(c)", "a4c") but the parts may not
    ("12" is not "1.2")."""
    return tuple(part for part in re.findall(r"[a-z]+|\d+", text.lower()) if part != "section")


def pack_folder(name: str, packs_dir: Path | str | None = None) -> Path:
    return Path(packs_dir or DEFAULT_PACKS_DIR) / name


def load_clauses(folder: Path, meta: dict) -> tuple[tuple[Clause, ...], tuple[str, ...]]:
    """The pack's parsed clauses: from clauses.json if present, else parsed from the source text."""
    stored = folder / "clauses.json"
    if stored.exists():
        data = json.loads(stored.read_text(encoding="utf-8"))
        return tuple(Clause.from_dict(d) for d in data["clauses"]), tuple(data.get("problems", ()))
    source = folder / meta.get("text", meta.get("source", "policy.txt"))
    if not source.exists():
        raise PackError(f"{folder}: no clauses.json and no source text {source.name}")
    parsed = parse_policy(source.read_text(encoding="utf-8"))
    return parsed.clauses, parsed.problems


def apply_enrichment(clauses: tuple[Clause, ...], enrichment: dict) -> tuple[Clause, ...]:
    """Merge the school's notes into the clauses; unknown ids and bad values are errors, not silence."""
    notes = enrichment.get("clauses") or {}
    known = {c.id for c in clauses}
    unknown = sorted(set(map(str, notes)) - known)
    if unknown:
        raise PackError(f"enrichment.yaml names clauses the policy does not have: {', '.join(unknown)}")
    out = []
    for clause in clauses:
        note = notes.get(clause.id) or {}
        audience = note.get("audience", clause.audience)
        kind = note.get("verdict_kind", clause.verdict_kind)
        if audience not in AUDIENCES:
            raise PackError(f"enrichment.yaml, {clause.id}: audience {audience!r} is not one of {AUDIENCES}")
        if kind not in VERDICT_KINDS:
            raise PackError(f"enrichment.yaml, {clause.id}: verdict_kind {kind!r} is not one of {VERDICT_KINDS}")
        about = note.get("about") or {}
        out.append(
            clause.with_notes(
                rulings=_rulings(clause.id, note.get("rulings")),
                actor=str(about.get("actor", "")),
                target=str(about.get("target", "")),
                channel=str(about.get("channel", "")),
                heading=str(note.get("heading") or clause.heading),
                audience=audience,
                verdict_kind=kind,
                verdict=str(note.get("verdict") or clause.verdict),
                summary=str(note.get("summary") or clause.summary),
                alternates=tuple(str(a) for a in note.get("alternates") or ()),
                related=tuple(str(r) for r in note.get("related") or ()),
                curated=bool(note.get("curated", bool(note))),
            )
        )
    return tuple(out)


def _rulings(clause_id: str, data) -> tuple[Ruling, ...]:
    """The rulings noted for a clause; a ruling with an unknown verdict kind or no line is an error."""
    out = []
    for n, item in enumerate(data or (), 1):
        kind = str(item.get("kind", ""))
        says = str(item.get("says", "")).strip()
        if kind not in VERDICT_KINDS:
            raise PackError(f"enrichment.yaml, {clause_id} ruling {n}: kind {kind!r} is not one of {VERDICT_KINDS}")
        if not says:
            raise PackError(f"enrichment.yaml, {clause_id} ruling {n}: no 'says' line")
        asks = tuple(str(a) for a in item.get("asks") or () if str(a).strip())
        out.append(Ruling(str(item.get("when", "")), kind, says, asks))
    return tuple(out)


def load_pack(name: str = DEFAULT_PACK, packs_dir: Path | str | None = None) -> Pack:
    """Load a pack folder by name (the project's own packs unless `packs_dir` says otherwise)."""
    folder = pack_folder(name, packs_dir)
    if not folder.is_dir():
        raise PackError(f"no policy pack named {name!r} in {folder.parent}")
    meta = read_yaml(folder / "pack.yaml")
    clauses, problems = load_clauses(folder, meta)
    enrichment = read_yaml(folder / "enrichment.yaml")
    clauses = apply_enrichment(clauses, enrichment)
    return Pack(
        name=name,
        folder=folder,
        school=str(meta.get("school", "")),
        title=str(meta.get("title", "Social Media Policy")),
        version=str(meta.get("version", "")),
        clauses=clauses,
        shorthand={str(k).lower(): str(v) for k, v in (enrichment.get("shorthand") or {}).items()},
        problems=problems,
    )
