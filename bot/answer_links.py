"""A private link to the office's answer, for a person on a channel that cannot reach them again (the web).

When such a person's question goes to the office, a long random token is made and shown to them once; only
its hash is stored, on their unanswered question, so the database alone cannot open the page. The page
(`bot/web/answers.py`, at ANSWER_PATH + token) shows the office's answer when it comes.
"""

from __future__ import annotations

import hashlib
import secrets

LINK_CHANNELS = ("web",)  # Telegram and the console reach the person themselves
ANSWER_PATH = "/a/"
TOKEN_BYTES = 32  # 256 bits: not guessable, however many tries


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What the store keeps: SHA-256 of the token (the token is random, so no salt or stretching is needed)."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def public_base(settings) -> str:
    """The address people reach the web chat at: WEB_PUBLIC_URL, else the listen address itself."""
    public = getattr(settings, "web_public_url", "") or ""
    if public:
        return public.rstrip("/")
    host = settings.web_host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.web_port}"


def link_url(settings, token: str) -> str:
    return f"{public_base(settings)}{ANSWER_PATH}{token}"
