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


# --- everything a person can do on Telegram, through the page's forms ------------------------------------


def latest_buttons(html: str) -> dict[str, str]:
    """The newest reply's buttons: {label: value}."""
    latest = html.split('id="latest"', 1)[1].split("</article>", 1)[0]
    return {unescape(label): unescape(value) for value, label in re.findall(r'name="action" value="([^"]+)">([^<]+)</button>', latest)}


def press(client, label: str, html: str) -> str:
    buttons = latest_buttons(html)
    assert label in buttons, buttons
    response = post(client, action=buttons[label])
    assert response.status_code == 200
    return response.text


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200


def upload(client, *files, csrf_token=None):
    page = client.get("/")
    token = csrf_token or csrf(page.text)
    return client.post("/evidence", data={"csrf": token}, files=[("evidence", f) for f in files])


def walk_to_the_evidence_step(client) -> str:
    post(client, action="role:staff")
    html = post(client, action="go:breach").text
    assert "What happened" in transcript(html)
    for answer in ("A colleague shared a photo of pupils on a public page", "Facebook", "yesterday", "a colleague"):
        html = post(client, text=answer).text
    html = press(client, "No", html)
    html = press(client, "A pupil can be identified", html)
    assert 'class="evidence"' in html and 'type="file"' in html
    return html


def test_a_report_takes_up_to_three_screenshots_known_by_their_bytes_and_kept_private(client, bot_settings):
    html = walk_to_the_evidence_step(client)
    assert '<label for="evidence">' in html
    folder = bot_settings.database_path.parent / "evidence"
    # A text file called .png is not a picture; a picture called .txt is.
    shown = transcript(upload(client, ("shot.png", b"just some words", "image/png")).text)
    assert "is not a picture" in shown and (not folder.exists() or not list(folder.iterdir()))
    html = upload(client, ("a.txt", PNG, "text/plain"), ("b.jpg", JPEG, "image/jpeg")).text
    assert "2" in transcript(html).split("Policy Advisor")[-1]  # the flow counts them
    files = sorted(folder.iterdir())
    assert sorted(f.suffix for f in files) == [".jpg", ".png"]
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files) and stat.S_IMODE(folder.stat().st_mode) == 0o700
    # Two more: only one fits.
    shown = transcript(upload(client, ("c.png", PNG, "image/png"), ("d.png", PNG, "image/png")).text)
    assert "at most 3 screenshots" in shown
    assert len(list(folder.iterdir())) == 3
    html = client.get("/").text
    assert 'type="file"' not in html  # the form goes once three are held
    # Too big, whatever the request's declared size: refused before it is read.
    too_big = upload(client, ("big.png", PNG + b"\x00" * (16 * 1024 * 1024), "image/png"))
    assert too_big.status_code == 413


def test_a_screenshot_over_5_mb_is_refused_and_a_form_without_the_token_runs_nothing(client, bot_settings):
    walk_to_the_evidence_step(client)
    shown = transcript(upload(client, ("big.png", PNG + b"\x00" * (5 * 1024 * 1024), "image/png")).text)
    assert "over 5 MB" in shown
    forged = upload(client, ("a.png", PNG, "image/png"), csrf_token="forged")
    assert forged.status_code == 403
    folder = bot_settings.database_path.parent / "evidence"
    assert not folder.exists() or not list(folder.iterdir())


def test_screenshots_outside_the_evidence_step_are_not_kept(client, bot_settings):
    post(client, action="role:staff")
    shown = transcript(upload(client, ("a.png", PNG, "image/png")).text)
    assert "only be added at the report's screenshot step" in shown
    assert not (bot_settings.database_path.parent / "evidence").exists()


def test_a_sent_report_keeps_its_screenshots_until_it_is_deleted(client, bot_settings):
    from datetime import timedelta

    from bot.store import Store, utc_now

    html = walk_to_the_evidence_step(client)
    upload(client, ("a.png", PNG, "image/png"))
    html = client.get("/").text
    html = press(client, "Done", html)
    html = press(client, next(l for l in latest_buttons(html) if "name" in l.lower()), html)
    html = press(client, next(l for l in latest_buttons(html) if "office decide" in l.lower() or "not sure" in l.lower()), html)
    html = press(client, "Send", html)
    ref = re.search(r"BR-\d{4}-\d{4}", transcript(html)).group(0)
    store = Store(bot_settings.database_path)
    try:
        [path] = store.dialogue_evidence = [p for p in (bot_settings.database_path.parent / "evidence").iterdir()]
        assert f"web:{path.name}" in store.cases.get(ref).row["evidence"]
        assert store.privacy.purge(365, 7 * 365, now=utc_now() + timedelta(days=2))["evidence"] == 0  # held by its report
        assert path.exists()
        counts = store.privacy.purge(365, 7 * 365, now=utc_now() + timedelta(days=7 * 365 + 1))
        assert store.cases.get(ref) is None and counts["evidence"] == 1 and not path.exists()
    finally:
        store.close()


def test_the_menu_shows_what_is_held_and_cancels_a_flow(client):
    ask(client, "Can I add a teacher as a friend on Facebook?")
    html = post(client, command="mydata").text
    shown = transcript(html)
    assert "What do you hold about me?" in shown and "What is stored about you" in shown
    html = post(client, action="go:complaint").text
    assert 'name="command" value="cancel"' in html
    html = post(client, command="cancel").text
    assert "Cancelled" in transcript(html) and 'value="cancel"' not in html.split("</section>", 1)[1]
    assert "don't know that command" not in transcript(post(client, command="shutdown").text)


def test_a_hedge_offers_choices_and_a_choice_shows_its_section(client):
    html = ask(client, "Can I use AI chatbots to write reports?", role="staff")
    # The turn's replies: the hedge with its choices, then (the office is told of it) the private answer link.
    turn = html.rsplit('class="entry you', 1)[1]
    assert 'class="entry bot answer_link"' in turn and "/a/" in turn
    found = re.findall(r'name="action" value="([^"]+)">([^<]+)</button>', turn)
    choices = {unescape(label): unescape(value) for value, label in found if value.startswith("sec:")}
    assert 1 <= len(choices) <= 3, found
    label, value = next(iter(choices.items()))
    after = post(client, action=value).text
    latest = after.split('id="latest"', 1)[1].split("</article>", 1)[0]
    assert '<p class="section"><a href="/policy#clause-' in latest and "<blockquote>" in latest
    # What the person chose is shown as theirs.
    assert re.search(r'class="entry you text"[^>]*>\s*<p class="speaker">You</p>\s*<p class="">' + re.escape(label), after)


def test_feedback_buttons_are_thanked(client):
    html = ask(client, "Can I accept a friend request from a pupil?", role="staff")
    thumbs = [label for label in latest_buttons(html) if label.startswith(("👍", "👎"))]
    assert len(thumbs) == 2
    after = press(client, thumbs[0], html)
    assert "Thank" in transcript(after).split(thumbs[0])[-1]


def test_a_complaint_referral_reaches_its_reference_with_safeguarding_in_the_middle(client, store):
    post(client, action="role:parent")
    html = post(client, action="go:complaint").text
    html = press(client, "Yes, pass it on", html)
    html = post(client, text="I think a pupil is being groomed online by an adult").text
    shown = transcript(html)
    assert 'class="entry bot safeguarding"' in html and "999" in shown
    assert "Back to where you were" in shown  # the complaint goes on after the safeguarding reply
    for answer in ("Homework marking in year 4", "Mr Smith", "Sam, year 4", "I emailed the class teacher", "A fair mark"):
        html = post(client, text=answer).text
    html = post(client, text="here").text
    html = press(client, "Send", html)
    ref = re.search(r"CR-\d{4}-\d{4}", transcript(html)).group(0)
    assert store.cases.get(ref).row["about"] == "Homework marking in year 4"


def test_the_agreement_beside_its_plain_summary_and_the_privacy_page(client, advisor, bot_settings):
    html = client.get("/agreement").text
    signed = [c for c in advisor.pack.agreement_clauses() if c.id.endswith("-agreement")]
    assert signed
    for clause in advisor.pack.agreement_clauses():
        assert f'href="/policy#clause-{clause.id}"' in html
        assert unescape(html).count(clause.text) == 1
        if clause.curated and clause.summary:
            assert clause.summary in unescape(html)
    assert 'class="side-by-side"' in html
    privacy = unescape(client.get("/privacy").text)
    assert f"{bot_settings.retention_days} days" in privacy and f"{bot_settings.report_retention_days} days" in privacy
    assert "Forget me" in privacy and "What do you hold about me?" in privacy
    home = client.get("/").text
    assert 'href="/agreement"' in home and 'href="/privacy"' in home


def test_no_agreement_page_without_an_agreement_in_the_pack(client, advisor, monkeypatch):
    monkeypatch.setattr(type(advisor.pack), "agreement_clauses", lambda self: [])
    assert client.get("/agreement").status_code == 404


def test_the_script_is_our_own_file_and_the_page_works_without_it(client):
    html = client.get("/").text
    assert '<script src="/static/chat.js" defer></script>' in html
    assert "<script>" not in html and " on" not in re.sub(r"<(?:textarea|p|h1|a|button)[^>]*>[^<]*", "", html).split("<body>")[1].split("=")[0]
    script = client.get("/static/chat.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert 'aria-relevant="additions"' in html and 'data-n="' not in html  # nothing said yet


def test_rate_limits_never_hold_back_a_safeguarding_message(advisor, bot_settings):
    limited = replace(bot_settings, rate_limit_per_minute=2)
    with TestClient(build_app(limited, advisor), base_url="http://127.0.0.1:8080") as client:
        post(client, action="role:parent")
        for question in ("Can I post photos of the school play?", "Can I message a teacher on Facebook?"):
            post(client, text=question)
        held = transcript(post(client, text="Can I film sports day?").text)
        assert "sending messages very quickly" in held
        urgent = post(client, text="A pupil told me an adult online asked her to send naked pictures").text
        assert 'class="entry bot safeguarding"' in urgent and "999" in transcript(urgent)
        alert = {label: value for label, value in latest_buttons(urgent).items() if value.startswith("sg:")}
        post(client, command="help")  # the second press this minute
        assert "sending messages very quickly" in transcript(post(client, command="help").text).rsplit("You", 1)[-1]
        # Over the limit for presses too, the safeguarding offer's button still goes through.
        accepted = post(client, action=alert[next(l for l in alert if "Alert" in l or "Tell" in l or "yes" in l.lower())]).text
        assert re.search(r"SA-\d{4}-\d{4}", transcript(accepted).rsplit("You", 1)[-1])


def test_the_address_limit_is_generous_but_there(advisor, bot_settings):
    from bot.web.app import ADDRESS_FACTOR

    limited = replace(bot_settings, rate_limit_per_minute=1)
    app = build_app(limited, advisor)
    with TestClient(app, base_url="http://127.0.0.1:8080") as first:
        post(first, action="role:parent")  # presses and messages are counted apart
        for n in range(ADDRESS_FACTOR):  # as many people as the factor, one message each, from one address
            with TestClient(app, base_url="http://127.0.0.1:8080") as other:
                assert "very quickly" not in transcript(post(other, text="/help").text)
        with TestClient(app, base_url="http://127.0.0.1:8080") as one_more:
            assert "very quickly" in transcript(post(one_more, text="/help").text)


def test_the_web_shows_an_answer_in_the_layout_telegram_uses(advisor):
    """One layout (bot/dialogue/layout.py) for both channels: the same parts, in the same order."""
    from bot.dialogue import Outgoing, layout
    from bot.telegram.render import blocks_of as telegram_blocks
    from bot.web.view import blocks_of as web_blocks

    reply = advisor.respond("Can I accept a friend request from a pupil?", "staff")
    outgoing = Outgoing(reply.reply, answer=reply, kind="answer")
    parts = layout.parts_of(outgoing)
    assert [p.style for p in parts[:3]] == [layout.VERDICT, layout.SECTION, layout.QUOTE]
    assert [text for _, text in telegram_blocks(outgoing)] == [p.text for p in parts]
    assert [b.text for b in web_blocks(outgoing)] == [line for p in parts for line in (
        [p.text] if p.style == layout.QUOTE or p.clause_id else [l for l in p.text.split("\n") if l.strip()])]
    assert web_blocks(outgoing)[1].link == f"clause-{reply.answer.clause_id}"


def test_thumbs_have_words_too(client):
    html = ask(client, "Can I accept a friend request from a pupil?", role="staff")
    assert {"👍 Helpful", "👎 Not helpful"} <= set(latest_buttons(html))


def test_forget_me_mid_report_deletes_its_unsent_screenshots(client, bot_settings):
    walk_to_the_evidence_step(client)
    upload(client, ("a.png", PNG, "image/png"))
    folder = bot_settings.database_path.parent / "evidence"
    assert len(list(folder.iterdir())) == 1
    post(client, text="/forget")
    post(client, action="fg:yes")
    assert not list(folder.iterdir())


def test_more_files_than_a_report_takes_get_a_plain_answer(client):
    walk_to_the_evidence_step(client)
    response = upload(client, *[(f"{n}.png", PNG, "image/png") for n in range(6)])
    assert response.status_code == 400 and "at most 3 screenshots" in unescape(response.text)
