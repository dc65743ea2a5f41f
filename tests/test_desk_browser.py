"""The office's desk in a real browser (Debian's headless Chromium), in the same web app as the chat: with
JavaScript off, a sign-in link, a question from a web user and one from a Telegram user answered from the desk
(the answers reach the web chat and, through the outbox, the Telegram user on the fake Bot API), a case closed,
an escalated case not shown to the office, pages refused without a session, a forged, a reused and an expired
link refused; then every desk page scanned with axe-core (its default rules, none disabled, nothing excluded),
as the office and as the escalation, with a roster uploaded through the file input. Screenshots of the desk
go to docs/screenshots/ beside the chat's.

With CI=true a missing browser is a failure; elsewhere these tests skip and say what to install."""

from __future__ import annotations

import base64
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
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


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


def screenshot(browser, name: str, width: int = 1280, height: int = 900) -> None:
    """The page at a desk's size, as docs/screenshots/NAME-WxH.png; the window is put back to a phone's after."""
    browser.window(width, height)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    png = browser.call("GET", f"/session/{browser.session}/screenshot")
    (SCREENSHOTS / f"{name}-{width}x{height}.png").write_bytes(base64.b64decode(png))
    browser.window(375, 812)


def deliver_to_telegram(settings, fake) -> int:
    """One round of the outbox's Telegram delivery (bot/telegram/outbox.py), to the fake Bot API."""
    import asyncio

    from telegram import Bot

    from bot.telegram.outbox import Delivery, deliver_due

    async def deliver() -> int:
        store = Store(settings.database_path)
        try:
            async with Bot(fake.token, base_url=fake.base_url) as bot:
                return await deliver_due(bot, Delivery(store.outbox, settings))
        finally:
            store.close()

    return asyncio.run(deliver())


def test_the_office_signs_in_answers_a_web_and_a_telegram_user_and_closes_a_case(browser, advisor, bot_settings, fake_bot_api):
    settings = replace(bot_settings, escalation_user_ids=(950,), telegram_bot_token=fake_bot_api.token,
                       telegram_base_url=fake_bot_api.base_url)
    fake_bot_api.add_chat(5002, "private")
    fake_bot_api.add_chat(settings.office_chat_id, "supergroup", title="Office")
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

        # Without a session the desk's pages are refused; a forged link signs nobody in.
        browser.go(site + "/desk/unanswered")
        assert "Please sign in first" in page_text(browser)
        browser.go(site + "/desk/signin?token=forged-token-forged-token")
        submit(browser, browser.find("#sign-in"))
        assert "not valid" in page_text(browser)
        browser.go(site + "/desk/cases")
        assert "Please sign in first" in page_text(browser)
        # A link made for someone who is not an admin of this server (here: one made with other settings) is refused.
        browser.go(link(replace(settings, admin_user_ids=(*settings.admin_user_ids, 4242)), site, user="tg:4242"))
        submit(browser, browser.find("#sign-in"))
        assert "no longer valid for you" in page_text(browser)

        # The office signs in with its link: opening it shows one button; pressing it signs in.
        url = link(settings, site)
        browser.go(url)
        submit(browser, browser.find("#sign-in"))
        queue = page_text(browser)
        assert WEB_QUESTION in queue and TELEGRAM_QUESTION in queue
        screenshot(browser, "desk-unanswered")
        browser.go(site + "/desk/unanswered")

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
        browser.go(site + "/desk/cases")
        submit(browser, browser.find(f'a[href$="/cases/{ours}"]'))
        browser.type(browser.find("#close-note"), "Photo taken down; names removed.")
        submit(browser, browser.find("#close-note ~ button"))
        assert browser.text_of(browser.find("#case-status")) == "Closed"
        browser.go(site + f"/desk/cases/{theirs}")
        assert "There is nothing here" in page_text(browser)

        # The web asker sees the office's answer in the chat; the Telegram asker is sent theirs by the outbox.
        browser.go(site + "/")
        assert "the school's channels only, with the head's approval" in browser.text_of(browser.find("main"))
        assert deliver_to_telegram(settings, fake_bot_api) >= 1
        [sent] = [m for m in fake_bot_api.sent_messages(5002) if TELEGRAM_QUESTION in m["text"]]
        assert "Section 6.5" in sent["text"] or "6.5" in sent["text"]

        # A reused link and an expired one are refused politely.
        browser.go(url)
        submit(browser, browser.find("#sign-in"))
        assert "already been used" in page_text(browser)
        browser.go(link(settings, site, clock=lambda: utc_now() - timedelta(minutes=11)))
        submit(browser, browser.find("#sign-in"))
        assert "has expired" in page_text(browser)


ROSTER_BAD = "kind,name,email,class\nparent,Ada Parent,,3B\nteacher,Dee Wrong,,\n"
ROSTER_GOOD = "kind,name,email,class\nparent,Ada Parent,ada@example.com,3B\nparent,Ben Parent,,4C\nstaff,Cy Teacher,,\n"


def no_serious_violations(browser, where: str) -> None:
    found = browser.axe()
    assert not found, f"{where}: {found}"


def test_every_desk_page_passes_axe_as_the_office_and_as_the_escalation(advisor, bot_settings, tmp_path):
    """Every page of the desk, filled as in use, scanned by axe-core (serious or critical: none); the roster is
    uploaded through the page's file input, once with a problem (nothing imported) and once right."""
    from knowledge.signing import signed_text

    settings = replace(bot_settings, escalation_user_ids=(950,))
    store = Store(settings.database_path)
    key = store.people.user_key("telegram", "5002")
    questions = [TELEGRAM_QUESTION, "Can I run a crypto trading channel on my own time?", "May staff promote crypto trading channels?"]
    items = []
    for text in questions:
        qid = store.questions.record(key, "parent", text, "question", False, 0.2, "", nearest="6.13")
        items.append(store.unanswered.add(qid, key, "telegram", "5002", "parent", text, ["6.5", "6.13"]))
    store.answers.add_office_answer("Can I use my own phone on trips?", "Yes, for emergencies only.", "staff", "tg:900")
    case = {"reporter_key": "", "reporter_channel": "telegram", "reporter_chat": "", "reporter_name": "", "role": "staff",
            "urgent": 1, "anonymous": 1, "where_": "Instagram", "when_": "today", "who": "a teacher", "pupil_risk": "none",
            "data_protection": 0, "evidence": "[]", "clauses": '["6.5"]'}
    ours = store.cases.create("breach", {**case, "routed_to": "office", "what": "A class photo with names", "about_leadership": 0})
    theirs = store.cases.create("breach", {**case, "routed_to": "escalation", "what": "The head's post", "about_leadership": 1})
    store.desk.add_note(ours, "Rang the teacher.", "tg:900")
    store.signatures.record(kind="agreement", outcome="signed", user_key="dot", digest=signed_text(advisor.pack, "agreement").digest,
                            channel="telegram", chat_id="77", name="Dorothy P.", classes="1A")
    store.close()
    bad, good = tmp_path / "roster-bad.csv", tmp_path / "roster.csv"
    bad.write_text(ROSTER_BAD, encoding="utf-8")
    good.write_text(ROSTER_GOOD, encoding="utf-8")

    with chromedriver() as driver, serving(build_app(settings, advisor)) as site:
        browser = Browser(driver, javascript=True)  # axe-core runs as a script; the desk itself has none
        try:
            browser.go(site + "/desk/")
            no_serious_violations(browser, "sign-in page without a link")
            browser.go(link(settings, site))
            no_serious_violations(browser, "sign-in page with a link")
            submit(browser, browser.find("#sign-in"))
            pages = ["/desk/unanswered", f"/desk/unanswered/{items[0]}", f"/desk/unanswered/{items[0]}?q=personal+accounts",
                     "/desk/cases", f"/desk/cases/{ours}", "/desk/learned", "/desk/stats", "/desk/roster", "/desk/review",
                     "/desk/nowhere", f"/desk/cases/{theirs}"]
            for path in pages:
                browser.go(site + path)
                browser.find("main")
                no_serious_violations(browser, path)
            assert "There is nothing here" in page_text(browser)  # the escalated case, to the office

            # The roster: a file with a problem is refused whole, with its line; the right one is imported.
            browser.go(site + "/desk/roster")
            browser.type(browser.find("#roster-file"), str(bad))
            submit(browser, browser.find("#roster-file ~ button"))
            refused = page_text(browser)
            assert "roster-bad.csv, line 3" in refused and "Nothing was imported" in refused
            no_serious_violations(browser, "roster with problems")
            browser.type(browser.find("#roster-file"), str(good))
            submit(browser, browser.find("#roster-file ~ button"))
            imported = page_text(browser)
            assert "3 people on the roster (3 new)" in imported and "Ben Parent" in imported and "Dorothy P." in imported
            no_serious_violations(browser, "roster with people")

            # The review: an example hidden by the office.
            browser.go(site + "/desk/review")
            screenshot(browser, "desk-review")
            browser.go(site + "/desk/review")
            submit(browser, browser.find_button("Hide this example"))
            assert "is hidden from the review" in page_text(browser)
            no_serious_violations(browser, "review after hiding")

            # The escalation's people: only the escalated case; the office's work is not theirs.
            browser.call("DELETE", browser.s("/cookie"))
            browser.go(link(settings, site, user="tg:950"))
            submit(browser, browser.find("#sign-in"))
            listing = page_text(browser)
            assert theirs in listing and ours not in listing
            no_serious_violations(browser, "cases, as the escalation")
            for path in (f"/desk/cases/{theirs}", "/desk/unanswered", f"/desk/cases/{ours}"):
                browser.go(site + path)
                browser.find("main")
                no_serious_violations(browser, f"{path}, as the escalation")
            assert "There is nothing here" in page_text(browser)
            browser.go(site + "/desk/unanswered")
            assert "not part of your work" in page_text(browser)
        finally:
            browser.close()
