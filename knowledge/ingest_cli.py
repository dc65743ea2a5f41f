"""The `ingest` and `pack show` commands, added to the project's CLI by `register(subparsers)`.

`policybot ingest FILE --pack NAME` turns a policy document into a pack; `policybot pack show NAME`
lists what the bot understood, with a health report. Neither loads the embedding model.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path

from knowledge.health import format_report, health_report
from knowledge.ingest import IngestError, ingest_document
from knowledge.pack import PackError, load_pack
from knowledge.readers import READABLE


def packs_dir_from(args: argparse.Namespace) -> Path | None:
    """--packs-dir, else the POLICY_PACKS_DIR setting, else the project's own packs folder (None)."""
    chosen = getattr(args, "packs_dir", None) or os.environ.get("POLICY_PACKS_DIR", "").strip()
    return Path(chosen).expanduser() if chosen else None


def _add_packs_dir(parser: argparse.ArgumentParser) -> None:
    # None when not given: the CLI then fills it from the POLICY_PACKS_DIR setting (.env or environment).
    parser.add_argument(
        "--packs-dir", default=None, metavar="DIR",
        help="folder holding the packs (default: POLICY_PACKS_DIR, else the project's own)",
    )


def register(subparsers) -> None:
    """Add `ingest` and `pack show` to an argparse subparsers object."""
    ingest = subparsers.add_parser(
        "ingest",
        help="turn a policy document into a pack",
        description=f"Read a policy ({', '.join(READABLE)}) and write a knowledge pack for it.",
    )
    ingest.add_argument("file", metavar="FILE", help="the policy document")
    ingest.add_argument("--pack", required=True, metavar="NAME", help="pack name, e.g. st-marys")
    ingest.add_argument("--school", default="", metavar="NAME", help="the school's name as people say it")
    ingest.add_argument("--title", default="", help="the policy's title (default: guessed from the document)")
    ingest.add_argument("--version", default="", help="version or date of the document (default: today)")
    _add_packs_dir(ingest)
    ingest.set_defaults(func=run_ingest)

    pack = subparsers.add_parser("pack", help="look at a pack", description="Look at a knowledge pack.")
    pack_commands = pack.add_subparsers(dest="pack_command", metavar="COMMAND")
    show = pack_commands.add_parser("show", help="list a pack's clauses and a health report")
    show.add_argument("name", metavar="NAME", help="pack name")
    show.add_argument("--json", action="store_true", help="print one JSON object per clause, one a line")
    _add_packs_dir(show)
    show.set_defaults(func=run_pack_show)
    pack.set_defaults(func=lambda args: _usage(pack))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_ingest(args: argparse.Namespace, out=None) -> int:
    out = out or sys.stdout
    try:
        result = ingest_document(
            args.file, args.pack, packs_dir_from(args),
            school=args.school, title=getattr(args, "title", ""), version=getattr(args, "version", ""),
        )
        pack = load_pack(args.pack, result.folder.parent)
    except (IngestError, PackError) as exc:
        print(f"ingest: {exc}", file=sys.stderr)
        return 1
    pages = f", {len(set(result.dropped))} running header/footer lines dropped" if result.kind == "pdf" else ""
    print(f"Read {Path(args.file).name} ({result.kind}{pages}) in {result.seconds:.2f} s.", file=out)
    print(f"Wrote pack {result.pack!r} to {result.folder}", file=out)
    if result.carried:
        print(f"Kept the notes and alternate questions of {len(result.carried)} unchanged clauses.", file=out)
    for line in format_report(health_report(pack)):
        print(line, file=out)
    print(f"Next: check the clauses with `policybot pack show {result.pack}`, then correct the guessed notes "
          f"in {result.folder / 'enrichment.yaml'}.", file=out)
    return 0


def run_pack_show(args: argparse.Namespace, out=None) -> int:
    out = out or sys.stdout
    try:
        pack = load_pack(args.name, packs_dir_from(args))
    except PackError as exc:
        print(f"pack show: {exc}", file=sys.stderr)
        return 1
    if args.json:
        for clause in pack.clauses:
            print(json.dumps({
                "id": clause.id,
                "section": clause.section,
                "label": clause.label,
                "heading": clause.title,
                "part_heading": clause.part_heading,
                "audience": clause.audience,
                "verdict_kind": clause.verdict_kind,
                "curated": clause.curated,
                "text": clause.text,
                "about": {"actor": clause.actor, "target": clause.target, "channel": clause.channel},
                "rulings": [{"when": r.when, "kind": r.kind, "says": r.says, "asks": len(r.asks)} for r in clause.rulings],
            }, ensure_ascii=False), file=out)
        return 0
    title = " — ".join(x for x in (pack.school, pack.title, pack.version) if x)
    print(f"Pack {pack.name}: {title}", file=out)
    print(f"Folder: {pack.folder}", file=out)
    print("", file=out)
    for clause in pack.clauses:
        mark = "" if clause.curated else "  (guessed notes)"
        print(f"[{clause.id}] {clause.label} · {clause.title or '—'} · {clause.audience} · {clause.verdict_kind}{mark}",
              file=out)
        for line in textwrap.wrap(clause.text, 100):
            print(f"    {line}", file=out)
        for ruling in clause.rulings:
            # Each situation the clause decides, its verdict and the line the answer gives.
            when = f"when {ruling.when}" if ruling.when else "always"
            print(f"    ▸ {ruling.kind}: {when}", file=out)
            for line in textwrap.wrap(f"“{ruling.says}” ({len(ruling.asks)} example questions)", 96):
                print(f"        {line}", file=out)
    print("", file=out)
    print("Health report", file=out)
    for line in format_report(health_report(pack)):
        print(f"  {line}", file=out)
    return 0
