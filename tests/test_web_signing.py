"""Signing on the web (bot/web/signing.py over bot/signatures.py), driven as a browser drives it (Starlette's
TestClient, no model: signing never asks the advisor): the page from the chat and the agreement, the form with
its CSRF token, errors announced, everything escaped, POST-redirect-GET; a question first to the office queue;
personal links from the roster; a new version of the pack (only what changed, an email with the personal link,
a notice in the chat); and reminders from the roster, by Telegram and email, never twice in a day."""

from __future__ import annotations

import contextlib
import csv
import re
from dataclasses import replace
from datetime import timedelta
from html import unescape
from types import SimpleNamespace

import pytest
from starlette.testclient import TestClient

from bot.email.delivery import EmailDelivery
from bot.settings import Settings
from bot.signatures import Signing, sign_link
from bot.store import Store, utc_now
from bot.texts import for_office, for_people
from bot.web.app import build_app
from knowledge.signing import signed_text

BASE = "http://127.0.0.1:8080"
KIND_ONLINE = " Parents will also be kind online."


def reworded(pack, clause_id: str = "10.5-agreement", extra: str = KIND_ONLINE):
    """The same pack with one clause's verbatim text changed (a new version of the policy)."""
    return replace(pack, clauses=tuple(replace(c, text=c.text + extra) if c.id == clause_id else c for c in pack.clauses))


@pytest.fixture
def settings(tmp_path):
    return Settings(database_path=tmp_path / "policybot.db", school_name="Clearwell School", signature_retention_days=2555)


@contextlib.contextmanager
def web(settings, pack):
    """The web app over `pack` (an advisor that only has a pack: signing never asks the model)."""
    advisor = SimpleNamespace(pack=pack, follow_office_answers=lambda answers: 0)
    with TestClient(build_app(settings, advisor), base_url=BASE) as client:
        yield client


@pytest.fixture
def client(settings, pack):
    with web(settings, pack) as client:
        yield client


@contextlib.contextmanager
def opened(settings):
    store = Store(settings.database_path)
    try:
        yield store
    finally:
        store.close()


def field(html: str, name: str) -> str:
    return unescape(re.search(rf'name="{name}"[^>]*?value="([^"]*)"', html).group(1))


def sign(client, kind="agreement", page=None, **fields):
    """Fill the signing form shown at /sign?kind=… and send it; returns the response (redirects followed)."""
    page = page or client.get(f"/sign?kind={kind}").text
    data = {"csrf": field(page, "csrf"), "kind": kind, "digest": field(page, "digest"), "action": "agree", **fields}
    return client.post("/sign", data=data)


def main_text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html.split("<main", 1)[1]))


def sections_shown(html: str) -> list[str]:
    return re.findall(r'<section class="agreement" aria-labelledby="sign-clause-([^"]+)-heading"', html)


# --- the page and the form ------------------------------------------------------------------------------


def test_the_sign_page_is_reached_from_the_chat_and_the_agreement_and_says_what_is_kept(client, pack):
    for path in ("/", "/agreement"):
        assert re.search(r'href="/sign(\?kind=agreement)?"', client.get(path).text), path
    chat = client.get("/").text
    typed = client.post("/send", data={"csrf": field(chat, "csrf"), "text": "/agree"})  # as /agreement's reply says
    assert typed.url.path == "/sign" and "Sign the parents' agreement" in main_text(typed.text)
    privacy = main_text(client.get("/privacy").text)
    assert "A signature is a record the school keeps for 2555 days; “Forget me” does not erase it" in privacy
    page = client.get("/sign")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = main_text(page.text)
    agreement = pack.clause("10.5-agreement")
    assert agreement.summary in text and " ".join(agreement.text.split()) in " ".join(text.split())  # plain words and verbatim
    assert sections_shown(page.text) == ["10.5", "10.5-agreement"]
    assert "keeps for 2555 days" in text and "“Forget me” in the chat does not erase it" in text
    assert page.text.index('class="keeps"') < page.text.index('class="sign"')  # told before signing
    # Accessible: each input labelled, the classes grouped under a legend, "prefer not to say" a choice.
    for name in ("name", "classes", "prefer_not", "email", "question"):
        assert f'<label for="{name}">' in page.text, name
    assert "<legend>Your children&#39;s classes</legend>" in page.text and "Prefer not to say" in text
    assert 'action="/sign"' in page.text and page.text.count('name="csrf"') == 2
    # Staff: the whole policy, their role, "I have read and understood".
    staff = client.get("/sign?kind=acknowledgement").text
    assert len(sections_shown(staff)) == len(pack.clauses) and '<label for="role">' in staff
    assert "I have read and understood" in staff and "classes" not in staff.split('<form method="post" action="/sign" class="sign"')[1].split("</form>")[0]


def test_a_parent_signs_with_several_classes_and_the_page_after_says_so(client, settings, pack):
    form = client.get("/sign").text
    response = sign(client, page=form, name="  Jane   Doe ", classes="3B and 5R; 6T", email="jane@home.example")
    assert response.history[0].status_code == 303 and response.url.path == "/sign"  # POST, redirect, GET
    text = main_text(response.text)
    version = signed_text(pack, "agreement").short
    assert f"Thank you, Jane Doe. You signed the parents' agreement (version {version})" in text and "Classes: 3B, 5R, 6T." in text
    with opened(settings) as store:
        [row] = store.signatures.all()
        assert (row["kind"], row["outcome"], row["channel"], row["name"], row["classes"]) == ("agreement", "signed", "web", "Jane Doe", "3B, 5R, 6T")
        assert row["digest"] == signed_text(pack, "agreement").digest and row["email"] == "jane@home.example"
        assert row["code"] and row["roster_id"] is None  # a personal code, for the link a new version would email
        assert store.people.role_of(row["user_key"]) == "parent"
    mydata = client.post("/send", data={"csrf": field(form, "csrf"), "command": "mydata"})
    assert "parents' agreement" in main_text(mydata.text) and "j•••@home.example" in main_text(mydata.text)  # /mydata shows it
    # The same form sent again (a second click, the back button): signed once; later the page says nothing is new.
    assert sign(client, page=form, name="Jane Doe", classes="3B").status_code == 200
    assert "nothing new to sign" in main_text(client.get("/sign").text)
    with opened(settings) as store:
        assert len(store.signatures.all()) == 1


def test_prefer_not_to_say_and_a_staff_acknowledgement(client, settings):
    sign(client, name="Ann Bell", prefer_not="1")
    sign(client, kind="acknowledgement", name="Tom Lee", role="Year 4 teacher")
    with opened(settings) as store:
        rows = store.signatures.all()
    assert [(r["kind"], r["name"], r["classes"], r["role"]) for r in rows] == [
        ("agreement", "Ann Bell", "", ""), ("acknowledgement", "Tom Lee", "", "Year 4 teacher")]
    assert "prefer not to say" in main_text(client.get("/sign?kind=agreement").text)


def test_what_is_missing_is_announced_and_nothing_typed_is_markup(client, settings):
    response = sign(client, name="", classes="", email="not an address")
    assert response.status_code == 400
    html = response.text
    summary = html.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert "Please type your full name" in summary and "Prefer not to say" in unescape(summary) and "email address" in summary
    assert 'href="#name"' in summary and 'href="#classes"' in summary  # each error leads to its field
    assert re.search(r'id="name"[^>]*aria-describedby="name-hint name-error"[^>]*aria-invalid="true"', html)
    assert re.search(r'id="email"[^>]*aria-invalid="true"', html)
    response = sign(client, name='<script>alert("x")</script>', classes="", email="")
    assert "<script>alert" not in response.text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in response.text
    staff = sign(client, kind="acknowledgement", name="Tom Lee", role="")
    assert staff.status_code == 400 and "Please type your role" in staff.text
    with opened(settings) as store:
        assert store.signatures.all() == []


def test_a_form_without_its_token_signs_nothing(client, settings):
    page = client.get("/sign").text
    for token in ("", "forged"):
        response = client.post("/sign", data={"csrf": token, "kind": "agreement", "digest": field(page, "digest"),
                                              "action": "agree", "name": "Jane Doe", "classes": "3B"})
        assert response.status_code == 403
    assert client.post("/sign", data={"csrf": field(page, "csrf"), "kind": "treaty"}).status_code == 404
    with opened(settings) as store:
        assert store.signatures.all() == []


def test_a_change_while_reading_signs_nothing_and_says_so(client, settings):
    page = client.get("/sign").text.replace(field(client.get("/sign").text, "digest"), "0" * 64)
    response = sign(client, page=page, name="Jane Doe", classes="3B")
    assert "changed while you were reading" in main_text(response.text) and str(response.url).endswith("done=changed")
    with opened(settings) as store:
        assert store.signatures.all() == []


def test_a_question_first_goes_to_the_office_queue_with_a_private_link_shown_once(client, settings):
    page = client.get("/sign").text
    response = client.post("/sign", data={"csrf": field(page, "csrf"), "kind": "agreement", "digest": field(page, "digest"),
                                          "action": "ask", "question": "Does this cover photos of my own child?"})
    assert response.history[0].status_code == 303
    notice = response.text.split('id="sent"', 1)[1].split("</div>", 1)[0]
    assert "your question is with the school office" in notice
    link = re.search(r'href="(http://127\.0\.0\.1:8080/a/[^"]+)"', notice).group(1)
    with opened(settings) as store:
        [item] = store.unanswered.items()
        assert (item["text"], item["channel"], item["role"]) == ("Does this cover photos of my own child?", "web", "parent")
        [asked] = store.signatures.all()
        assert asked["outcome"] == "asked" and asked["question_item"] == item["id"]
        assert any(m["target"] == "office" and "photos of my own child" in m["text"] for m in store.db["outbox"].rows)
    assert "Does this cover photos" in unescape(client.get(link.removeprefix(BASE)).text)  # the private page
    assert 'id="sent"' not in client.get("/sign").text  # shown once
    empty = client.post("/sign", data={"csrf": field(page, "csrf"), "kind": "agreement", "action": "ask", "question": "  "})
    assert empty.status_code == 400 and "Please type your question first" in empty.text


def test_questions_before_signing_count_against_the_daily_share(tmp_path, pack):
    settings = Settings(database_path=tmp_path / "p.db", office_queue_per_person_per_day=1)
    with web(settings, pack) as client:
        page = client.get("/sign").text
        for n in range(2):
            response = client.post("/sign", data={"csrf": field(page, "csrf"), "kind": "agreement", "action": "ask",
                                                  "question": f"Question number {n} about the agreement?"})
    assert "as many as I pass on in a day" in main_text(response.text)
    with opened(settings) as store:
        assert len(store.unanswered.items()) == 1


# --- personal links ------------------------------------------------------------------------------------------


def test_a_roster_link_ties_the_signature_to_the_row_and_unknown_or_used_links_get_a_polite_page(client, settings):
    with opened(settings) as store:
        jane = store.signatures.add_to_roster("parent", "Jane Doe", "jane@home.example", "3B; 5R")
    page = client.get(f"/sign/{jane['code']}")
    assert page.history[0].status_code == 303 and page.url.path == "/sign"
    assert "Hello Jane Doe. This link is yours" in main_text(page.text)
    assert field(page.text, "name") == "Jane Doe" and field(page.text, "classes") == "3B; 5R"
    assert '<label for="email">' not in page.text  # the school has her address already
    with opened(settings) as store:
        assert store.signatures.roster()[0]["user_key"] == ""  # opening the link ties nothing (a mail scanner opens links)
    sign(client, page=page.text, name="Jane Doe", classes="3B; 5R")
    with opened(settings) as store:
        [row] = store.signatures.all()
        assert row["roster_id"] == jane["id"] and row["classes"] == "3B, 5R" and row["channel"] == "web"
        assert store.signatures.roster()[0]["channel"] == "web"

    for code in ("nosuchcode1", "x" * 80, "%3Cb%3E"):
        unknown = client.get(f"/sign/{code}")
        assert unknown.status_code == 404 and "not one we know" in main_text(unknown.text), code
    used = client.get(f"/sign/{jane['code']}")
    assert used.status_code == 410 and "already been signed with this link" in main_text(used.text)


# --- a new version -------------------------------------------------------------------------------------------


def test_a_new_version_emails_web_signers_their_link_shows_a_notice_and_only_what_changed(settings, pack, tmp_path):
    # (WEB_PUBLIC_URL over plain HTTP here: an https:// one makes the cookie Secure, which this client would not send.)
    email_settings = replace(settings, smtp_host="127.0.0.1", smtp_port=1, web_public_url="http://chat.clearwell.example")
    with opened(settings) as store:
        tom = store.signatures.add_to_roster("parent", "Tom Lee", "tom@home.example", "2C")
    with web(email_settings, pack) as jane:
        sign(jane, name="Jane Doe", classes="3B", email="jane@home.example")
        cookies = dict(jane.cookies)
        with web(email_settings, pack) as other:
            sign(other, page=other.get(f"/sign/{tom['code']}").text, name="Tom Lee", classes="2C")
        sign(jane, kind="acknowledgement", name="Jane Doe", role="Governor")  # staff text: no address, no email

    changed = reworded(pack)
    with web(email_settings, changed) as jane:  # the school's new version; the app starts again
        jane.cookies.update(cookies)
        with opened(settings) as store:
            emails = [m for m in store.db["outbox"].rows if m["channel"] == "email"]
            [signature] = [s for s in store.signatures.all() if s["name"] == "Jane Doe" and s["kind"] == "agreement"]
        assert sorted(m["ref"] for m in emails) == sorted([f"S-{signature['id']}", f"R-{tom['id']}"])
        by_ref = {m["ref"]: m for m in emails}
        assert "updated the parents' agreement" in by_ref[f"S-{signature['id']}"]["text"]
        assert f"http://chat.clearwell.example/sign/{signature['code']}" in by_ref[f"S-{signature['id']}"]["text"]
        assert f"http://chat.clearwell.example/sign/{tom['code']}" in by_ref[f"R-{tom['id']}"]["text"]

        chat = jane.get("/").text  # back in the same browser: a notice
        assert "The parents' agreement you signed has changed" in main_text(chat) and 'href="/sign?kind=agreement"' in chat
        page = jane.get("/sign?kind=agreement").text
        assert "Only what changed is shown here" in main_text(page)
        assert sections_shown(page) == ["10.5-agreement"] and KIND_ONLINE.strip() in main_text(page)
        assert "You signed before as Jane Doe (classes: 3B)" in main_text(page) and '<label for="name">' not in page
        done = sign(jane, page=page)
        assert signed_text(changed, "agreement").short in main_text(done.text) and "Classes: 3B." in main_text(done.text)
        assert "you signed has changed" not in main_text(jane.get("/").text)  # confirmed: no notice any more

    # Tom opens his emailed link in a new browser: only what changed, his details kept, tied to his row.
    with web(email_settings, changed) as tom_browser:
        page = tom_browser.get(f"/sign/{tom['code']}").text
        assert sections_shown(page) == ["10.5-agreement"] and "You signed before as Tom Lee (classes: 2C)" in main_text(page)
        sign(tom_browser, page=page)
    with opened(settings) as store:
        rows = [r for r in store.signatures.all() if r["kind"] == "agreement"]
        assert [(r["name"], r["digest"]) for r in rows[-2:]] == [("Jane Doe", signed_text(changed, "agreement").digest),
                                                                 ("Tom Lee", signed_text(changed, "agreement").digest)]
        assert rows[-1]["roster_id"] == tom["id"] and rows[-2]["code"] == signature["code"]


def test_a_personal_code_emailed_to_a_signer_off_the_roster_works_in_another_browser(settings, pack):
    with web(settings, pack) as first:
        sign(first, name="Jane Doe", classes="3B", email="jane@home.example")
    with opened(settings) as store:
        [signature] = store.signatures.all()
    changed = reworded(pack)
    with web(settings, changed) as second:
        page = second.get(f"/sign/{signature['code']}").text
        assert sections_shown(page) == ["10.5-agreement"] and "Jane Doe" in main_text(page)
        sign(second, page=page)
        used = second.get(f"/sign/{signature['code']}")
        assert used.status_code == 410
    with opened(settings) as store:
        latest = store.signatures.all()[-1]
    assert latest["digest"] == signed_text(changed, "agreement").digest and latest["code"] == signature["code"]
    assert latest["email"] == "jane@home.example"


async def test_the_emails_reach_the_signer_through_the_mail_server(settings, pack, smtp_server):
    email_settings = replace(settings, smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_from="policybot@clearwell.example")
    with opened(settings) as store:
        signing = Signing(store, pack, for_people(email_settings, pack), email_settings)
        row = store.signatures.add_to_roster("parent", "Tom Lee", "tom@home.example", "")
        store.signatures.link(row["id"], store.people.user_key("web", "s1"), "web", "s1")
        store.signatures.record(kind="agreement", outcome="signed", user_key=store.people.user_key("web", "s1"),
                                digest=signed_text(pack, "agreement").digest, channel="web", chat_id="s1", name="Tom Lee",
                                roster_id=row["id"])
        signing.open_round()
        signing.pack = reworded(pack)
        assert signing.open_round() == 1
        assert await EmailDelivery(store, email_settings).deliver() == 1
    [message] = smtp_server.messages
    assert smtp_server.recipients == [["tom@home.example"]]
    assert message["Subject"] == "[Clearwell School] Please confirm the updated social media agreement"
    body = message.get_content()
    assert sign_link(email_settings, row["code"]) in body and "1 section(s) changed: 10.5 (the agreement)" in body


def test_web_signers_are_not_emailed_without_a_mail_server(settings, pack):
    with web(settings, pack) as client:
        sign(client, name="Jane Doe", classes="3B", email="jane@home.example")
    with web(settings, reworded(pack)):
        pass
    with opened(settings) as store:
        assert [m for m in store.db["outbox"].rows if m["channel"] == "email"] == []


# --- reminders ------------------------------------------------------------------------------------------------


def test_reminders_go_by_telegram_or_email_never_twice_in_a_day_and_the_rest_are_listed(settings, pack, tmp_path, capsys):
    from bot.office_cli import cmd_roster_remind, cmd_roster_status
    from bot.roster import write_rest_csv

    mailing = replace(settings, smtp_host="127.0.0.1", web_public_url="https://chat.clearwell.example")
    with opened(settings) as store:
        signing = Signing(store, pack, for_people(mailing, pack), mailing)
        on_telegram = store.signatures.add_to_roster("parent", "Ann Bell", "ann@home.example", "1A")
        store.signatures.link(on_telegram["id"], store.people.user_key("telegram", "7001"), "telegram", "7001")
        by_email = store.signatures.add_to_roster("staff", "Tom Lee", "tom@school.example", "")
        unreachable = store.signatures.add_to_roster("parent", "Sam Green", "", "2B")
        signed = store.signatures.add_to_roster("parent", "Jo King", "jo@home.example", "")
        store.signatures.record(kind="agreement", outcome="signed", user_key="k", digest=signed_text(pack, "agreement").digest,
                                channel="web", chat_id="", name="Jo King", roster_id=signed["id"])

        done = signing.remind()
        assert (done.telegram, done.email, done.unreachable, done.recent) == (1, 1, 1, 0)
        rows = {m["ref"]: m for m in store.db["outbox"].rows}
        assert set(rows) == {f"R-{on_telegram['id']}", f"R-{by_email['id']}"}
        telegram = rows[f"R-{on_telegram['id']}"]
        assert telegram["channel"] == "telegram" and telegram["chat_id"] == "7001" and "Hello Ann Bell" in telegram["text"]
        assert '"sig:go:agreement"' in telegram["buttons"]
        email = rows[f"R-{by_email['id']}"]
        assert email["channel"] == "email" and f"https://chat.clearwell.example/sign/{by_email['code']}" in email["text"]
        assert "read and acknowledge the social media policy" in email["text"]

        again = signing.remind()  # the same day: nobody twice
        assert (again.telegram, again.email, again.unreachable, again.recent) == (0, 0, 1, 2)
        assert store.db["outbox"].count == 2
        tomorrow = signing.remind(now=utc_now() + timedelta(days=1, minutes=1))
        assert (tomorrow.telegram, tomorrow.email) == (1, 1)

        rest = tmp_path / "rest.csv"
        assert write_rest_csv(signing, for_office(mailing, pack), rest) == 3
        listed = {r["name"]: r for r in csv.DictReader(rest.open(encoding="utf-8"))}
        assert listed["Sam Green"]["reminder"] == "by hand" and listed["Ann Bell"]["reminder"] == "by Telegram"
        assert listed["Tom Lee"]["web_link"] == f"https://chat.clearwell.example/sign/{by_email['code']}"
        assert listed["Tom Lee"]["reminded_at"]

    # From the terminal: the counts; without a mail server an address is no way to reach someone.
    assert cmd_roster_remind(SimpleNamespace(settings=settings)) == 0
    out = capsys.readouterr().out
    assert "0 by Telegram, 0 by email" in out and "1 could not be reached" in out and "2 already reminded in the last day" in out
    assert cmd_roster_status(SimpleNamespace(settings=mailing, csv=None, bot="")) == 0
    assert f"link to sign: Sam Green · https://chat.clearwell.example/sign/{unreachable['code']}" in capsys.readouterr().out
    assert cmd_roster_status(SimpleNamespace(settings=settings, csv=None, bot="")) == 0
    assert "link to sign" not in capsys.readouterr().out  # no WEB_PUBLIC_URL: no web links


def test_a_database_from_before_web_signing_opens_and_keeps_its_signatures(tmp_path):
    import sqlite_utils

    from bot.store.schema import migrations

    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m009_signing_web")
    db["signatures"].insert({"kind": "agreement", "outcome": "signed", "user_key": "k", "name": "Jane Doe", "digest": "d", "at": "2026-01-01"})
    db.close()
    with opened(SimpleNamespace(database_path=path)) as store:
        [row] = store.signatures.all()
        assert row["name"] == "Jane Doe" and row["email"] == "" and row["code"] == ""
        assert store.signatures.roster() == [] and "reminded_at" in store.db["roster"].columns_dict


def test_the_access_log_does_not_name_a_personal_code():
    import logging

    from bot.web.security import HidePrivatePath
    from bot.web.signing import SIGN_PATH

    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/sign/AbCdEf123456", "1.1", 303), None)
    assert HidePrivatePath(SIGN_PATH).filter(record) and "AbCdEf123456" not in record.getMessage() and "/sign/…" in record.getMessage()


def test_a_question_about_a_child_at_risk_gets_the_chats_safeguarding_reply_not_the_queue(advisor, untaught_engine, settings):
    """(The real advisor: the safeguarding reply is the dialogue's.)"""
    with TestClient(build_app(settings, advisor), base_url=BASE) as client:
        page = client.get("/sign").text
        response = client.post("/sign", data={"csrf": field(page, "csrf"), "kind": "agreement", "action": "ask",
                                              "question": "A pupil told me an adult online asked her to send naked pictures"})
    assert response.url.path == "/" and "999" in main_text(response.text)  # the chat, with the safeguarding reply
    with opened(settings) as store:
        assert [s for s in store.signatures.all() if s["outcome"] == "asked"] == []
