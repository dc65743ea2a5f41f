"""The web chat's defences: the cookie-signing key, the CSRF token, the security headers, the request size limit."""

from __future__ import annotations

import hmac
import os
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

    def __init__(self, app, too_large: str, max_body: int = MAX_BODY_BYTES, limits: dict[str, int] | None = None):
        self.app = app
        self.too_large = too_large
        self.max_body = max_body
        self.limits = limits or {}  # a larger limit for a path that takes files (the web report's screenshots)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        length = dict(scope.get("headers", [])).get(b"content-length")
        limit = self.limits.get(scope.get("path", ""), self.max_body)
        if length is not None and (not length.isdigit() or int(length) > limit):
            from starlette.responses import PlainTextResponse

            response = PlainTextResponse(self.too_large, 413)
            return await response(scope, receive, send_with_headers)
        return await self.app(scope, receive, send_with_headers)
