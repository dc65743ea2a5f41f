"""The governors' annual review on the desk: the same review as `policybot office review` (bot/review: the
same figures, themes, pack health and wording), for a chosen period (the last 12 months by default), as an
HTML page with server-rendered SVG charts, a "download PDF" button, and the office's "hide this example" on
the unanswered questions' examples (kept in the audit log, so the terminal's review hides them too).

  REVIEW_ROUTES   mounted by build_desk (bot/desk/app.py)
"""

from __future__ import annotations

import tempfile
from collections import OrderedDict
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.desk.access import DeskUser
from bot.desk.app import Desk, signed_in
from bot.desk.charts import bar_chart
from bot.office import parse_item_ref
from bot.review import build_review, write_review
from bot.review.gather import CaseSummary
from bot.review.pdf import brief, decisions
from bot.review.wording import FilledTexts, change, day_text, duration, who
from bot.review.redact import redact
from bot.texts import for_review

LONGEST_DAYS = 3 * 366  # a review of at most three years (the embeddings of every question still held)


def period(params, today: date) -> tuple[date, date, str]:
    """The period asked for (YYYY-MM-DD, whole days), else the last 12 months to today; and what was wrong, if anything."""
    default_start = _year_before(today) + timedelta(days=1)
    try:
        start = date.fromisoformat(params.get("from") or default_start.isoformat())
        end = date.fromisoformat(params.get("to") or today.isoformat())
    except ValueError:
        return default_start, today, "review_bad_dates"
    if end < start or (end - start).days > LONGEST_DAYS:
        return default_start, today, "review_bad_dates"
    return start, end, ""


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def review_url(request: Request, start: date, end: date) -> str:
    return request.url_for("desk:review").path + "?" + urlencode({"from": start.isoformat(), "to": end.isoformat()})


def filled_texts(desk: Desk, review) -> FilledTexts:
    """The review's texts (bot/data/review.yaml) with its own values, as the PDF fills them."""
    values = {"start": day_text(review.start), "end": day_text(review.end), "policy_title": review.policy_title, "today": day_text(desk.clock().date())}
    return FilledTexts(for_review(desk.settings, desk.office.pack), values)


def by_month(review) -> list[tuple[str, int]]:
    """Questions per month (staff and parents together), for a bar chart with a label per bar."""
    months: OrderedDict[str, int] = OrderedDict()
    for n, week in enumerate(review.weeks):
        label = date.fromisoformat(week).strftime("%b %Y")
        months[label] = months.get(label, 0) + sum(counts[n] for counts in review.questions_by_week.values())
    return list(months.items())


def review_context(desk: Desk, start: date, end: date) -> dict:
    """Everything the page shows, built as the PDF is (bot/review/build.py)."""
    store = desk.office.store
    hidden = store.desk.hidden_examples()
    review = build_review(store, desk.engine, start, end, hidden)
    t = filled_texts(desk, review)
    shared = [theme for theme in review.themes if theme.size > 1]
    once = [theme for theme in review.themes if theme.size == 1]
    charts = {
        "months": bar_chart(by_month(review), t("charts.weekly")),
        "top": bar_chart([(c.label, c.total) for c in review.clauses[:10]], t("charts.top")),
    }
    counted = [(kind, s) for kind, s in review.cases.items() if s.count]
    if counted:
        charts["cases"] = bar_chart([(t(f"kinds.{kind}"), round((CaseSummary.middle(s.hours_to_close) or 0) / 24)) for kind, s in counted],
                                    t("charts.cases"))
    cases = [
        {"kind": t(f"kinds.{kind}"), "count": s.count, "open": s.open, "acknowledge": duration(s.middle(s.hours_to_acknowledge)),
         "close": duration(s.middle(s.hours_to_close)), "by_clause": s.by_clause if kind in ("breach", "complaint") else []}
        for kind, s in review.cases.items()
    ]
    hidden_items = []
    for item_id in sorted(hidden):
        item = store.unanswered.item(item_id)
        if item is not None:
            hidden_items.append({"id": item_id, "text": redact(item["text"])[:160]})
    oldest = review.oldest_question[:10]
    return {
        "review": review,
        "rt": t,
        "brief": brief(review, t),
        "decisions": decisions(review),
        "charts": charts,
        "shared": shared[:10],
        "once": once[:8],
        "more_once": max(0, len(once) - 8),
        "clause_rows": [(c.label, c.title, c.by_role.get("staff", 0), c.by_role.get("parent", 0), c.total, c.halves[0], change(*c.halves))
                        for c in review.clauses[:10]],
        "cases": cases,
        "gone": day_text(date.fromisoformat(oldest)) if oldest and oldest > review.start.isoformat() else "",
        "hidden_items": hidden_items,
        "roles_of": lambda theme: ", ".join(f"{count} {who(role, count)}" for role, count in sorted(theme.roles.items())),
    }


@signed_in
async def review_page(request: Request, desk: Desk, user: DeskUser, form):
    start, end, problem = period(request.query_params, desk.clock().date())
    if desk.engine is None:
        return desk.message(request, "review_unavailable", 503, user)
    context = await run_in_threadpool(review_context, desk, start, end)
    context.update(start=start.isoformat(), end=end.isoformat(), problem=desk.texts.get(problem) if problem else "", csrf=user.csrf,
                   pdf_url=request.url_for("desk:review_pdf").path + "?" + urlencode({"from": start.isoformat(), "to": end.isoformat()}))
    return desk.page(request, "review.html", context, user=user)


@signed_in
async def review_pdf(request: Request, desk: Desk, user: DeskUser, form):
    """The same review as a PDF (as `policybot office review` writes it), downloaded; audited."""
    start, end, _ = period(request.query_params, desk.clock().date())
    if desk.engine is None:
        return desk.message(request, "review_unavailable", 503, user)
    store = desk.office.store

    def write() -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            path = write_review(store, desk.engine, desk.settings, start, end, Path(folder) / "review.pdf", store.desk.hidden_examples())
            return path.read_bytes()

    data = await run_in_threadpool(write)
    await run_in_threadpool(store.audit.record, user.identity, "review_pdf", "review", f"{start} to {end}")
    headers = {"content-disposition": f'attachment; filename="review-{start}-to-{end}.pdf"', "cache-control": "no-store"}
    return Response(data, media_type="application/pdf", headers=headers)


def example_action(action: str):
    """Hide an example from the review, or show it again: the office's choice, audited (and the terminal's
    review follows it)."""

    @signed_in(office=True)
    async def endpoint(request: Request, desk: Desk, user: DeskUser, form):
        start, end, _ = period(form, desk.clock().date())
        item_id = parse_item_ref(form.get("item", ""))
        store = desk.office.store
        if item_id is None or await run_in_threadpool(store.unanswered.item, item_id) is None:
            store.desk.set_flash(user.session_id, desk.texts.get("not_found"))
        else:
            await run_in_threadpool(store.audit.record, user.identity, action, f"U-{item_id}")
            store.desk.set_flash(user.session_id, desk.texts.get(f"{action}_done", ref=f"U-{item_id}"))
        return RedirectResponse(review_url(request, start, end), status_code=303)

    endpoint.__name__ = action
    return endpoint


REVIEW_ROUTES = [
    Route("/review", review_page, methods=["GET"], name="review"),
    Route("/review.pdf", review_pdf, methods=["GET"], name="review_pdf"),
    Route("/review/hide", example_action("review_hide"), methods=["POST"], name="review_hide"),
    Route("/review/show", example_action("review_show"), methods=["POST"], name="review_show"),
]
