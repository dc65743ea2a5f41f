"""`policybot serve`: the web chat and the Telegram bot in one process and one asyncio loop; the newcomer's
main job with no settings at all; the settings that guard a public web chat (secret key, HTTPS for an embedded
chat, trusted proxies, the sites allowed to embed it); /health."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from dataclasses import replace
from html import unescape
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from bot.settings import Settings, SettingsError, check_serve_settings, load_settings
from bot.web.app import build_app
from bot.web.security import ClientAddress, client_address
from knowledge.pack import load_pack

REPO = Path(__file__).resolve().parent.parent
UNSURE = "Can I play music from Spotify in assembly?"  # the policy does not say: it goes to the office


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PackOnly:
    """An advisor that is only its pack: enough for pages, headers and cookies, without loading the model."""

    pack = load_pack("clearwell")

    def follow_office_answers(self, answers) -> int:
        return 0


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def ask_on_the_web(site: str, question: str, role: str = "parent") -> str:
    """A browser's walk with forms: choose a role, send a question; the page after the redirect."""
    with httpx.Client(base_url=site, follow_redirects=True, timeout=120) as browser:
        browser.post("/send", data={"csrf": csrf(browser.get("/").text), "action": f"role:{role}"})
        page = browser.post("/send", data={"csrf": csrf(browser.get("/").text), "text": question})
        assert page.status_code == 200
        return unescape(page.text)


# --- settings ---------------------------------------------------------------------------------------


def test_a_web_only_serve_needs_no_telegram_settings():
    check_serve_settings(Settings())  # the newcomer's main job: nothing set at all
    check_serve_settings(Settings(web_host="::1"))


def test_web_settings_are_read_and_checked(tmp_path):
    env = {"WEB_PORT": "off"}
    assert load_settings(None, env).web_port is None and not load_settings(None, env).web_on
    settings = load_settings(None, {
        "WEB_PUBLIC_URL": "https://chat.clearwell.sch.uk/",
        "WEB_EMBED_ORIGINS": "https://www.clearwell.sch.uk, https://*.clearwell.sch.uk",
        "WEB_TRUSTED_PROXIES": "127.0.0.1 10.0.0.0/8",
    })
    assert settings.web_public_url == "https://chat.clearwell.sch.uk" and settings.web_https
    assert settings.web_embed_origins == ("https://www.clearwell.sch.uk", "https://*.clearwell.sch.uk")
    assert settings.web_trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8")
    for key, value in [
        ("WEB_PORT", "eighty"),
        ("WEB_PUBLIC_URL", "chat.clearwell.sch.uk"),
        ("WEB_EMBED_ORIGINS", "https://www.clearwell.sch.uk; script-src *"),  # would end the CSP directive
        ("WEB_EMBED_ORIGINS", "https://www.clearwell.sch.uk/page"),
        ("WEB_TRUSTED_PROXIES", "my-proxy"),
    ]:
        with pytest.raises(SettingsError, match=key):
            load_settings(None, {key: value})


def test_serve_on_a_public_address_without_a_key_is_refused_in_one_line(tmp_path, capsys, monkeypatch):
    from bot.cli import main

    for name in [k for k in os.environ if k.startswith(("WEB_", "TELEGRAM_"))]:
        monkeypatch.delenv(name)
    env = tmp_path / ".env"
    env.write_text(f"WEB_HOST=0.0.0.0\nDATABASE_PATH={tmp_path / 'p.db'}\n")
    assert main(["--env-file", str(env), "serve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "WEB_SECRET_KEY is not set" in err, err
    assert not (tmp_path / "p.db").exists()  # refused before anything was made


def test_a_port_in_use_is_one_line_not_a_traceback(tmp_path, capsys):
    from bot.serve import run_web

    def no_model(settings):
        raise AssertionError("the model is loaded only once the port is known to be free")

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert run_web(Settings(database_path=tmp_path / "p.db", web_port=port), no_model) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"127.0.0.1:{port}" in err and "WEB_PORT" in err, err


# --- headers, cookies, the client's address, /health (the web app without the model) ----------------


def test_frame_ancestors_come_from_web_embed_origins(tmp_path):
    plain = Settings(database_path=tmp_path / "p.db")
    with TestClient(build_app(plain, PackOnly())) as client:
        page = client.get("/")
        assert "frame-ancestors 'self';" in page.headers["content-security-policy"] + ";"
        assert page.headers["x-frame-options"] == "SAMEORIGIN"
        cookie = page.headers["set-cookie"].lower()
        assert "samesite=lax" in cookie and "secure" not in cookie and "partitioned" not in cookie
    embedded = replace(plain, web_embed_origins=("https://www.clearwell.sch.uk", "https://parents.example.org"))
    with TestClient(build_app(embedded, PackOnly())) as client:
        page = client.get("/")
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors 'self' https://www.clearwell.sch.uk https://parents.example.org" in csp
        assert "x-frame-options" not in page.headers  # it cannot name another site; CSP says who may
        cookie = page.headers["set-cookie"].lower()
        assert "samesite=none" in cookie and "secure" in cookie and "partitioned" in cookie and "httponly" in cookie


def test_the_cookie_is_secure_when_people_use_https(tmp_path):
    settings = Settings(database_path=tmp_path / "p.db", web_public_url="https://chat.clearwell.sch.uk")
    with TestClient(build_app(settings, PackOnly())) as client:
        cookie = client.get("/").headers["set-cookie"].lower()
        assert "secure" in cookie and "samesite=lax" in cookie


def echo_client_app(trusted: tuple[str, ...]):
    async def whoami(request):
        return PlainTextResponse(client_address(request))

    return ClientAddress(Starlette(routes=[Route("/", whoami)]), trusted=trusted)


@pytest.mark.parametrize("peer, headers, expected", [
    ("10.0.0.5", {"x-forwarded-for": "203.0.113.7"}, "203.0.113.7"),  # through the school's proxy
    ("10.0.0.5", {"x-forwarded-for": "198.51.100.1, 203.0.113.7"}, "203.0.113.7"),  # a made-up hop before it: ignored
    ("10.0.0.5", {"x-forwarded-for": "203.0.113.7, 10.0.0.9"}, "203.0.113.7"),  # two trusted proxies
    ("10.0.0.5", {"x-forwarded-for": "[2001:db8::7]:4711"}, "2001:db8::7"),
    ("10.0.0.5", {"forwarded": 'for="[2001:db8::7]:4711";proto=https, for=10.0.0.9'}, "2001:db8::7"),
    ("10.0.0.5", {"x-forwarded-for": "203.0.113.7", "forwarded": "for=198.51.100.1"}, "203.0.113.7"),
    ("10.0.0.5", {"x-forwarded-for": "unknown"}, "10.0.0.5"),
    ("10.0.0.5", {}, "10.0.0.5"),
    ("192.0.2.50", {"x-forwarded-for": "203.0.113.7"}, "192.0.2.50"),  # not a proxy we trust: its header is ignored
    ("192.0.2.50", {"forwarded": "for=203.0.113.7"}, "192.0.2.50"),
])
def test_only_trusted_proxies_set_the_client_address(peer, headers, expected):
    with TestClient(echo_client_app(("10.0.0.0/8",)), client=(peer, 50000)) as client:
        assert client.get("/", headers=headers).text == expected


def test_without_trusted_proxies_forwarded_headers_change_nothing():
    with TestClient(echo_client_app(()), client=("127.0.0.1", 50000)) as client:
        assert client.get("/", headers={"x-forwarded-for": "203.0.113.7"}).text == "127.0.0.1"


def test_health_is_503_when_the_database_cannot_be_reached(tmp_path):
    settings = Settings(database_path=tmp_path / "p.db")
    app = build_app(settings, PackOnly())
    with TestClient(app) as client:
        ok = client.get("/health")
        assert ok.status_code == 200 and ok.json()["database"] is True
        assert ok.json()["pack"] == {"name": PackOnly.pack.name, "version": PackOnly.pack.version}
        app.state.web.store.close()  # the database gone from under the app
        down = client.get("/health")
        assert down.status_code == 503
        assert down.json()["status"] == "error" and down.json()["database"] is False


# --- one process, both channels ------------------------------------------------------------------------


def wait_for_line(process: subprocess.Popen, pattern: str, timeout: float) -> tuple[re.Match, list[str]]:
    """Read the process's output until a line matches (it must not end first)."""
    seen: list[str] = []
    found: list[re.Match] = []

    def read() -> None:
        for line in process.stdout:
            seen.append(line)
            match = re.search(pattern, line)
            if match:
                found.append(match)
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    assert found, f"no line matching {pattern!r} in {timeout}s:\n{''.join(seen)}"
    return found[0], seen


@pytest.mark.slow
def test_policybot_alone_serves_the_web_chat_with_no_settings(tmp_path):
    """The newcomer's main job: `policybot` with nothing set prints the address, answers /health and a
    question, keeps its generated secret key 0600, and stops cleanly."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEB_", "TELEGRAM_", "WEBHOOK_", "OFFICE_", "DATABASE_"))}
    env.update(HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO), CACHE_DIR=str(REPO / "data" / "cache"), WEB_PORT=str(port))
    policybot = Path(sys.executable).with_name("policybot")
    process = subprocess.Popen([str(policybot)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        match, _ = wait_for_line(process, r"The web chat is at (http://\S+)", timeout=300)
        site = match.group(1)
        assert site == f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                health = httpx.get(site + "/health", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "ok" and body["database"] is True and body["outbox_backlog"] == 0
        assert body["pack"]["name"]
        question = "Can I message my child's teacher on Facebook?"
        page = ask_on_the_web(site, question)
        assert question in page and "<blockquote>" in page and "Section" in page
        key = tmp_path / "data" / "web_secret_key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text().strip()) > 40
        assert (tmp_path / "data" / "policybot.db").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "Traceback" not in output


@pytest.fixture
def serving():
    """Run an ASGI app with uvicorn on a free loopback port, in a thread with its own loop (as `serve` runs)."""
    import contextlib

    import uvicorn

    @contextlib.contextmanager
    def serve(app, port: int):
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(30)
            assert not thread.is_alive(), "the server did not stop"

    return serve


async def test_one_loop_serves_the_web_chat_and_the_telegram_bot(fake_bot_api, telegram_settings, advisor, untaught_engine, serving):
    """Polling, handlers and the JobQueue run in the web server's loop: a Telegram person and a web person are
    both answered, and the web person's unanswered question reaches the office chat through the bot's outbox."""
    from bot.telegram.app import build_application
    from bot.web.serve import build_server

    fake = fake_bot_api
    port = free_port()
    settings = replace(telegram_settings, web_port=port)
    application = build_application(settings, advisor, outbox_interval=0.3, backoff_base=0.2)
    with serving(build_server(settings, advisor, application), port) as site:
        await fake.wait_for(method="getUpdates", timeout=60)
        fake.send_text(77, "/start")
        welcome, ask_role = await fake.wait_for_messages(77, 2, timeout=30)
        assert "staff or a parent" in ask_role["text"]
        page = await asyncio.to_thread(ask_on_the_web, site, UNSURE, "staff")
        assert UNSURE in page
        notice = await fake.wait_for_messages(-1001, 1, timeout=30)
        assert "Spotify" in notice[0]["text"]  # the office hears of the web question, through Telegram
        health = (await asyncio.to_thread(httpx.get, site + "/health")).json()
        assert health["database"] is True
    assert not application.running  # stopped with the server


async def test_with_the_web_on_the_telegram_webhook_is_a_route_of_the_web_app(fake_bot_api, telegram_settings, advisor, untaught_engine, serving):
    """WEBHOOK_URL with the web chat on: registered with Telegram (with the secret), served on WEB_PORT at its
    path; a request without the right secret is refused (403) and handled by nobody. The update journal's
    replay runs in the same loop."""
    from bot.telegram.app import build_application
    from bot.web.serve import build_server

    fake = fake_bot_api
    port, secret = free_port(), "a-long-webhook-secret-42"
    settings = replace(telegram_settings, web_port=port, webhook_url="https://chat.clearwell.sch.uk/telegram/hook",
                       webhook_secret=secret)
    fake.add_chat(7001, "private")
    application = build_application(settings, advisor, outbox_interval=0.3, backoff_base=0.2)

    def update(update_id: int, text: str) -> dict:
        return {"update_id": update_id, "message": {
            "message_id": update_id, "date": 0, "chat": {"id": 7001, "type": "private"},
            "from": {"id": 7001, "is_bot": False, "first_name": "S"}, "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}}

    # An update a killed process had journalled and not handled: the bot's replay job, in this loop, handles it.
    application.bot_data["services"].updates.record(99, update(99, "/help"))
    with serving(build_server(settings, advisor, application), port) as site:
        [replayed] = await fake.wait_for_messages(7001, 1, timeout=60)
        assert "/report" in replayed["text"]  # the help text
        registered = await fake.wait_for(method="setWebhook", timeout=60)
        assert registered.params["url"] == settings.webhook_url and registered.params["secret_token"] == secret
        assert not fake.calls_to("getUpdates")  # no polling beside the webhook

        def post(body: dict, sent: str | None) -> int:
            headers = {} if sent is None else {"X-Telegram-Bot-Api-Secret-Token": sent}
            return httpx.post(site + "/telegram/hook", json=body, headers=headers, timeout=30).status_code

        assert await asyncio.to_thread(post, update(1, "/help"), None) == 403
        assert await asyncio.to_thread(post, update(2, "/help"), "wrong-secret") == 403
        assert await asyncio.to_thread(post, update(3, "/help"), secret[:-1]) == 403
        assert await asyncio.to_thread(post, update(4, "/privacy"), secret) == 200
        [_, reply] = await fake.wait_for_messages(7001, 2, timeout=30)
        assert "pseudonym" in reply["text"]  # /privacy, and only it
        await asyncio.sleep(0.5)
        assert len(fake.sent_messages(7001)) == 2
        # The same port still serves the web chat.
        assert (await asyncio.to_thread(httpx.get, site + "/health")).json()["database"] is True


def test_env_example_as_it_stands_serves_the_web_chat_and_explains_each_web_setting():
    """A school that copies .env.example to .env unchanged gets the newcomer's main job, not an error."""
    example = REPO / ".env.example"
    check_serve_settings(load_settings(example, {}))
    lines = example.read_text().splitlines()
    for key in ("WEB_HOST", "WEB_PORT", "WEB_PUBLIC_URL", "WEB_SECRET_KEY", "WEB_EMBED_ORIGINS", "WEB_TRUSTED_PROXIES"):
        [at] = [i for i, line in enumerate(lines) if line.startswith(f"{key}=")]
        assert any(lines[j].startswith("# ") for j in range(max(0, at - 3), at)), f"{key} has no comment above it"


async def test_what_a_web_turn_queues_for_the_office_goes_at_once(fake_bot_api, telegram_settings, advisor, untaught_engine, serving):
    """What a web turn queues for the office goes when the turn ends, not at the outbox job's next tick (here a
    minute away)."""
    from bot.telegram.app import build_application
    from bot.web.serve import build_server

    fake = fake_bot_api
    port = free_port()
    settings = replace(telegram_settings, web_port=port)
    application = build_application(settings, advisor, outbox_interval=60)
    with serving(build_server(settings, advisor, application), port) as site:
        await fake.wait_for(method="getUpdates", timeout=60)
        await asyncio.sleep(2.0)  # past the outbox job's first run (1 s after start)
        since = len(fake.sent_messages(-1001))
        page = await asyncio.to_thread(ask_on_the_web, site, UNSURE, "staff")
        assert UNSURE in page
        notice = await fake.wait_for_messages(-1001, since + 1, timeout=10)
        assert any("Spotify" in m["text"] for m in notice[since:])


def test_the_printed_address_is_one_a_browser_on_this_machine_can_open():
    from bot.web.serve import address

    assert address(Settings()) == "http://127.0.0.1:8080"
    assert address(Settings(web_host="0.0.0.0", web_port=80)) == "http://127.0.0.1:80"
    assert address(Settings(web_host="::", web_port=8080)) == "http://[::1]:8080"



def test_upkeep_purges_what_is_past_its_retention_and_learns_what_the_office_taught(tmp_path):
    """Without the Telegram bot (whose jobs do it), a web-only process deletes questions past RETENTION_DAYS and
    learns a question the office answered from another process (bot/upkeep.py, run in the web app's lifespan)."""
    import asyncio
    from datetime import timedelta

    from bot.store import Store, utc_now
    from bot.upkeep import run_upkeep

    settings = replace(load_settings(tmp_path / "none.env"), database_path=tmp_path / "bot.db", retention_days=30)
    old = Store(settings.database_path, clock=lambda: utc_now() - timedelta(days=40))
    old.questions.record("k1", "staff", "Can I post photos of sports day?", "question", True, 0.9, "5.7")
    old.close()
    store = Store(settings.database_path)
    store.questions.record("k2", "staff", "Can I friend a parent?", "question", True, 0.9, "6.13")
    Store(settings.database_path).answers.teach_question("6.13", "is a mum from my class ok on facebook")  # the CLI

    class Learner:  # records what it is taught (the session's advisor is shared by every test)
        def __init__(self):
            self.engine, self.taught, self.followed = self, [], 0

        def add_alternates(self, pairs):
            self.taught += pairs

        def follow_office_answers(self, answers):
            self.followed += 1
            return 0

    learner = Learner()

    async def briefly():
        task = asyncio.create_task(run_upkeep(store, learner, settings, relearn_seconds=0.02, first_purge=0))
        await asyncio.sleep(0.3)
        task.cancel()

    asyncio.run(briefly())
    assert [r["text"] for r in store.db["questions"].rows] == ["Can I friend a parent?"]
    assert learner.taught == [("6.13", "is a mum from my class ok on facebook")] and learner.followed >= 2
    store.close()


def test_the_web_app_alone_runs_its_upkeep_and_beside_the_bot_does_not(advisor, tmp_path, monkeypatch):
    import bot.web.app as web_app

    started = []

    async def recording(store, answerer, settings):
        started.append(store)

    monkeypatch.setattr(web_app, "run_upkeep", recording)
    settings = replace(load_settings(tmp_path / "none.env"), database_path=tmp_path / "bot.db")
    with TestClient(build_app(settings, advisor)):
        pass
    assert len(started) == 1
    from bot.store import Store

    shared = Store(settings.database_path)
    with TestClient(build_app(settings, advisor, store=shared)):
        pass
    assert len(started) == 1  # the Telegram bot's jobs do it when the store is the bot's
    shared.close()
