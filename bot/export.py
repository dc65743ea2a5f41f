"""CSV export of the office's records (`policybot office export`): pseudonyms only — no chat ids, and no names
unless asked for (`with_names`) — no cell a spreadsheet would run as a formula, and every file readable by its
owner only (mode 0600, like the database)."""

from __future__ import annotations

import csv
from pathlib import Path

from bot.store import CASE_KINDS, Store
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
NEVER_EXPORTED = ("chat_id", "reporter_chat")  # how to reach a person: of no use in a spreadsheet
NAME_COLUMNS = ("reporter_name", "child")  # names people gave: only with `with_names`


def export_csv(store: Store, destination: Path | str, what: str = "all", with_names: bool = False) -> list[Path]:
    """Write CSV files (one per table) into a folder, or one table to a .csv file; returns the files written."""
    destination = Path(destination)
    chosen = EXPORT_TABLES if what == "all" else {what: EXPORT_TABLES[what]}
    left_out = NEVER_EXPORTED + (() if with_names else NAME_COLUMNS)
    written = []
    single = destination.suffix.lower() == ".csv" and len(chosen) == 1
    if not single:
        destination.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name, table in chosen.items():
        path = destination if single else destination / f"{name}.csv"
        columns, rows = store.table_rows(table)
        create_private_file(path)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=[c for c in columns if c not in left_out], extrasaction="ignore")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _csv_safe(v) for k, v in row.items()})
        written.append(path)
    return written


def _csv_safe(value):
    """Spreadsheet apps run cells starting with = + - @ as formulas; prefix them so they stay text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
