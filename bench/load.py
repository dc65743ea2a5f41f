"""Load benchmark: the real bot (real model, real SQLite, real PTB Application over HTTP) under a burst of
questions from many people at once, through the fake Telegram Bot API on 127.0.0.1.

    python bench/load.py                 # 200 people, 3 questions each, all sent at once
    python bench/load.py --users 400 --questions 3

Each simulated person sends all their questions at the same moment. While the burst is being worked
through, a newcomer sends /start and someone reports a child at risk: their latencies are printed too, to
show the event loop stays responsive. Prints answers per second, p50/p95/max latency from update to reply,
and how many questions went unanswered (must be 0; the exit status is 1 otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the fake Bot API lives with the tests

from fake_bot_api import FakeBotApi, running  # noqa: E402

QUESTIONS = [
    "Can I accept a friend request from a pupil?",
    "May I post photos of the school play on Facebook?",
    "Can I message a parent on WhatsApp?",
    "Am I allowed to use my personal phone in class?",
    "Can I share pupils' work on the school Twitter account?",
    "What should I do if a pupil sends me a message on Instagram?",
    "Can parents film the nativity play?",
    "Is it ok to mention the school in my personal blog?",
    "Can I use a pupil's photo without consent?",
    "Can I follow former pupils on TikTok?",
    "Who approves new school social media accounts?",
    "Can I post about a difficult day at work?",
]
SAFEGUARDING = "I think a pupil is being groomed online by an adult"
# Not flagged by the safeguarding rules, only by the model: it rides the wider triage lane (intents/triage.py).
MODEL_FLAGGED = "one of my year 10s posted a goodbye message on insta and isn't answering anyone"
OFFICE_CHAT = -1001
FIRST_USER = 100_000


def reply_times(fake: FakeBotApi) -> dict[str, list[float]]:
    """When each message to each chat was sent (the fake's clock is time.time(), like ours)."""
    times: dict[str, list[float]] = {}
    for call in fake.calls:
        if call.ok and call.method == "sendMessage":
            times.setdefault(str(call.params.get("chat_id")), []).append(call.time)
    return times


def replies_to(fake: FakeBotApi, chat_id: int) -> list[float]:
    return reply_times(fake).get(str(chat_id), [])


async def wait_until(predicate, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(step)
    return predicate()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def bench(users: int, questions_each: int, timeout: float) -> int:
    from bot.runtime import build_advisor
    from bot.settings import Settings
    from bot.store import Store
    from bot.telegram.app import build_application

    started = time.monotonic()
    base = Settings(cache_dir=REPO / "data" / "cache", school_name="Clearwell School")
    advisor = build_advisor(base)
    print(f"model and pack loaded in {time.monotonic() - started:.1f}s")
    model_seconds = [0.0]
    respond_many = advisor.respond_many

    def timed_respond_many(messages, role="staff"):  # how much of the run the model itself takes
        began = time.perf_counter()
        try:
            return respond_many(messages, role)
        finally:
            model_seconds[0] += time.perf_counter() - began

    advisor.respond_many = timed_respond_many

    with tempfile.TemporaryDirectory() as tmp, FakeBotApi() as fake:
        fake.add_chat(OFFICE_CHAT, "supergroup", title="Office")
        settings = replace(
            base,
            database_path=Path(tmp) / "load.db",
            telegram_bot_token=fake.token,
            telegram_base_url=fake.base_url,
            office_chat_id=OFFICE_CHAT,
            admin_user_ids=(1,),
            rate_limit_per_minute=max(20, questions_each + 2),
        )
        store = Store(settings.database_path)
        people = [FIRST_USER + i for i in range(users)]
        warm_up, newcomer, at_risk, worried = FIRST_USER - 1, FIRST_USER - 2, FIRST_USER - 3, FIRST_USER - 4
        for person in [warm_up, at_risk, worried, *people]:  # everyone has chosen "staff" already
            store.people.set_role(store.people.user_key("telegram", person), "staff")

        application = build_application(settings, advisor, store=store)
        async with running(application):
            # How many messages each question's reply takes (an answer, or "not sure" plus extras).
            messages_for: dict[str, int] = {}
            for question in QUESTIONS:
                before = len(replies_to(fake, warm_up))
                fake.send_text(warm_up, question)
                await wait_until(lambda: len(replies_to(fake, warm_up)) > before, 60)
                await asyncio.sleep(0.5)  # a reply may come in several messages
                messages_for[question] = len(replies_to(fake, warm_up)) - before

            asked: dict[int, list[tuple[str, float]]] = {}
            burst_start = time.time()
            for n, person in enumerate(people):
                asked[person] = []
                for k in range(questions_each):
                    question = QUESTIONS[(n + k) % len(QUESTIONS)]
                    asked[person].append((question, time.time()))
                    fake.send_text(person, question)
                if n == users // 2:  # in the thick of it: a newcomer and a safeguarding message
                    probe_start = time.time()
                    fake.send_text(newcomer, "/start")
                    fake.send_text(at_risk, SAFEGUARDING)
                    fake.send_text(worried, MODEL_FLAGGED)

            def expected(person: int) -> int:
                return sum(messages_for[q] for q, _ in asked[person])

            def all_answered() -> bool:
                times = reply_times(fake)
                return all(len(times.get(str(p), [])) >= expected(p) for p in people)

            await wait_until(all_answered, timeout, step=0.5)
            await wait_until(lambda: replies_to(fake, newcomer) and replies_to(fake, at_risk) and replies_to(fake, worried), 10)

        latencies, unanswered, last_reply = [], 0, burst_start
        every_reply = reply_times(fake)
        for person in people:
            times = every_reply.get(str(person), [])
            seen = 0
            for question, sent in asked[person]:
                seen += messages_for[question]  # one person's replies come in the order they asked
                if len(times) >= seen:
                    latencies.append(times[seen - 1] - sent)
                    last_reply = max(last_reply, times[seen - 1])
                else:
                    unanswered += 1
        answered = len(latencies)
        elapsed = max(last_reply - burst_start, 1e-9)
        newcomer_times, at_risk_times, worried_times = replies_to(fake, newcomer), replies_to(fake, at_risk), replies_to(fake, worried)

    print(f"users: {users}, questions each: {questions_each}, questions: {users * questions_each}")
    print(f"answers per second: {answered / elapsed:.1f}  (all answered {elapsed:.1f}s after the burst began)")
    if latencies:
        print(
            f"latency update→reply: p50 {statistics.median(latencies):.2f}s, "
            f"p95 {percentile(latencies, 0.95):.2f}s, max {max(latencies):.2f}s"
        )
    show = lambda times: f"{times[0] - probe_start:.2f}s" if times else "NO REPLY"  # noqa: E731
    print(
        f"during the burst: /start answered in {show(newcomer_times)}, safeguarding (rules) in {show(at_risk_times)}, "
        f"safeguarding (model only) in {show(worried_times)}"
    )
    batches = application.bot_data["dialogue"].advisor.batches_run
    print(f"answer batches run: {batches} (model busy {model_seconds[0]:.1f}s in all)")
    print(f"unanswered: {unanswered}")
    return 0 if unanswered == 0 and newcomer_times and at_risk_times and worried_times else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200, help="simulated people (default 200)")
    parser.add_argument("--questions", type=int, default=3, help="questions each person sends at once (default 3)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for every answer")
    args = parser.parse_args(argv)
    return asyncio.run(bench(args.users, args.questions, args.timeout))


if __name__ == "__main__":
    raise SystemExit(main())
