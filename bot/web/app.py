"""The web chat's Starlette app: the chat page, one form POST per turn (then a redirect back: works with
JavaScript off; `static/chat.js` only enhances), a report's screenshots, the policy, the parents' agreement,
privacy and /health. Every message and button press goes to the same `Dialogue` as Telegram's and the
console's; this module only turns HTTP into calls on it and renders what comes back.

  build_app(settings, advisor, store=None)    the ASGI app (uvicorn runs it: `policybot web`)

Under load, turns are answered in batches (bot/answer_pool.py: one model call for the questions asked at the same
moment, shared with the Telegram bot when both run in one process), so a turn waits in a worker thread of its own
lane: ordinary turns in a wide lane (waiting threads cost little, and a wide lane makes big batches), and a turn
that may be about a child at risk in a lane of its own, so it is never stuck behind the crowd.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import unicodedata
from pathlib import Path

import anyio

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot.answer_pool import BatchedAdvisor
from bot.desk.app import build_desk
from bot.dialogue import ROLES, Person, build_dialogue
from bot.email.delivery import delivering_email
from bot.flood import FloodGate, Verdict
from bot.protocol import PERSON, decode, is_safeguarding_button, person_button
from bot.services import Answerer
from bot.store import Store
from bot.store.evidence import image_type
from bot.texts import for_people, for_web
from bot.upkeep import run_upkeep
from bot.web.answers import ANSWER_ROUTES
from bot.web.forms import read_form
from bot.web.signing import SIGN_ROUTES, behind_notice, open_round, typed_command
from bot.web.security import (MAX_BODY_BYTES, ClientAddress, SecurityHeaders, client_address, csrf_ok, csrf_token,
                              secret_key, session_cookie_options)
from bot.web.transcripts import Transcripts
from bot.web.view import Block, Entry, anchor, entry, notice, said
from intents.triage import UrgencyTriage

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
CHANNEL = "web"
COOKIE = "policybot_session"
SESSION_DAYS = 30

MAX_IMAGES = 3  # screenshots a web report may carry
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_BYTES = MAX_IMAGES * MAX_IMAGE_BYTES + MAX_BODY_BYTES  # three images and the form around them
# The commands a menu button may send (a person's own: what is held about them, forget them, leave a flow).
MENU_COMMANDS = ("mydata", "forget", "cancel", "help")
# Per address: generous, as a school's parents may share one address (a school's own network, a mobile carrier).
ADDRESS_FACTOR = 10
# Worker threads for turns: ordinary turns wait for their batch in the wide lane; a turn that may be about a
# child at risk (or presses a safeguarding button) takes the urgent lane, which the crowd never fills.
TURN_LANE = 256
URGENT_LANE = 16


def clean(text: str) -> str:
    """A typed message without control characters (a pasted binary blob or a NUL), newlines and tabs kept."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


class TooLarge(Exception):
    pass


def capped(request: Request, limit: int) -> Request:
    """The same request, whose body stops being read past `limit` bytes (TooLarge), whatever Content-Length says."""
    seen = 0

    async def receive():
        nonlocal seen
        message = await request.receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise TooLarge
        return message

    return Request(request.scope, receive)


def session_id(request: Request) -> str:
    """The random id of this browser's session (made on first visit); the store knows it only as a pseudonym."""
    if "pid" not in request.session:
        request.session["pid"] = secrets.token_urlsafe(18)
    return request.session["pid"]


def person_of(request: Request) -> Person:
    pid = session_id(request)
    return Person(channel=CHANNEL, user_id=pid, chat_id=pid)


def back_to_chat(request: Request, first_new: int = 0):
    """The chat page again (303), at the first entry this turn added: reading, and the next Tab, go on from there."""
    web, person = request.app.state.web, person_of(request)
    last = web.transcripts.last_number(person.user_id)
    # The first reply (a person knows what they said themselves).
    replies = [e.number for e in web.transcripts.entries(person.user_id, first_new - 1) if e.speaker == "bot"] if first_new else []
    first = replies[0] if replies else first_new
    target = f"n{first}" if 0 < first < last else "latest"
    return RedirectResponse(request.url_for("chat").path + "#" + target, status_code=303)


# --- endpoints ---------------------------------------------------------------------------------------


async def chat_page(request: Request):
    web = request.app.state.web
    person = person_of(request)
    role, (awaiting, photos) = await run_in_threadpool(web.page_state, person)
    context = {
        "entries": web.transcripts.entries(person.user_id),
        "role": role,
        "role_buttons": [(web.texts.get(f"roles.{r}"), person_button("role", r)) for r in ROLES],
        "evidence_room": MAX_IMAGES - photos if awaiting == "photos" else 0,
        "menu": web.menu(bool(awaiting)),
        "csrf": csrf_token(request.session),
        "sign_behind": await behind_notice(request),  # a new version of what they signed (signing.py)
    }
    return web.page(request, "chat.html", context)


async def send(request: Request):
    """One turn: a typed message, a pressed button or a menu command, then back to the page (303)."""
    web = request.app.state.web
    form = await read_form(request)
    if form is None:
        return web.page(request, "message.html", {"message": web.texts.get("too_large")}, status_code=413)
    if not csrf_ok(request.session, form.get("csrf")):
        return web.page(request, "forbidden.html", {}, status_code=403)
    person = person_of(request)
    first_new = web.transcripts.last_number(person.user_id) + 1
    action, command, text = form.get("action"), form.get("command"), clean(form.get("text") or "")
    if not web.admitted(person, client_address(request), "" if action or command else text, action or command or ""):
        return back_to_chat(request, first_new)
    if not action and not command and typed_command(text):  # /agree, /acknowledge: the signing page (signing.py)
        return RedirectResponse(f"{request.url_for('sign').path}?kind={typed_command(text)}", status_code=303)
    urgent = web.urgent(text if not (action or command) else "", action or "")
    if action:
        await web.in_lane(urgent, web.press, person, action)
    elif command:
        await web.in_lane(urgent, web.command, person, command)
    else:
        await web.in_lane(urgent, web.say, person, text)
    return back_to_chat(request, first_new)


async def evidence(request: Request):
    """A report's screenshots (a multipart form): at most 3 images of at most 5 MB each, known by their bytes."""
    web = request.app.state.web
    try:
        form = await capped(request, MAX_UPLOAD_BYTES).form(max_files=MAX_IMAGES + 1, max_fields=4)
    except TooLarge:
        return web.page(request, "message.html", {"message": web.texts.get("too_large")}, status_code=413)
    except HTTPException:  # not a multipart form, or more files or fields than ours has
        message = web.texts.get("evidence.too_many", limit=MAX_IMAGES)
        return web.page(request, "message.html", {"message": message}, status_code=400)
    if not csrf_ok(request.session, form.get("csrf")):
        return web.page(request, "forbidden.html", {}, status_code=403)
    try:
        images, problem = [], ""
        for upload in form.getlist("evidence"):
            if isinstance(upload, str) or (not upload.filename and not upload.size):
                continue  # the field sent empty (no file chosen)
            data = await upload.read(MAX_IMAGE_BYTES + 1)
            kind = image_type(data[:16])
            if len(data) > MAX_IMAGE_BYTES:
                problem = "evidence.too_big"
            elif kind is None:
                problem = "evidence.not_an_image"
            else:
                images.append((data, kind))
    finally:
        await form.close()
    person = person_of(request)
    first_new = web.transcripts.last_number(person.user_id) + 1
    if web.admitted(person, client_address(request), pressed="evidence"):
        await run_in_threadpool(web.attach, person, images, problem)
    return back_to_chat(request, first_new)


async def policy_page(request: Request):
    web = request.app.state.web
    clauses = [(anchor(c.id), c) for c in web.advisor.pack.clauses]
    return web.page(request, "policy.html", {"clauses": clauses, "pack": web.advisor.pack})


async def agreement_page(request: Request):
    """The parents' agreement as the pack marks it (a clause whose id ends in `-agreement`, with its lead-in),
    each clause verbatim beside the school's plain-language summary (only a summary the school wrote)."""
    web = request.app.state.web
    clauses = web.advisor.pack.agreement_clauses()
    if not clauses:
        raise HTTPException(404)
    shown = [(anchor(c.id), c, c.summary if c.curated else "") for c in clauses]
    return web.page(request, "agreement.html", {"clauses": shown, "pack": web.advisor.pack})


async def privacy_page(request: Request):
    web = request.app.state.web
    context = {"session_days": SESSION_DAYS}
    return web.page(request, "privacy.html", context)


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

    def __init__(self, settings, advisor: Answerer, templates: Jinja2Templates, store: Store | None = None):
        self.settings = settings
        self.advisor = advisor
        self.templates = templates
        self.shared_store = store  # a store shared with the Telegram bot is opened and closed by the bot
        self.texts = for_web(settings, advisor.pack)
        self.person_texts = for_people(settings, advisor.pack)
        self.transcripts = Transcripts()
        self.triage = UrgencyTriage.for_classifier(getattr(advisor, "classifier", None))
        per_minute = settings.rate_limit_per_minute
        self.by_session = FloodGate(per_minute)
        self.by_address = FloodGate(per_minute * ADDRESS_FACTOR)
        self.has_agreement = bool(advisor.pack.agreement_clauses())
        self.store: Store | None = None
        self.dialogue = None
        self.lanes: tuple[anyio.CapacityLimiter, anyio.CapacityLimiter] | None = None

    def open(self) -> None:
        self.store = self.shared_store or Store(self.settings.database_path)
        self.dialogue = build_dialogue(self.advisor, self.store, self.settings)
        self.lanes = (anyio.CapacityLimiter(TURN_LANE), anyio.CapacityLimiter(URGENT_LANE))

    def close(self) -> None:
        if self.store is not None and self.shared_store is None:
            self.store.close()

    def urgent(self, words: str, pressed: str) -> bool:
        """Possibly about a child at risk: typed words the triage flags, or the safeguarding offer's buttons."""
        return bool(words and self.triage.possible(words)) or is_safeguarding_button(pressed)

    async def in_lane(self, urgent: bool, call, *args) -> None:
        """`call(*args)` in a worker thread of the turn's lane (see the module's docstring)."""
        lane = self.lanes[1] if urgent else self.lanes[0]
        await anyio.to_thread.run_sync(functools.partial(call, *args), limiter=lane)

    def page(self, request: Request, name: str, context: dict, status_code: int = 200):
        shared = {"t": self.texts, "has_agreement": self.has_agreement}
        return self.templates.TemplateResponse(request, name, {**shared, **context}, status_code=status_code)

    def menu(self, in_flow: bool) -> list[tuple[str, str, str]]:
        """The chat's own buttons: (field, value, label): start a report or a complaint, leave one, see or erase
        what is held."""
        items = [("action", person_button("go", "breach"), "menu.report"), ("action", person_button("go", "complaint"), "menu.complaint")]
        if in_flow:
            items.append(("command", "cancel", "menu.cancel"))
        items += [("command", "mydata", "menu.mydata"), ("command", "forget", "menu.forget"), ("command", "help", "menu.help")]
        return [(field, value, self.texts.get(label)) for field, value, label in items]

    def user_key(self, person: Person) -> str:
        return self.store.people.user_key(person.channel, person.user_id)

    def role_of(self, person: Person) -> str | None:
        return self.store.people.role_of(self.user_key(person))

    def admitted(self, person: Person, address: str, words: str = "", pressed: str = "") -> bool:
        """Within the session's and the address's limits, or possibly about a child at risk (never held back:
        typed words the triage flags, the safeguarding offer's buttons); over a limit, the page says to slow down.
        Messages (`words`) and presses (`pressed`: a button's data, a menu command, an upload) are counted apart."""
        if self.urgent(words, pressed):
            return True
        kind = "b" if pressed else "m"
        verdicts = (self.by_session.check(f"{kind}{person.user_id}"), self.by_address.check(f"{kind}{address}"))
        if all(v is Verdict.ALLOWED for v in verdicts):
            return True
        self.transcripts.add(person.user_id, ([said(words)] if words.strip() else []) + [notice(self.person_texts.get("conversation.rate_limited"))])
        return False

    def show(self, person: Person, outgoing) -> None:
        emergency = self.settings.emergency_text
        words = {"fb:up": self.texts.get("feedback.up"), "fb:dn": self.texts.get("feedback.dn")}  # 👍/👎 in words too
        self.transcripts.add(person.user_id, [entry(o, emergency, words) for o in outgoing])

    def say(self, person: Person, text: str, shown: str = "") -> None:
        shown = shown or text
        self.transcripts.add(person.user_id, [said(shown)] if shown.strip() else [])
        self.show(person, self.dialogue.handle(person, text=text))

    def command(self, person: Person, name: str) -> None:
        """A menu button: the person's own command, shown as the button's words."""
        if name not in MENU_COMMANDS:
            self.transcripts.add(person.user_id, [notice(self.texts.get("button_not_valid"))])
            return
        self.say(person, f"/{name}", shown=self.texts.get(f"menu.{name}"))

    def press(self, person: Person, action: str) -> None:
        callback = decode(action)
        if callback is None or callback.audience != PERSON:  # forged, or an office button: never run here
            self.transcripts.add(person.user_id, [Entry("bot", (Block("", self.texts.get("button_not_valid")),), kind="notice")])
            return
        label = self.transcripts.latest_buttons(person.user_id).get(action) or self.role_label(action)
        if label:  # what the person chose, in their words on the page
            self.transcripts.add(person.user_id, [said(label)])
        out = self.dialogue.handle(person, action=action)
        if callback.kind == "fg" and callback.args == ("yes",):  # "forget me", confirmed: the page forgets too
            self.transcripts.forget(person.user_id)
        self.show(person, out)

    def role_label(self, action: str) -> str:
        kind, _, role = action.partition(":")
        return self.texts.get(f"roles.{role}") if kind == "role" and role in ROLES else ""

    def attach(self, person: Person, images: list[tuple[bytes, str]], problem: str) -> None:
        """A report's screenshots, stored (0600) and given to the flow one by one, within the web's limits."""
        awaiting, held = self.dialogue.awaiting(person)
        if awaiting != "photos":
            self.transcripts.add(person.user_id, [notice(self.texts.get("evidence.not_now"))])
            return
        notes = [problem] if problem else []
        if held + len(images) > MAX_IMAGES:
            notes.append("evidence.too_many")
            images = images[: max(0, MAX_IMAGES - held)]
        if not images and not notes:
            notes.append("evidence.none_chosen")
        self.transcripts.add(person.user_id, [notice(self.texts.get(n, limit=MAX_IMAGES, size=MAX_IMAGE_BYTES // 2**20)) for n in notes])
        for data, kind in images:
            evidence_id = self.store.evidence.save(data, kind)
            self.transcripts.add(person.user_id, [said(self.texts.get("evidence.sent"))])
            self.show(person, self.dialogue.handle(person, photo=evidence_id))

    def page_state(self, person: Person) -> tuple[str | None, tuple[str, int]]:
        """For the chat page, in one trip to a worker thread: what the office sent since shown, then the
        person's role and what their flow waits for."""
        self.deliver_pending(person)
        return self.role_of(person), self.dialogue.awaiting(person)

    def deliver_pending(self, person: Person) -> None:
        """What the office sent this person since (an answer to their question), shown once."""
        for message in self.store.outbox.messages_for(self.user_key(person), CHANNEL):
            self.transcripts.add(person.user_id, [Entry("bot", tuple(Block("", l) for l in message["text"].split("\n") if l.strip()))])
            self.store.outbox.mark_delivered(message["id"])


def build_app(settings, advisor: Answerer, store: Store | None = None) -> Starlette:
    """The web chat over the settings' database (or `store`, shared with the Telegram bot, which then opens and
    closes it), answering with `advisor` (loaded once, shared), in batches: an advisor that is not a
    `BatchedAdvisor` already is wrapped in one, closed with the app."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))  # autoescape on for .html
    templates.env.auto_reload = False  # templates ship with the code: no stat of each file on every page
    # Already batched (the Telegram bot's, in one process) or unable to batch (a stand-in that only has a pack).
    batched = advisor if isinstance(advisor, BatchedAdvisor) or not hasattr(advisor, "respond_many") else None
    answerer = batched or BatchedAdvisor(advisor, triage=UrgencyTriage.for_classifier(getattr(advisor, "classifier", None)))
    web = WebChannel(settings, answerer, templates, store)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        web.open()
        await run_in_threadpool(open_round, web)  # a new version of the pack: signers asked to confirm (signing.py)
        # Alone (no Telegram bot beside it, whose jobs do this): retention purge, and what the office taught elsewhere.
        upkeep = asyncio.create_task(run_upkeep(web.store, answerer, settings)) if store is None else None
        try:
            async with delivering_email(settings, web.store, route_failed=web.dialogue.office.route_failed) as app.state.email:
                yield
        finally:
            if upkeep is not None:
                upkeep.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await upkeep
            if batched is None:  # ours: its inference thread answers what waits, then stops
                await anyio.to_thread.run_sync(answerer.close)
            web.close()

    from bot.desk.app import DESK_UPLOAD_LIMITS  # the desk's roster upload: larger than a chat message

    routes = [
        Route("/", chat_page, methods=["GET"], name="chat"),
        Route("/send", send, methods=["POST"], name="send"),
        Route("/evidence", evidence, methods=["POST"], name="evidence"),
        Route("/policy", policy_page, methods=["GET"], name="policy"),
        Route("/agreement", agreement_page, methods=["GET"], name="agreement"),
        Route("/privacy", privacy_page, methods=["GET"], name="privacy"),
        Route("/health", health, methods=["GET"], name="health"),
        *SIGN_ROUTES,  # signing on the web: /sign and personal links /sign/<code> (signing.py)
        Mount("/desk", app=build_desk(settings, lambda: web.dialogue.office, engine_of=lambda: web.advisor.engine), name="desk"),  # the office's desk (bot/desk/)
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        Mount("/a", routes=ANSWER_ROUTES),  # a web asker's private page for the office's answer (answers.py)
    ]
    middleware = [
        Middleware(ClientAddress, trusted=settings.web_trusted_proxies),
        Middleware(SecurityHeaders, too_large=web.texts.get("too_large"), limits={"/evidence": MAX_UPLOAD_BYTES, **DESK_UPLOAD_LIMITS},
                   embed_origins=settings.web_embed_origins),
        Middleware(
            SessionMiddleware, secret_key=secret_key(settings), session_cookie=COOKIE,
            max_age=SESSION_DAYS * 24 * 3600, **session_cookie_options(settings),
        ),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan, exception_handlers={404: not_found})
    app.state.web = web
    return app
