"""The web chat in a real browser (Debian's headless Chromium over its chromedriver, tests/browser_helpers.py):
a person's walk through it with JavaScript off, with it on, and with the keyboard alone; an axe-core scan of
every page and after replies; no sideways scrolling at 320 px; screenshots a person can look at
(docs/screenshots/). One chromedriver and one web chat serve the whole module; each walk starts a fresh session.

With CI=true a missing browser is a failure; elsewhere these tests skip and say what to install."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path

import pytest

from bot.web.app import build_app
from tests.browser_helpers import Browser, chromedriver, serving

pytestmark = pytest.mark.usefixtures("untaught_engine")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"

STAFF_QUESTION = "Can I accept a friend request from a pupil?"
PARENT_QUESTION = "Can I message my child's teacher on Facebook?"
HEDGE_QUESTION = "Can I use AI chatbots to write reports?"
DISCLOSURE = "I think a pupil is being groomed online by an adult"


@pytest.fixture(scope="module")
def driver():
    with chromedriver() as url:
        yield url


@pytest.fixture(scope="module")
def web_settings(engine_settings, tmp_path_factory):
    return replace(engine_settings, database_path=tmp_path_factory.mktemp("web") / "policybot.db")


@pytest.fixture(scope="module")
def site(advisor, web_settings):
    with serving(build_app(web_settings, advisor)) as url:
        yield url


@contextlib.contextmanager
def opened(driver, javascript: bool):
    browser = Browser(driver, javascript=javascript)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def browsers(driver):
    """One browser without JavaScript and one with it, for the module."""
    with opened(driver, False) as off, opened(driver, True) as on:
        yield {False: off, True: on}


def fresh(browser: Browser, site: str) -> None:
    """A new visitor: no cookie, the chat page at phone size."""
    browser.go(site + "/privacy")
    browser.call("DELETE", browser.s("/cookie"))
    browser.window(375, 812)
    browser.go(site + "/")
    # Keys go to the page only once it has focus (just after a load and a resize it may not yet).
    browser.wait_for(lambda: browser.execute("return document.readyState === 'complete' && document.hasFocus();"), "focus")


def latest_number(browser: Browser) -> int:
    """The newest entry's number (0 with none, or while a page is loading); a script, so nothing waits."""
    with contextlib.suppress(AssertionError):
        return int(browser.execute("var l = document.getElementById('latest'); return l ? +l.getAttribute('data-n') : 0;") or 0)
    return 0


def after(browser: Browser, act) -> str:
    """Do `act` (a click, keys), then wait for a newer reply; returns the newest entry's text."""
    before = latest_number(browser)
    act()
    browser.wait_for(lambda: latest_number(browser) > before, "the reply")
    return browser.text_of(browser.find("#latest"))


def ask(browser: Browser, text: str) -> str:
    box = browser.find("#text")
    browser.type(box, text)
    return after(browser, lambda: browser.click(browser.find("form.ask button")))


def press(browser: Browser, label: str, within: str = "#latest") -> str:
    button = browser.find_button(label, within)
    return after(browser, lambda: browser.click(button))


def transcript(browser: Browser) -> str:
    return browser.text_of(browser.find("#transcript"))


def no_serious_violations(browser: Browser, where: str) -> None:
    found = browser.axe()
    assert not found, f"{where}: {found}"


def walk(browser: Browser, site: str, advisor) -> None:
    """What a member of staff and then a parent do, as the issue lists it."""
    fresh(browser, site)
    roles = browser.find_all("form.roles button")
    assert [browser.text_of(b) for b in roles] == ["I work at the school", "I'm a parent or carer"]
    after(browser, lambda: browser.click(roles[0]))

    # A staff question, answered with its section; the section leads to the clause on the policy page.
    expected = advisor.respond(STAFF_QUESTION, "staff").answer
    latest = ask(browser, STAFF_QUESTION)
    assert expected.verdict_line in latest and expected.section_line in latest
    assert browser.text_of(browser.find("#latest blockquote")) == expected.quote
    if browser.javascript:
        no_serious_violations(browser, "after an answer")
        shoot(browser)

    # A hedge: "did you mean" choices; one of them shows its section in full.
    ask(browser, HEDGE_QUESTION)
    # (The office is told of it, so the private link where its answer will appear comes last, on its own.)
    assert "/a/" in browser.text_of(browser.find("#latest.answer_link"))
    choices = browser.find_all(".entry:has(+ #latest.answer_link) form.buttons button[value^='sec:']")
    assert 1 <= len(choices) <= 3
    label = browser.text_of(choices[0])
    shown = after(browser, lambda: browser.click(choices[0]))
    assert shown.splitlines()[1].startswith("Section " + label.split()[0])
    assert browser.find_all("#latest blockquote")

    # A parent now (the role changes), and a parent's question.
    after(browser, lambda: browser.click(browser.find_button("I'm a parent or carer", "#after-ask")))
    expected = advisor.respond(PARENT_QUESTION, "parent").answer
    latest = ask(browser, PARENT_QUESTION)
    assert expected.verdict_line in latest and expected.section_line in latest

    # A complaint referral, with a disclosure typed in the middle of it: the safeguarding reply, then on.
    press(browser, "Make a complaint", "#after-ask")
    press(browser, "Yes, pass it on")
    ask(browser, DISCLOSURE)
    emergency = browser.find_all(".entry.safeguarding .emergency")
    assert emergency and "999" in browser.text_of(emergency[-1])
    if browser.javascript:
        no_serious_violations(browser, "after a safeguarding reply")
    assert "Back to where you were" in transcript(browser)
    for answer in ("Homework marking in year 4", "Mr Smith", "Sam, year 4", "I emailed the class teacher", "A fair mark", "here"):
        ask(browser, answer)
    done = press(browser, "Send")
    assert "CR-" in done

    # The section line of an answer leads to its clause on the policy page.
    ask(browser, PARENT_QUESTION)
    clause_id = browser.attribute(browser.find("#latest p.section a"), "href").rsplit("#", 1)[1]
    browser.click(browser.find("#latest p.section a"))
    browser.find(f'[id="{clause_id}"] h3')
    assert browser.url().endswith("#" + clause_id)
    browser.go(site + "/")

    # Forget me: asked once, then the page and the store forget.
    press(browser, "Forget me", "#after-ask")
    press(browser, "Yes")
    assert "I work at the school" in browser.text_of(browser.find("form.roles"))
    assert PARENT_QUESTION not in transcript(browser)


def shoot(browser: Browser) -> None:
    """The chat after an answer (scrolled to it), at phone size and on a desktop, for people to look at."""
    for width, height, name in ((375, 812, "chat-phone-375x812.png"), (1280, 900, "chat-desktop-1280x900.png")):
        browser.window(width, height)
        browser.execute("document.getElementById('latest').scrollIntoView({block: 'start'});")
        browser.screenshot(SCREENSHOTS / name)
    browser.window(375, 812)


def test_the_walk_with_javascript_off(browsers, site, advisor):
    walk(browsers[False], site, advisor)


def test_the_walk_with_javascript_on_never_reloads_the_page(browsers, site, advisor):
    browser = browsers[True]
    fresh(browser, site)
    browser.execute("window.__same_page = 'yes';")
    walk(browser, site, advisor)
    browser.go(site + "/")
    browser.execute("window.__same_page = 'yes';")
    ask(browser, STAFF_QUESTION)
    assert browser.execute("return window.__same_page;") == "yes"  # no full reload
    numbers = browser.execute("return [...document.querySelectorAll('#transcript > article')].map(a => a.dataset.n);")
    assert len(numbers) == len(set(numbers))  # nothing shown twice
    assert browser.execute("return document.activeElement.id;") == "text"  # focus kept in the message box


def test_keyboard_alone(browsers, site, advisor):
    """Tab, Enter and Space only: focus lands where a person expects, with JavaScript on and off."""
    for javascript in (False, True):
        browser = browsers[javascript]
        fresh(browser, site)
        browser.keys("Tab")
        skip = browser.active()
        assert browser.text_of(skip) == "Skip to your message", javascript
        browser.keys("Enter")
        box = browser.find("#text")
        assert browser.active() == box
        # The role buttons come just before the message box.
        browser.keys("Tab", shift=True)
        assert browser.text_of(browser.active()) == "I'm a parent or carer"
        after(browser, lambda: browser.keys("Space"))
        reply = browser.find("#latest")
        expected_focus = browser.find("#text") if javascript else reply
        assert browser.active() == expected_focus
        if not javascript:
            browser.keys("Tab")  # the reply has no buttons: on to the message box
            assert browser.active() == browser.find("#text")
        browser.keys(PARENT_QUESTION)
        if javascript:
            latest = after(browser, lambda: browser.keys("Enter"))  # Enter sends
            assert browser.active() == browser.find("#text")
        else:
            browser.keys("Tab")
            assert browser.text_of(browser.active()) == "Send"
            latest = after(browser, lambda: browser.keys("Enter"))
            assert browser.active() == browser.find("#latest")  # the answer, where reading goes on
        assert advisor.respond(PARENT_QUESTION, "parent").answer.verdict_line in latest
        # The reply's buttons: after the reply (JavaScript off, focus is on it), or just before the message box.
        buttons = browser.find_all("#latest button")
        for _ in range(len(buttons)):
            browser.keys("Tab", shift=javascript)
            if browser.text_of(browser.active()).startswith("👎"):
                break
        assert browser.active() in buttons and browser.text_of(browser.active()).startswith("👎")
        thanked = after(browser, lambda: browser.keys("Enter"))
        assert thanked
        # The menu after the message box: "Forget me", confirmed with Space, then Enter.
        if not javascript:
            assert browser.active() == browser.find("#latest")
        for _ in range(8):
            browser.keys("Tab")
            if browser.text_of(browser.active()) == "Forget me":
                break
        assert browser.text_of(browser.active()) == "Forget me"
        after(browser, lambda: browser.keys("Space"))
        if javascript:
            assert browser.active() == browser.find("#text")
            browser.keys("Tab", shift=True)
            browser.keys("Tab", shift=True)
        else:
            browser.keys("Tab")
        assert browser.text_of(browser.active()).startswith("Yes")
        after(browser, lambda: browser.keys("Enter"))
        assert PARENT_QUESTION not in transcript(browser)


def test_a_screenshot_is_attached_to_a_report_with_javascript_off_and_on(browsers, site, web_settings, tmp_path):
    picture = tmp_path / "screenshot.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 500)
    folder = web_settings.database_path.parent / "evidence"
    for javascript in (False, True):
        browser = browsers[javascript]
        fresh(browser, site)
        after(browser, lambda: browser.click(browser.find_button("I work at the school", "form.roles")))
        press(browser, "Report a breach of the policy", "#after-ask")
        for answer in ("A colleague posted a photo of pupils on a public page", "Facebook", "yesterday", "a colleague"):
            ask(browser, answer)
        press(browser, "No")
        press(browser, "A pupil can be identified")
        if javascript:
            no_serious_violations(browser, "the screenshot step")
        before = set(folder.iterdir()) if folder.exists() else set()
        browser.type(browser.find("#evidence"), str(picture))
        received = after(browser, lambda: browser.click(browser.find("form.evidence button")))
        assert "Screenshot received (1 so far)" in received
        [stored] = set(folder.iterdir()) - before
        assert stored.suffix == ".png" and stored.read_bytes() == picture.read_bytes()
        assert "up to 2 more" in browser.text_of(browser.find("form.evidence label"))
        press(browser, "Done")
        assert browser.execute("return document.querySelectorAll('form.evidence').length;") == 0  # past the step


def test_every_page_passes_axe_and_reflows_at_320px(browsers, site):
    browser = browsers[True]
    fresh(browser, site)
    for path in ("/", "/policy", "/agreement", "/privacy", "/nowhere"):
        browser.go(site + path)
        no_serious_violations(browser, path)
        for width in (320, 640):  # 640 CSS px: a 1280 px window at 200 % zoom
            browser.window(width, 800)
            overflow = browser.execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
            assert overflow <= 0, f"{path} scrolls sideways at {width} px"
        browser.window(375, 812)
    lang = browser.execute("return document.documentElement.lang;")
    assert lang == "en"
