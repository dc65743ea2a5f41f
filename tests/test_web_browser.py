"""The web chat in a real browser: Debian's headless Chromium, JavaScript off, driven over the W3C WebDriver
protocol by the system's chromedriver (spoken directly with httpx: a few HTTP calls, no browser download).

With CI=true a missing browser is a failure; elsewhere these tests skip and say what to install."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time

import httpx
import pytest
import uvicorn

from bot.web.app import build_app

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference

pytestmark = pytest.mark.usefixtures("untaught_engine")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_browser() -> None:
    missing = [p for p in (CHROMEDRIVER, CHROMIUM) if not shutil.which(p)]
    if missing:
        message = f"no {', '.join(missing)}: apt-get install -y chromium chromium-driver"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@contextlib.contextmanager
def serving(app):
    """The app on a free loopback port, in a thread, for the test's length."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the web chat did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


class Browser:
    """Just the WebDriver calls these tests make."""

    def __init__(self, driver_url: str, javascript: bool):
        self.http = httpx.Client(base_url=driver_url, timeout=60)
        options = {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=375,812"],
            "prefs": {"profile.managed_default_content_settings.javascript": 1 if javascript else 2},
        }
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]
        # A find waits up to 20 s for its element: a submitted form's next page may still be on its way.
        self.call("POST", f"/session/{self.session}/timeouts", {"implicit": 20_000, "pageLoad": 60_000})

    def call(self, method: str, path: str, body: dict | None = None):
        response = self.http.request(method, path, json=body)
        value = response.json()["value"]
        assert response.status_code == 200, value
        return value

    def go(self, url: str) -> None:
        self.call("POST", f"/session/{self.session}/url", {"url": url})

    def find(self, css: str) -> str:
        return self.call("POST", f"/session/{self.session}/element", {"using": "css selector", "value": css})[ELEMENT]

    def find_all(self, css: str) -> list[str]:
        found = self.call("POST", f"/session/{self.session}/elements", {"using": "css selector", "value": css})
        return [f[ELEMENT] for f in found]

    def text_of(self, element: str) -> str:
        return self.call("GET", f"/session/{self.session}/element/{element}/text")

    def type(self, element: str, text: str) -> None:
        self.call("POST", f"/session/{self.session}/element/{element}/value", {"text": text})

    def click(self, element: str) -> None:
        self.call("POST", f"/session/{self.session}/element/{element}/click", {})

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.call("DELETE", f"/session/{self.session}")
        self.http.close()


@pytest.fixture
def browser():
    need_browser()
    port = free_port()
    driver = subprocess.Popen([CHROMEDRIVER, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/status", timeout=2).json()["value"]["ready"]:
                    break
            assert time.monotonic() < deadline, "chromedriver did not start"
            time.sleep(0.1)
        opened = Browser(url, javascript=False)
        try:
            yield opened
        finally:
            opened.close()
    finally:
        driver.terminate()
        driver.wait(10)


def test_a_parent_asks_with_javascript_off_and_reads_the_answer(browser, advisor, bot_settings):
    question = "Can I message my child's teacher on Facebook?"
    expected = advisor.respond(question, "parent").answer
    with serving(build_app(bot_settings, advisor)) as site:
        browser.go(site + "/")
        roles = browser.find_all("form.roles button")
        assert [browser.text_of(b) for b in roles] == ["I work at the school", "I'm a parent or carer"]
        browser.click(roles[1])
        browser.type(browser.find("#text"), question)
        browser.click(browser.find("form.ask button"))
        latest = browser.text_of(browser.find("#latest"))
        assert expected.verdict_line in latest and expected.section_line in latest
        quote = browser.text_of(browser.find("#latest blockquote"))
        assert quote == expected.quote
        # The section line leads to the clause on the policy page.
        browser.click(browser.find("#latest p.section a"))
        clause = advisor.pack.clause(expected.clause_id)
        heading = browser.text_of(browser.find(f'[id="clause-{clause.id}"] h3'))
        assert heading.startswith(clause.section)
