"""Delivering the outbox's email rows: the office's notices to OFFICE_EMAIL (ESCALATION_EMAIL for reports
about the headteacher or the office), the office's answer to a web asker who gave an address, and a signer's
personal signing link (a new version to confirm, a reminder: bot/signatures.py).

Like Telegram's delivery (bot/telegram/outbox.py): a row is queued in the same transaction as what it reports
and stays queued until the mail server takes it, retried with backoff. A server that cannot be reached ends
the round (the rest waits, in order); a message the server refuses for good is given up only when it is a
person's (their address bounced), never when it is the office's: that is a setting to fix, after which it
must arrive. A safeguarding alert goes before everything else.

A person's address is read from their question when the answer is sent, and erased once it has gone; a signer's
from their roster row (`R-<id>`) or the signature they left it with (`S-<id>`), which keep it.
Logs name the outbox row and the error's class and SMTP code, never an address or a message's words.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bot.email.sender import SmtpSender, close
from bot.office import ITEM_PREFIX, parse_item_ref
from bot.office_routes import EMAIL
from bot.store import Store, kind_of_ref, utc_now
from knowledge.texts import Texts

log = logging.getLogger(__name__)

EMAIL_YAML = Path(__file__).resolve().parent.parent / "data" / "email.yaml"
MAX_BACKOFF_SECONDS = 3600
ROUTE_PATIENCE = 3  # failed sends of a case's notice before its reporter is told it has not arrived
INTERVAL_SECONDS = 10.0
OFFICE_TARGETS = ("office", "escalation")
SIGNING_KINDS = ("resign", "remind")  # a signer's personal link: a new version to confirm, a reminder


def email_texts(settings) -> Texts:
    return Texts.load(EMAIL_YAML, placeholders={
        "school_name": settings.school_name or "the school", "office_contact": settings.office_contact,
    })


def backoff(attempts: int, base: float) -> timedelta:
    return timedelta(seconds=min(MAX_BACKOFF_SECONDS, base * (2 ** max(0, attempts))))


def smtp_code(exc: BaseException) -> int | None:
    """The server's reply code for a refused message (the first recipient's, when recipients were refused)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return codes[0] if codes else None
    return getattr(exc, "smtp_code", None)


def about_this_message(exc: BaseException) -> bool:
    """A refusal of this one message (the connection is still good for the next); anything else is the server."""
    if isinstance(exc, smtplib.SMTPNotSupportedError):  # e.g. an address the server cannot take (no SMTPUTF8)
        return True
    refused = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)
    return isinstance(exc, refused) and smtp_code(exc) not in (None, 421)


def refused_for_good(exc: BaseException) -> bool:
    """Sending this message again will not help (a 5xx for it, or something the server does not support)."""
    return about_this_message(exc) and (isinstance(exc, smtplib.SMTPNotSupportedError) or (smtp_code(exc) or 0) >= 500)


def error_name(exc: BaseException) -> str:
    code = smtp_code(exc)
    return f"{type(exc).__name__} {code}" if code else type(exc).__name__


def is_safeguarding(row: dict) -> bool:
    kind = kind_of_ref(row["ref"]) if row["kind"] == "case" else None
    return kind is not None and kind.name == "safeguarding"


@dataclass
class Email:
    """One row as an email: where it goes, and what it says."""

    to: str
    subject: str
    body: str


@dataclass
class EmailDelivery:
    """What delivering the outbox's email rows needs, and how patient it is with the mail server."""

    store: Store
    settings: object
    sender: SmtpSender | None = None
    backoff_base: float = 30.0
    # Called with a case's reference when its notice has no address or keeps failing (Office.route_failed).
    route_failed: Callable[[str], bool] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self):
        self.sender = self.sender or SmtpSender(self.settings)
        self.texts = email_texts(self.settings)

    # --- one round -------------------------------------------------------------------------------

    async def deliver(self) -> int:
        """Send every due email row once; returns how many went."""
        delivered = 0
        async with self.lock:
            rows = await asyncio.to_thread(self.store.outbox.due_messages, EMAIL)
            rows.sort(key=lambda row: not is_safeguarding(row))
            smtp = None
            try:
                for row in rows:
                    email = await asyncio.to_thread(self.prepare, row)
                    if email is None:
                        continue
                    try:
                        if smtp is None:
                            smtp = await asyncio.to_thread(self.sender.connect)
                        await asyncio.to_thread(self.sender.send, smtp, email.to, email.subject, email.body)
                    except (smtplib.SMTPException, OSError) as exc:
                        await asyncio.to_thread(self.failed, row, exc)
                        if about_this_message(exc):
                            continue
                        await asyncio.to_thread(close, smtp)
                        smtp = None
                        break  # the server is away: the rest waits for the next round, in order
                    except Exception as exc:  # this message cannot be made or sent as it is: never the rest's hold-up
                        log.warning("email outbox %s: could not be sent (%s)", row["id"], type(exc).__name__)
                        await asyncio.to_thread(self.failed, row, exc, True)
                        continue
                    await asyncio.to_thread(self.sent, row)
                    delivered += 1
            finally:
                await asyncio.to_thread(close, smtp)
        return delivered

    async def run(self, interval: float = INTERVAL_SECONDS) -> None:
        """Deliver every `interval` seconds until cancelled; a round's unexpected error is logged, not fatal."""
        while True:
            try:
                await self.deliver()
            except Exception:
                log.exception("email outbox: a round failed; trying again in %s s", interval)
            await asyncio.sleep(interval)

    # --- a row -----------------------------------------------------------------------------------

    def prepare(self, row: dict) -> Email | None:
        """The email for a row, or None when it has nowhere to go (dealt with here)."""
        if row["target"] in OFFICE_TARGETS:
            address = self.settings.escalation_email if row["target"] == "escalation" else self.settings.office_email
            if not address:
                log.warning("email outbox %s: no address configured for target %s; kept for later", row["id"], row["target"])
                self.store.outbox.mark_failed(row["id"], "no address configured", utc_now() + backoff(row["attempts"], self.backoff_base))
                self.tell_if_stuck(row, now=True)
                return None
            return Email(address, self.subject(row), self.with_footer(row["text"], self.footer_key(row), row["ref"]))
        if row["kind"] in SIGNING_KINDS:
            address = self.signer_address(row["ref"])
            if not address:  # the roster row or the signature has gone (retention)
                self.store.outbox.discard_sent([row["id"]])
                return None
            subject = self.texts.get("subject_prefix") + " " + self.texts.get("subjects." + row["kind"])
            return Email(address, subject, self.with_footer(row["text"], "signing", row["ref"]))
        item = self.question_of(row)
        if item is None or not item.get("email"):  # erased, or the person took their address back
            self.store.outbox.discard_sent([row["id"]])
            return None
        subject = f'{self.texts.get("subject_prefix")} {self.texts.get("subjects.answer")}'
        return Email(item["email"], subject, self.with_footer(row["text"], "answer", row["ref"]))

    def question_of(self, row: dict) -> dict | None:
        item_id = parse_item_ref(row["ref"]) if row["ref"].startswith(ITEM_PREFIX) else None
        return self.store.unanswered.item(item_id) if item_id is not None else None

    def signer_address(self, ref: str) -> str:
        """The address on the roster row (`R-<id>`) or the signature (`S-<id>`) a signing email is for."""
        table = {"R": "roster", "S": "signatures"}.get(ref[:1])
        number = ref[2:]
        if table is None or ref[1:2] != "-" or not number.isdigit():
            return ""
        row = self.store.signatures.row(table, int(number))
        return (row or {}).get("email") or ""

    def subject(self, row: dict) -> str:
        t, ref = self.texts, row["ref"]
        kind = kind_of_ref(ref) if row["kind"] == "case" else None
        if kind is not None:
            subject = t.get(f"subjects.{kind.name}", ref=ref)
            case = self.store.cases.get(ref)
            if kind.name != "safeguarding" and case is not None and case.row.get("urgent"):
                subject = f'{t.get("urgent_prefix")} {subject}'
        elif row["kind"] in ("unanswered", "digest"):
            subject = t.get(f"subjects.{row['kind']}", ref=ref)
        else:
            subject = t.get("subjects.other")
        return f'{t.get("subject_prefix")} {subject}'

    def footer_key(self, row: dict) -> str:
        if row["kind"] == "case":
            return "case"
        return "unanswered" if row["kind"] == "unanswered" else "other"

    def with_footer(self, text: str, key: str, ref: str) -> str:
        footer = self.texts.get(f"footers.{key}", ref=ref).strip()
        return f"{text.rstrip()}\n\n-- \n{footer}\n" if footer else text.rstrip() + "\n"

    def sent(self, row: dict) -> None:
        self.store.outbox.mark_delivered(row["id"])
        if row["target"] == "user":  # the answer has gone: the address is not kept a moment longer
            item = self.question_of(row)
            if item is not None:
                self.store.unanswered.drop_email(item["id"])

    def failed(self, row: dict, exc: BaseException, for_good: bool = False) -> None:
        """Note a failed send: a person's message refused for good is given up; anything else is tried again."""
        name = error_name(exc)
        if row["target"] == "user" and (for_good or refused_for_good(exc)):
            log.warning("email outbox %s: refused for good (%s); a person's answer marked undeliverable", row["id"], name)
            self.store.outbox.mark_failed(row["id"], name, None)
            item = self.question_of(row)
            if item is not None:
                self.store.unanswered.drop_email(item["id"])  # it bounced: the page still has the answer
            return
        log.warning("email outbox %s: %s; will retry", row["id"], name)
        self.store.outbox.mark_failed(row["id"], name, utc_now() + backoff(row["attempts"], self.backoff_base))
        self.tell_if_stuck(row)

    def tell_if_stuck(self, row: dict, now: bool = False) -> None:
        """A case's notice with no address, or failed ROUTE_PATIENCE times: its reporter is told (once)."""
        if row["kind"] != "case" or row["target"] not in OFFICE_TARGETS or self.route_failed is None:
            return
        if now or (row["attempts"] or 0) + 1 >= ROUTE_PATIENCE:
            self.route_failed(row["ref"])


@contextlib.asynccontextmanager
async def delivering_email(settings, store: Store, *, route_failed: Callable[[str], bool] | None = None,
                           interval: float = INTERVAL_SECONDS, backoff_base: float = 30.0):
    """Run the email outbox in the background of an asyncio app (a no-op without SMTP_HOST); yields the
    delivery (or None)."""
    if not settings.smtp_host:
        yield None
        return
    delivery = EmailDelivery(store, settings, backoff_base=backoff_base, route_failed=route_failed)
    task = asyncio.create_task(delivery.run(interval), name="email-outbox")
    try:
        yield delivery
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
