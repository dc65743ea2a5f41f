"""Turn a school's policy document into a knowledge pack folder, or update a pack to a new version.

`ingest_document` reads the document (knowledge.readers), finds its clauses (knowledge.parse), and
writes the pack: the document itself, the text the parser read, clauses.json, and an enrichment.yaml
stub with guessed headings, audiences and verdicts (marked `curated: false`). When the pack already
exists, clauses whose text is unchanged keep their ids, their notes and their alternate questions;
what was added, removed or reworded is written to changes.json for `policybot pack show`.
Never loads the embedding model.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import yaml

from knowledge.clause import Clause
from knowledge.guess import guess_enrichment
from knowledge.pack import DEFAULT_PACKS_DIR, PackError, load_pack, pack_folder, read_yaml
from knowledge.parse import ParseDetails, parse_document, strip_bullet
from knowledge.readers import DocumentText, read_document

PACK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
KEPT_FILES = ("pack.yaml", "clauses.json", "enrichment.yaml", "changes.json")
ENRICHMENT_HEADER = """\
# Notes on each clause, used to answer questions. Written by `policybot ingest`.
# Entries with `curated: false` are the bot's guesses from the wording: check them, correct heading,
# audience (staff / parents / everyone / site_creators), verdict_kind (not_allowed / allowed /
# needs_approval / required / advised_against / information) and verdict (empty: the answer opens with
# the standard line for the verdict kind; write your own plain one-liner to replace it), add alternate questions
# people ask, then set `curated: true`. Curated notes of unchanged clauses survive a re-ingest; notes of
# clauses that were reworded or removed are kept under `retired` with the old wording, to copy back.
"""


class IngestError(Exception):
    """The document cannot become a pack: one line saying why."""


@dataclass(frozen=True)
class Changes:
    """How a new version of the policy differs from the pack it replaces."""

    previous_version: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    reworded: tuple[str, ...] = ()
    unchanged: int = 0
    moved: tuple[tuple[str, str], ...] = ()  # (id, section now printed) for unchanged text under a new number

    def to_dict(self) -> dict:
        return {
            "previous_version": self.previous_version,
            "added": list(self.added),
            "removed": list(self.removed),
            "reworded": list(self.reworded),
            "unchanged": self.unchanged,
            "moved": [list(m) for m in self.moved],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Changes":
        return cls(
            previous_version=str(data.get("previous_version", "")),
            added=tuple(data.get("added") or ()),
            removed=tuple(data.get("removed") or ()),
            reworded=tuple(data.get("reworded") or ()),
            unchanged=int(data.get("unchanged", 0)),
            moved=tuple(tuple(m) for m in data.get("moved") or ()),
        )


@dataclass(frozen=True)
class IngestResult:
    pack: str
    folder: Path
    clauses: tuple[Clause, ...]
    problems: tuple[str, ...]
    unplaced: tuple[str, ...]
    dropped: tuple[str, ...]
    kind: str
    seconds: float
    changes: Changes | None = None
    carried: tuple[str, ...] = field(default_factory=tuple)  # ids whose notes came over from the last version


def text_key(text: str) -> str:
    """What must match for two clauses to count as the same wording: letters and digits, bullets and spacing aside."""
    return re.sub(r"[\W_]+", "", strip_bullet(text).lower())


def ingest_document(
    path: Path | str,
    pack: str,
    packs_dir: Path | str | None = None,
    *,
    school: str = "",
    title: str = "",
    version: str = "",
) -> IngestResult:
    """Read `path` and write (or update) the pack `pack` in `packs_dir`; returns what was found."""
    started = time.perf_counter()
    if not PACK_NAME.match(pack):
        raise IngestError(f"pack name {pack!r}: use lower-case letters, digits, '-' or '_' (e.g. 'st-marys')")
    source = Path(path)
    try:
        document = read_document(source)
    except Exception as exc:
        raise IngestError(str(exc)) from exc
    parsed, details = parse_document(document.text)
    if not parsed.clauses:
        raise IngestError(f"{source.name}: found no clauses in {len(document.text.split())} words of text")

    folder = pack_folder(pack, packs_dir or DEFAULT_PACKS_DIR)
    previous = _previous(folder)
    clauses = list(parsed.clauses)
    changes = None
    leads = dict(details.leads)
    if previous is not None:
        clauses, leads, changes = _stabilise_ids(clauses, leads, previous)
    enrichment, carried = _enrichment(clauses, leads, previous, details.headings)

    meta = dict(previous["meta"]) if previous else {}
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    source_name = _safe_name(source.name)
    text_name = source_name if document.kind == "txt" else "policy.txt"
    if text_name == source_name and document.kind != "txt":
        text_name = "policy-text.txt"
    meta.update(
        {
            "name": pack,
            "school": school or meta.get("school", ""),
            "title": title or meta.get("title") or _guess_title(document.text),
            "version": version or f"ingested {stamp}",
            "source": source_name,
            "text": text_name,
            "format": document.kind,
            "ingested": stamp,
        }
    )
    if document.pages:
        meta["pages"] = document.pages

    folder.mkdir(parents=True, exist_ok=True)
    if previous is not None:
        _keep_previous(folder, previous["meta"])
        for name in {str(previous["meta"].get("source", "")), str(previous["meta"].get("text", ""))}:
            stale = folder / name
            if name and name not in (source_name, text_name) and stale.is_file() and "/" not in name:
                stale.unlink()  # the old document lives on in previous/
    if source.resolve() != (folder / source_name).resolve():
        shutil.copyfile(source, folder / source_name)
    if text_name != source_name:
        _write(folder / text_name, document.text if document.text.endswith("\n") else document.text + "\n")
    stored = {
        "clauses": [c.to_dict() for c in clauses],
        "problems": list(parsed.problems),
        "unplaced": list(details.unplaced),
        "dropped": sorted(set(document.dropped)),
        "leads": leads,
    }
    _write(folder / "clauses.json", json.dumps(stored, ensure_ascii=False, indent=1) + "\n")
    _write(folder / "enrichment.yaml", ENRICHMENT_HEADER + _dump_yaml(enrichment))
    if changes is not None:
        _write(folder / "changes.json", json.dumps(changes.to_dict(), ensure_ascii=False, indent=1) + "\n")
    elif (folder / "changes.json").exists():
        (folder / "changes.json").unlink()
    _write(folder / "pack.yaml", f"# The {pack} knowledge pack (written by policybot ingest).\n" + _dump_yaml(meta))

    try:
        loaded = load_pack(pack, folder.parent)
    except PackError as exc:  # should not happen: the files were just written by this module
        raise IngestError(f"the pack was written but does not load: {exc}") from exc
    return IngestResult(
        pack=pack,
        folder=folder,
        clauses=loaded.clauses,
        problems=parsed.problems,
        unplaced=details.unplaced,
        dropped=document.dropped,
        kind=document.kind,
        seconds=time.perf_counter() - started,
        changes=changes,
        carried=tuple(carried),
    )


# -- the previous version ---------------------------------------------------------------------------
def _previous(folder: Path) -> dict | None:
    """The pack as it stands before this ingest: its clauses (unenriched), enrichment and metadata."""
    if not (folder / "pack.yaml").exists():
        return None
    meta = read_yaml(folder / "pack.yaml")
    stored = folder / "clauses.json"
    if stored.exists():
        data = json.loads(stored.read_text(encoding="utf-8"))
        clauses = [Clause.from_dict(d) for d in data.get("clauses", [])]
    else:
        text = folder / meta.get("text", meta.get("source", "policy.txt"))
        if not text.exists():
            return None
        clauses = list(parse_document(text.read_text(encoding="utf-8"))[0].clauses)
    return {"meta": meta, "clauses": clauses, "enrichment": read_yaml(folder / "enrichment.yaml")}


def _stabilise_ids(
    clauses: list[Clause], leads: dict[str, str], previous: dict
) -> tuple[list[Clause], dict[str, str], Changes]:
    """Unchanged text keeps its old id; the rest keep their natural id unless an old clause now holds it."""
    old = previous["clauses"]
    old_by_text: dict[str, list[Clause]] = {}
    for clause in old:
        old_by_text.setdefault(text_key(clause.text), []).append(clause)
    old_by_id = {c.id: c for c in old}
    assigned: dict[int, str] = {}
    taken: set[str] = set()
    # Pass 1: same wording, preferring the same id, then the first unclaimed old clause with that wording.
    for i, clause in enumerate(clauses):
        candidates = [c for c in old_by_text.get(text_key(clause.text), []) if c.id not in taken]
        if not candidates:
            continue
        same = [c for c in candidates if c.id == clause.id]
        chosen = (same or candidates)[0]
        assigned[i] = chosen.id
        taken.add(chosen.id)
    unchanged_idx = set(assigned)
    # Pass 2: everything else keeps its natural id, unless that id now belongs to unchanged text.
    for i, clause in enumerate(clauses):
        if i in assigned:
            continue
        cid = clause.id
        n = 2
        while cid in taken:
            cid, n = f"{clause.id}-r{n}", n + 1
        assigned[i] = cid
        taken.add(cid)
    renamed = {clauses[i].id: assigned[i] for i in range(len(clauses))}
    out = [replace(c, id=assigned[i]) for i, c in enumerate(clauses)]
    new_leads = {renamed.get(k, k): renamed.get(v, v) for k, v in leads.items()}

    added, reworded, moved = [], [], []
    for i, clause in enumerate(out):
        if i in unchanged_idx:
            if old_by_id[clause.id].section != clause.section:
                moved.append((clause.id, clause.section))
        elif clause.id in old_by_id and old_by_id[clause.id].section == clause.section:
            reworded.append(clause.id)
        else:
            added.append(clause.id)
    new_ids = {c.id for c in out}
    removed = [c.id for c in old if c.id not in new_ids]
    changes = Changes(
        previous_version=str(previous["meta"].get("version", "")),
        added=tuple(added),
        removed=tuple(removed),
        reworded=tuple(reworded),
        unchanged=len(unchanged_idx),
        moved=tuple(moved),
    )
    return out, new_leads, changes


def _enrichment(
    clauses: list[Clause], leads: dict[str, str], previous: dict | None, headings: dict[str, str] | None = None
) -> tuple[dict, list[str]]:
    """Guessed notes for every clause; notes of unchanged clauses come over from the last version."""
    old_notes: dict = {}
    top: dict = {}
    old_text: dict[str, str] = {}
    if previous is not None:
        top = {k: v for k, v in (previous["enrichment"] or {}).items() if k != "clauses"}
        old_notes = {str(k): v for k, v in ((previous["enrichment"] or {}).get("clauses") or {}).items()}
        old_text = {c.id: text_key(c.text) for c in previous["clauses"]}
    by_id = {c.id: c for c in clauses}
    notes: dict[str, dict] = {}
    carried = []
    for clause in clauses:
        old = old_notes.get(clause.id)
        if old and old_text.get(clause.id) == text_key(clause.text):
            notes[clause.id] = dict(old)
            carried.append(clause.id)
            continue
        lead = by_id[leads[clause.id]].text if clause.id in leads and leads[clause.id] in by_id else ""
        top_part = clause.part.split(".")[0]
        context = (headings or {}).get(top_part, "") if top_part != clause.part else ""
        notes[clause.id] = guess_enrichment(clause, lead, context)
    # The office's own notes on clauses that were removed or reworded are kept aside, with the wording they
    # were written for, so nothing curated is silently lost (the loader reads only `clauses`).
    old_clauses = {c.id: c for c in previous["clauses"]} if previous is not None else {}
    retired = dict(top.pop("retired", None) or {})
    for cid, note in old_notes.items():
        if cid in carried or not isinstance(note, dict) or not note.get("curated", True):
            continue
        if cid in old_clauses:
            retired[cid] = {
                "reason": "reworded" if cid in by_id else "removed",
                "old_text": old_clauses[cid].text,
                "notes": note,
            }
    out = dict(top)
    out.setdefault("version", 1)
    if retired:
        out["retired"] = retired
    out["clauses"] = notes
    return out, carried


def _keep_previous(folder: Path, meta: dict) -> None:
    """Copy the version being replaced into previous/ so the office can look back (one version kept)."""
    target = folder / "previous"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()
    names = set(KEPT_FILES) | {str(meta.get("source", "")), str(meta.get("text", ""))}
    for name in names:
        if name and (folder / name).is_file():
            shutil.copy2(folder / name, target / name)


# -- writing ----------------------------------------------------------------------------------------
def _safe_name(name: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "policy"
    return clean if clean not in KEPT_FILES else f"source-{clean}"


def _guess_title(text: str) -> str:
    for line in text.split("\n"):
        line = " ".join(line.split())
        if line:
            if len(line) <= 80 and not line.endswith(".") and "policy" in line.lower():
                return line
            break
    return "Social Media Policy"


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper, data):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def _dump_yaml(data: dict) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)


def _write(path: Path, text: str) -> None:
    """Write via a temporary file so a crash never leaves half a pack file behind."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


__all__ = ["Changes", "IngestError", "IngestResult", "ingest_document", "text_key", "DocumentText", "ParseDetails"]
