"""A real browser for the tests: Debian's headless Chromium, driven over the W3C WebDriver protocol by the
system's chromedriver (spoken directly with httpx: a few HTTP calls, no browser download), plus the web chat
served on a free loopback port, an axe-core scan, screenshots and keyboard actions.

With CI=true a missing browser is a failure; elsewhere the tests skip and say what to install."""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
# WebDriver's codes for the keys the keyboard walk presses.
KEYS = {"Tab": "\ue004", "Enter": "\ue007", "Space": " ", "Shift": "\ue008", "Escape": "\ue00c"}


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
def serving(app, port: int | None = None):
    """The app on a loopback port (a free one unless given: an embedding page must name the chat's origin
    beforehand), in a thread, while the block runs."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        assert time.monotonic() < deadline, "the web chat did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def chromedriver():
    """The system's chromedriver on a free port; yields its address."""
    need_browser()
    port = free_port()
    driver = subprocess.Popen([CHROMEDRIVER, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                if httpx.get(f"{url}/status", timeout=2).json()["value"]["ready"]:
                    break
            assert time.monotonic() < deadline, "chromedriver did not start"
            time.sleep(0.1)
        yield url
    finally:
        driver.terminate()
        driver.wait(10)


class Browser:
    """One Chromium session, and just the WebDriver calls the tests make."""

    def __init__(self, driver_url: str, javascript: bool, width: int = 375, height: int = 812):
        self.javascript = javascript
        self.http = httpx.Client(base_url=driver_url, timeout=60)
        options = {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}",
                     "--force-prefers-reduced-motion", "--hide-scrollbars"],
            "prefs": {"profile.managed_default_content_settings.javascript": 1 if javascript else 2},
        }
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]
        # A find waits up to 20 s for its element: a submitted form's next page may still be on its way.
        self.call("POST", f"/session/{self.session}/timeouts", {"implicit": 20_000, "pageLoad": 60_000, "script": 30_000})

    def call(self, method: str, path: str, body: dict | None = None):
        response = self.http.request(method, path, json=body)
        value = response.json()["value"]
        assert response.status_code == 200, value
        return value

    def s(self, path: str) -> str:
        return f"/session/{self.session}{path}"

    def go(self, url: str) -> None:
        self.call("POST", self.s("/url"), {"url": url})

    def url(self) -> str:
        return self.call("GET", self.s("/url"))

    def find(self, css: str) -> str:
        return self.call("POST", self.s("/element"), {"using": "css selector", "value": css})[ELEMENT]

    def find_all(self, css: str) -> list[str]:
        return [f[ELEMENT] for f in self.call("POST", self.s("/elements"), {"using": "css selector", "value": css})]

    def find_button(self, label: str, within: str = "") -> str:
        """The button whose text starts with `label` (in `within`, a CSS selector, if given)."""
        for button in self.find_all(f"{within} button".strip()):
            if self.text_of(button).startswith(label):
                return button
        raise AssertionError(f"no button {label!r}: {[self.text_of(b) for b in self.find_all(f'{within} button'.strip())]}")

    def text_of(self, element: str) -> str:
        return self.call("GET", self.s(f"/element/{element}/text"))

    def attribute(self, element: str, name: str) -> str | None:
        return self.call("GET", self.s(f"/element/{element}/attribute/{name}"))

    def type(self, element: str, text: str) -> None:
        self.call("POST", self.s(f"/element/{element}/value"), {"text": text})

    def click(self, element: str) -> None:
        self.call("POST", self.s(f"/element/{element}/click"), {})

    def active(self) -> str:
        return self.call("GET", self.s("/element/active"))[ELEMENT]

    def keys(self, *names: str, shift: bool = False) -> None:
        """Press keys one after another (Tab, Enter, Space, or text), with Shift held if asked."""
        actions = []
        if shift:
            actions.append({"type": "keyDown", "value": KEYS["Shift"]})
        for name in names:
            for key in [KEYS[name]] if name in KEYS else list(name):
                actions += [{"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]
        if shift:
            actions.append({"type": "keyUp", "value": KEYS["Shift"]})
        self.call("POST", self.s("/actions"), {"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})
        self.call("DELETE", self.s("/actions"))

    def execute(self, script: str, *args):
        return self.call("POST", self.s("/execute/sync"), {"script": script, "args": list(args)})

    def execute_async(self, script: str, *args):
        return self.call("POST", self.s("/execute/async"), {"script": script, "args": list(args)})

    def window(self, width: int, height: int) -> None:
        self.call("POST", self.s("/window/rect"), {"width": width, "height": height})

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.call("GET", self.s("/screenshot"))))
        return path

    def wait_for(self, condition, what: str, timeout: float = 20):
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
            time.sleep(0.05)

    def axe(self) -> list[dict]:
        """axe-core's serious and critical violations on the page as it is now (its default rules, none
        disabled, nothing excluded), as {id, impact, help, nodes}."""
        self.execute(AXE.read_text(encoding="utf-8") + "\nwindow.__axe = axe;")
        found = self.execute_async(
            "const done = arguments[arguments.length - 1];"
            "window.__axe.run(document).then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.map(n => n.target.join(' '))})))).catch(e => done([{id: 'axe-error', impact: 'critical',"
            " help: String(e), nodes: []}]));"
        )
        return [v for v in found if v["impact"] in ("serious", "critical")]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.call("DELETE", self.s(""))
        self.http.close()
