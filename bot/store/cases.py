"""Cases: breach reports, complaint referrals and safeguarding alerts, each with a reference (BR-2026-0001)
whose prefix says which table holds it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.store.connection import Room

CASE_STATUSES = ("open", "acknowledged", "closed")
OPEN_STATUSES = ("open", "acknowledged")


@dataclass(frozen=True)
class CaseKind:
    """One kind of case: its name in the code and the texts, its reference prefix and its table."""

    name: str  # breach | complaint | safeguarding
    prefix: str  # BR | CR | SA
    table: str


# The one map of case kinds, by name.
CASE_KINDS = {
    kind.name: kind
    for kind in (
        CaseKind("breach", "BR", "breach_reports"),
        CaseKind("complaint", "CR", "complaint_referrals"),
        CaseKind("safeguarding", "SA", "safeguarding_alerts"),
    )
}


def kind_of_ref(ref: str) -> CaseKind | None:
    """The kind a reference names by its prefix ("br-2026-0001" → breach), or None."""
    prefix = (ref or "").strip().upper().split("-", 1)[0]
    return next((kind for kind in CASE_KINDS.values() if kind.prefix == prefix), None)


@dataclass(frozen=True)
class Case:
    """One breach report, complaint referral or safeguarding alert, as stored."""

    ref: str
    kind: str  # breach | complaint | safeguarding
    row: dict

    @property
    def status(self) -> str:
        return self.row.get("status") or "open"

    @property
    def route(self) -> str:
        """Who handles it: the office, or the escalation chat (a case about the headteacher or the office)."""
        return self.row.get("routed_to") or "office"


def _stored_form(fields: dict) -> dict:
    """Lists and dicts as JSON, booleans as 0/1."""
    row = dict(fields)
    for key, value in row.items():
        if isinstance(value, (list, tuple, dict)):
            row[key] = json.dumps(value)
        elif isinstance(value, bool):
            row[key] = int(value)
    return row


class Cases(Room):
    def _next_ref(self, prefix: str, year: int) -> str:
        key = f"{prefix}-{year}"
        with self.atomic() as db:
            counter = self.row("case_counters", key)
            number = (counter["last"] if counter else 0) + 1
            db["case_counters"].upsert({"prefix_year": key, "last": number}, pk="prefix_year")
        return f"{prefix}-{year}-{number:04d}"

    def create(self, kind: str, fields: dict) -> str:
        """Store a new case (in the caller's transaction, if one is open); returns its reference."""
        case_kind = CASE_KINDS[kind]
        now = self.now()
        with self.atomic() as db:
            ref = self._next_ref(case_kind.prefix, now.year)
            blank = {"acknowledged_by": "", "acknowledged_at": "", "closed_by": "", "closed_at": "", "close_note": ""}
            row = {"ref": ref, "created": self.stamp(now), "status": "open", **blank, **fields}
            db[case_kind.table].insert(_stored_form(row))
        return ref

    def get(self, ref: str) -> Case | None:
        ref = (ref or "").strip().upper()
        kind = kind_of_ref(ref)
        row = self.row(kind.table, ref) if kind else None
        return Case(ref, kind.name, row) if row else None

    def with_status(self, statuses: tuple[str, ...] = OPEN_STATUSES) -> list[Case]:
        """Cases of every kind in these statuses, oldest first."""
        marks = ",".join("?" for _ in statuses)
        return sorted(self._where(f"status IN ({marks})", list(statuses)), key=lambda c: c.row["created"])

    def of_reporter(self, user_key: str) -> list[Case]:
        return self._where("reporter_key = ?", [user_key])

    def _where(self, where: str, params: list) -> list[Case]:
        out: list[Case] = []
        with self.reading() as db:
            for kind in CASE_KINDS.values():
                for row in db[kind.table].rows_where(where, params, order_by="created"):
                    out.append(Case(row["ref"], kind.name, row))
        return out

    def update(self, ref: str, changes: dict, *, unless_status: str = "") -> bool:
        """Change a case; False if there is none, or it is in `unless_status`."""
        with self.atomic() as db:
            case = self.get(ref)
            if case is None or (unless_status and case.status == unless_status):
                return False
            db[CASE_KINDS[case.kind].table].update(case.ref, changes)
            return True
