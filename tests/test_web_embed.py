"""The web chat embedded in another site's page, in a real browser (Debian's headless Chromium, as in
test_web_browser.py): the school's page is served from another origin (http://localhost:PORT, a different
site from the chat's http://127.0.0.1:PORT), shows the chat in an iframe, and a question is completed inside it;
the launcher script opens and closes it; a page from an origin not in WEB_EMBED_ORIGINS cannot show it.

The session cookie is what makes this work: Chromium sends no SameSite=Lax cookie into a cross-site iframe, and
blocks an unpartitioned third-party cookie, so with WEB_EMBED_ORIGINS the cookie is SameSite=None; Secure;
Partitioned. Chromium keeps a Secure cookie from plain http on 127.0.0.1 and on localhost (both count as secure
contexts), so this runs without certificates; elsewhere the chat must be behind HTTPS (WEB_PUBLIC_URL)."""

from __future__ import annotations

import contextlib
from dataclasses import replace

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from bot.web.app import build_app
from browser_helpers import ELEMENT, Browser, chromedriver, free_port, serving

pytestmark = pytest.mark.usefixtures("untaught_engine")
QUESTION = "Can I message my child's teacher on Facebook?"


@pytest.fixture
def driver_url():
    """chromedriver on a free port, for the test's length."""
    with chromedriver() as url:
        yield url


@contextlib.contextmanager
def browser_at(driver_url: str, javascript: bool):
    opened = Browser(driver_url, javascript=javascript)
    try:
        yield opened
    finally:
        opened.close()


def school_site(body: str) -> Starlette:
    """The school's own page (another origin), holding the snippet from the README."""
    async def page(request):
        return HTMLResponse(f'<!doctype html><html lang="en"><head><title>Clearwell School</title></head>'
                            f"<body><h1>Clearwell School</h1>{body}</body></html>")

    return Starlette(routes=[Route("/", page)])


def into_frame(browser: Browser, css: str) -> None:
    frame = browser.find(css)
    browser.call("POST", f"/session/{browser.session}/frame", {"id": {ELEMENT: frame}})


def out_of_frame(browser: Browser) -> None:
    browser.call("POST", f"/session/{browser.session}/frame/parent", {})


def ask_in_the_chat(browser: Browser) -> str:
    """Inside the chat: choose "parent", send the question, read the latest reply."""
    roles = browser.find_all("form.roles button")
    browser.click(roles[1])
    # The role is taken when the chat says so (with JavaScript the page is not reloaded, so wait for the words).
    browser.wait_for(lambda: browser.execute(
        "const e = document.getElementById('latest'); return !!e && e.textContent.includes('parents');"), "the role to be taken")
    browser.type(browser.find("#text"), QUESTION)
    browser.click(browser.find("form.ask button"))
    # The answer's quote (with JavaScript the page is not reloaded: the reply is added to it when it comes).
    browser.find("#latest blockquote")
    return browser.text_of(browser.find("#latest"))


def test_the_chat_in_an_iframe_on_the_schools_site_answers_a_question(driver_url, advisor, bot_settings):
    """The iframe snippet, with JavaScript off: the chat works inside another site's page."""
    expected = advisor.respond(QUESTION, "parent").answer
    site_port = free_port()
    school_origin = f"http://localhost:{site_port}"
    settings = replace(bot_settings, web_embed_origins=(school_origin,))
    with serving(build_app(settings, advisor)) as chat:
        snippet = f'<iframe src="{chat}/" title="Questions about our social media policy" width="400" height="600"></iframe>'
        with serving(school_site(snippet), site_port), browser_at(driver_url, javascript=False) as browser:
            browser.go(school_origin + "/")
            into_frame(browser, "iframe")
            latest = ask_in_the_chat(browser)
            assert expected.verdict_line in latest and expected.section_line in latest
            assert browser.text_of(browser.find("#latest blockquote")) == expected.quote


def test_the_launcher_opens_the_chat_and_gives_focus_back_when_closed(driver_url, advisor, bot_settings):
    expected = advisor.respond(QUESTION, "parent").answer
    site_port = free_port()
    school_origin = f"http://localhost:{site_port}"
    settings = replace(bot_settings, web_embed_origins=(school_origin,))
    with serving(build_app(settings, advisor)) as chat:
        snippet = f'<p>Our policies.</p><script src="{chat}/static/embed.js" defer></script>'
        with serving(school_site(snippet), site_port), browser_at(driver_url, javascript=True) as browser:
            browser.go(school_origin + "/")
            launcher = browser.find("#policybot-launcher")
            assert browser.text_of(launcher) == "Questions about our social media policy?"
            assert not browser.find_all("iframe")  # nothing loaded from the chat before it is asked for
            browser.click(launcher)
            attribute = f"/session/{browser.session}/element/{launcher}/attribute/aria-expanded"
            assert browser.call("GET", attribute) == "true"
            into_frame(browser, "#policybot-frame")
            latest = ask_in_the_chat(browser)
            assert expected.verdict_line in latest
            out_of_frame(browser)
            browser.click(browser.find("#policybot-panel button"))
            assert browser.call("GET", attribute) == "false"
            active = browser.call("GET", f"/session/{browser.session}/element/active")[ELEMENT]
            assert active == launcher  # focus back on the button that opened it


def test_a_site_not_in_web_embed_origins_cannot_show_the_chat(driver_url, advisor, bot_settings):
    site_port = free_port()
    settings = replace(bot_settings, web_embed_origins=("http://localhost:1",))  # some other site
    with serving(build_app(settings, advisor)) as chat:
        snippet = f'<iframe src="{chat}/" title="Policy chat"></iframe>'
        with serving(school_site(snippet), site_port), browser_at(driver_url, javascript=False) as browser:
            browser.go(f"http://localhost:{site_port}/")
            into_frame(browser, "iframe")
            browser.call("POST", f"/session/{browser.session}/timeouts", {"implicit": 2_000})
            assert browser.find_all("#text") == []  # the browser refused to show it (frame-ancestors)
