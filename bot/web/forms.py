"""Reading a urlencoded form for every page of the web app (chat, answer links, signing, the desk): at most
`limit` bytes, whatever Content-Length says (None past it); bytes that are not UTF-8 become U+FFFD; more fields
than the form has gives an empty form. Never an error."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

from bot.web.security import MAX_BODY_BYTES


async def read_form(request: Request, limit: int = MAX_BODY_BYTES, max_fields: int = 8) -> dict[str, str] | None:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    try:
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=max_fields))
    except ValueError:  # more fields than any of our forms has
        return {}
