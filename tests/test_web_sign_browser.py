"""Signing on the web in a real browser (Debian's headless Chromium, tests/browser_helpers.py), JavaScript off: a
parent goes from the chat to the signing page, is told what is kept, signs with two classes; the school changes
the agreement's words and the web app starts again; back in the same browser, a notice in the chat leads to only
the clause that changed, and confirming keeps the details given. An axe-core scan (which needs JavaScript: a
second browser, given the first one's cookie) of the signing page as she sees it, with an error announced and
after the change, finds nothing serious, and the page does not scroll sideways at 320 px; screenshots in
docs/screenshots/.

No model: signing never asks the advisor, so the app is served over an advisor that only has the pack."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

from bot.settings import Settings
from bot.store import Store
from bot.web.app import build_app
from knowledge.signing import signed_text
from tests.browser_helpers import Browser, chromedriver, free_port, serving

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
KIND_ONLINE = " Parents will also be kind online."


def app_over(settings, pack):
    return build_app(settings, SimpleNamespace(pack=pack, follow_office_answers=lambda answers: 0))


def no_serious_violations(scanner: Browser, browser: Browser, where: str) -> None:
    """axe-core on the page `browser` shows, opened in `scanner` (JavaScript on) with `browser`'s cookie."""
    url = browser.url()
    scanner.go(url)
    scanner.call("DELETE", scanner.s("/cookie"))
    for cookie in browser.call("GET", browser.s("/cookie")):
        scanner.call("POST", scanner.s("/cookie"), {"cookie": {k: cookie[k] for k in ("name", "value", "path", "httpOnly") if k in cookie}})
    scanner.go(url)
    found = scanner.axe()
    assert not found, f"{where}: {found}"
    for width in (320, 640):  # a small phone; 640 CSS px is a 1280 px window at 200 % zoom
        scanner.window(width, 800)
        overflow = scanner.execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
        assert overflow <= 0, f"{where} scrolls sideways at {width} px"
    scanner.window(375, 812)


def page_text(browser: Browser) -> str:
    return browser.text_of(browser.find("main"))


def shown_sections(browser: Browser) -> list[str]:
    return browser.execute("return [...document.querySelectorAll('section.agreement h2')].map(h => h.id);")


def test_a_parent_signs_on_the_web_then_confirms_only_the_clause_that_changed(pack, tmp_path):
    settings = Settings(database_path=tmp_path / "policybot.db", school_name="Clearwell School")
    changed = replace(pack, clauses=tuple(replace(c, text=c.text + KIND_ONLINE) if c.id == "10.5-agreement" else c
                                          for c in pack.clauses))
    port = free_port()  # the same address both times: the browser keeps its cookie for the second app
    with chromedriver() as driver:
        browser = Browser(driver, javascript=False)
        scanner = Browser(driver, javascript=True)
        try:
            with serving(app_over(settings, pack), port) as site:
                browser.go(site + "/")
                browser.click(browser.find("header nav a[href='/sign']"))
                assert browser.url().endswith("/sign")
                text = page_text(browser)
                assert pack.clause("10.5-agreement").summary in text and "keeps for" in text and "does not erase it" in text
                assert shown_sections(browser) == ["sign-clause-10.5-heading", "sign-clause-10.5-agreement-heading"]
                no_serious_violations(scanner, browser, "the signing page")

                # Sent with no classes and no "prefer not to say": the error is announced and leads to the field.
                browser.type(browser.find("#name"), "Jane Doe")
                browser.click(browser.find_button("I agree", "form.sign"))
                alert = browser.find("[role=alert]")
                assert browser.active() == alert  # focus on what to correct (no script needed: autofocus)
                assert browser.execute("return document.title;").startswith("Error:")
                assert "Prefer not to say" in browser.text_of(alert)
                assert browser.attribute(browser.find("#classes"), "aria-invalid") == "true"
                assert browser.attribute(browser.find("#name"), "value") == "Jane Doe"  # what was typed is kept
                scanner.go(site + "/sign")
                scanner.type(scanner.find("#name"), "Jane Doe")
                scanner.click(scanner.find_button("I agree", "form.sign"))
                scanner.find("[role=alert]")
                assert not scanner.axe(), "the signing page with an error"
                browser.screenshot(SCREENSHOTS / "sign-error-375x812.png")

                browser.type(browser.find("#classes"), "3B, 5R")
                browser.click(browser.find_button("I agree", "form.sign"))
                done = browser.text_of(browser.find("#signed"))
                assert "Thank you, Jane Doe" in done and "Classes: 3B, 5R." in done
                assert signed_text(pack, "agreement").short in done

            # The school changes the agreement's words; the web app starts again on the same database.
            with serving(app_over(settings, changed), port) as site:
                browser.go(site + "/")
                notice = browser.find("p.notice a")
                assert "The parents' agreement you signed has changed" in browser.text_of(notice)
                browser.click(notice)
                text = page_text(browser)
                assert "Only what changed is shown here" in text and KIND_ONLINE.strip() in text
                assert shown_sections(browser) == ["sign-clause-10.5-agreement-heading"]  # not 10.5, which did not change
                assert "You signed before as Jane Doe (classes: 3B, 5R)" in text
                no_serious_violations(scanner, browser, "the signing page after a change")
                browser.screenshot(SCREENSHOTS / "sign-changed-375x812.png")
                browser.click(browser.find_button("I agree", "form.sign"))
                done = browser.text_of(browser.find("#signed"))
                assert signed_text(changed, "agreement").short in done and "Jane Doe" in done
                browser.go(site + "/")
                assert browser.execute("return document.querySelectorAll('p.notice').length;") == 0

                # With the chat's script on, "/agree" typed in the chat (as /agreement's reply says) opens the page too.
                scanner.go(site + "/")
                scanner.type(scanner.find("#text"), "/agree")
                scanner.click(scanner.find("form.ask button"))
                scanner.wait_for(lambda: scanner.url().endswith("/sign?kind=agreement"), "the signing page")
        finally:
            browser.close()
            scanner.close()
    store = Store(settings.database_path)
    try:
        rows = store.signatures.all()
        assert [(r["name"], r["classes"], r["channel"]) for r in rows] == [("Jane Doe", "3B, 5R", "web")] * 2
        assert [r["digest"] for r in rows] == [signed_text(pack, "agreement").digest, signed_text(changed, "agreement").digest]
    finally:
        store.close()
