"""Signing on the web: `/sign` (parents sign the agreement, staff acknowledge the policy) and `/sign/<code>`, a
personal link from the school's roster (or one a signer not on the roster was emailed).

A thin adapter over `bot.signatures.Signing`, as bot/telegram/signing.py is for Telegram: it asks `Signing.page`
what to show, hands the filled form to `sign_form` or `ask_form`, and renders the answer. Plain forms with a CSRF
token and POST-redirect-GET (nothing needs JavaScript); what a redirect must still say (a question sent, its
private answer link) waits in the session cookie for the next page. The routes join the web app's list
(`*SIGN_ROUTES`); the service is made once per app (`signing_of`).
"""

from __future__ import annotations


from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from bot.signatures import ROLE_OF_KIND, SIGN_PATH, Signing
from bot.store.signatures import SIGNER_KIND
from bot.web.forms import read_form
from bot.web.security import MAX_BODY_BYTES, client_address, csrf_ok, csrf_token, hide_in_access_log
from bot.web.view import anchor
from knowledge.signing import KINDS, SHORT

FIELDS = ("csrf", "kind", "digest", "action", "name", "classes", "prefer_not", "role", "email", "question")
FLASH = "sign_flash"  # what the next page must say (a question sent), kept in the session until shown
SIGNED = "signed"  # this browser has signed here: its chat page looks for a new version of what was signed
CODE = "sign_code"  # the personal code of the link this browser came by (a roster row's, or a signer's own)
PRIVATE = {"cache-control": "no-store", "x-robots-tag": "noindex, nofollow"}


def signing_of(request: Request) -> Signing:
    """The app's signing service (made on first use, over the web channel's store and the people's texts)."""
    web = request.app.state.web
    if getattr(web, "signing", None) is None:
        web.signing = Signing(web.store, web.advisor.pack, web.person_texts, web.settings, web.dialogue.office)
    return web.signing


def typed_command(text: str) -> str:
    """The kind of signing `/agree` or `/acknowledge` typed in the chat asks for ("" for anything else): on the web
    signing has its own page."""
    words = text.strip().split()
    command = words[0].split("@", 1)[0].lower() if len(words) == 1 else ""
    return {"/agree": "agreement", "/acknowledge": "acknowledgement"}.get(command, "")


def open_round(web) -> int:
    """At start: a new version of the pack opens a re-confirmation round (Telegram messages, emails)."""
    web.signing = Signing(web.store, web.advisor.pack, web.person_texts, web.settings, web.dialogue.office)
    return web.signing.open_round()


async def behind_notice(request: Request) -> list[tuple[str, str]]:
    """For the chat page: (what to read, where) for each text this browser's person signed an earlier version of.
    Only a browser that signed here asks the store (the chat page of everyone else costs nothing more)."""
    from bot.web.app import person_of

    if not request.session.get(SIGNED):
        return []
    web = request.app.state.web
    kinds = await run_in_threadpool(signing_of(request).behind, person_of(request))
    return [(web.texts.get(f"sign.notice.{kind}"), f"{request.url_for('sign').path}?kind={kind}") for kind in kinds]


async def read_sign_form(request: Request) -> dict[str, str] | None:
    """The form (up to MAX_BODY_BYTES; None past it); fields we do not know are dropped."""
    form = await read_form(request, MAX_BODY_BYTES, max_fields=len(FIELDS) + 2)
    return None if form is None else {k: v for k, v in form.items() if k in FIELDS}


def kind_for(request: Request, asked: str) -> str:
    """The kind asked for, else the one the person's roster row or role says, else the parents' agreement (when
    the pack has one)."""
    from bot.web.app import person_of

    web = request.app.state.web
    if asked in KINDS:
        return asked
    key = web.user_key(person_of(request))
    roster = web.store.signatures.roster_of(key)
    if roster is not None:
        return SIGNER_KIND[roster["kind"]]
    if web.store.people.role_of(key) == "staff" or not web.has_agreement:
        return "acknowledgement"
    return "agreement"


def render(request: Request, kind: str, *, form: dict | None = None, errors: dict | None = None, status_code: int = 200):
    from bot.web.app import person_of

    web = request.app.state.web
    signing = signing_of(request)
    page = signing.page(person_of(request), kind, request.session.get(CODE, ""))
    people = web.person_texts
    flash = request.session.pop(FLASH, None) or {}
    done = request.query_params.get("done", "")
    signed = page.signed
    context = {
        "kind": kind,
        "other": "acknowledgement" if kind == "agreement" else "agreement",
        "show_other": web.has_agreement or kind == "agreement",
        "page": page,
        "p": people,
        "clauses": [(anchor(c.id), c, c.summary if c.curated else "") for c in page.shown],
        "keeps": web.texts.get("sign.keeps", detail=people.get(f"signing.keeps_details.{kind}")),
        "intro": web.texts.get(f"sign.intro.{kind}", version=page.text.short),
        "changed_intro": people.get("signing.changed_intro", kind=people.get(f"signing.kinds.{kind}"),
                                    old=page.previous["digest"][:SHORT], date=page.previous["at"][:10],
                                    version=page.text.short) if page.previous else "",
        "again": web.texts.get(f"sign.again.{kind}", name=page.previous["name"], role=page.previous["role"],
                               classes=page.previous["classes"] or people.get("signing.prefer_not")) if page.previous else "",
        "signed_text": web.texts.get(f"sign.{'signed' if done == 'signed' else 'already'}.{kind}", name=signed["name"],
                                     version=signed["digest"][:SHORT], date=signed["at"][:10], role=signed["role"],
                                     classes=signed["classes"] or people.get("signing.prefer_not")) if signed else "",
        "changed_notice": web.texts.get("sign.changed_while_reading") if done == "changed" else "",
        "flash_lines": flash.get("lines", []),
        "flash_link": flash.get("link", ""),
        "form": form or {},
        "errors": errors or {},
        "ask_email": not (page.roster and page.roster["email"]),
        "csrf": csrf_token(request.session),
    }
    response = web.page(request, "sign.html", context, status_code=status_code)
    response.headers.update(PRIVATE)
    return response


def message(request: Request, text: str, status_code: int):
    web = request.app.state.web
    response = web.page(request, "message.html", {"message": text}, status_code=status_code)
    response.headers.update(PRIVATE)
    return response


# --- endpoints ---------------------------------------------------------------------------------------


async def sign_page(request: Request):
    web = request.app.state.web
    kind = await run_in_threadpool(kind_for, request, request.query_params.get("kind", ""))
    if not web.advisor.pack.agreement_clauses() and kind == "agreement":
        return message(request, web.person_texts.get("signing.no_agreement"), 404)
    return await run_in_threadpool(render, request, kind)


async def sign_post(request: Request):
    """"I agree" (or "I have read and understood") with the form's details, or "I have a question first"."""
    from bot.web.app import person_of

    web = request.app.state.web
    form = await read_sign_form(request)
    if form is None:
        return message(request, web.texts.get("too_large"), 413)
    if not csrf_ok(request.session, form.get("csrf")):
        return web.page(request, "forbidden.html", {}, status_code=403)
    kind = form.get("kind", "")
    if kind not in KINDS:
        return message(request, web.texts.get("not_found"), 404)
    person = person_of(request)
    back = f"{request.url_for('sign').path}?kind={kind}"
    question = " ".join((form.get("question") or "").split())
    if not web.admitted(person, client_address(request), question, "" if question else "sign"):
        return message(request, web.person_texts.get("conversation.rate_limited"), 429)
    signing = signing_of(request)
    if form.get("action") == "ask":
        if question and web.triage.definite(question):  # a child may be at risk: the chat's safeguarding reply
            await web.in_lane(True, web.say, person, question)
            return RedirectResponse(request.url_for("chat").path + "#latest", status_code=303)
        out = await run_in_threadpool(signing.ask_form, person, kind, question, form.get("digest", ""))
        if out is None:
            errors = {"question": web.texts.get("sign.question_empty")}
            return await run_in_threadpool(render, request, kind, form=form, errors=errors, status_code=400)
        links = [o.text.rpartition("\n")[2] for o in out if o.kind == "answer_link"]
        lines = [web.texts.get("sign.question_sent")] if links else [o.text for o in out]
        request.session[FLASH] = {"lines": lines, "link": links[0] if links else ""}
        return RedirectResponse(back + "#sent", status_code=303)
    result = await run_in_threadpool(
        lambda: signing.sign_form(
            person, kind, digest=form.get("digest", ""), name=form.get("name", ""), classes=form.get("classes", ""),
            prefer_not=bool(form.get("prefer_not")), role=form.get("role", ""), email=form.get("email", ""),
            code=request.session.get(CODE, ""),
        )
    )
    if result.changed:
        return RedirectResponse(back + "&done=changed", status_code=303)
    if result.errors:
        return await run_in_threadpool(render, request, kind, form=form, errors=result.errors, status_code=400)
    request.session[SIGNED] = 1
    if not web.store.people.role_of(web.user_key(person)):
        await run_in_threadpool(web.store.people.set_role, web.user_key(person), ROLE_OF_KIND[kind])
    return RedirectResponse(back + "&done=signed#signed", status_code=303)


async def sign_code(request: Request):
    """A personal link: the roster row (or an earlier signature) it stands for, remembered for this browser; then
    the signing page. An unknown link, or one whose current version is already signed, gets a polite page."""
    web = request.app.state.web
    code = request.path_params["code"]
    signing = signing_of(request)
    store = web.store
    roster = await run_in_threadpool(store.signatures.roster_by_code, code) if len(code) <= 64 else None
    given = None if roster is not None or len(code) > 64 else await run_in_threadpool(store.signatures.by_code, code)
    if roster is None and given is None:
        return message(request, web.texts.get("sign.link_unknown"), 404)
    kind = SIGNER_KIND[roster["kind"]] if roster else given["kind"]
    if roster is not None:
        latest = await run_in_threadpool(store.signatures.latest_of_roster, roster["id"], kind)
    else:
        latest = given
    if latest is not None and latest["digest"] == signing.text_for(kind).digest:
        return message(request, web.texts.get("sign.link_used", date=latest["at"][:10]), 410)
    request.session[CODE] = code  # tied to this person only when they sign (a mail scanner's visit ties nothing)
    return RedirectResponse(f"{request.url_for('sign').path}?kind={kind}", status_code=303)


hide_in_access_log(SIGN_PATH)

SIGN_ROUTES = [
    Route("/sign", sign_page, methods=["GET"], name="sign"),
    Route("/sign", sign_post, methods=["POST"], name="sign_post"),
    Route("/sign/{code}", sign_code, methods=["GET"], name="sign_code"),
]
