"""The school's roster of people asked to sign, as the office handles it: read from a CSV, and who stands where.

The CSV's first row names its columns: kind (staff | parent), name, email, class (several classes separated by
commas or semicolons inside the cell). `status_lines` is what `policybot office roster status` prints (a desk
page can show the same `Signing.standings`); `write_rest_csv` lists everyone still to sign, or to confirm a new
version, with their code, their links and how a reminder reaches them (`policybot office roster remind` sends
them; those it cannot reach are for reminders by hand). Each person's web link is shown when WEB_PUBLIC_URL is
set (the address people use). Files written are readable by their owner only.
"""

from __future__ import annotations

import csv
from pathlib import Path

from bot.signatures import Signing, reach_of, sign_link
from bot.store.connection import create_private_file
from bot.store.signatures import ROSTER_KINDS, SIGNER_KIND
from knowledge.signing import KINDS, SHORT
from knowledge.texts import Texts

COLUMNS = ("kind", "name", "email", "class")


def read_roster(path: Path | str, texts: Texts) -> tuple[list[dict], list[str]]:
    """The people in a roster CSV (as `add_to_roster` takes them), and every problem found, by line."""
    path = Path(path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    if not set(COLUMNS[:2]) <= set(header):
        return [], [texts.get("roster.bad_header", file=path.name, got=", ".join(header) or "—")]
    where = {name: header.index(name) for name in COLUMNS if name in header}
    people, problems = [], []
    for line, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        cell = lambda name: row[where[name]].strip() if name in where and where[name] < len(row) else ""  # noqa: E731
        kind, name = cell("kind").lower(), " ".join(cell("name").split())
        if kind not in ROSTER_KINDS:
            problems.append(texts.get("roster.bad_row", file=path.name, line=line, problem=texts.get("roster.bad_kind", kind=kind)))
            continue
        if not name:
            problems.append(texts.get("roster.bad_row", file=path.name, line=line, problem=texts.get("roster.no_name")))
            continue
        classes = ", ".join(p.strip() for p in cell("class").replace(";", ",").split(",") if p.strip())
        people.append({"kind": kind, "name": name, "email": cell("email"), "classes": classes})
    return people, problems


def telegram_link(bot_username: str, code: str) -> str:
    """The deep link that opens the bot with `/start CODE` (empty without the bot's username)."""
    return f"https://t.me/{bot_username.lstrip('@')}?start={code}" if bot_username else ""


def web_link(settings, code: str) -> str:
    """A person's own signing page on the web, when WEB_PUBLIC_URL says where people reach it (else empty)."""
    return sign_link(settings, code) if getattr(settings, "web_public_url", "") else ""


def status_of(standing) -> str:
    """current | behind | asked | none"""
    if standing.current:
        return "current"
    if standing.signed is not None:
        return "behind"
    return "asked" if standing.asked else "none"


def status_lines(signing: Signing, texts: Texts) -> list[str]:
    """Who has signed the current version, an earlier one, asked first or not signed; then signatures by name alone."""
    lines = [texts.get("roster.status_header", **{kind: signing.text_for(kind).short for kind in KINDS})]
    standings = signing.standings()
    for roster_kind in ROSTER_KINDS:
        mine = [s for s in standings if s.row["kind"] == roster_kind]
        by_status = {name: [s for s in mine if status_of(s) == name] for name in ("current", "behind", "asked", "none")}
        lines.append(texts.get("roster.counts", kind=texts.get(f"roster.kinds.{roster_kind}"), total=len(mine),
                               **{name: len(rows) for name, rows in by_status.items()}))
        lines += [texts.get("roster.behind_line", name=s.row["name"], version=s.signed["digest"][:SHORT], date=s.signed["at"][:10])
                  for s in by_status["behind"]]
        lines += [texts.get("roster.asked_line", name=s.row["name"]) for s in by_status["asked"]]
        if web_link(signing.settings, "x"):
            lines += [texts.get("roster.link_line", name=s.row["name"], link=web_link(signing.settings, s.row["code"]))
                      for s in mine if not s.current]
    unmatched = signing.unmatched()
    if unmatched:
        lines.append(texts.get("roster.unmatched_header"))
        lines += [
            texts.get("roster.unmatched_line", date=r["at"][:10], kind=r["kind"], name=r["name"], detail=r["classes"] or r["role"] or "—",
                      version=r["digest"][:SHORT], channel=r["channel"])
            for r in unmatched
        ]
    return lines


def write_rest_csv(signing: Signing, texts: Texts, destination: Path | str, bot_username: str = "") -> int:
    """Everyone on the roster who has not signed the current version, with their code, links and how a reminder
    reaches them (the column `reminder`: "by hand" for those `roster remind` cannot reach); returns how many."""
    rest = [s for s in signing.standings() if not s.current]
    destination = Path(destination)
    if destination.exists():
        destination.unlink()
    create_private_file(destination)
    with destination.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["kind", "name", "email", "class", "status", "signs", "code", "telegram_link", "web_link", "reminder",
                         "reminded_at"])
        for s in rest:
            row = s.row
            writer.writerow([row["kind"], row["name"], row["email"], row["classes"], texts.get(f"roster.statuses.{status_of(s)}"),
                             SIGNER_KIND[row["kind"]], row["code"], telegram_link(bot_username, row["code"]),
                             web_link(signing.settings, row["code"]), texts.get(f"roster.reach.{reach_of(row, signing.can_email())}"),
                             row.get("reminded_at") or ""])
    return len(rest)
