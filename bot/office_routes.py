"""Where a notice for the office (or the escalation route) goes: the Telegram chat, the mailbox, or both.

Each route gets its own row in the outbox, queued in the caller's transaction and delivered by its channel's
loop with retries (bot/telegram/outbox.py, bot/email/delivery.py). A target with no route at all is still
queued, on the channel that will notice it and tell a reporter their case has not arrived (Office.route_failed).
"""

from __future__ import annotations

from bot.store import Store

TELEGRAM = "telegram"
EMAIL = "email"


def office_channels(settings, target: str) -> list[str]:
    """The channels a notice for `target` (office | escalation) goes out on."""
    if target == "escalation":
        chat, address = settings.escalation_chat_id, settings.escalation_email
    else:
        chat, address = settings.office_chat_id, settings.office_email
    channels = ([TELEGRAM] if chat is not None else []) + ([EMAIL] if address and settings.smtp_host else [])
    if channels:
        return channels
    email_only = bool(settings.office_email and settings.smtp_host) and not settings.telegram_bot_token
    return [EMAIL if email_only else TELEGRAM]


def queue_notice(store: Store, settings, *, target: str, text: str, buttons=None, kind: str, ref: str = "") -> None:
    """Queue one notice on every route `target` has (in the caller's transaction, if one is open)."""
    for channel in office_channels(settings, target):
        store.outbox.enqueue(target=target, channel=channel, text=text, buttons=buttons, kind=kind, ref=ref)
