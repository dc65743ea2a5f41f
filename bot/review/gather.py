"""From what the store holds over a period to the review's numbers (a `Review`), with no model and no I/O:
`read_sources` takes the rows out of the store once; `gather` turns them into figures.

Question counts come from the anonymous weekly counts (bot/store/weekly.py), which outlive RETENTION_DAYS, so
a year's review is whole even when the questions themselves are gone; the questions still held add their
wording (themes, examples). Signatures come from a `signatures` table when the store has one (columns
`version`, `kind` = staff | parent, `status` = signed | declined | asked); until then the review says none
are recorded."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median

from bot.store.weekly import QUESTION_OUTCOMES, week_of
from knowledge.pack import Pack

CASE_TABLES = {"breach": "breach_reports", "complaint": "complaint_referrals", "safeguarding": "safeguarding_alerts"}
ROLES = ("staff", "parent")
TOP_CLAUSES = 10
MIN_TROUBLE = 2  # a clause is listed as confusing once people stumbled on it at least this often


@dataclass(frozen=True)
class Sources:
    """The rows a review is built from, as the store gives them."""

    weekly: list[dict]  # weekly_counts rows in the period
    unanswered: list[dict]  # unanswered rows created in the period (text still held)
    cases: dict[str, list[dict]]  # kind → rows created in the period
    signatures: list[dict] | None = None  # None: the store has no signatures table
    oldest_question: str = ""  # when the oldest question still held was asked ("" if none)


@dataclass(frozen=True)
class ClauseAsked:
    clause: str  # id
    label: str
    title: str
    by_role: dict[str, int]
    halves: tuple[int, int]  # first half of the period, second half

    @property
    def total(self) -> int:
        return sum(self.by_role.values())


@dataclass(frozen=True)
class Confusing:
    clause: str
    label: str
    title: str
    asked: int
    hedged: int  # the bot was unsure and named this clause as its nearest
    thumbs_down: int
    thumbs_up: int
    redirected: int  # the office answered with another clause than this one

    @property
    def trouble(self) -> int:
        return self.hedged + self.thumbs_down + self.redirected


@dataclass(frozen=True)
class CaseSummary:
    kind: str
    count: int
    open: int
    by_clause: list[tuple[str, int]]  # label, count (breach reports; complaints when a clause was found)
    hours_to_acknowledge: list[float]
    hours_to_close: list[float]

    @staticmethod
    def middle(values: list[float]) -> float | None:
        return round(median(values), 1) if values else None


@dataclass(frozen=True)
class VersionCoverage:
    version: str
    kind: str  # staff | parent
    signed: int
    declined: int
    asked: int


@dataclass
class Review:
    school: str
    policy_title: str
    pack_version: str
    start: date
    end: date
    weeks: list[str]  # Mondays, ISO
    questions_by_week: dict[str, list[int]]  # role → count per week
    outcomes: dict[str, int]
    clauses: list[ClauseAsked]  # most asked first
    confusing: list[Confusing]
    cases: dict[str, CaseSummary]
    coverage: list[VersionCoverage] | None  # None: no signatures recorded
    unanswered: list[dict]  # the questions still held (text, role, created, nearest, answer_clause)
    oldest_question: str
    themes: list = field(default_factory=list)  # bot.review.themes.Theme, filled with the model
    health: object = None  # bot.review.health.PackHealth

    @property
    def questions(self) -> int:
        """Questions about the policy (answered, or not); out of scope and safeguarding messages are not."""
        return sum(sum(counts) for counts in self.questions_by_week.values())

    @property
    def answered(self) -> int:
        return self.outcomes.get("answered", 0) + self.outcomes.get("office_answer", 0)


def read_sources(store, start: date, end: date) -> Sources:
    """The rows of the period [start, end] (whole days, UTC) from the store."""
    since, until = start.isoformat(), (end + timedelta(days=1)).isoformat()
    with store.connection.reading() as db:
        cases = {
            kind: list(db[table].rows_where("created >= ? AND created < ?", [since, until], order_by="created"))
            for kind, table in CASE_TABLES.items()
        }
        unanswered = list(db["unanswered"].rows_where("created >= ? AND created < ?", [since, until], order_by="id"))
        signatures = list(db["signatures"].rows) if "signatures" in db.table_names() else None
        oldest = db.execute("SELECT min(created) FROM questions").fetchone()[0] or ""
    weekly = store.weekly.rows(week_of(start), end.isoformat())
    return Sources(weekly, unanswered, cases, signatures, oldest)


def gather(pack: Pack, sources: Sources, start: date, end: date, complaint_clauses: dict[str, str] | None = None) -> Review:
    """The review's figures. `complaint_clauses` maps a complaint's reference to the clause its words are
    nearest to (found with the model, bot/review/build.py); without it complaints are counted without one."""
    weeks = _weeks(start, end)
    middle = weeks[len(weeks) // 2] if weeks else ""
    by_week: dict[str, list[int]] = {role: [0] * len(weeks) for role in ROLES}
    position = {w: n for n, w in enumerate(weeks)}
    outcomes: Counter = Counter()
    asked: dict[str, Counter] = defaultdict(Counter)
    halves: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    trouble: dict[str, Counter] = defaultdict(Counter)
    for row in sources.weekly:
        n, outcome, clause, role = row["n"], row["outcome"], row["clause"], row["role"] or "staff"
        outcomes[outcome] += n
        if outcome in QUESTION_OUTCOMES and outcome not in ("out_of_scope", "safeguarding"):
            if row["week"] in position:
                by_week.setdefault(role, [0] * len(weeks))[position[row["week"]]] += n
            if clause and outcome != "unanswered":
                asked[clause][role] += n
                halves[clause][row["week"] >= middle] += n
        if clause:
            trouble[clause][outcome] += n
    clauses = [
        ClauseAsked(cid, *_named(pack, cid), dict(by_role), tuple(halves[cid]))
        for cid, by_role in asked.items()
    ]
    clauses.sort(key=lambda c: (-c.total, c.label))
    confusing = [
        Confusing(
            cid, *_named(pack, cid), sum(asked[cid].values()) + counts["unanswered"], counts["unanswered"],
            counts["thumbs_down"], counts["thumbs_up"], counts["office_redirected"],
        )
        for cid, counts in trouble.items()
    ]
    confusing = sorted((c for c in confusing if c.trouble >= MIN_TROUBLE), key=lambda c: (-c.trouble, c.label))
    return Review(
        school=pack.school,
        policy_title=pack.title,
        pack_version=pack.version,
        start=start,
        end=end,
        weeks=weeks,
        questions_by_week=by_week,
        outcomes=dict(outcomes),
        clauses=clauses,
        confusing=confusing,
        cases={kind: _case_summary(pack, kind, rows, complaint_clauses or {}) for kind, rows in sources.cases.items()},
        coverage=_coverage(sources.signatures),
        unanswered=[_unanswered(row) for row in sources.unanswered],
        oldest_question=sources.oldest_question,
    )


def _weeks(start: date, end: date) -> list[str]:
    first = date.fromisoformat(week_of(start))
    return [(first + timedelta(weeks=n)).isoformat() for n in range((end - first).days // 7 + 1)]


def _named(pack: Pack, clause_id: str) -> tuple[str, str]:
    clause = pack.clause(clause_id)
    return (clause.label, clause.title) if clause else (clause_id, "(no longer in the policy)")


def _hours(start: str, end: str) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() / 3600


def _case_summary(pack: Pack, kind: str, rows: list[dict], complaint_clauses: dict[str, str]) -> CaseSummary:
    by_clause: Counter = Counter()
    for row in rows:
        if kind == "breach":
            ids = json.loads(row.get("clauses") or "[]") or [""]
        elif kind == "complaint":
            ids = [complaint_clauses.get(row["ref"], "")]
        else:
            ids = []  # safeguarding alerts: counts and times only
        for cid in ids:
            by_clause[_named(pack, cid)[0] if cid else "no clause named"] += 1
    acknowledge = [h for h in (_hours(r["created"], r.get("acknowledged_at") or r.get("closed_at") or "") for r in rows) if h is not None]
    close = [h for h in (_hours(r["created"], r.get("closed_at") or "") for r in rows) if h is not None]
    return CaseSummary(
        kind,
        len(rows),
        sum(1 for r in rows if r.get("status") != "closed"),
        by_clause.most_common(),
        acknowledge,
        close,
    )


SIGNER_KINDS = {"agreement": "parent", "acknowledgement": "staff"}


def _coverage(signatures: list[dict] | None) -> list[VersionCoverage] | None:
    if not signatures:
        return None
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for row in signatures:  # bot/store/signatures.py: a digest per version, agreement (parents) or acknowledgement (staff)
        version = str(row.get("digest") or row.get("version") or "?")[:12]
        kind = SIGNER_KINDS.get(row.get("kind") or "", row.get("kind") or "staff")
        counts[(version, kind)][row.get("outcome") or row.get("status") or "signed"] += 1
    return [VersionCoverage(v, k, c["signed"], c["declined"], c["asked"]) for (v, k), c in sorted(counts.items())]


def _unanswered(row: dict) -> dict:
    suggestions = json.loads(row.get("suggestions") or "[]") if isinstance(row.get("suggestions"), str) else row.get("suggestions") or []
    return {
        "id": row["id"],
        "text": row["text"],
        "role": row["role"],
        "created": row["created"],
        "status": row["status"],
        "nearest": suggestions[0] if suggestions else "",
        "answer_clause": row.get("answer_clause") or "",
    }
