"""Load benchmark: the real bot (real model, real SQLite, real PTB Application over HTTP) under a burst of
questions from many people at once, through the fake Telegram Bot API on 127.0.0.1 — and, with --mode web or
--mode mixed, the web chat too, in one `policybot serve`-style server process (bot/web/serve.py build_server on
uvicorn, run as a subprocess of this script) that this script drives from outside.

    python bench/load.py                                  # Telegram alone: 200 people × 3 questions at once
    python bench/load.py --mode mixed                     # 300 Telegram users + 300 web sessions × 3 questions
    python bench/load.py --mode web --sessions 50 --questions 2
    python bench/load.py --mode mixed --steady 30 --seconds 60 [--profile]

Web and mixed modes ask the 800-odd distinct questions of the Clearwell question sets (the pack's eval and
heldout sets, bench/trust/*/). A web session is a browser with forms: GET / (cookie, CSRF token), a role
(POST /send action=role:…), then its questions one by one (POST /send text=…, following the redirect); a
question counts as answered when the page after the redirect holds a reply to it. Telegram users send all
their questions at once; each distinct Telegram question is asked once beforehand, to learn how many messages
its reply takes. Midway a safeguarding message goes in on each channel. Printed, next to the targets (burst:
≥ 200 answers/s, nothing lost, safeguarding ≤ 1 s; steady 30/s mixed: p95 ≤ 1 s): answers per second, drain
time, p50/p95/max per answer, what was lost and why, the safeguarding latency, and with --profile the server's
cProfile (every thread) top functions. It prints numbers, it is not a test; the exit status is 1 when
anything was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]  # this checkout's code (not an installed copy); the fake Bot API

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


def time_the_model(advisor) -> list[float]:
    """Wrap `advisor.respond_many` to add up how much of the run the model takes; the total is [0] of the list."""
    seconds = [0.0]
    respond_many = advisor.respond_many

    def timed_respond_many(messages, role="staff"):
        began = time.perf_counter()
        try:
            return respond_many(messages, role)
        finally:
            seconds[0] += time.perf_counter() - began

    advisor.respond_many = timed_respond_many
    return seconds


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
    model_seconds = time_the_model(advisor)

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
    batches = application.bot_data["answerer"].batches_run
    print(f"answer batches run: {batches} (model busy {model_seconds[0]:.1f}s in all)")
    print(f"unanswered: {unanswered}")
    return 0 if unanswered == 0 and newcomer_times and at_risk_times and worried_times else 1


# --- web and mixed modes: one `policybot serve`-style process (web chat + Telegram bot), driven from outside ---

WEB_FIRST_TG_USER = 200_000  # Telegram users of the web/mixed modes (roles set before the server starts)
WARM_FIRST_TG_USER = 900_000  # one per distinct Telegram question, asked once before the burst
QUESTION_FILES = ["knowledge/packs/clearwell/eval.yaml", "knowledge/packs/clearwell/heldout.yaml", "bench/trust/*/*.yaml"]
ENTRY = re.compile(r'<article class="entry (\w+) ?([\w-]*)" data-n="(\d+)"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def load_questions() -> list[str]:
    """Every distinct question of the Clearwell question sets (the pack's evaluation sets, the trust sets'
    `questions:`; their safeguarding `messages:` are left out: the burst is questions)."""
    import yaml

    seen: dict[str, None] = {}
    for pattern in QUESTION_FILES:
        for path in sorted(REPO.glob(pattern)):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for item in data.get("questions") or []:
                text = " ".join(str(item.get("q", "")).split()) if isinstance(item, dict) else ""
                if text:
                    seen.setdefault(text, None)
    return list(seen)


def child(config_path: str) -> int:
    """The server: the web chat (bot/web/app.py build_app) and, with a token, the Telegram bot in the same loop,
    as `policybot serve` runs them (bot/web/serve.py), on uvicorn; stopped by SIGTERM, it writes its numbers."""
    import json

    cfg = json.loads(Path(config_path).read_text())
    from bot.runtime import build_advisor
    from bot.settings import Settings
    from bot.web.serve import bind, build_server, quiet_exit_server, server_config

    settings = Settings(
        cache_dir=REPO / "data" / "cache", school_name="Clearwell School", database_path=Path(cfg["db"]),
        web_host="127.0.0.1", web_port=cfg["port"], web_trusted_proxies=("127.0.0.1/32",),
        rate_limit_per_minute=cfg["rate_limit"], log_level="WARNING",
        telegram_bot_token=cfg.get("token", ""), telegram_base_url=cfg.get("base_url", Settings.telegram_base_url),
        office_chat_id=OFFICE_CHAT if cfg.get("token") else Settings.office_chat_id, admin_user_ids=(1,),
    )
    sock = bind(settings)
    advisor = build_advisor(settings)
    model_seconds = time_the_model(advisor)
    application = None
    if settings.telegram_bot_token:
        from bot.telegram.app import build_application

        application = build_application(settings, advisor)
    app = build_server(settings, advisor, application)
    server = quiet_exit_server()(server_config(app))  # as `policybot serve` configures it
    profiles = []
    if cfg.get("profile"):  # cProfile sees one thread: a profiler for each (the event loop's, the worker threads')
        import cProfile
        import threading

        def start_in_thread(*_):
            sys.setprofile(None)
            profile = cProfile.Profile()
            profiles.append(profile)
            profile.enable()

        threading.setprofile(start_in_thread)
        start_in_thread()
    began = time.process_time()
    server.run(sockets=[sock])
    cpu = time.process_time() - began
    if profiles:
        import pstats

        for profile in profiles:
            profile.disable()
        stats = pstats.Stats(profiles[0])
        for profile in profiles[1:]:
            try:
                stats.add(profile)
            except (TypeError, ValueError):  # a thread that never ran anything
                pass
        stats.dump_stats(cfg["profile"])
    try:
        batches = application.bot_data["answerer"].batches_run if application else 0
    except (KeyError, AttributeError):
        batches = 0
    Path(cfg["stats"]).write_text(json.dumps({"model_seconds": model_seconds[0], "batches": batches, "cpu": cpu}))
    return 0


class WebSession:
    """One browser: a cookie, a CSRF token from the form, its own address (X-Forwarded-For through a trusted
    proxy, so the per-address limit sees many households, not one)."""

    def __init__(self, site: str, number: int, timeout: float):
        import httpx

        address = f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"
        self.client = httpx.AsyncClient(base_url=site, follow_redirects=True, timeout=timeout,
                                        headers={"X-Forwarded-For": address})
        self.csrf = ""
        self.last = 0
        self.why = ""  # why the last question counted as lost

    def read(self, html: str) -> list[tuple[str, str, int]]:
        found = CSRF.search(html)
        if found:
            self.csrf = found.group(1)
        return [(speaker, kind, int(n)) for speaker, kind, n in ENTRY.findall(html)]

    async def open(self, role: str) -> None:
        self.read((await self.client.get("/")).text)
        entries = self.read((await self.client.post("/send", data={"csrf": self.csrf, "action": f"role:{role}"})).text)
        self.last = max((n for _, _, n in entries), default=0)

    async def ask(self, text: str) -> tuple[str, float, float]:
        """(outcome, sent, answered): 'answered' when the page after the redirect holds a reply to it, 'held' when
        it holds only the chat's own notice (a limit), 'lost' otherwise."""
        sent = time.time()
        try:
            response = await self.client.post("/send", data={"csrf": self.csrf, "text": text})
        except Exception as exc:  # a timeout, a refused connection: lost
            self.why = type(exc).__name__
            return "lost", sent, time.time()
        done = time.time()
        entries = [e for e in self.read(response.text) if e[2] > self.last]
        self.last = max([self.last] + [n for _, _, n in entries])
        replies = [kind for speaker, kind, _ in entries if speaker == "bot"]
        if response.status_code != 200 or not replies:
            self.why = f"HTTP {response.status_code}, new entries {[(s, k) for s, k, _ in entries]}"
            return "lost", sent, done
        if all(kind == "notice" for kind in replies):
            return "held", sent, done
        return ("safeguarding" if "safeguarding" in replies else "answered"), sent, done

    async def close(self) -> None:
        await self.client.aclose()


def summary(name: str, latencies: list[float]) -> str:
    if not latencies:
        return f"{name}: no answers"
    return (f"{name}: {len(latencies)} answers, p50 {statistics.median(latencies):.2f}s, "
            f"p95 {percentile(latencies, 0.95):.2f}s, max {max(latencies):.2f}s")


def print_profile(path: Path, top: int = 25) -> None:
    import io
    import pstats

    if not path.exists():
        print("no profile was written")
        return
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(str(path), stream=out).strip_dirs().sort_stats(order).print_stats(top)
        lines = out.getvalue().splitlines()
        start = next((i for i, l in enumerate(lines) if l.lstrip().startswith("ncalls")), 0)
        print(f"\nprofile of the server, all threads, top {top} by {order} "
              "(lock acquire, queue get and epoll poll are threads waiting):")
        print("\n".join(lines[start:start + top + 1]))


async def bench_web(mode: str, users: int, sessions: int, questions_each: int, steady: float, seconds: float,
                    timeout: float, profile: bool) -> int:
    import json
    import subprocess

    import httpx

    from bot.store import Store

    questions = load_questions()
    telegram = mode == "mixed"
    users = users if telegram else 0
    print(f"mode {mode}: {len(questions)} distinct questions from {', '.join(QUESTION_FILES)}")
    if steady:
        arrivals = int(steady * seconds)
        web_count = arrivals - arrivals // 2 if telegram else arrivals
        tg_count = arrivals // 2 if telegram else 0
        sessions, users = min(web_count, max(20, int(steady * 3))), tg_count
    # Who asks what: question k of everyone in turn, so the whole set is spread over the run.
    cursor = iter(range(10**9))
    pick = lambda: questions[next(cursor) % len(questions)]  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        tmp = Path(tmp)
        fake = stack.enter_context(FakeBotApi()) if telegram else None
        tg_people = [WEB_FIRST_TG_USER + i for i in range(users)]
        at_risk, newcomer = WEB_FIRST_TG_USER - 1, WEB_FIRST_TG_USER - 2
        if steady:
            tg_asks = {p: [pick()] for p in tg_people}
        else:
            tg_asks = {p: [pick() for _ in range(questions_each)] for p in tg_people}
        distinct_tg = sorted({q for qs in tg_asks.values() for q in qs})
        warm = {q: WARM_FIRST_TG_USER + i for i, q in enumerate(distinct_tg)}
        store = Store(tmp / "load.db")
        for person in [at_risk, *tg_people, *warm.values()]:
            store.people.set_role(store.people.user_key("telegram", person), "staff")
        store.close()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        site = f"http://127.0.0.1:{port}"
        per_minute = 10 * max(20, questions_each + 2) if not steady else 1000
        cfg = {"db": str(tmp / "load.db"), "port": port, "rate_limit": per_minute, "stats": str(tmp / "stats.json"),
               "profile": str(tmp / "server.prof") if profile else ""}
        if fake is not None:
            fake.add_chat(OFFICE_CHAT, "supergroup", title="Office")
            cfg.update(token=fake.token, base_url=fake.base_url)
        (tmp / "cfg.json").write_text(json.dumps(cfg))
        started = time.monotonic()
        log = open(tmp / "server.log", "w")
        server = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child", str(tmp / "cfg.json")],
                                  cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        try:
            async with httpx.AsyncClient(base_url=site, timeout=5) as probe_client:
                while True:
                    if server.poll() is not None:
                        print((tmp / "server.log").read_text()[-3000:])
                        raise SystemExit("the server stopped before it was ready")
                    with contextlib.suppress(httpx.HTTPError):
                        if (await probe_client.get("/health")).status_code == 200:
                            break
                    await asyncio.sleep(0.5)
            print(f"server ready in {time.monotonic() - started:.1f}s (pid {server.pid}; model and pack loaded)")
            result = await drive(fake, site, questions, tg_asks, warm, at_risk, newcomer, sessions, questions_each,
                                 steady, seconds, timeout, pick)
        finally:
            server.terminate()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
        errors = (tmp / "server.log").read_text(errors="replace")
        if "Traceback" in errors:  # what the server logged: the first error's last lines
            first = errors[errors.index("Traceback"):].split("\n\n")[0].splitlines()
            print(f"the server logged {errors.count('Traceback')} tracebacks; the first ends:")
            print("\n".join("  " + line for line in first[-6:]))
        stats_path = tmp / "stats.json"
        if stats_path.exists():
            stats = json.loads(stats_path.read_text())
            print(f"server: Telegram answer batches run {stats['batches']}, model busy {stats['model_seconds']:.1f}s "
                  "(summed over the threads running it at once), "
                  f"server CPU {stats['cpu']:.1f}s while serving")
        if profile:
            print_profile(tmp / "server.prof")
    return result


async def drive(fake, site, questions, tg_asks, warm, at_risk, newcomer, sessions, questions_each, steady, seconds,
                timeout, pick) -> int:
    # How many messages a Telegram reply to each question takes: each distinct question asked once beforehand.
    messages_for: dict[str, int] = {}
    if fake is not None and warm:
        began = time.monotonic()
        for question, person in warm.items():
            fake.send_text(person, question)
        await wait_until(lambda: all(replies_to_any(fake, warm.values())), timeout, step=0.5)
        await settle(fake)
        every = reply_times(fake)
        messages_for = {q: len(every.get(str(p), [])) for q, p in warm.items()}
        print(f"Telegram warm-up: {len(warm)} distinct questions asked once in {time.monotonic() - began:.1f}s")
    web_sessions = [WebSession(site, i, timeout) for i in range(sessions)]
    alarm = WebSession(site, sessions + 1, timeout)
    opened = time.monotonic()
    await gather_limited([s.open("staff" if i % 2 else "parent") for i, s in enumerate(web_sessions)] + [alarm.open("parent")], 50)
    print(f"{sessions} web sessions opened (page, cookie, CSRF, role) in {time.monotonic() - opened:.1f}s")
    web_results: list[tuple[str, float, float]] = []
    tg_sent: dict[int, list[tuple[str, float]]] = {}
    probe: dict[str, float] = {}

    async def alarm_now():
        probe["start"] = time.time()
        if fake is not None:
            fake.send_text(at_risk, SAFEGUARDING)
            fake.send_text(newcomer, "/start")
        outcome, sent, done = await alarm.ask(SAFEGUARDING)
        probe["web"] = done - sent if outcome == "safeguarding" else float("nan")

    lost_why: dict[str, int] = {}

    async def ask(session: WebSession, question: str) -> None:
        result = await session.ask(question)
        web_results.append(result)
        if result[0] == "lost":
            lost_why[session.why] = lost_why.get(session.why, 0) + 1

    async def session_run(session: WebSession, asks: list[str]):
        for question in asks:
            await ask(session, question)

    burst_start = time.time()
    tasks = []
    if not steady:
        people = list(tg_asks)
        for n in range(max(len(web_sessions), len(people))):
            if n < len(people):
                person = people[n]
                tg_sent[person] = []
                for question in tg_asks[person]:
                    tg_sent[person].append((question, time.time()))
                    fake.send_text(person, question)
            if n < len(web_sessions):
                tasks.append(asyncio.create_task(session_run(web_sessions[n], [pick() for _ in range(questions_each)])))
            if n == max(len(web_sessions), len(people)) // 2:
                tasks.append(asyncio.create_task(alarm_now()))
            if n % 25 == 24:
                await asyncio.sleep(0)  # let the sessions' first requests go out as they would
    else:
        idle: asyncio.Queue = asyncio.Queue()
        for s in web_sessions:
            idle.put_nowait(s)
        extra = [len(web_sessions) + 2]

        async def one_web():
            if idle.empty():  # every session is waiting for a reply: a new visitor
                fresh = WebSession(site, extra[0], timeout)
                extra[0] += 1
                await fresh.open("parent")
                web_sessions.append(fresh)
                idle.put_nowait(fresh)
            session = await idle.get()
            await ask(session, pick())
            idle.put_nowait(session)

        people = iter(tg_asks)
        arrivals = int(steady * seconds)
        for k in range(arrivals):
            target = burst_start + k / steady
            await asyncio.sleep(max(0.0, target - time.time()))
            if fake is not None and k % 2 == 1:
                person = next(people, None)
                if person is not None:
                    tg_sent[person] = [(tg_asks[person][0], time.time())]
                    fake.send_text(person, tg_asks[person][0])
                    continue
            tasks.append(asyncio.create_task(one_web()))
            if k == arrivals // 2:
                tasks.append(asyncio.create_task(alarm_now()))
    sending_done = time.time()

    def tg_answered() -> bool:
        every = reply_times(fake)
        return all(len(every.get(str(p), [])) >= sum(messages_for[q] for q, _ in asked) for p, asked in tg_sent.items())

    await asyncio.wait_for(asyncio.gather(*tasks), timeout)
    if fake is not None:
        await wait_until(tg_answered, timeout, step=0.2)
        await wait_until(lambda: replies_to(fake, at_risk) and replies_to(fake, newcomer), 10)
    await gather_limited([s.close() for s in web_sessions + [alarm]], 100)

    web_lat = [done - sent for outcome, sent, done in web_results if outcome in ("answered", "safeguarding")]
    held = sum(1 for outcome, *_ in web_results if outcome == "held")
    web_lost = sum(1 for outcome, *_ in web_results if outcome == "lost")
    last = max([done for *_, done in web_results] + [burst_start])
    tg_lat, tg_lost = [], 0
    if fake is not None:
        every = reply_times(fake)
        for person, asked in tg_sent.items():
            times, seen = every.get(str(person), []), 0
            for question, sent in asked:
                seen += messages_for[question]
                if messages_for[question] and len(times) >= seen:
                    tg_lat.append(times[seen - 1] - sent)
                    last = max(last, times[seen - 1])
                else:
                    tg_lost += 1
    asked_total = len(web_results) + sum(len(a) for a in tg_sent.values())
    answered = len(web_lat) + len(tg_lat)
    drain = max(last - burst_start, 1e-9)
    every_lat = web_lat + tg_lat
    print()
    print("(a shared, loaded 2-core machine: the numbers are indicative, not the server's best)")
    if steady:
        print(f"steady: {steady:g} questions/s for {seconds:g}s ({asked_total} questions; "
              f"{len(web_sessions)} web sessions, {len(tg_sent)} Telegram users); sending took {sending_done - burst_start:.1f}s")
    else:
        print(f"burst: {len(tg_sent)} Telegram users + {sessions} web sessions × {questions_each} questions = {asked_total} questions")
    print(f"answers per second: {answered / drain:.1f}  (all answered {drain:.1f}s after the start)"
          + ("" if steady else "   target ≥ 200/s"))
    print(summary("all", every_lat) + ("   target p95 ≤ 1 s" if steady else ""))
    print(summary("web (POST → page after the redirect)", web_lat))
    if fake is not None:
        print(summary("Telegram (update → last message of the reply)", tg_lat))
    lost = web_lost + tg_lost
    print(f"lost: {lost} (web {web_lost}, Telegram {tg_lost}); held back by a rate limit: {held}   target 0")
    for why, count in sorted(lost_why.items(), key=lambda item: -item[1])[:5]:
        print(f"  web lost ×{count}: {why[:300]}")
    show = lambda t: f"{t:.2f}s" if t == t else "NO SAFEGUARDING REPLY"  # noqa: E731
    line = f"safeguarding sent mid-run: web answered in {show(probe.get('web', float('nan')))}"
    if fake is not None:
        tg = replies_to(fake, at_risk)
        nc = replies_to(fake, newcomer)
        line += f", Telegram in {tg[0] - probe['start']:.2f}s" if tg else ", Telegram NO REPLY"
        line += f" (/start in {nc[0] - probe['start']:.2f}s)" if nc else " (/start NO REPLY)"
    print(line + "   target ≤ 1 s")
    ok = lost == 0 and held == 0 and probe.get("web", float("nan")) == probe.get("web", float("nan"))
    return 0 if ok else 1


def replies_to_any(fake: FakeBotApi, people) -> list[bool]:
    every = reply_times(fake)
    return [bool(every.get(str(p))) for p in people]


async def settle(fake: FakeBotApi, quiet: float = 2.0) -> None:
    """Until no message has been sent for `quiet` seconds (a reply may come in several messages)."""
    count = -1
    while count != fake.call_count:
        count = fake.call_count
        await asyncio.sleep(quiet)


async def gather_limited(coroutines, limit: int):
    gate = asyncio.Semaphore(limit)

    async def one(coroutine):
        async with gate:
            return await coroutine

    return await asyncio.gather(*(one(c) for c in coroutines))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:  # the server process of the web and mixed modes
        return child(argv[1])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["telegram", "web", "mixed"], default="telegram",
                        help="telegram: the bot alone, in this process (default); web: the web chat; mixed: the web "
                             "chat and the Telegram bot in one server process")
    parser.add_argument("--users", type=int, default=None,
                        help="simulated Telegram people (default 200 for telegram, 300 for mixed)")
    parser.add_argument("--sessions", type=int, default=300, help="web sessions, web and mixed modes (default 300)")
    parser.add_argument("--questions", type=int, default=3, help="questions each person sends (default 3)")
    parser.add_argument("--steady", type=float, default=0.0,
                        help="web/mixed: instead of a burst, this many questions a second (half on Telegram in mixed)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long --steady lasts (default 60)")
    parser.add_argument("--profile", action="store_true", help="web/mixed: profile the server (cProfile, all threads)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for every answer")
    args = parser.parse_args(argv)
    if args.mode == "telegram":
        return asyncio.run(bench(args.users or 200, args.questions, args.timeout))
    return asyncio.run(bench_web(args.mode, args.users if args.users is not None else 300, args.sessions,
                                 args.questions, args.steady, args.seconds, args.timeout, args.profile))


if __name__ == "__main__":
    raise SystemExit(main())
