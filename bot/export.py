"""CSV export of the office's records (`policybot office export`, and the cases page of the desk): pseudonyms
only — no chat ids, and no names unless asked for (`with_names`) — no cell a spreadsheet would run as a formula,
and every file readable by its owner only (mode 0600, like the database).

Cases about the headteacher or the office are for ESCALATION_USER_IDS only (bot/office.py `visible_to`): an
export for the office leaves them out, with the audit log's lines about them; the terminal includes them only
with `--with-escalated`."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from bot.office import visible_to
from bot.store import CASE_KINDS, Case, Store
from bot.store.connection import create_private_file

# `--what NAME`: the table each name writes.
EXPORT_TABLES = {
    "unanswered": "unanswered",
    "questions": "questions",
    "feedback": "feedback",
    "breach": CASE_KINDS["breach"].table,
    "complaints": CASE_KINDS["complaint"].table,
    "safeguarding": CASE_KINDS["safeguarding"].table,
    "audit": "audit_log",
    "answers": "office_answers",
}
CASE_TABLES = {kind.table: kind.name for kind in CASE_KINDS.values()}
NEVER_EXPORTED = ("chat_id", "reporter_chat")  # how to reach a person: of no use in a spreadsheet
NAME_COLUMNS = ("reporter_name", "child")  # names people gave: only with `with_names`


def export_csv(store: Store, destination: Path | str, what: str = "all", with_names: bool = False, audience: str = "office") -> list[Path]:
    """Write CSV files (one per table) into a folder, or one table to a .csv file; returns the files written.
    `audience` ("office", "escalation" or "all") says whose cases go in."""
    destination = Path(destination)
    chosen = EXPORT_TABLES if what == "all" else {what: EXPORT_TABLES[what]}
    left_out = NEVER_EXPORTED + (() if with_names else NAME_COLUMNS)
    hidden = hidden_refs(store, audience)
    written = []
    single = destination.suffix.lower() == ".csv" and len(chosen) == 1
    if not single:
        destination.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name, table in chosen.items():
        path = destination if single else destination / f"{name}.csv"
        columns, rows = store.table_rows(table)
        if table in CASE_TABLES:
            rows = [r for r in rows if r["ref"] not in hidden]
        elif table == "audit_log":
            rows = [r for r in rows if (r.get("target") or "").upper() not in hidden]
        create_private_file(path)
        with path.open("w", newline="", encoding="utf-8") as handle:
            write_rows(handle, [c for c in columns if c not in left_out], rows)
        written.append(path)
    return written


def hidden_refs(store: Store, audience: str) -> set[str]:
    """The references of the cases `audience` may not see."""
    if audience == "all":
        return set()
    hidden = set()
    for kind in CASE_KINDS.values():
        _, rows = store.table_rows(kind.table)
        hidden |= {r["ref"] for r in rows if not visible_to(Case(r["ref"], kind.name, r), audience)}
    return hidden


def cases_csv(cases: list[Case], with_names: bool = False) -> str:
    """Cases of every kind as one CSV (the desk's download): ref, kind, then each column once, in the order
    the kinds' tables first have it."""
    left_out = NEVER_EXPORTED + (() if with_names else NAME_COLUMNS)
    columns = ["ref", "kind"]
    for case in cases:
        columns += [c for c in case.row if c not in columns and c not in left_out]
    buffer = io.StringIO()
    write_rows(buffer, columns, [{**case.row, "kind": case.kind} for case in cases])
    return buffer.getvalue()


def write_rows(handle, columns: list[str], rows: list[dict]) -> None:
    writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_safe(v) for k, v in row.items()})


def _csv_safe(value):
    """Spreadsheet apps run cells starting with = + - @ as formulas; prefix them so they stay text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
