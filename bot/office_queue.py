"""Putting a question the bot could not answer before the office, so that a burst cannot bury it.

One person puts at most OFFICE_QUEUE_PER_PERSON_PER_DAY questions before the office in 24 hours (after that
they are told so, politely; a message about a child at risk is never held back). Notices come as they are
asked, but one that follows the last within OFFICE_NOTICE_WINDOW_SECONDS waits for the end of the window and
goes with any others in one notice (at most MAX_GROUPED questions each), so a burst is one message, not fifty.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.office_routes import EMAIL, TELEGRAM, office_channels
from bot.store import Store, stamp, utc_now
from bot.store.answers import ITEM_PREFIX

NOTICE_KIND = "unanswered"  # one question's notice
GROUP_KIND = "unanswered:group"  # several questions' notice; its ref lists them ("U-3,U-4")
MAX_GROUPED = 10  # per notice: each question brings up to five buttons, and Telegram takes about a hundred


def at_daily_limit(store: Store, user_key: str, limit: int, now: datetime | None = None) -> bool:
    """Whether this person has put `limit` questions before the office in the last 24 hours."""
    since = stamp((now or utc_now()) - timedelta(days=1))
    return store.unanswered.count_since(user_key, since) >= limit


def notify_office(store: Store, office, item: dict, settings, now: datetime | None = None) -> None:
    """Queue the office's notice of one unanswered item on each of the office's routes (in the caller's
    transaction). A mailbox gets one email a question (the daily share per person bounds them); the Telegram
    chat gets a burst grouped into one notice."""
    channels = office_channels(settings, "office")
    if EMAIL in channels:
        text, rows = office.unanswered_notice(item)
        store.outbox.enqueue(target="office", channel=EMAIL, text=text, buttons=rows, kind=NOTICE_KIND, ref=f"{ITEM_PREFIX}{item['id']}")
    if TELEGRAM in channels:
        telegram_notice(store, office, item, settings.office_notice_window_seconds, now)


def telegram_notice(store: Store, office, item: dict, window_seconds: int, now: datetime | None = None) -> int:
    """The office chat's notice of one unanswered item, alone or grouped with a burst; returns its outbox id."""
    now = now or utc_now()
    if window_seconds > 0:
        for row in store.outbox.held(target="office", kinds=(GROUP_KIND,), now=now):
            grouped = refs_in(row["ref"])
            if len(grouped) < MAX_GROUPED:
                regroup(store, office, row["id"], grouped + [item["id"]])
                return row["id"]
        last = store.outbox.last_due(target="office", kinds=(NOTICE_KIND, GROUP_KIND))
        if last and last > stamp(now - timedelta(seconds=window_seconds)):
            last_moment = datetime.fromisoformat(last)
            due = last_moment if last_moment > now else last_moment + timedelta(seconds=window_seconds)
            outbox_id = store.outbox.enqueue(target="office", text="", kind=GROUP_KIND, not_before=due)
            regroup(store, office, outbox_id, [item["id"]])
            return outbox_id
    text, rows = office.unanswered_notice(item)
    return store.outbox.enqueue(target="office", text=text, buttons=rows, kind=NOTICE_KIND, ref=f"{ITEM_PREFIX}{item['id']}")


def refs_in(ref: str) -> list[int]:
    """The item ids a notice's ref lists: "U-3,U-4" → [3, 4]."""
    return [int(part.removeprefix(ITEM_PREFIX)) for part in ref.split(",") if part.removeprefix(ITEM_PREFIX).isdigit()]


def regroup(store: Store, office, outbox_id: int, item_ids: list[int]) -> None:
    """Write a waiting group notice afresh for these items."""
    items = [item for item in (store.unanswered.item(i) for i in item_ids) if item is not None]
    text, rows = office.grouped_notice(items)
    store.outbox.rewrite(outbox_id, text=text, buttons=rows, ref=",".join(f"{ITEM_PREFIX}{item['id']}" for item in items))
