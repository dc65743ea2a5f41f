"""The web chat, driven as a browser would drive it (Starlette's TestClient): the same dialogue as Telegram,
over the real model and a fresh SQLite file; forms with a CSRF token, POST-redirect-GET, escaped text."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import replace
from html import unescape

import pytest
from starlette.testclient import TestClient

from bot.settings import SettingsError, Settings, check_web_settings
from bot.web.app import build_app
from bot.web.security import KEY_FILE, secret_key

pytestmark = pytest.mark.usefixtures("untaught_engine")


@pytest.fixture
def client(advisor, bot_settings):
    with TestClient(build_app(bot_settings, advisor), base_url="http://127.0.0.1:8080") as client:
        yield client


def csrf(page_html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page_html).group(1)


def post(client, **fields):
    page = client.get("/")
    response = client.post("/send", data={"csrf": csrf(page.text), **fields})
    return response


def ask(client, text, role="parent"):
    if role:
        post(client, action=f"role:{role}")
    response = post(client, text=text)
    assert response.status_code == 200  # the redirect was followed
    assert response.history and response.history[0].status_code == 303
    return response.text


def transcript(html: str) -> str:
    return unescape(html.split('role="log"', 1)[1].split("</section>", 1)[0])


def test_first_visit_asks_who_you_are(client):
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert "I work at the school" in page.text and "parent or carer" in unescape(page.text)
    assert 'role="log" aria-live="polite"' in page.text
    assert '<label for="text">' in page.text
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_a_parents_question_is_answered_with_section_and_quote(client, advisor):
    question = "Can I message my child's teacher on Facebook?"
    html = ask(client, question)
    expected = advisor.respond(question, "parent").answer
    assert expected is not None
    shown = transcript(html)
    assert question in shown
    assert expected.verdict_line in shown
    assert expected.section_line in shown
    assert f"<blockquote>{expected.quote}</blockquote>" in shown
    assert f'/policy#clause-{expected.clause_id}' in html


def test_a_disclosure_gets_the_safeguarding_reply_with_999(client):
    html = ask(client, "A pupil told me an adult online asked her to send naked pictures")
    shown = transcript(html)
    assert 'class="entry bot safeguarding"' in html
    assert "999" in shown and "Designated Safeguarding Lead" in shown
    assert '<p class="emergency"><strong>' in html


def test_a_button_is_pressed_through_its_form(client, advisor):
    html = ask(client, "Can I accept a friend request from a pupil?", role="staff")
    buttons = re.findall(r'name="action" value="([^"]+)">([^<]+)</button>', html)
    full = [value for value, label in buttons if value.startswith("sec:")]
    assert full, buttons
    after = post(client, action=full[0])
    assert after.status_code == 200
    assert transcript(after.text).count("Section 6.5") >= 2  # the answer's line, then the section in full


def test_a_forged_button_runs_nothing(client):
    after = post(client, action="of:d:1")
    assert "That button doesn't work here" in unescape(after.text)


def test_a_post_without_the_right_token_is_refused_politely(client):
    client.get("/")
    for data in ({"text": "hello"}, {"text": "hello", "csrf": "forged"}):
        response = client.post("/send", data=data)
        assert response.status_code == 403
        assert "could not be accepted" in response.text and "<form" not in response.text
    stranger = TestClient(client.app)  # another browser, with no session at all
    assert stranger.post("/send", data={"text": "hello", "csrf": "x"}).status_code == 403


def test_typed_html_is_shown_as_text(client):
    html = ask(client, "<script>alert(1)</script> can I post this?")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("text", ["", "   ", "x" * 9000, "\x00\x01\ufffd\x7f binary \x00"])
def test_empty_huge_or_binary_input_gets_a_polite_reply(client, text):
    response = post(client, text=text)
    assert response.status_code == 200
    entries = transcript(response.text)
    assert 'class="entry bot' in response.text or not text.strip()
    assert "Traceback" not in entries and "\x00" not in response.text


def test_a_body_over_the_limit_is_refused_before_it_is_read(client):
    page = client.get("/")
    response = client.post("/send", data={"csrf": csrf(page.text), "text": "y" * 200_000})
    assert response.status_code == 413
    assert "too large" in response.text


def test_security_headers_on_every_page(client):
    for path in ("/", "/policy", "/health", "/static/chat.css", "/nowhere"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'self'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"]
    assert client.get("/nowhere").status_code == 404


def test_health(client, advisor):
    body = client.get("/health").json()
    assert body == {
        "status": "ok",
        "pack": {"name": advisor.pack.name, "version": advisor.pack.version},
        "database": True,
        "outbox_backlog": 0,
    }


def test_policy_page_anchors_every_clause_once(client, advisor):
    html = client.get("/policy").text
    anchors = re.findall(r'<section class="clause" id="([^"]+)"', html)
    assert len(anchors) == len(advisor.pack.clauses) == len(set(anchors))
    printed = [c.section for c in advisor.pack.clauses]
    for twice in ("6.2", "6.3"):
        assert printed.count(twice) == 2
        assert f"clause-{twice}" in anchors and f"clause-{twice}-2" in anchors


def test_secret_key_generated_on_loopback_only(tmp_path):
    settings = Settings(database_path=tmp_path / "db" / "policybot.db")
    key = secret_key(settings)
    path = tmp_path / "db" / KEY_FILE
    assert len(key) > 40 and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert secret_key(settings) == key  # kept, not made again
    public = replace(settings, web_host="0.0.0.0")
    with pytest.raises(SettingsError, match="WEB_SECRET_KEY"):
        check_web_settings(public)
    with pytest.raises(SettingsError, match="WEB_SECRET_KEY"):
        secret_key(public)
    with pytest.raises(SettingsError, match="DSL_CONTACT"):  # others can reach it: the school's DSL must be named
        check_web_settings(replace(public, web_secret_key="s" * 48))
    check_web_settings(replace(public, web_secret_key="s" * 48, dsl_contact="Ms Rivera, 01234 567891"))


def test_policybot_web_refuses_a_public_address_without_a_key_in_one_line(tmp_path, capsys):
    from bot.cli import main

    env = tmp_path / ".env"
    env.write_text(f"WEB_HOST=0.0.0.0\nWEB_SECRET_KEY=\nDATABASE_PATH={tmp_path / 'p.db'}\n")
    old = {k: os.environ.pop(k, None) for k in ("WEB_HOST", "WEB_SECRET_KEY")}
    try:
        assert main(["--env-file", str(env), "web"]) == 2
    finally:
        os.environ.update({k: v for k, v in old.items() if v is not None})
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "WEB_SECRET_KEY is not set" in err


def test_a_chunked_body_over_the_limit_is_refused_too(client):
    page = client.get("/")
    token = csrf(page.text)

    def chunks():
        yield f"csrf={token}&text=".encode()
        for _ in range(100):
            yield b"z" * 1000

    response = client.post("/send", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413 and "too large" in response.text


def test_bytes_that_are_not_utf8_get_a_reply_not_an_error(client):
    page = client.get("/")
    body = f"csrf={csrf(page.text)}&text=".encode() + b"%ff%fe%00%c3 hello"
    response = client.post("/send", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200 and 'class="entry bot' in response.text


def test_forget_me_clears_the_page_as_well_as_the_store(client):
    ask(client, "Can I add a teacher as a friend on Facebook?")
    asked = post(client, text="/forget")
    buttons = dict((v, l) for v, l in re.findall(r'name="action" value="([^"]+)">([^<]+)</button>', asked.text))
    assert "fg:yes" in buttons
    after = post(client, action="fg:yes")
    shown = transcript(after.text)
    assert "teacher as a friend" not in shown
    assert 'class="entry bot' in after.text  # the dialogue's own "forgotten" reply
    assert "parent or carer" in unescape(after.text.split("</section>", 1)[1])  # asked who they are again
