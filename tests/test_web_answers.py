"""A web asker's question the bot passes to the office, as a browser drives it (Starlette's TestClient, the real
model): the private link shown once in the chat, the page it opens, the optional email address (with a CSRF
token), the office's answer on the page and in the asker's inbox (a local aiosmtpd), and forget-me erasing it."""

from __future__ import annotations

import logging
import re
from html import unescape

import pytest
from starlette.testclient import TestClient

from bot.answer_links import token_hash
from bot.web.answers import ANSWER_PATH
from bot.web.security import HidePrivatePath
from bot.web.app import build_app

pytestmark = pytest.mark.usefixtures("untaught_engine")

QUESTION = "Can I run a crypto trading channel?"
ASKER = "parent@home.example"
LINK = re.compile(r'<a href="http://127\.0\.0\.1:8080(/a/([A-Za-z0-9_-]{40,}))">')


@pytest.fixture
def client(advisor, email_settings):
    with TestClient(build_app(email_settings, advisor), base_url="http://127.0.0.1:8080") as client:
        yield client


def csrf(page_html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page_html).group(1)


def post(client, **fields):
    return client.post("/send", data={"csrf": csrf(client.get("/").text), **fields})


def pass_a_question_on(client) -> tuple[str, str]:
    """A staff question the policy does not answer: returns the private link's path and token."""
    post(client, action="role:staff")
    html = post(client, text=QUESTION).text
    assert "not sure" in unescape(html).lower()
    [(path, token)] = LINK.findall(html)
    assert "Bookmark this link" in unescape(html)
    return path, token


def give_address(client, path: str, address: str):
    page = client.get(path)
    return client.post(path, data={"csrf": csrf(page.text), "action": "save", "email": address})


def everything_stored(store) -> str:
    tables = [name for name in store.db.table_names() if not name.startswith("_")]
    return "\n".join(str(value) for table in tables for row in store.db[table].rows for value in row.values())


def test_the_office_answer_appears_at_the_private_link_and_is_emailed(client, smtp_server):
    web = client.app.state.web
    path, token = pass_a_question_on(client)
    item = web.store.unanswered.by_link(token_hash(token))
    assert item is not None and item["text"] == QUESTION and token not in everything_stored(web.store)

    page = client.get(path)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    shown = unescape(page.text)
    assert QUESTION in shown and "has not answered yet" in shown and 'type="email"' in page.text

    stranger = TestClient(client.app, base_url="http://127.0.0.1:8080")  # no session, no CSRF token
    assert stranger.post(path, data={"action": "save", "email": ASKER}).status_code == 403
    wrong = give_address(client, path, "not an address")
    assert wrong.status_code == 400 and 'aria-invalid="true"' in wrong.text
    saved = give_address(client, path, ASKER)
    assert saved.history[0].status_code == 303 and "Thank you" in saved.text
    assert "p•••@home.example" in saved.text and ASKER not in saved.text
    assert web.store.unanswered.item(item["id"])["email"] == ASKER

    answer = 'Only with the head\'s written permission & never "for profit".'
    assert web.dialogue.office.answer_with_text(item["id"], answer, "tester").ok
    shown = unescape(client.get(path).text)
    assert "The school office's answer" in shown and answer in shown and "Email me" not in shown

    client.portal.call(client.app.state.email.deliver)  # the app's own email loop, one round now
    to_office, to_asker = smtp_server.messages  # the question was emailed to the office, then the answer to them
    assert smtp_server.recipients == [["office@clearwell.example"], [ASKER]]
    assert QUESTION in to_office.get_content() and answer in to_asker.get_content()
    assert ASKER not in everything_stored(web.store)  # erased once sent
    assert answer in unescape(client.get("/").text)  # and the chat shows it, in this browser


def test_a_wrong_or_erased_link_is_not_found(client):
    assert client.get("/a/" + "x" * 43).status_code == 404
    path, _ = pass_a_question_on(client)
    give_address(client, path, ASKER)
    post(client, text="/forget")
    post(client, action="fg:yes")
    gone = client.get(path)
    assert gone.status_code == 404 and "no question at this link" in unescape(gone.text)
    assert ASKER not in everything_stored(client.app.state.web.store)


def test_an_address_can_be_taken_back(client):
    web = client.app.state.web
    path, token = pass_a_question_on(client)
    give_address(client, path, ASKER)
    page = client.get(path)
    removed = client.post(path, data={"csrf": csrf(page.text), "action": "remove"})
    assert "has been erased" in unescape(removed.text)
    assert web.store.unanswered.by_link(token_hash(token))["email"] == ""


def test_the_access_log_never_holds_a_private_link():
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d', ("1.2.3.4", "GET", "/a/SECRET", "1.1", 200), None)
    assert HidePrivatePath(ANSWER_PATH).filter(record)
    assert "SECRET" not in record.getMessage() and "/a/…" in record.getMessage()
