"""The office's desk in a real browser (Debian's headless Chromium, JavaScript off), in the same web app as
the chat: a sign-in link, a question from a web user and one from a Telegram user answered from the desk, a
case closed, an escalated case not shown to the office, a reused and an expired link refused.

With CI=true a missing browser is a failure; elsewhere these tests skip and say what to install."""

from __future__ import annotations

import base64
import os
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.desk.access import DeskAccess
from bot.store import Store, utc_now
from bot.web.app import build_app
from tests.browser_helpers import Browser, chromedriver, serving

pytestmark = pytest.mark.usefixtures("untaught_engine")
WEB_QUESTION = "Can I run a crypto trading channel?"
TELEGRAM_QUESTION = "Can I post a video of the school play on TikTok?"
SCREENSHOTS = Path(os.environ.get("DESK_SCREENSHOTS", "")) if os.environ.get("DESK_SCREENSHOTS") else None


@pytest.fixture
def browser():
    """Chromium with JavaScript off, for one test."""
    with chromedriver() as driver:
        opened = Browser(driver, javascript=False)
        try:
            yield opened
        finally:
            opened.close()


def link(settings, site: str, user: str = "tg:900", clock=utc_now) -> str:
    store = Store(settings.database_path)
    try:
        url = DeskAccess(settings, store, clock).issue_link(user, via="test")
    finally:
        store.close()
    return site + "/desk/signin?token=" + url.split("token=", 1)[1]


def submit(browser, element: str) -> None:
    """Click what sends a form or follows a link, and wait until the next page has replaced this one."""
    page = browser.find("html")
    browser.click(element)
    deadline = time.monotonic() + 30
    while browser.http.get(f"/session/{browser.session}/element/{page}/name").status_code == 200:
        assert time.monotonic() < deadline, "the next page did not come"
        time.sleep(0.05)


def page_text(browser) -> str:
    return browser.text_of(browser.find("main"))


def screenshot(browser, name: str) -> None:
    if SCREENSHOTS is not None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        png = browser.call("GET", f"/session/{browser.session}/screenshot")
        (SCREENSHOTS / f"{name}.png").write_bytes(base64.b64decode(png))


def test_the_office_signs_in_answers_a_web_and_a_telegram_user_and_closes_a_case(browser, advisor, bot_settings):
    settings = replace(bot_settings, escalation_user_ids=(950,))
    store = Store(settings.database_path)
    key = store.people.user_key("telegram", "5002")
    qid = store.questions.record(key, "parent", TELEGRAM_QUESTION, "question", False, 0.2, "")
    telegram_item = store.unanswered.add(qid, key, "telegram", "5002", "parent", TELEGRAM_QUESTION, ["6.5", "6.13"])
    case = {"reporter_key": "", "reporter_channel": "telegram", "reporter_chat": "", "reporter_name": "", "role": "staff",
            "urgent": 0, "anonymous": 1, "where_": "Instagram", "when_": "today", "who": "a teacher", "pupil_risk": "none",
            "data_protection": 0, "evidence": "[]", "clauses": "[]"}
    ours = store.cases.create("breach", {**case, "routed_to": "office", "what": "A class photo with names", "about_leadership": 0})
    theirs = store.cases.create("breach", {**case, "routed_to": "escalation", "what": "The head's post", "about_leadership": 1})
    store.close()

    with serving(build_app(settings, advisor)) as site:
        # A parent on the web chat asks what the bot cannot answer.
        browser.go(site + "/")
        submit(browser, browser.find_all("form.roles button")[1])
        browser.type(browser.find("#text"), WEB_QUESTION)
        submit(browser, browser.find("form.ask button"))
        browser.find("#latest")

        # The office signs in with its link: opening it shows one button; pressing it signs in.
        url = link(settings, site)
        browser.go(url)
        submit(browser, browser.find("#sign-in"))
        queue = page_text(browser)
        assert WEB_QUESTION in queue and TELEGRAM_QUESTION in queue
        screenshot(browser, "desk-unanswered")

        # The Telegram asker's question: answered with one of the bot's guesses.
        submit(browser, browser.find(f'[id="U-{telegram_item}"] form button'))
        assert "U-" in browser.text_of(browser.find(".flash"))
        # The web asker's: found by typing, answered in the office's own words.
        web_item = next(a for a in browser.find_all("article.item") if WEB_QUESTION in browser.text_of(a))
        submit(browser, browser.call("POST", f"/session/{browser.session}/element/{web_item}/element",
                                   {"using": "css selector", "value": "a.button"})["element-6066-11e4-a52e-4f735466cecf"])
        browser.type(browser.find("#q"), "personal accounts")
        submit(browser, browser.find("form[role=search] button"))
        assert "Answer with this" in page_text(browser)
        browser.type(browser.find("#answer"), "No: the school's channels only, with the head's approval.")
        submit(browser, browser.find("form textarea#answer ~ button"))
        assert "No unanswered questions" in page_text(browser)

        # A case: closed with a note; the escalated one is not the office's to see.
        browser.go(site + "/desk/cases")
        listing = page_text(browser)
        assert ours in listing and theirs not in listing
        screenshot(browser, "desk-cases")
        submit(browser, browser.find(f'a[href$="/cases/{ours}"]'))
        browser.type(browser.find("#close-note"), "Photo taken down; names removed.")
        submit(browser, browser.find("#close-note ~ button"))
        assert browser.text_of(browser.find("#case-status")) == "Closed"
        browser.go(site + f"/desk/cases/{theirs}")
        assert "There is nothing here" in page_text(browser)

        # The web asker sees the office's answer in the chat; the Telegram asker's is in the outbox.
        browser.go(site + "/")
        assert "the school's channels only, with the head's approval" in browser.text_of(browser.find("main"))
        store = Store(settings.database_path)
        try:
            [sent] = [m for m in store.db["outbox"].rows if m["kind"] == "answer" and m["channel"] == "telegram"]
            assert sent["chat_id"] == "5002" and sent["ref"] == f"U-{telegram_item}"
        finally:
            store.close()

        # A reused link and an expired one are refused politely.
        browser.go(url)
        submit(browser, browser.find("#sign-in"))
        assert "already been used" in page_text(browser)
        browser.go(link(settings, site, clock=lambda: utc_now() - timedelta(minutes=11)))
        submit(browser, browser.find("#sign-in"))
        assert "has expired" in page_text(browser)
