"""A simulated school year through the real bot, then the governors' review of it.

    python bench/simulate_year.py --out review.pdf [--start 2025-09-01 --days 365 --db year.db --seed 7]

Drives `bot.dialogue` (the real advisor, the real store) on a simulated clock: staff and parents ask the
project's own questions (bench/trust/…, the pack's eval.yaml and heldout.yaml, and a few the policy does not
cover), press 👍/👎, file breach reports and complaints, raise safeguarding alerts; the office answers
unanswered questions, acknowledges and closes cases; retention runs weekly (RETENTION_DAYS, 180 here, so the
first months' questions are gone by the end and the review reads their weekly counts). Then writes the PDF.
Tests import `simulate` for a simulated month (tests/test_review.py).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time as clock_time, timedelta, timezone
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.dialogue import Person, build_dialogue, plain_buttons  # noqa: E402
from bot.store import Store  # noqa: E402

QUESTION_SETS = ("bench/trust/dev/short.yaml", "bench/trust/test/short.yaml", "bench/trust/dev/long.yaml")
PACK_SETS = ("eval.yaml", "heldout.yaml")
SAFEGUARDING_SET = "bench/trust/dev/safeguarding.yaml"
# Questions the Clearwell policy does not cover, a few ways each: what the review's themes should find.
UNCOVERED = [
    ("staff", ["Can I use ChatGPT to write my pupils' end of year reports?", "is it ok to use AI to draft report comments",
               "are we allowed to paste pupils' work into an AI chatbot to mark it", "can I use an AI tool to write letters to parents"]),
    ("parent", ["Can my child wear a smartwatch with a camera in school?", "are smart watches allowed in class",
                "my son wants to bring his apple watch, is that allowed", "can pupils have smartwatches that take photos"]),
    ("parent", ["Will sports day be livestreamed for grandparents who can't come?", "can the school stream the nativity online",
                "is there a live stream of the school concert"]),
]
# Personal details people put in messages: none of them may appear in the review.
PERSONAL = [
    "Hi, I'm Siobhán O'Hara (siobhan.ohara@example.org, 07700 900123). ",
    "This is Олена Коваленко, mum of Jayden in 4B, reach me on @olena_k. ",
    "Mrs Tremaine here, call me on +44 20 7946 0958. ",
]
BREACHES = [
    "A member of staff accepted a friend request from a Year 6 pupil",
    "A teacher posted a photo of pupils on their personal Instagram",
    "A parent shared a video of the nativity with other children's faces on Facebook",
]
COMPLAINTS = [
    "The class blog shows my child's full name",
    "A teacher commented on my public Facebook post about the school",
]


class MemoEncoder:
    """The engine's encoder with a memory: the simulation asks the same pool of questions again and again, and
    encodes the pool once, in batches (a fraction of the cost per question), before the year starts."""

    def __init__(self, inner):
        self.inner = inner
        self.memo: dict[str, np.ndarray] = {}

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if missing:
            self.memo.update(zip(missing, self.inner.encode(missing, batch_size)))
        return np.stack([self.memo[t] for t in texts]) if texts else self.inner.encode([])


@contextmanager
def remembered_encodings(engine, texts: list[str]):
    """The engine encodes through a MemoEncoder warmed with `texts`; restored afterwards (tests share the engine)."""
    original = engine.encoder
    engine.encoder = MemoEncoder(original)
    try:
        engine.embed(texts)
        yield engine.encoder
    finally:
        engine.encoder = original


class SimClock:
    """The store's clock in a simulation: the time is whatever the simulation says it is."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@dataclass
class Tally:
    questions: int = 0
    answered: int = 0
    unanswered: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0
    office_answers: int = 0
    breaches: int = 0
    complaints: int = 0
    alerts: int = 0
    purged: int = 0
    seconds: float = 0.0
    cases: list[str] = field(default_factory=list)


def load_questions(pack_folder: Path) -> dict[str, list[dict]]:
    """The question pool by role: every set's questions with their expected clauses."""
    pool: dict[str, list[dict]] = {"staff": [], "parent": []}
    paths = [ROOT / p for p in QUESTION_SETS] + [pack_folder / p for p in PACK_SETS]
    for path in paths:
        if not path.exists():
            continue
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("questions", []):
            role = item.get("role") if item.get("role") in pool else "staff"
            pool[role].append({"q": item["q"], "expect": list(item.get("expect") or [])})
    for role, variants in UNCOVERED:
        pool[role] += [{"q": q, "expect": [], "uncovered": True} for q in variants]
    return pool


def uncovered() -> list[str]:
    return [q for _, variants in UNCOVERED for q in variants]


def safeguarding_messages() -> list[str]:
    data = yaml.safe_load((ROOT / SAFEGUARDING_SET).read_text(encoding="utf-8"))
    return [m["text"] for m in data["messages"] if m.get("safeguarding") and m.get("lang") == "en" and m.get("role") in ("staff", "parent")]


def busy(day: date) -> float:
    """How many questions a day brings, relative to a term-time weekday (holidays and weekends are quiet)."""
    if day.month == 8 or (day.month == 12 and day.day > 20) or (day.month == 4 and day.day < 15):
        return 0.2
    if day.weekday() >= 5:
        return 0.3
    return 1.6 if day.month == 9 else 1.0


def simulate(advisor, settings, db_path: Path, start: date, days: int, *, per_day: float = 4.0, seed: int = 7,
             retention_days: int | None = None, people: int = 40, sample: int = 0, log=None) -> tuple[Store, SimClock, Tally]:
    """Fill a database by driving the real dialogue through `days` simulated days from `start`. Returns the
    open store (on the simulated clock, left at the end of the period), the clock and what happened."""
    pool = load_questions(advisor.pack.folder)
    alerts = safeguarding_messages()
    if sample:  # a smaller pool (a quick test): `sample` questions per role, the uncovered ones always in
        chooser = random.Random(seed)
        pool = {role: chooser.sample([i for i in items if not i.get("uncovered")], sample) + [i for i in items if i.get("uncovered")]
                for role, items in pool.items()}
        alerts = chooser.sample(alerts, min(len(alerts), 5))
    texts = [item["q"] for items in pool.values() for item in items]
    texts += [p + q for p in PERSONAL for q in uncovered()] + alerts + BREACHES + COMPLAINTS
    with remembered_encodings(advisor.engine, texts):
        return _simulate(advisor, settings, db_path, start, days, pool, alerts, per_day, seed, retention_days, people, log)


def _simulate(advisor, settings, db_path, start, days, pool, alerts, per_day, seed, retention_days, people, log):
    rng = random.Random(seed)
    clock = SimClock(datetime.combine(start, clock_time(7, 0), timezone.utc))
    store = Store(db_path, clock=clock)
    settings = replace(settings, database_path=db_path, office_notify="digest")
    dialogue = build_dialogue(advisor, store, settings)
    office = dialogue.office
    crowd = [Person("console", str(5000 + n), str(5000 + n), f"Person {n}") for n in range(people)]
    roles = {p.user_id: ("staff" if n % 3 else "parent") for n, p in enumerate(crowd)}
    tally, began = Tally(), time.monotonic()
    expected: dict[int, list[str]] = {}  # unanswered item id → clauses the question's set expects
    due: list[tuple[datetime, str, str]] = []  # (when, "ack" | "close", ref)

    def say(person: Person, **kwargs):
        return dialogue.handle(person, **kwargs)

    for offset in range(days):
        day = start + timedelta(days=offset)
        clock.moment = datetime.combine(day, clock_time(7, 0), timezone.utc)
        _office_work(office, store, expected, due, clock, rng, tally)
        if day.weekday() == 0 and retention_days:
            tally.purged += store.privacy.purge(retention_days, settings.report_retention_days)["questions"]
        moments = sorted(rng.uniform(8, 21) for _ in range(_poisson(rng, per_day * busy(day))))
        for hour in moments:
            clock.moment = datetime.combine(day, clock_time(0), timezone.utc) + timedelta(hours=hour)
            person = rng.choice(crowd)
            role = roles[person.user_id]
            if store.people.role_of(store.people.user_key(person.channel, person.user_id)) is None:
                say(person, action=f"role:{role}")
            roll = rng.random()
            if roll < 0.02 and role == "staff":
                _breach(dialogue, person, rng, tally)
            elif roll < 0.035 and role == "parent":
                _complaint(dialogue, person, rng, tally)
            elif roll < 0.045:
                out = say(person, text=rng.choice(alerts))
                if any(b.action == "sg:alert" for b in plain_buttons(out)):
                    say(person, action="sg:alert")
                    tally.alerts += 1
            else:
                _question(dialogue, person, role, pool, rng, tally, expected, store)
        for ref in _new_cases(store, tally):
            opened = clock.moment
            due.append((opened + timedelta(hours=rng.uniform(1, 40)), "ack", ref))
            due.append((opened + timedelta(days=rng.uniform(2, 20)), "close", ref))
        if log and offset % 30 == 29:
            log(f"day {offset + 1}: {tally.questions} questions, {time.monotonic() - began:.0f}s")
    clock.moment = datetime.combine(start + timedelta(days=days - 1), clock_time(22, 0), timezone.utc)
    tally.seconds = time.monotonic() - began
    return store, clock, tally


def _poisson(rng: random.Random, mean: float) -> int:
    count, total = 0, rng.expovariate(1)
    while total < mean:
        count += 1
        total += rng.expovariate(1)
    return count


def _question(dialogue, person, role, pool, rng, tally, expected, store) -> None:
    item = rng.choice(pool[role])
    text = item["q"]
    if rng.random() < 0.04:  # someone who signs their message, about something the policy does not cover
        item = {"q": rng.choice(uncovered()), "expect": []}
        text = rng.choice(PERSONAL) + item["q"]
    out = dialogue.handle(person, text=text)
    tally.questions += 1
    buttons = plain_buttons(out)
    thumbs = {b.label: b.action for b in buttons if b.action.startswith("fb:")}
    if thumbs:
        tally.answered += 1
        answer = next((o.answer for o in out if o.answer is not None and o.answer.matches), None)
        top = answer.matches[0].clause.id if answer else ""
        wrong = item["expect"] and top not in item["expect"]
        if rng.random() < (0.45 if wrong else 0.08):
            dialogue.handle(person, action=thumbs["👎"])
            tally.thumbs_down += 1
        elif rng.random() < 0.5:
            dialogue.handle(person, action=thumbs["👍"])
            tally.thumbs_up += 1
    else:
        opened = store.unanswered.items("open")
        if opened and opened[-1]["text"] == text:
            tally.unanswered += 1
            expected[opened[-1]["id"]] = item["expect"]


def _office_work(office, store, expected, due, clock, rng, tally) -> None:
    """The office's morning: unanswered questions from before today, and cases whose time has come."""
    for item in store.unanswered.items("open"):
        if item["created"] >= clock.moment.isoformat()[:10]:
            continue
        clauses = expected.pop(item["id"], [])
        if clauses and rng.random() < 0.8:
            office.answer_with_clause(item["id"], clauses[0], "office")
            tally.office_answers += 1
        elif rng.random() < 0.3:
            office.answer_with_text(item["id"], "The policy does not cover this yet; please ask the head for now.", "office")
            tally.office_answers += 1
        else:
            office.dismiss(item["id"], "office")
    for entry in sorted(d for d in due if d[0] <= clock.moment):
        due.remove(entry)
        when, action, ref = entry
        saved = clock.moment
        clock.moment = when
        if action == "ack":
            office.acknowledge(ref, "office")
        else:
            office.close(ref, "Dealt with.", "office")
        clock.moment = saved


def _new_cases(store, tally) -> list[str]:
    fresh = []
    for case in store.cases.with_status(("open",)):
        if case.ref not in tally.cases:
            tally.cases.append(case.ref)
            fresh.append(case.ref)
    return fresh


def _breach(dialogue, person, rng, tally) -> None:
    steps = [dict(text="/report"), dict(text=rng.choice(BREACHES)), dict(action="f:where:facebook"), dict(text="Monday"),
             dict(text="a member of staff"), dict(text="no"), dict(action="f:pupil_risk:none"), dict(action="f:evidence:done"),
             dict(action=rng.choice(["f:anonymous:named", "f:anonymous:anonymous"])), dict(action="f:clauses:yes"),
             dict(action="f:confirm:send")]
    out = [dialogue.handle(person, **step) for step in steps][-1]
    if any("BR-" in o.text for o in out):
        tally.breaches += 1
    else:
        dialogue.handle(person, text="/cancel")


def _complaint(dialogue, person, rng, tally) -> None:
    steps = [dict(text="/complaint"), dict(action="f:route:continue"), dict(text=rng.choice(COMPLAINTS)), dict(text="Year 3"),
             dict(text="skip"), dict(text="Emailed the teacher"), dict(text="Take it down"), dict(text="Reply here"), dict(action="f:confirm:send")]
    out = [dialogue.handle(person, **step) for step in steps][-1]
    if any("CR-" in o.text for o in out):
        tally.complaints += 1
    else:
        dialogue.handle(person, text="/cancel")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="review.pdf", help="where to write the review (PDF)")
    parser.add_argument("--db", default="", help="the database to fill (default: a new one next to --out)")
    parser.add_argument("--start", default="2025-09-01", help="the first simulated day (ISO)")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=float, default=4.0, help="questions on a term-time weekday, on average")
    parser.add_argument("--retention-days", type=int, default=180, help="RETENTION_DAYS (default 180: half the year's questions are deleted by the end)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--review-only", action="store_true", help="write the review of an already simulated --db")
    args = parser.parse_args(argv)

    from bot.review import write_review
    from bot.runtime import build_advisor
    from bot.settings import Settings

    settings = Settings(cache_dir=ROOT / "data" / "cache", school_name="Clearwell School", retention_days=args.retention_days)
    advisor = build_advisor(settings, office_answers=False)
    out = Path(args.out)
    db = Path(args.db) if args.db else out.with_suffix(".db")
    start = date.fromisoformat(args.start)
    if args.review_only:
        store = Store(db)
    else:
        for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            stale.unlink(missing_ok=True)
        store, clock, tally = simulate(advisor, settings, db, start, args.days, per_day=args.per_day, seed=args.seed,
                                       retention_days=args.retention_days, log=lambda line: print(line, flush=True))
        print(f"simulated {args.days} days in {tally.seconds:.0f}s: {tally.questions} questions ({tally.answered} answered,"
              f" {tally.unanswered} to the office, {tally.office_answers} answered by it), {tally.thumbs_up} 👍 {tally.thumbs_down} 👎,"
              f" {tally.breaches} breach reports, {tally.complaints} complaints, {tally.alerts} safeguarding alerts;"
              f" {tally.purged} questions deleted by retention")
    began = time.monotonic()
    path = write_review(store, advisor.engine, settings, start, start + timedelta(days=args.days - 1), out)
    store.close()
    print(f"review written in {time.monotonic() - began:.1f}s: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
