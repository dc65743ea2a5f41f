"""The desk's roster pages: upload the roster (the same CSV and checks as `policybot office roster import`,
bot/roster.py), see who has signed which version, who has not and who asked first, match a signature given by
name alone to its roster row, and download everyone still to sign (with their codes) as CSV. Office only;
every change and every download is audited with who.

  ROSTER_ROUTES   mounted by build_desk (bot/desk/app.py)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.desk.access import DeskUser
from bot.desk.app import COOKIE, ROSTER_MAX_BYTES, Desk, back, desk_of, signed_in
from bot.roster import read_roster, status_of, write_rest_csv
from bot.store.signatures import ROSTER_KINDS, SIGNER_KIND
from bot.web.app import TooLarge, capped
from bot.web.security import csrf_ok
from knowledge.signing import KINDS, SHORT

CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel", "application/octet-stream", "")
ROSTER_KIND_OF = {kind: roster_kind for roster_kind, kind in SIGNER_KIND.items()}  # agreement → parent


def signing_of(desk: Desk):
    """The signing service over the office's store and pack (read here: who stands where)."""
    from bot.signatures import Signing

    office = desk.office
    return Signing(office.store, office.pack, office.person_texts, desk.settings)


def standing_view(standing) -> dict:
    signed = standing.signed
    return {
        **standing.row,
        "status": status_of(standing),
        "version": signed["digest"][:SHORT] if signed else "",
        "date": signed["at"][:10] if signed else "",
        "channel": signed["channel"] if signed else "",
    }


def roster_context(desk: Desk) -> dict:
    signing = signing_of(desk)
    standings = [standing_view(s) for s in signing.standings()]
    groups = []
    for roster_kind in ROSTER_KINDS:
        people = [s for s in standings if s["kind"] == roster_kind]
        counts = {name: sum(1 for s in people if s["status"] == name) for name in ("current", "behind", "asked", "none")}
        groups.append({"kind": roster_kind, "people": people, "counts": counts, "total": len(people)})
    roster = signing.store.signatures.roster()
    unmatched = [
        {**row, "version": row["digest"][:SHORT], "date": row["at"][:10],
         "candidates": [r for r in roster if r["kind"] == ROSTER_KIND_OF.get(row["kind"])]}
        for row in signing.unmatched()
    ]
    versions = {kind: signing.text_for(kind).short for kind in KINDS}
    return {"groups": groups, "unmatched": unmatched, "versions": versions, "office_texts": desk.office.texts}


@signed_in(office=True)
async def roster_page(request: Request, desk: Desk, user: DeskUser, form):
    context = await run_in_threadpool(roster_context, desk)
    return desk.page(request, "roster.html", {**context, "csrf": user.csrf, "max_kb": ROSTER_MAX_BYTES // 1024}, user=user)


def problem_page(request: Request, desk: Desk, user: DeskUser, problems: list[str], status_code: int = 400):
    context = roster_context(desk)
    context.update(csrf=user.csrf, max_kb=ROSTER_MAX_BYTES // 1024, problems=problems)
    return desk.page(request, "roster.html", context, status_code, user=user)


async def upload(request: Request):
    """A roster CSV (multipart): checked whole first; any problem, and nothing is imported. Its own endpoint
    (not `signed_in`), because the form is multipart and the CSRF token is among its fields."""
    desk = desk_of(request)
    user = await run_in_threadpool(desk.access.current, desk.signer.unsign(request.cookies.get(COOKIE)))
    if user is None:
        return desk.message(request, "session_needed", 401)
    if not user.office:
        return desk.message(request, "not_yours", 403, user)
    t = desk.texts
    try:
        form = await capped(request, ROSTER_MAX_BYTES).form(max_files=1, max_fields=2)
    except TooLarge:
        return desk.message(request, "roster_too_big", 413, user, kb=ROSTER_MAX_BYTES // 1024)
    except HTTPException:  # not multipart, or more files or fields than the form has
        return desk.message(request, "forbidden", 400, user)
    try:
        if not csrf_ok({"csrf": user.csrf}, form.get("csrf")):
            return desk.message(request, "forbidden", 403, user)
        upload = form.get("roster")
        if upload is None or isinstance(upload, str) or not upload.filename:
            return await run_in_threadpool(problem_page, request, desk, user, [t.get("roster_no_file")])
        data = await upload.read(ROSTER_MAX_BYTES + 1)
        name = safe_name(upload.filename)
        content_type = (upload.content_type or "").split(";")[0].strip().lower()
    finally:
        await form.close()
    if len(data) > ROSTER_MAX_BYTES:
        return desk.message(request, "roster_too_big", 413, user, kb=ROSTER_MAX_BYTES // 1024)
    if not name.lower().endswith(".csv") or content_type not in CSV_TYPES or b"\x00" in data:
        return await run_in_threadpool(problem_page, request, desk, user, [t.get("roster_not_csv", file=name)])
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return await run_in_threadpool(problem_page, request, desk, user, [t.get("roster_not_utf8", file=name)])
    return await run_in_threadpool(import_roster, request, desk, user, name, data)


def safe_name(filename: str) -> str:
    """The uploaded file's own name, as problems name it: its last part, printable, at most 80 characters."""
    base = Path(filename.replace("\\", "/")).name
    return "".join(ch for ch in base if ch.isprintable() and ch not in "/\\")[:80] or "roster.csv"


def import_roster(request: Request, desk: Desk, user: DeskUser, name: str, data: bytes):
    """Read the CSV with `read_roster` (the terminal's own reader and checks), then add everyone in one transaction."""
    office = desk.office
    with tempfile.TemporaryDirectory() as folder:  # 0700: only this process reads the file, gone at once
        path = Path(folder) / name
        path.write_bytes(data)
        people, problems = read_roster(path, office.texts)
    if problems:
        office.store.audit.record(user.identity, "roster_import_refused", "roster", f"{name}: {len(problems)} problems")
        return problem_page(request, desk, user, problems + [desk.texts.get("roster_nothing_imported")])
    store = office.store
    before = len(store.signatures.roster())
    with store.transaction():
        for person in people:
            store.signatures.add_to_roster(**person)
        new = len(store.signatures.roster()) - before
        store.audit.record(user.identity, "roster_import", "roster", f"{name}: {len(people)} people, {new} new")
    store.desk.set_flash(user.session_id, desk.texts.get("roster_imported", count=len(people), new=new))
    return back(request, "desk:roster")


@signed_in(office=True)
async def match(request: Request, desk: Desk, user: DeskUser, form):
    """A signature given by name alone, matched by hand to its roster row (of the same kind of signer)."""
    try:
        signature_id, roster_id = int(form.get("signature", "")), int(form.get("roster", ""))
    except ValueError:
        desk.office.store.desk.set_flash(user.session_id, desk.texts.get("roster_match_choose"))
        return back(request, "desk:roster")
    message = await run_in_threadpool(match_signature, desk, user, signature_id, roster_id)
    desk.office.store.desk.set_flash(user.session_id, message)
    return back(request, "desk:roster")


def match_signature(desk: Desk, user: DeskUser, signature_id: int, roster_id: int) -> str:
    store, t = desk.office.store, desk.texts
    signature, person = store.signatures.row("signatures", signature_id), store.signatures.row("roster", roster_id)
    if signature is None or person is None or signature["roster_id"] is not None or ROSTER_KIND_OF.get(signature["kind"]) != person["kind"]:
        return t.get("roster_match_refused")
    with store.transaction():
        if not store.desk.match_signature(signature_id, roster_id):
            return t.get("roster_match_refused")
        store.audit.record(user.identity, "roster_match", f"S-{signature_id}", f"roster {roster_id}")
    return t.get("roster_matched", name=signature["name"] or "—", row=person["name"])


@signed_in(office=True)
async def rest_csv(request: Request, desk: Desk, user: DeskUser, form):
    """Everyone still to sign the current version (or to confirm it again), with their codes, as CSV; audited."""

    def write() -> tuple[int, bytes]:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "rest.csv"
            count = write_rest_csv(signing_of(desk), desk.office.texts, path)
            return count, path.read_bytes()

    count, data = await run_in_threadpool(write)
    await run_in_threadpool(desk.office.store.audit.record, user.identity, "roster_rest_csv", "roster", f"{count} people")
    name = f"still-to-sign-{desk.clock().date().isoformat()}.csv"
    headers = {"content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store"}
    return Response(data, media_type="text/csv; charset=utf-8", headers=headers)


@signed_in(office=True)
async def remind(request: Request, desk: Desk, user: DeskUser, form):
    """Remind everyone still to sign the current version (Telegram or email, nobody twice a day), as
    `policybot office roster remind` does; audited, and the counts shown on the page."""

    def send() -> str:
        done = signing_of(desk).remind()
        desk.office.store.audit.record(user.identity, "roster_remind", "roster",
                                       f"telegram {done.telegram}, email {done.email}, unreachable {done.unreachable}")
        return desk.texts.get("roster_reminded", telegram=done.telegram, email=done.email,
                              unreachable=done.unreachable, recent=done.recent)

    desk.office.store.desk.set_flash(user.session_id, await run_in_threadpool(send))
    return back(request, "desk:roster")


ROSTER_ROUTES = [
    Route("/roster", roster_page, methods=["GET"], name="roster"),
    Route("/roster/upload", upload, methods=["POST"], name="roster_upload"),
    Route("/roster/match", match, methods=["POST"], name="roster_match"),
    Route("/roster/still-to-sign", rest_csv, methods=["POST"], name="roster_rest"),
    Route("/roster/remind", remind, methods=["POST"], name="roster_remind"),
]
