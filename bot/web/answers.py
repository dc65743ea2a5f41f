"""The private page of a web asker's question (`/a/<token>`): the office's answer when it comes, and an optional
form to have it emailed. The token was shown once, in the chat, when the question went to the office; the
store holds only its hash (bot/answer_links.py), so the page is found by hashing what the browser sends.

Mounted by the web app: `Mount("/a", routes=ANSWER_ROUTES)`. An email address given here is stored only on
this question, erased when the answer is sent, and with the question (forget-me, retention).
"""

from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from bot.answer_links import ANSWER_PATH, token_hash
from bot.settings import looks_like_address
from bot.texts import placeholders
from bot.web.forms import read_form
from bot.web.security import csrf_ok, csrf_token, hide_in_access_log
from knowledge.texts import Texts

ANSWER_YAML = Path(__file__).resolve().parent.parent / "data" / "answer_page.yaml"
MAX_FORM_BYTES = 2048  # an address and the CSRF token
PRIVATE = {"cache-control": "no-store", "x-robots-tag": "noindex, nofollow"}
NOTICES = {"saved": "email_saved", "removed": "email_removed", "closed": "email_closed"}


def answer_texts(request: Request) -> Texts:
    """This page's texts, with the school's placeholders (read once per app)."""
    state = request.app.state
    if getattr(state, "answer_texts", None) is None:
        state.answer_texts = Texts.load(ANSWER_YAML, placeholders=placeholders(state.web.settings, state.web.advisor.pack))
    return state.answer_texts


def masked(address: str) -> str:
    """j•••@example.org: enough for the person to recognise their address, not enough to give it away."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}•••@{domain}" if local else ""


def lines(text: str) -> list[str]:
    return [line for line in (text or "").split("\n") if line.strip()]


def render(request: Request, item: dict | None, *, notice: str = "", error: str = "", status_code: int = 200):
    web = request.app.state.web
    texts = answer_texts(request)
    if item is None:
        context = {"message": texts.get("not_found")}
        response = web.templates.TemplateResponse(request, "message.html", {"t": web.texts, **context}, status_code=404)
    else:
        context = {
            "t": web.texts,
            "a": texts,
            "item": item,
            "answer_lines": lines(item.get("answer_message")),
            "masked": masked(item.get("email") or ""),
            "notice": texts.get(NOTICES[notice]) if notice in NOTICES else "",
            "error": texts.get(error) if error else "",
            "csrf": csrf_token(request.session),
        }
        response = web.templates.TemplateResponse(request, "answer.html", context, status_code=status_code)
    response.headers.update(PRIVATE)
    return response


def question_at(request: Request) -> dict | None:
    token = request.path_params["token"]
    return request.app.state.web.store.unanswered.by_link(token_hash(token)) if len(token) <= 100 else None


async def answer_page(request: Request):
    item = await run_in_threadpool(question_at, request)
    return render(request, item, notice=request.query_params.get("done", ""))


async def email_form(request: Request):
    """Give an address for the answer (`action=save`), or take it back (`action=remove`); then back (303)."""
    web = request.app.state.web
    form = await read_form(request, MAX_FORM_BYTES, max_fields=4)
    if form is None or not csrf_ok(request.session, (form or {}).get("csrf")):
        response = web.templates.TemplateResponse(request, "forbidden.html", {"t": web.texts}, status_code=403)
        response.headers.update(PRIVATE)
        return response
    item = await run_in_threadpool(question_at, request)
    if item is None:
        return render(request, None)
    if form.get("action") == "remove":
        await run_in_threadpool(web.store.unanswered.set_email, item["id"], "")
        done = "removed"
    else:
        address = (form.get("email") or "").strip()
        if not looks_like_address(address):
            return render(request, item, error="email_invalid", status_code=400)
        stored = await run_in_threadpool(web.store.unanswered.set_email, item["id"], address)
        done = "saved" if stored else "closed"
    return RedirectResponse(f"{request.url.path}?done={done}", status_code=303, headers=PRIVATE)


hide_in_access_log(ANSWER_PATH)

ANSWER_ROUTES = [
    Route("/{token}", answer_page, methods=["GET"], name="answer"),
    Route("/{token}", email_form, methods=["POST"], name="answer_email"),
]
