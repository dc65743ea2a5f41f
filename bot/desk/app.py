"""The office's desk: a Starlette sub-application mounted at /desk by the web app (bot/web/app.py). Pages
are server-rendered and work without JavaScript; every form is a POST with the session's CSRF token, then a
redirect (POST-redirect-GET). Every action is one call on the same `Office` the Telegram office uses
(answers reach the asker through the outbox, on their channel, and teach the bot), audited with who and when.

  build_desk(settings, office_of, clock=utc_now, email_sender=None)   the sub-application
"""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from typing import Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot.desk.access import CookieSigner, DeskAccess, DeskUser, EmailSender, desk_texts, smtp_email_sender
from bot.desk.charts import bar_chart
from bot.desk.search import find_clauses
from bot.export import cases_csv
from bot.office import Office, short_time
from bot.store import CASE_KINDS, CASE_STATUSES, utc_now
from bot.web.forms import read_form
from bot.web.security import csrf_ok, secret_key
from knowledge.texts import Texts

HERE = Path(__file__).resolve().parent
COOKIE = "policybot_desk"  # the session: a signed random id, HttpOnly, SameSite=Strict, path /desk
PRE_COOKIE = "policybot_desk_signin"  # the sign-in form's CSRF token, before there is a session
ROSTER_MAX_BYTES = 1024 * 1024  # a roster upload: a CSV of a few thousand people, and the form around it
DESK_UPLOAD_LIMITS = {"/desk/roster/upload": ROSTER_MAX_BYTES}  # for the web app's request size limit, by path


class Desk:
    """What the endpoints share: the settings, the office (the web app's, made when it starts), access, texts."""

    def __init__(self, settings, office_of: Callable[[], Office], clock, email_sender: EmailSender | None,
                 engine_of: Callable[[], object] | None = None):
        self.settings = settings
        self.office_of = office_of
        self.engine_of = engine_of  # the advisor's engine, for the review's themes (None: no review page)
        self.clock = clock
        self.email_sender = email_sender
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))  # autoescape on for .html
        self.signer = CookieSigner(secret_key(settings))
        self._texts: Texts | None = None

    @property
    def office(self) -> Office:
        return self.office_of()

    @property
    def engine(self):
        return self.engine_of() if self.engine_of is not None else None

    @property
    def access(self) -> DeskAccess:
        return DeskAccess(self.settings, self.office.store, self.clock, self.email_sender)

    @property
    def texts(self) -> Texts:
        if self._texts is None:
            self._texts = desk_texts(self.settings, self.office.pack)
        return self._texts

    def page(self, request: Request, name: str, context: dict, status_code: int = 200, user: DeskUser | None = None):
        flash = self.office.store.desk.take_flash(user.session_id) if user else ""
        values = {"t": self.texts, "user": user, "flash": flash, **context}
        return self.templates.TemplateResponse(request, name, values, status_code=status_code)

    def message(self, request: Request, key: str, status_code: int, user: DeskUser | None = None, **values):
        return self.page(request, "message.html", {"message": self.texts.get(key, **values)}, status_code, user)

    def secure(self) -> bool:
        return getattr(self.settings, "web_public_url", "").startswith("https://")

    def set_cookie(self, response, name: str, value: str, max_age: int | None = None) -> None:
        response.set_cookie(
            name, self.signer.sign(value), max_age=max_age, path="/desk", httponly=True, samesite="strict", secure=self.secure()
        )


def desk_of(request: Request) -> Desk:
    return request.app.state.desk


def back(request: Request, name: str, **params) -> RedirectResponse:
    return RedirectResponse(request.url_for(name, **params).path, status_code=303)


def signed_in(handler=None, *, office: bool = False):
    """A page for a signed-in user (office=True: for the office's work only). A POST must carry the CSRF token;
    its form is handed to the handler."""

    def wrap(handler):
        @functools.wraps(handler)
        async def endpoint(request: Request):
            desk = desk_of(request)
            session_id = desk.signer.unsign(request.cookies.get(COOKIE))
            user = await run_in_threadpool(desk.access.current, session_id)
            if user is None:
                response = desk.message(request, "session_needed", 401)
                response.delete_cookie(COOKIE, path="/desk")
                return response
            if office and not user.office:
                return desk.message(request, "not_yours", 403, user)
            form = None
            if request.method == "POST":
                form = await read_form(request)
                if form is None or not csrf_ok({"csrf": user.csrf}, form.get("csrf")):
                    return desk.message(request, "forbidden", 403, user)
            return await handler(request, desk, user, form)

        return endpoint

    return wrap(handler) if handler else wrap


# --- signing in --------------------------------------------------------------------------------------


async def home(request: Request):
    desk = desk_of(request)
    user = await run_in_threadpool(desk.access.current, desk.signer.unsign(request.cookies.get(COOKIE)))
    if user is not None:
        return back(request, "desk:unanswered" if user.office else "desk:cases")
    return signin_page(request, desk, token="")


def signin_page(request: Request, desk: Desk, token: str, status_code: int = 200, message: str = ""):
    """The sign-in page (with the link's token: one button that uses it; a GET never does, so a mail scanner
    opening the link does not spend it)."""
    import secrets

    pre = secrets.token_urlsafe(24)
    context = {"token": token, "csrf": pre, "message": message, "emails": bool(getattr(desk.settings, "office_admin_emails", ()))}
    response = desk.page(request, "signin.html", context, status_code)
    desk.set_cookie(response, PRE_COOKIE, pre, max_age=15 * 60)
    return response


async def signin(request: Request):
    desk = desk_of(request)
    if request.method == "GET":
        token = request.query_params.get("token", "")
        if not token:
            return signin_page(request, desk, "", 400, desk.texts.get("link_missing"))
        return signin_page(request, desk, token)
    form = await read_form(request)
    pre = desk.signer.unsign(request.cookies.get(PRE_COOKIE))
    if form is None or not pre or not csrf_ok({"csrf": pre}, form.get("csrf")):
        return desk.message(request, "forbidden", 403)
    status, user = await run_in_threadpool(desk.access.redeem, form.get("token", ""))
    if user is None:
        return signin_page(request, desk, "", 403, desk.texts.get(f"link_refused.{status}"))
    response = back(request, "desk:unanswered" if user.office else "desk:cases")
    desk.set_cookie(response, COOKIE, user.session_id)  # a browser-session cookie; the server ends it when idle
    response.delete_cookie(PRE_COOKIE, path="/desk")
    return response


async def request_link(request: Request):
    """A web-only school's office asks for a link by email; the same reply whoever asks (nobody learns who is staff)."""
    desk = desk_of(request)
    form = await read_form(request)
    pre = desk.signer.unsign(request.cookies.get(PRE_COOKIE))
    if form is None or not pre or not csrf_ok({"csrf": pre}, form.get("csrf")):
        return desk.message(request, "forbidden", 403)
    t = desk.texts
    await run_in_threadpool(desk.access.email_link, form.get("email", "")[:200], t.get("email_subject"), t.get("email_body"))
    return desk.message(request, "email_sent", 200)


@signed_in
async def signout(request: Request, desk: Desk, user: DeskUser, form):
    await run_in_threadpool(desk.access.sign_out, user)
    response = desk.message(request, "signed_out", 200)
    response.delete_cookie(COOKIE, path="/desk")
    return response


# --- unanswered questions ------------------------------------------------------------------------------


def item_view(office: Office, item: dict) -> dict:
    pack = office.pack
    guesses = [c for c in (pack.clause(cid) for cid in item.get("suggestions", [])[:3]) if c is not None]
    disliked = item.get("disliked") or ""
    return {
        **item,
        "ref": f"U-{item['id']}",
        "asked": short_time(item["created"]),
        "guesses": guesses,
        "disliked_clause": pack.clause(disliked) if disliked else None,
        "disliked": disliked,
    }


@signed_in(office=True)
async def unanswered(request: Request, desk: Desk, user: DeskUser, form):
    items = [item_view(desk.office, i) for i in await run_in_threadpool(desk.office.unanswered)]
    return desk.page(request, "unanswered.html", {"items": items, "csrf": user.csrf}, user=user)


@signed_in(office=True)
async def unanswered_item(request: Request, desk: Desk, user: DeskUser, form):
    item = await run_in_threadpool(desk.office.store.unanswered.item, request.path_params["item_id"])
    if item is None or item["status"] != "open":
        return desk.message(request, "not_found", 404, user)
    query = request.query_params.get("q", "")[:200]
    results = find_clauses(desk.office.pack, query) if query.strip() else []
    context = {"item": item_view(desk.office, item), "query": query, "results": results, "csrf": user.csrf}
    return desk.page(request, "item.html", context, user=user)


def office_action(run):
    """An action on one unanswered item: the Office call's outcome is shown on the next page."""

    @signed_in(office=True)
    @functools.wraps(run)
    async def endpoint(request: Request, desk: Desk, user: DeskUser, form):
        outcome = await run_in_threadpool(run, desk.office, request.path_params["item_id"], form, user.identity)
        desk.office.store.desk.set_flash(user.session_id, outcome.message)
        return back(request, "desk:unanswered")

    return endpoint


@office_action
def answer_with_clause(office: Office, item_id: int, form: dict, actor: str):
    return office.answer_with_clause(item_id, form.get("clause", ""), actor)


@office_action
def answer_with_text(office: Office, item_id: int, form: dict, actor: str):
    return office.answer_with_text(item_id, form.get("answer", ""), actor)


@office_action
def dismiss(office: Office, item_id: int, form: dict, actor: str):
    return office.dismiss(item_id, actor)


# --- cases -------------------------------------------------------------------------------------------


def duration(start: str, end: datetime) -> str:
    try:
        seconds = int((end - datetime.fromisoformat(start)).total_seconds())
    except (TypeError, ValueError):
        return ""
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min"


def case_view(desk: Desk, case) -> dict:
    row = case.row
    end = datetime.fromisoformat(row["closed_at"]) if row.get("closed_at") else desk.clock()
    return {
        "ref": case.ref,
        "kind": case.kind,
        "status": case.status,
        "created": short_time(row.get("created", "")),
        "urgent": bool(row.get("urgent")),
        "escalated": case.route == "escalation",
        "taken": duration(row.get("created", ""), end),
        "closed": case.status == "closed",
    }


def filtered_cases(desk: Desk, user: DeskUser, kind: str, status: str) -> list:
    """The cases this user may see, of this kind and status ("" for any)."""
    every = desk.office.store.cases.with_status(CASE_STATUSES)
    return [c for c in every if desk.access.may_see(user, c) and (not kind or c.kind == kind) and (not status or c.status == status)]


@signed_in
async def cases(request: Request, desk: Desk, user: DeskUser, form):
    kind = request.query_params.get("kind", "")
    status = request.query_params.get("status", "")
    shown = [case_view(desk, c) for c in await run_in_threadpool(filtered_cases, desk, user, kind, status)]
    context = {"cases": shown, "kinds": list(CASE_KINDS), "statuses": CASE_STATUSES, "kind": kind, "status": status,
               "csrf": user.csrf}
    return desk.page(request, "cases.html", context, user=user)


@signed_in
async def export_cases(request: Request, desk: Desk, user: DeskUser, form):
    """The cases shown with the same filters, as a CSV download: names only with the tick box, audited with who."""
    kind = form.get("kind", "") if form.get("kind", "") in CASE_KINDS else ""
    status = form.get("status", "") if form.get("status", "") in CASE_STATUSES else ""
    with_names = form.get("names") == "yes"
    chosen = await run_in_threadpool(filtered_cases, desk, user, kind, status)
    detail = f"{len(chosen)} cases; {'with names' if with_names else 'no names'}; kind={kind or 'all'}; status={status or 'all'}"
    await run_in_threadpool(desk.office.store.audit.record, user.identity, "desk_export", "cases", detail)
    name = f"cases-{desk.clock().date().isoformat()}.csv"
    headers = {"content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store"}
    return Response(cases_csv(chosen, with_names), media_type="text/csv; charset=utf-8", headers=headers)


def visible_case(desk: Desk, user: DeskUser, ref: str):
    """The case, if this user may see it; None for "no such case" and "not yours" alike."""
    case = desk.office.store.cases.get(ref)
    return case if case is not None and desk.access.may_see(user, case) else None


@signed_in
async def case_page(request: Request, desk: Desk, user: DeskUser, form):
    case = await run_in_threadpool(visible_case, desk, user, request.path_params["ref"])
    if case is None:
        return desk.message(request, "not_found", 404, user)
    office = desk.office
    notice, _ = office.case_notice(case)
    history = [e for e in office.store.audit.entries() if e["target"] == case.ref]
    context = {
        "case": case_view(desk, case),
        "notice": notice,
        "notes": office.store.desk.notes(case.ref),
        "history": [{**e, "at": short_time(e["at"])} for e in history],
        "csrf": user.csrf,
    }
    return desk.page(request, "case.html", context, user=user)


def case_action(run):
    @signed_in
    @functools.wraps(run)
    async def endpoint(request: Request, desk: Desk, user: DeskUser, form):
        ref = request.path_params["ref"]
        case = await run_in_threadpool(visible_case, desk, user, ref)
        if case is None:
            return desk.message(request, "not_found", 404, user)
        message = await run_in_threadpool(run, desk, case, form, user.identity)
        desk.office.store.desk.set_flash(user.session_id, message)
        return back(request, "desk:case", ref=case.ref)

    return endpoint


@case_action
def acknowledge(desk: Desk, case, form: dict, actor: str) -> str:
    return desk.office.acknowledge(case.ref, actor).message


@case_action
def close(desk: Desk, case, form: dict, actor: str) -> str:
    return desk.office.close(case.ref, form.get("note", ""), actor).message


@case_action
def add_note(desk: Desk, case, form: dict, actor: str) -> str:
    note = (form.get("note") or "").strip()[:2000]
    if not note:
        return desk.texts.get("note_empty")
    store = desk.office.store
    with store.transaction():
        store.desk.add_note(case.ref, note, actor)
        store.audit.record(actor, "note", case.ref, note[:200])
    return desk.texts.get("note_added", ref=case.ref)


# --- learned answers and numbers -----------------------------------------------------------------------


@signed_in(office=True)
async def learned(request: Request, desk: Desk, user: DeskUser, form):
    entries = await run_in_threadpool(desk.office.office_answers)
    return desk.page(request, "learned.html", {"entries": entries, "csrf": user.csrf, "short_time": short_time}, user=user)


@signed_in(office=True)
async def unlearn(request: Request, desk: Desk, user: DeskUser, form):
    outcome = await run_in_threadpool(desk.office.unlearn, request.path_params["answer_id"], user.identity)
    desk.office.store.desk.set_flash(user.session_id, outcome.message)
    return back(request, "desk:learned")


@signed_in(office=True)
async def stats(request: Request, desk: Desk, user: DeskUser, form):
    days = 14
    s = await run_in_threadpool(desk.office.store.stats, days)
    share = round(100 * s["answered"] / s["questions"]) if s["questions"] else 0
    charts = {
        "per_day": bar_chart([(day[5:], n) for day, n, _ in s["per_day"]], desk.texts.get("stats_questions")),
        "top": bar_chart([(clause, n) for clause, n in s["top_sections"]], desk.texts.get("stats_top")),
        "feedback": bar_chart([("👍", s["thumbs_up"]), ("👎", s["thumbs_down"])], desk.texts.get("stats_feedback")),
    }
    summary = desk.texts.get("stats_summary", questions=s["questions"], answered=s["answered"], share=share,
                             open_unanswered=s["open_unanswered"])
    return desk.page(request, "stats.html", {"charts": charts, "summary": summary, "days": days}, user=user)


async def not_found(request: Request, exc):
    return desk_of(request).message(request, "not_found", 404)


def build_desk(
    settings, office_of: Callable[[], Office], clock: Callable[[], datetime] = utc_now, email_sender: EmailSender | None = None,
    engine_of: Callable[[], object] | None = None,
) -> Starlette:
    """The desk, for mounting at /desk (name "desk"); `office_of` gives the web app's Office once it has started,
    `engine_of` its engine (for the governors' review). Sign-in links are emailed with `email_sender`, by
    default the school's mail server when SMTP_HOST is set."""
    from bot.desk.review import REVIEW_ROUTES
    from bot.desk.roster import ROSTER_ROUTES

    routes = [
        Route("/", home, methods=["GET"], name="home"),
        Route("/signin", signin, methods=["GET", "POST"], name="signin"),
        Route("/request-link", request_link, methods=["POST"], name="request_link"),
        Route("/signout", signout, methods=["POST"], name="signout"),
        Route("/unanswered", unanswered, methods=["GET"], name="unanswered"),
        Route("/unanswered/{item_id:int}", unanswered_item, methods=["GET"], name="item"),
        Route("/unanswered/{item_id:int}/clause", answer_with_clause, methods=["POST"], name="answer_clause"),
        Route("/unanswered/{item_id:int}/text", answer_with_text, methods=["POST"], name="answer_text"),
        Route("/unanswered/{item_id:int}/dismiss", dismiss, methods=["POST"], name="dismiss"),
        Route("/cases", cases, methods=["GET"], name="cases"),
        Route("/cases/export", export_cases, methods=["POST"], name="export_cases"),
        Route("/cases/{ref}", case_page, methods=["GET"], name="case"),
        Route("/cases/{ref}/acknowledge", acknowledge, methods=["POST"], name="acknowledge"),
        Route("/cases/{ref}/close", close, methods=["POST"], name="close"),
        Route("/cases/{ref}/note", add_note, methods=["POST"], name="note"),
        Route("/learned", learned, methods=["GET"], name="learned"),
        Route("/learned/{answer_id:int}/undo", unlearn, methods=["POST"], name="unlearn"),
        Route("/stats", stats, methods=["GET"], name="stats"),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        *ROSTER_ROUTES,
        *REVIEW_ROUTES,
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found})
    app.state.desk = Desk(settings, office_of, clock, email_sender or smtp_email_sender(settings), engine_of)
    return app
