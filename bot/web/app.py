"""The web chat's Starlette app: the chat page, one form POST per turn (then a redirect back: works with
JavaScript off), the policy page and /health. Every message and button press goes to the same `Dialogue` as
Telegram's and the console's; this module only turns HTTP into calls on it and renders what comes back.

  build_app(settings, advisor)    the ASGI app (uvicorn runs it: `policybot web`)
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import unicodedata
from pathlib import Path
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot.desk.app import build_desk
from bot.dialogue import ROLES, Person, build_dialogue
from bot.email.delivery import delivering_email
from bot.protocol import PERSON, decode, person_button
from bot.services import Answerer
from bot.store import Store
from bot.texts import for_web
from bot.web.answers import ANSWER_ROUTES
from bot.web.security import MAX_BODY_BYTES, SecurityHeaders, csrf_ok, csrf_token, secret_key
from bot.web.transcripts import Transcripts
from bot.web.view import Block, Entry, anchor, entry, said

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
CHANNEL = "web"
COOKIE = "policybot_session"
SESSION_DAYS = 30


def clean(text: str) -> str:
    """A typed message without control characters (a pasted binary blob or a NUL), newlines and tabs kept."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


async def read_form(request: Request, limit: int = MAX_BODY_BYTES) -> dict[str, str] | None:
    """A urlencoded form, read up to `limit` bytes (None past it, even with no Content-Length); bytes that are
    not UTF-8 become U+FFFD, never an error."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=8))


def session_id(request: Request) -> str:
    """The random id of this browser's session (made on first visit); the store knows it only as a pseudonym."""
    if "pid" not in request.session:
        request.session["pid"] = secrets.token_urlsafe(18)
    return request.session["pid"]


def person_of(request: Request) -> Person:
    pid = session_id(request)
    return Person(channel=CHANNEL, user_id=pid, chat_id=pid)


# --- endpoints ---------------------------------------------------------------------------------------


async def chat_page(request: Request):
    web = request.app.state.web
    person = person_of(request)
    await run_in_threadpool(web.deliver_pending, person)
    role = await run_in_threadpool(web.role_of, person)
    context = {
        "entries": web.transcripts.entries(person.user_id),
        "role": role,
        "role_buttons": [(web.texts.get(f"roles.{r}"), person_button("role", r)) for r in ROLES],
        "csrf": csrf_token(request.session),
    }
    return web.page(request, "chat.html", context)


async def send(request: Request):
    """One turn: a typed message or a pressed button, then back to the page (303)."""
    web = request.app.state.web
    try:
        form = await read_form(request)
    except ValueError:  # more fields than any of our forms has
        form = {}
    if form is None:
        return web.page(request, "message.html", {"message": web.texts.get("too_large")}, status_code=413)
    if not csrf_ok(request.session, form.get("csrf")):
        return web.page(request, "forbidden.html", {}, status_code=403)
    person = person_of(request)
    action, text = form.get("action"), form.get("text")
    if action:
        await run_in_threadpool(web.press, person, action)
    else:
        await run_in_threadpool(web.say, person, clean(text or ""))
    return RedirectResponse(request.url_for("chat").path + "#latest", status_code=303)


async def policy_page(request: Request):
    web = request.app.state.web
    clauses = [(anchor(c.id), c) for c in web.advisor.pack.clauses]
    return web.page(request, "policy.html", {"clauses": clauses, "pack": web.advisor.pack})


async def health(request: Request):
    web = request.app.state.web
    pack = web.advisor.pack
    body = {"status": "ok", "pack": {"name": pack.name, "version": pack.version}, "database": True, "outbox_backlog": None}
    try:
        body["outbox_backlog"] = await run_in_threadpool(web.store.outbox.undelivered_count)
    except Exception:
        log.exception("health: the database is not reachable")
        body.update(status="error", database=False)
    return JSONResponse(body, status_code=200 if body["database"] else 503)


async def not_found(request: Request, exc):
    return request.app.state.web.page(request, "message.html", {"message": request.app.state.web.texts.get("not_found")}, status_code=404)


# --- the channel ---------------------------------------------------------------------------------------


class WebChannel:
    """The dialogue, the store and the transcripts one app serves, and the few calls the endpoints make."""

    def __init__(self, settings, advisor: Answerer, templates: Jinja2Templates):
        self.settings = settings
        self.advisor = advisor
        self.templates = templates
        self.texts = for_web(settings, advisor.pack)
        self.transcripts = Transcripts()
        self.store: Store | None = None
        self.dialogue = None

    def open(self) -> None:
        self.store = Store(self.settings.database_path)
        self.dialogue = build_dialogue(self.advisor, self.store, self.settings)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()

    def page(self, request: Request, name: str, context: dict, status_code: int = 200):
        return self.templates.TemplateResponse(request, name, {"t": self.texts, **context}, status_code=status_code)

    def user_key(self, person: Person) -> str:
        return self.store.people.user_key(person.channel, person.user_id)

    def role_of(self, person: Person) -> str | None:
        return self.store.people.role_of(self.user_key(person))

    def show(self, person: Person, outgoing) -> None:
        emergency = self.settings.emergency_text
        self.transcripts.add(person.user_id, [entry(o, emergency) for o in outgoing])

    def say(self, person: Person, text: str) -> None:
        self.transcripts.add(person.user_id, [said(text)] if text.strip() else [])
        self.show(person, self.dialogue.handle(person, text=text))

    def press(self, person: Person, action: str) -> None:
        callback = decode(action)
        if callback is None or callback.audience != PERSON:  # forged, or an office button: never run here
            self.transcripts.add(person.user_id, [Entry("bot", (Block("", self.texts.get("button_not_valid")),))])
            return
        out = self.dialogue.handle(person, action=action)
        if callback.kind == "fg" and callback.args == ("yes",):  # "forget me", confirmed: the page forgets too
            self.transcripts.forget(person.user_id)
        self.show(person, out)

    def deliver_pending(self, person: Person) -> None:
        """What the office sent this person since (an answer to their question), shown once."""
        for message in self.store.outbox.messages_for(self.user_key(person), CHANNEL):
            self.transcripts.add(person.user_id, [Entry("bot", tuple(Block("", l) for l in message["text"].split("\n") if l.strip()))])
            self.store.outbox.mark_delivered(message["id"])


def build_app(settings, advisor: Answerer) -> Starlette:
    """The web chat over the settings' database, answering with `advisor` (loaded once, shared)."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))  # autoescape on for .html
    web = WebChannel(settings, advisor, templates)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        web.open()
        try:
            async with delivering_email(settings, web.store, route_failed=web.dialogue.office.route_failed) as app.state.email:
                yield
        finally:
            web.close()

    routes = [
        Route("/", chat_page, methods=["GET"], name="chat"),
        Route("/send", send, methods=["POST"], name="send"),
        Route("/policy", policy_page, methods=["GET"], name="policy"),
        Route("/health", health, methods=["GET"], name="health"),
        Mount("/desk", app=build_desk(settings, lambda: web.dialogue.office), name="desk"),  # the office's desk (bot/desk/)
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        Mount("/a", routes=ANSWER_ROUTES),  # a web asker's private page for the office's answer (answers.py)
    ]
    middleware = [
        Middleware(SecurityHeaders, too_large=web.texts.get("too_large")),
        Middleware(
            SessionMiddleware, secret_key=secret_key(settings), session_cookie=COOKIE,
            max_age=SESSION_DAYS * 24 * 3600, same_site="lax", https_only=False,
        ),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan, exception_handlers={404: not_found})
    app.state.web = web
    return app
