"""The web chat's defences: the cookie-signing key and the cookie's attributes, the CSRF token, the security
headers (with the sites that may embed the chat), the request size limit, and the client's address (believed
from forwarded headers only when they come through a trusted proxy)."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import re
import secrets
from pathlib import Path

from bot.settings import SettingsError, is_loopback

KEY_FILE = "web_secret_key"
MAX_BODY_BYTES = 64 * 1024  # a form with one message (the dialogue's own limit is far below this)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'; frame-ancestors 'self'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "SAMEORIGIN",
}


def security_headers(embed_origins: tuple[str, ...] = ()) -> dict[str, str]:
    """The headers on every response. The sites in WEB_EMBED_ORIGINS join 'self' in `frame-ancestors`; then
    X-Frame-Options (which can name no other site) is left out, as browsers that know CSP ignore it anyway."""
    if not embed_origins:
        return dict(HEADERS)
    headers = {k: v for k, v in HEADERS.items() if k != "x-frame-options"}
    headers["content-security-policy"] = CSP.replace("frame-ancestors 'self'", "frame-ancestors 'self' " + " ".join(embed_origins))
    return headers


def session_cookie_options(settings) -> dict:
    """SessionMiddleware's cookie attributes. Embedded in another site's page, a SameSite=Lax cookie is not sent
    and an unpartitioned one is blocked as a third-party cookie: so with WEB_EMBED_ORIGINS the cookie is
    SameSite=None; Secure; Partitioned (browsers keep a Secure cookie over HTTPS, and over plain HTTP only
    on this machine: 127.0.0.1 or localhost). Otherwise SameSite=Lax, Secure when people use HTTPS."""
    if settings.web_embed_origins:
        return {"same_site": "none", "https_only": True, "partitioned": True}
    return {"same_site": "lax", "https_only": settings.web_https, "partitioned": False}


def secret_key(settings) -> str:
    """WEB_SECRET_KEY; on a loopback address without one, a key generated once and kept beside the database
    (mode 0600); elsewhere without one, a SettingsError."""
    if settings.web_secret_key:
        return settings.web_secret_key
    if not is_loopback(settings.web_host):
        raise SettingsError(f"WEB_SECRET_KEY is not set (required when WEB_HOST is {settings.web_host!r}, not a loopback address)")
    path = Path(settings.database_path).parent / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def csrf_token(session: dict) -> str:
    """The session's CSRF token (made on first use); every form carries it."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_ok(session: dict, sent: object) -> bool:
    expected = session.get("csrf")
    return isinstance(sent, str) and bool(expected) and hmac.compare_digest(expected.encode(), sent.encode())


class SecurityHeaders:
    """Pure ASGI middleware: the headers above on every response, and a 413 for a body over the limit."""

    def __init__(self, app, too_large: str, max_body: int = MAX_BODY_BYTES, limits: dict[str, int] | None = None,
                 embed_origins: tuple[str, ...] = ()):
        self.app = app
        self.too_large = too_large
        self.max_body = max_body
        self.limits = limits or {}  # a larger limit for a path that takes files (the web report's screenshots)
        self.headers = security_headers(embed_origins)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                ours = self.headers
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in ours]
                headers += [(k.encode(), v.encode()) for k, v in ours.items()]
                message = {**message, "headers": headers}
            await send(message)

        length = dict(scope.get("headers", [])).get(b"content-length")
        limit = self.limits.get(scope.get("path", ""), self.max_body)
        if length is not None and (not length.isdigit() or int(length) > limit):
            from starlette.responses import PlainTextResponse

            response = PlainTextResponse(self.too_large, 413)
            return await response(scope, receive, send_with_headers)
        return await self.app(scope, receive, send_with_headers)


# --- the client's address ------------------------------------------------------------------------------


def client_address(request) -> str:
    """The address of the person's browser, for per-address limits: the connection's peer, or, when the peer
    is a trusted proxy, the address it forwarded (ClientAddress below has set it). "unknown" without a peer."""
    client = request.scope.get("client")
    return client[0] if client else "unknown"


def parse_address(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as proxies write it: `192.0.2.1`, `192.0.2.1:5678`, `2001:db8::1`, `[2001:db8::1]:5678`,
    quoted in a Forwarded header; None for anything else (`unknown`, an obfuscated `_name`, garbage)."""
    text = raw.strip().strip('"')
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


FORWARDED_FOR = re.compile(r'(?:^|[;,\s])for=("[^"]*"|[^;,\s]+)', re.IGNORECASE)


def forwarded_chain(headers: list[tuple[bytes, bytes]]) -> list[str]:
    """The addresses a request passed through, first (the browser) to last (the proxy nearest us), from
    X-Forwarded-For; from Forwarded (RFC 7239) only when there is no X-Forwarded-For. Proxies append to
    X-Forwarded-For (nginx, Caddy, Traefik, Apache do), so a Forwarded header a browser made up is not
    believed where the proxy writes X-Forwarded-For."""
    xff = [v.decode("latin-1") for k, v in headers if k.lower() == b"x-forwarded-for"]
    if xff:
        return [part.strip() for part in ",".join(xff).split(",") if part.strip()]
    forwarded = ",".join(v.decode("latin-1") for k, v in headers if k.lower() == b"forwarded")
    return [match.group(1) for match in FORWARDED_FOR.finditer(forwarded)]


def resolve_client(peer: str, headers: list[tuple[bytes, bytes]], trusted: list) -> str:
    """Walk back from the peer through the forwarded chain while each hop is a trusted proxy: the first
    address not trusted is the client. Headers from an untrusted peer are ignored entirely."""
    current = parse_address(peer)
    if current is None or not any(current in network for network in trusted):
        return peer
    for raw in reversed(forwarded_chain(headers)):
        hop = parse_address(raw)
        if hop is None:  # a trusted proxy could not say who it heard from: it is the nearest we know
            break
        current = hop
        if not any(current in network for network in trusted):
            break
    return str(current)


class ClientAddress:
    """Pure ASGI middleware: with WEB_TRUSTED_PROXIES, a request from one of them gets the client address it
    forwarded as its `client` (so `client_address` and anything else reading it sees the person, not the
    proxy). Without the setting, forwarded headers change nothing."""

    def __init__(self, app, trusted: tuple[str, ...] = ()):
        self.app = app
        self.trusted = [ipaddress.ip_network(t, strict=False) for t in trusted]

    async def __call__(self, scope, receive, send):
        if self.trusted and scope["type"] in ("http", "websocket") and scope.get("client"):
            peer, port = scope["client"]
            resolved = resolve_client(peer, scope.get("headers", []), self.trusted)
            if resolved != peer:
                scope = {**scope, "client": (resolved, 0)}
        return await self.app(scope, receive, send)


class HidePrivatePath(logging.Filter):
    """The access log names a private path (an answer link's token, a personal signing code) without its secret
    part: whoever reads the log cannot open it."""

    def __init__(self, prefix: str):
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, str) and a.startswith(self.prefix) for a in record.args):
            record.args = tuple(self.prefix + "…" if isinstance(a, str) and a.startswith(self.prefix) else a for a in record.args)
        return True


def hide_in_access_log(prefix: str) -> None:
    """uvicorn's access log (when someone turns it on) hides what follows `prefix` in a path."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, HidePrivatePath) and f.prefix == prefix for f in access.filters):
        access.addFilter(HidePrivatePath(prefix))
