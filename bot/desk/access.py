"""Who may use the office's desk, and how they get in: single-use sign-in links (10 minutes; only a hash is
stored), sessions that end after DESK_IDLE_MINUTES idle, and who sees which cases.

An identity is how the audit log names a person: `tg:<Telegram id>` (as the Telegram office does) or
`email:<address>` for a web-only school's OFFICE_ADMIN_EMAILS. The clock is injectable, for tests.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from itsdangerous import BadSignature, Signer

from bot.store import Store, utc_now

log = logging.getLogger(__name__)
LINK_MINUTES = 10
SIGNIN_PATH = "/desk/signin"

# How a sign-in link is emailed: (to, subject, body) -> None. Sent at once, never through the outbox (the link
# must not be kept in the database, and it would outlive its 10 minutes there).
EmailSender = Callable[[str, str, str], None]


def smtp_email_sender(settings) -> EmailSender | None:
    """The school's mail server (SMTP_HOST, bot/email/sender.py) as an EmailSender; None without one."""
    if not getattr(settings, "smtp_host", ""):
        return None
    from bot.email.sender import SmtpSender, close

    def send(to: str, subject: str, body: str) -> None:
        sender = SmtpSender(settings)
        smtp = sender.connect()
        try:
            sender.send(smtp, to, subject, body)
        finally:
            close(smtp)

    return send


@dataclass(frozen=True)
class DeskUser:
    """A signed-in person, as each request sees them."""

    identity: str
    session_id: str
    csrf: str
    office: bool  # the office's work: unanswered questions, cases routed to the office, learned answers, stats
    escalation: bool  # cases about the headteacher or the office (and only those)


def identity_of(raw: str) -> str | None:
    """"900" or "tg:900" → "tg:900"; "Office@School.uk" → "email:office@school.uk"; anything else → None."""
    raw = (raw or "").strip()
    if raw.lower().startswith("tg:"):
        raw = raw[3:]
    if raw.lstrip("-").isdigit():
        return f"tg:{int(raw)}"
    if raw.lower().startswith("email:"):
        raw = raw[6:]
    if raw.count("@") == 1 and " " not in raw:
        return f"email:{raw.lower()}"
    return None


def public_base(settings) -> str:
    """Where people reach the web app: WEB_PUBLIC_URL, else http://WEB_HOST:WEB_PORT."""
    public = getattr(settings, "web_public_url", "")
    if public:
        return public.rstrip("/")
    host = f"[{settings.web_host}]" if ":" in settings.web_host else settings.web_host
    return f"http://{host}:{settings.web_port}"


def desk_texts(settings, pack):
    """The desk's texts (bot/desk/texts.yaml), with the same placeholders as every other text."""
    from pathlib import Path

    from bot.texts import placeholders
    from knowledge.texts import Texts

    return Texts.load(Path(__file__).resolve().parent / "texts.yaml", placeholders=placeholders(settings, pack))


def desk_enabled(settings) -> bool:
    """The desk is a page of the web app: there is none with the web off (WEB_PORT=off)."""
    web_on = getattr(settings, "web_on", None)
    return bool(web_on) if web_on is not None else settings.web_port is not None


class DeskAccess:
    """Links, sessions and what each identity may see, over the store's `desk` room and the audit log."""

    def __init__(self, settings, store: Store, clock: Callable[[], datetime] = utc_now, email_sender: EmailSender | None = None):
        self.settings = settings
        self.store = store
        self.clock = clock
        self.email_sender = email_sender

    # --- who ---------------------------------------------------------------------------------------

    def _tg_id(self, identity: str) -> int | None:
        return int(identity[3:]) if identity.startswith("tg:") else None

    def is_office(self, identity: str) -> bool:
        user_id = self._tg_id(identity)
        if user_id is not None:
            return user_id in self.settings.admin_user_ids
        return identity.startswith("email:") and identity[6:] in getattr(self.settings, "office_admin_emails", ())

    def is_escalation(self, identity: str) -> bool:
        """The escalation's people, never office staff (who never handle a report about the office: Office.may_handle)."""
        user_id = self._tg_id(identity)
        return user_id is not None and user_id in getattr(self.settings, "escalation_user_ids", ()) and not self.is_office(identity)

    def may_sign_in(self, identity: str | None) -> bool:
        return bool(identity) and (self.is_office(identity) or self.is_escalation(identity))

    def may_see(self, user: DeskUser, case) -> bool:
        """A case about the headteacher or the office: the escalation's people only; any other: the office only
        (the one rule of every channel, bot/office.py `visible_to`)."""
        from bot.office import visible_to

        if not (user.office or user.escalation):
            return False
        return visible_to(case, "escalation" if user.escalation else "office")

    # --- links -------------------------------------------------------------------------------------

    def issue_link(self, identity: str | None, via: str) -> str | None:
        """A single-use sign-in URL for `identity` (None if they may not have one); audited as `via`."""
        if not self.may_sign_in(identity):
            self.store.audit.record(via, "desk_link_refused", identity or "?")
            return None
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self.store.transaction():
            self.store.desk.tidy(now - timedelta(days=1, minutes=getattr(self.settings, "desk_idle_minutes", 30)))
            self.store.desk.add_link(token, identity, now, now + timedelta(minutes=LINK_MINUTES))
            self.store.audit.record(via, "desk_link", identity)
        return f"{public_base(self.settings)}{SIGNIN_PATH}?token={token}"

    def email_link(self, email: str, subject: str, body: str) -> bool:
        """Email a link to one of OFFICE_ADMIN_EMAILS (the hook for the email sender); False if not sent.
        `body` has `{url}` where the link goes."""
        identity = identity_of(email)
        if identity is None or not identity.startswith("email:") or not self.is_office(identity):
            self.store.audit.record("desk", "desk_link_refused", identity or "?")
            return False
        if self.email_sender is None:
            log.warning("desk: a sign-in link was asked for by email, but no email sender is set up")
            return False
        url = self.issue_link(identity, via="desk:email")
        try:
            self.email_sender(identity[6:], subject, body.replace("{url}", url or ""))
        except Exception as exc:  # the page says the same either way; the log names the error's class only
            log.warning("desk: a sign-in link could not be emailed (%s)", type(exc).__name__)
            return False
        return True

    def redeem(self, token: str) -> tuple[str, DeskUser | None]:
        """Use a link: ("ok", the new session's user), or ("unknown" | "used" | "expired" | "refused", None)."""
        now = self.clock()
        status, row = self.store.desk.use_link(token or "", now)
        identity = row["identity"] if row else "?"
        if status == "ok" and not self.may_sign_in(identity):  # removed from the settings since the link was made
            status = "refused"
        if status != "ok":
            self.store.audit.record(identity, "desk_sign_in_refused", "desk", status)
            return status, None
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.store.transaction():
            self.store.desk.start_session(session_id, identity, csrf, now)
            self.store.audit.record(identity, "desk_sign_in", "desk")
        return "ok", self._user(identity, session_id, csrf)

    # --- sessions ----------------------------------------------------------------------------------

    def _user(self, identity: str, session_id: str, csrf: str) -> DeskUser:
        return DeskUser(identity, session_id, csrf, self.is_office(identity), self.is_escalation(identity))

    def current(self, session_id: str | None) -> DeskUser | None:
        """The signed-in user of this session, or None (none, ended, idle too long, or no longer allowed)."""
        if not session_id:
            return None
        row = self.store.desk.session(session_id)
        if row is None:
            return None
        now = self.clock()
        idle = timedelta(minutes=getattr(self.settings, "desk_idle_minutes", 30))
        last_seen = datetime.fromisoformat(row["last_seen"])
        if now - last_seen > idle or not self.may_sign_in(row["identity"]):
            with self.store.transaction():
                self.store.desk.end_session(session_id, now)
                self.store.audit.record(row["identity"], "desk_session_ended", "desk", "idle" if now - last_seen > idle else "not allowed")
            return None
        self.store.desk.touch_session(session_id, now)
        return self._user(row["identity"], session_id, row["csrf"])

    def sign_out(self, user: DeskUser) -> None:
        with self.store.transaction():
            self.store.desk.end_session(user.session_id, self.clock())
            self.store.audit.record(user.identity, "desk_sign_out", "desk")


class CookieSigner:
    """The desk's cookies carry a random id, signed with the web app's key (a forged or altered one is ignored)."""

    def __init__(self, key: str, salt: str = "policybot-desk"):
        self.signer = Signer(key, salt=salt)

    def sign(self, value: str) -> str:
        return self.signer.sign(value.encode()).decode()

    def unsign(self, signed: str | None) -> str | None:
        if not signed:
            return None
        try:
            return self.signer.unsign(signed.encode()).decode()
        except BadSignature:
            return None
