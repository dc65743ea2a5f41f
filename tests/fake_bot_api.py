"""A local stand-in for the Telegram Bot API, so tests run the real python-telegram-bot Application
end to end on 127.0.0.1: it answers the bot's calls the way Telegram does, records every call, lets a
test speak as users (messages, button presses, photos) and injects faults (429, 5xx, 403, delays).

Stdlib only. Use it through the ``fake_bot_api`` fixture (tests/conftest.py), or directly::

    with FakeBotApi() as fake:
        app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
        async with running(app):
            fake.send_text(42, "/start")
            [reply] = await fake.wait_for_messages(42, 1)

Realism where it catches bugs: messages to a chat that never spoke to the bot fail with
"chat not found" (use ``add_chat`` for e.g. an office group); ``parse_mode="HTML"`` is parsed with
Telegram's tag set, so unescaped user text fails with "can't parse entities"; an edit that changes
nothing fails with "message is not modified"; callback_data over 64 bytes fails. MarkdownV2 text is
passed through unchecked.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import email.parser
import email.policy
import html
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

DEFAULT_TOKEN = "123:ABC"
DEFAULT_WAIT_SECONDS = 5.0

# Parameters that are free text: kept as strings even when they look like JSON ("42", "[1]", "true").
_STRING_PARAMS = frozenset(
    {
        "text", "caption", "data", "callback_query_id", "inline_message_id", "url", "file_id",
        "parse_mode", "caption_parse_mode", "action", "language_code", "secret_token",
        "description", "short_description", "name", "title", "query", "emoji", "business_connection_id",
        "certificate", "ip_address", "message_effect_id",
        # file_id or URL when not uploaded
        "document", "photo", "sticker", "audio", "video", "voice", "animation", "thumbnail",
    }
)

# Default descriptions, worded as Telegram words them.
_ERROR_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}

_TOKEN_PATTERN = re.compile(r"^(\d+):[A-Za-z0-9_-]+$")
_MAX_TEXT_LENGTH = 4096
_MAX_CALLBACK_DATA_BYTES = 64


class BotApiError(Exception):
    """An error answer (``ok: false``) from a method; raised inside method handlers."""

    def __init__(self, status: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass
class UploadedFile:
    """One file part of a multipart request."""

    field_name: str
    filename: str | None
    content: bytes
    content_type: str | None


@dataclass
class Fault:
    """A planned failure. ``remaining`` is how many more calls it hits (None: until ``recover()``)."""

    method: str | None
    chat_id: int | str | None
    status: int | None
    description: str | None
    retry_after: int | None
    delay: float
    remaining: int | None
    hits: int = 0

    def matches(self, method: str, params: dict) -> bool:
        if self.remaining == 0:
            return False
        if self.method is not None and self.method.lower() != method.lower():
            return False
        if self.chat_id is not None and str(params.get("chat_id")) != str(self.chat_id):
            return False
        return True


@dataclass
class Call:
    """One request the bot made. ``status`` is the HTTP status answered; ``result`` the ``result``
    field on success, ``error`` the description on failure; ``fault`` set when a Fault answered."""

    method: str
    params: dict[str, Any]
    time: float
    token: str
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int = 200
    result: Any = None
    error: str | None = None
    fault: Fault | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def text(self) -> str | None:
        return self.params.get("text")


def _decode_param(name: str, raw: Any) -> Any:
    """Form values arrive as strings; Telegram reads non-string values (reply_markup, entities,
    numbers, booleans) as JSON, so this does too, except for free-text parameters."""
    if not isinstance(raw, str) or name in _STRING_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # "@channelname", plain words


def _utf16_length(text: str) -> int:
    # Telegram measures entity offsets and lengths in UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}
_HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)\s*>")
_HTML_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_HTML_ATTRIBUTE = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")


def parse_html(text: str) -> tuple[str, list[dict]]:
    """Telegram's HTML parse mode: returns (plain text, entities) or raises BotApiError(400) the way
    Telegram rejects a stray ``<`` or ``&``, an unsupported tag, or a tag closed out of order."""
    plain: list[str] = []
    plain_len = 0  # in UTF-16 units
    open_tags: list[tuple[str, int, dict]] = []
    entities: list[dict] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "<":
            match = _HTML_TAG.match(text, position)
            byte_offset = len(text[:position].encode())
            if not match:
                raise BotApiError(
                    400,
                    f"Bad Request: can't parse entities: Unexpected end of name token at byte offset {byte_offset}",
                )
            closing, tag, attributes = match.group(1), match.group(2).lower(), match.group(3)
            if tag not in _HTML_TAGS:
                kind = "end" if closing else "start"
                raise BotApiError(
                    400,
                    f'Bad Request: can\'t parse entities: Unsupported {kind} tag "{tag}" at byte offset {byte_offset}',
                )
            if closing:
                if not open_tags or open_tags[-1][0] != tag:
                    raise BotApiError(
                        400,
                        f"Bad Request: can't parse entities: Unmatched end tag at byte offset {byte_offset}, "
                        f'expected "</{open_tags[-1][0] if open_tags else ""}>", found "</{tag}>"',
                    )
                open_tag, start, attrs = open_tags.pop()
                entity = {"type": _HTML_TAGS[open_tag], "offset": start, "length": plain_len - start}
                if open_tag == "a":
                    entity["url"] = attrs.get("href", "")
                if open_tag == "pre" and attrs.get("language"):
                    entity["language"] = attrs["language"]
                if entity["length"] > 0:
                    entities.append(entity)
            else:
                attrs = {
                    m.group(1).lower(): html.unescape(next(g for g in m.group(2, 3, 4) if g is not None))
                    for m in _HTML_ATTRIBUTE.finditer(attributes)
                }
                open_tags.append((tag, plain_len, attrs))
            position = match.end()
        elif char == "&":
            match = _HTML_ENTITY.match(text, position)
            if not match:
                byte_offset = len(text[:position].encode())
                raise BotApiError(
                    400,
                    f"Bad Request: can't parse entities: Unsupported HTML entity at byte offset {byte_offset}",
                )
            decoded = html.unescape(match.group(0))
            plain.append(decoded)
            plain_len += _utf16_length(decoded)
            position = match.end()
        else:
            plain.append(char)
            plain_len += _utf16_length(char)
            position += 1
    if open_tags:
        raise BotApiError(
            400,
            f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"{open_tags[-1][0]}\"",
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(plain), entities


def command_entities(text: str) -> list[dict]:
    """The bot_command entity Telegram adds to a message starting with "/word" (or "/word@bot")."""
    match = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
    if not match:
        return []
    return [{"type": "bot_command", "offset": 0, "length": _utf16_length(match.group(0))}]


class FakeBotApi:
    """The fake server and its state. Thread-safe: the HTTP server answers in its own threads while
    the test injects updates and waits from the event loop."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "policy_advisor_test_bot",
        bot_first_name: str = "Policy Advisor",
    ):
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self._lock = threading.Condition()
        self._closing = threading.Event()
        self._calls: list[Call] = []
        self._updates: list[dict] = []  # not yet confirmed through getUpdates' offset
        self._update_ids = itertools.count(1)
        self._confirmed_below = 0  # every update_id below this has been confirmed
        self._long_polls_waiting = 0
        self._message_ids: dict[Any, itertools.count] = {}
        self._messages: dict[tuple[Any, int], dict] = {}
        self._chats: dict[Any, dict] = {}
        self._users: dict[int, dict] = {}
        self._callback_queries: dict[str, dict] = {}  # id -> {"answered": bool, "answer": params}
        self._callback_ids = itertools.count(1)
        self._files: dict[str, tuple[dict, bytes]] = {}
        self._file_ids = itertools.count(1)
        self._commands: dict[tuple[str, str], list] = {}
        self._webhook: dict[str, Any] = {"url": ""}
        self._faults: list[Fault] = []
        self._chat_interval: float | None = None  # limit_per_chat: seconds between two sends to one chat
        self._last_send: dict[Any, float] = {}
        self._custom_methods: dict[str, Callable[[dict], Any]] = {}
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._unawaited: set[int] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeBotApi:
        """Bind 127.0.0.1 on a free port and serve in a background thread."""
        handler = type("_BoundHandler", (_RequestHandler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-bot-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release long polls and delays at once, then shut the server down."""
        self._closing.set()
        with self._lock:
            self._lock.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=2)
            self._server = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: PTB appends the token and the method."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``, so ``File.download_*`` works."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    @property
    def bot_id(self) -> int:
        return int(self.token.split(":", 1)[0])

    @property
    def bot_user(self) -> dict:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_first_name, "username": self.bot_username}

    # ----- what the bot did --------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every call so far, oldest first (a copy)."""
        with self._lock:
            return list(self._calls)

    @property
    def call_count(self) -> int:
        """Pass as ``since=`` to wait only for calls made from now on."""
        with self._lock:
            return len(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def sent_messages(self, chat_id: Any = None, *, since: int = 0) -> list[dict]:
        """Messages the bot sent successfully (sendMessage, sendDocument, …), as Telegram returned
        them at the time, to ``chat_id`` (or to anyone), from call index ``since`` on."""
        with self._lock:
            return self._sent_messages(chat_id, since)

    def _sent_messages(self, chat_id: Any, since: int) -> list[dict]:
        return [
            call.result
            for call in self._calls[since:]
            if call.ok and call.method.lower().startswith("send") and isinstance(call.result, dict)
            and "message_id" in call.result
            and (chat_id is None or str(call.result["chat"]["id"]) == str(chat_id))
        ]

    def sent_texts(self, chat_id: Any = None) -> list[str]:
        return [m.get("text", m.get("caption", "")) for m in self.sent_messages(chat_id)]

    def message(self, chat_id: Any, message_id: int) -> dict:
        """The current state of a message (after edits); KeyError if unknown or deleted."""
        with self._lock:
            return copy.deepcopy(self._messages[(self._chat_key(chat_id), message_id)])

    def callback_answer(self, callback_query_id: str) -> dict | None:
        """The answerCallbackQuery parameters for a pressed button, or None while unanswered."""
        with self._lock:
            return self._callback_queries[callback_query_id]["answer"]

    def commands(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        with self._lock:
            return list(self._commands.get(self._commands_key({"scope": scope, "language_code": language_code}), []))

    def uploaded_file(self, file_id: str) -> bytes:
        with self._lock:
            return self._files[file_id][1]

    # ----- speaking as users -------------------------------------------------------------------

    def set_user(self, user_id: int, **fields: Any) -> dict:
        """Give a user a name, username or language_code; users otherwise get defaults."""
        with self._lock:
            user = self._user(user_id)
            user.update(fields)
            return dict(user)

    def add_chat(self, chat_id: int, chat_type: str = "group", title: str | None = None) -> dict:
        """Make a chat known, e.g. a staff group the bot reports to that never wrote to it."""
        with self._lock:
            return dict(self._chat(chat_id, chat_type, title=title))

    def send_text(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        chat_type: str = "private",
        *,
        entities: list[dict] | None = None,
        reply_to_message_id: int | None = None,
    ) -> int:
        """A user writes ``text``. A leading "/command" gets its bot_command entity as in Telegram;
        pass ``entities=[]`` to send the text bare. Returns the update_id."""
        if entities is None:
            entities = command_entities(text)
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self._user_message(user_id, chat_id, chat_type, content, reply_to_message_id)

    def send_photo(
        self,
        user_id: int,
        chat_id: int | None = None,
        caption: str | None = None,
        chat_type: str = "private",
        content: bytes = b"\x89PNG fake photo bytes",
    ) -> int:
        """A user sends a photo (two sizes, downloadable through getFile)."""
        sizes = []
        with self._lock:
            for width in (90, 800):
                file = self._store_file(content, file_name=None, mime_type=None, prefix="photo")
                sizes.append({**file, "width": width, "height": width * 3 // 4})
        message: dict[str, Any] = {"photo": sizes}
        if caption is not None:
            message["caption"] = caption
        return self._user_message(user_id, chat_id, chat_type, message)

    def send_sticker(
        self, user_id: int, chat_id: int | None = None, emoji: str = "👍", chat_type: str = "private"
    ) -> int:
        with self._lock:
            file = self._store_file(b"fake webp sticker", file_name=None, mime_type=None, prefix="sticker")
        sticker = {**file, "type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False,
                   "emoji": emoji}
        return self._user_message(user_id, chat_id, chat_type, {"sticker": sticker})

    def send_document(
        self,
        user_id: int,
        filename: str,
        content: bytes,
        mime_type: str = "application/octet-stream",
        chat_id: int | None = None,
        caption: str | None = None,
        chat_type: str = "private",
    ) -> int:
        """A user uploads a file; the bot can fetch it with getFile and ``base_file_url``."""
        with self._lock:
            document = self._store_file(content, file_name=filename, mime_type=mime_type, prefix="doc")
        message: dict[str, Any] = {"document": document}
        if caption is not None:
            message["caption"] = caption
        return self._user_message(user_id, chat_id, chat_type, message)

    def edit_text(self, user_id: int, message_id: int, text: str, chat_id: int | None = None,
                  chat_type: str = "private") -> int:
        """A user edits a message they sent earlier (an ``edited_message`` update)."""
        with self._lock:
            chat = self._chat(user_id if chat_id is None else chat_id, chat_type)
            message = self._messages[(chat["id"], message_id)]
            message["text"] = text
            message["edit_date"] = int(time.time())
            message.pop("entities", None)
            if entities := command_entities(text):
                message["entities"] = entities
            return self._add_update({"edited_message": copy.deepcopy(message)})

    def press_button(self, user_id: int, message: dict, data: str) -> int:
        """A user presses an inline button with callback ``data`` under a bot ``message`` (a dict as
        in ``sent_messages``, or a PTB Message). The update carries the message as it is now, after edits."""
        if hasattr(message, "to_dict"):
            message = message.to_dict()
        with self._lock:
            chat_id = message["chat"]["id"]
            current = self._messages.get((chat_id, message["message_id"]), message)
            query_id = f"cbq{next(self._callback_ids)}"
            self._callback_queries[query_id] = {"answered": False, "answer": None}
            query = {
                "id": query_id,
                "from": dict(self._user(user_id)),
                "message": copy.deepcopy(current),
                "chat_instance": f"ci{chat_id}",
                "data": data,
            }
            return self._add_update({"callback_query": query})

    def inject_update(self, update: dict) -> int:
        """Queue any update body (without update_id) for the bot; returns its update_id."""
        with self._lock:
            return self._add_update(copy.deepcopy(update))

    def pending_updates(self) -> list[dict]:
        """Updates the bot has not yet confirmed."""
        with self._lock:
            return copy.deepcopy(self._updates)

    # ----- fault injection ---------------------------------------------------------------------

    def fail(
        self,
        method: str | None = None,
        status: int = 500,
        *,
        times: int | None = 1,
        chat_id: int | str | None = None,
        description: str | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
    ) -> Fault:
        """The next ``times`` calls of ``method`` (any method if None; only to ``chat_id`` if given)
        answer ``status`` (500/502/503, 429 with ``retry_after``, 403 blocked, 400 chat not found …)
        after ``delay`` seconds. ``times=None`` keeps failing until ``recover()``."""
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = _ERROR_DESCRIPTIONS.get(status, f"Error {status}").format(retry_after=retry_after)
        fault = Fault(method, chat_id, status, description, retry_after, delay, times)
        with self._lock:
            self._faults.append(fault)
        return fault

    def delay(self, method: str | None, seconds: float, *, times: int | None = 1,
              chat_id: int | str | None = None) -> Fault:
        """The next ``times`` calls are answered normally but only after ``seconds`` (a slow network:
        with a short read timeout PTB raises TimedOut, yet the call still takes effect, as on Telegram)."""
        fault = Fault(method, chat_id, None, None, None, seconds, times)
        with self._lock:
            self._faults.append(fault)
        return fault

    def limit_per_chat(self, per_second: float | None = 1.0) -> None:
        """Like Telegram, refuse sends to one chat faster than ``per_second`` with 429 and ``retry_after``
        (whole seconds, at least 1); None lifts the limit."""
        with self._lock:
            self._chat_interval = None if per_second is None else 1.0 / per_second
            self._last_send.clear()

    def _over_chat_limit(self, method: str, params: dict) -> int | None:
        """With the lock held: the retry_after for a send that comes too soon, else None (and the send counts)."""
        if self._chat_interval is None or not method.lower().startswith("send") or "chat_id" not in params:
            return None
        chat, now = self._chat_key(params["chat_id"]), time.monotonic()
        last = self._last_send.get(chat)
        if last is not None and now - last < self._chat_interval:
            return max(1, int(self._chat_interval - (now - last) + 0.999))
        self._last_send[chat] = now
        return None

    def recover(self) -> None:
        """Drop every planned fault."""
        with self._lock:
            self._faults.clear()

    def handle(self, method: str, respond: Callable[[dict], Any]) -> None:
        """Serve a method this fake does not implement: ``respond(params)`` returns the result or
        raises BotApiError."""
        self._custom_methods[method.lower()] = respond

    # ----- waiting (instead of sleeping) ------------------------------------------------------

    def wait_for(self, predicate: Callable[[Call], bool] | None = None, timeout: float = DEFAULT_WAIT_SECONDS, *,
                 method: str | None = None, since: int = 0) -> _Wait:
        """Awaitable: the first call (index >= ``since``, of ``method`` if given) that satisfies
        ``predicate``; AssertionError after ``timeout`` seconds. ``await`` it."""
        def find() -> Call | None:
            for call in self._calls[since:]:
                if method is not None and call.method.lower() != method.lower():
                    continue
                if predicate is None or predicate(call):
                    return call
            return None
        return _Wait(self, find, timeout, f"a call{f' to {method}' if method else ''} matching {predicate!r}")

    def wait_for_messages(self, chat_id: Any, count: int = 1, timeout: float = DEFAULT_WAIT_SECONDS, *,
                          since: int = 0) -> _Wait:
        """Awaitable: the messages sent to ``chat_id`` (from call index ``since`` on) once there are
        at least ``count``; resolves to that list (possibly longer than ``count``)."""
        def find() -> list[dict] | None:
            messages = self._sent_messages(chat_id, since)
            return messages if len(messages) >= count else None
        return _Wait(self, find, timeout, f"{count} message(s) to chat {chat_id}")

    def wait_for_confirmed(self, update_id: int, timeout: float = DEFAULT_WAIT_SECONDS) -> _Wait:
        """Awaitable: resolves once the bot has confirmed ``update_id`` (asked for a later offset)."""
        return _Wait(self, lambda: True if self._confirmed_below > update_id else None, timeout,
                     f"confirmation of update {update_id}")

    def wait_for_long_poll(self, timeout: float = DEFAULT_WAIT_SECONDS) -> _Wait:
        """Awaitable: resolves while a getUpdates request is being held open by the server."""
        return _Wait(self, lambda: True if self._long_polls_waiting else None, timeout, "a pending getUpdates")

    def check_all_waits_awaited(self) -> None:
        """The fixture calls this: a wait that was never awaited would be a test that cannot fail."""
        if self._unawaited:
            count = len(self._unawaited)
            self._unawaited.clear()
            raise AssertionError(f"{count} fake_bot_api.wait_for…() call(s) were never awaited; add `await`")

    def _notify(self) -> None:
        # Called with the lock held whenever calls or confirmations change.
        self._lock.notify_all()
        for loop, event in list(self._async_waiters):
            with contextlib.suppress(RuntimeError):  # that loop has closed
                loop.call_soon_threadsafe(event.set)

    def _describe_recent_calls(self) -> str:
        recent = self._calls[-8:]
        lines = [f"  {c.method} {c.status} {json.dumps(c.params, ensure_ascii=False)[:160]}" for c in recent]
        return "recent calls:\n" + ("\n".join(lines) if lines else "  (none)")

    # ----- internals: state -----------------------------------------------------------------

    def _chat_key(self, chat_id: Any) -> Any:
        with contextlib.suppress(TypeError, ValueError):
            return int(chat_id)
        return chat_id

    def _user(self, user_id: int) -> dict:
        if user_id not in self._users:
            self._users[user_id] = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}",
                                    "language_code": "en"}
        return self._users[user_id]

    def _chat(self, chat_id: int, chat_type: str, title: str | None = None) -> dict:
        if chat_id not in self._chats:
            chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
            if chat_type == "private":
                chat["first_name"] = self._user(chat_id)["first_name"]
            else:
                chat["title"] = title or f"Chat {chat_id}"
            self._chats[chat_id] = chat
        return self._chats[chat_id]

    def _next_message_id(self, chat_id: Any) -> int:
        # One counter per chat, shared by the user's and the bot's messages, as in Telegram.
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _add_update(self, body: dict) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **body})
        self._lock.notify_all()
        return update_id

    def _user_message(self, user_id: int, chat_id: int | None, chat_type: str, content: dict,
                      reply_to_message_id: int | None = None) -> int:
        with self._lock:
            chat = self._chat(user_id if chat_id is None else chat_id, chat_type)
            message = {
                "message_id": self._next_message_id(chat["id"]),
                "date": int(time.time()),
                "chat": dict(chat),
                "from": dict(self._user(user_id)),
                **content,
            }
            if reply_to_message_id is not None:
                message["reply_to_message"] = copy.deepcopy(self._messages[(chat["id"], reply_to_message_id)])
            self._messages[(chat["id"], message["message_id"])] = message
            return self._add_update({"message": copy.deepcopy(message)})

    def _store_file(self, content: bytes, file_name: str | None, mime_type: str | None, prefix: str) -> dict:
        number = next(self._file_ids)
        file = {"file_id": f"{prefix}-{number}", "file_unique_id": f"u{prefix}{number}", "file_size": len(content)}
        if file_name is not None:
            file["file_name"] = file_name
        if mime_type is not None:
            file["mime_type"] = mime_type
        self._files[file["file_id"]] = (file, content)
        return dict(file)

    # ----- internals: answering a request -------------------------------------------------------

    def _serve(self, token: str, method: str, params: dict, files: dict[str, UploadedFile]) -> tuple[int, dict]:
        """Answer one API call: planned faults first, then the method. Returns (status, body)."""
        call = Call(method=method, params=params, time=time.time(), token=token, files=files)
        with self._lock:
            fault = next((f for f in self._faults if f.matches(method, params)), None)
            if fault is not None:
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
            elif (wait := self._over_chat_limit(method, params)) is not None:
                fault = Fault(method, params.get("chat_id"), 429, f"Too Many Requests: retry after {wait}", wait, 0.0, 0)
        if fault is not None and fault.delay:
            self._closing.wait(fault.delay)
        if fault is not None and fault.status is not None:
            call.fault, call.status, call.error = fault, fault.status, fault.description
            body: dict[str, Any] = {"ok": False, "error_code": fault.status, "description": fault.description}
            if fault.retry_after is not None:
                body["parameters"] = {"retry_after": fault.retry_after}
            self._record(call)
            return fault.status, body
        call.fault = fault
        try:
            if method.lower() == "getupdates":
                result = self._get_updates(params)  # long poll; waiting releases the lock
            else:
                with self._lock:
                    result = self._dispatch(method, params, files)
        except Exception as error:  # a BotApiError, or a bug in the fake or a fake.handle() responder
            if not isinstance(error, BotApiError):
                error = BotApiError(500, f"Internal Server Error: the fake Bot API failed: {error!r}")
            call.status, call.error = error.status, error.description
            body = {"ok": False, "error_code": error.status, "description": error.description}
            if error.parameters:
                body["parameters"] = error.parameters
            self._record(call)
            return error.status, body
        call.result = result
        self._record(call)
        return 200, {"ok": True, "result": result}

    def _record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)
            self._notify()

    def _dispatch(self, method: str, params: dict, files: dict[str, UploadedFile]) -> Any:
        name = method.lower()
        if name in self._custom_methods:
            return self._custom_methods[name](params)
        handler = getattr(self, f"_api_{name}", None)
        if handler is None:
            # Telegram answers 404 too (PTB raises InvalidToken); say why, to save a puzzled hour.
            raise BotApiError(
                404, f"Not Found: the fake Bot API does not implement {method}; add it with fake.handle()"
            )
        return handler(params, files)

    def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        with self._lock:
            if offset < 0:
                # Telegram: a negative offset keeps only the last -offset updates.
                self._updates = self._updates[offset:]
            elif offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                self._confirmed_below = max(self._confirmed_below, offset)
                self._notify()
            self._long_polls_waiting += 1
            self._notify()
            try:
                while not self._updates and not self._closing.is_set():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._lock.wait(remaining)
            finally:
                self._long_polls_waiting -= 1
            return copy.deepcopy(self._updates[:limit])

    # ----- internals: the methods -------------------------------------------------------------------

    def _target_chat(self, params: dict) -> dict:
        if "chat_id" not in params:
            raise BotApiError(400, "Bad Request: chat_id is empty")
        chat = self._chats.get(self._chat_key(params["chat_id"]))
        if chat is None:
            raise BotApiError(400, "Bad Request: chat not found")
        return chat

    def _formatted(self, text: str, parse_mode: str | None, entities: list | None) -> tuple[str, list]:
        if parse_mode and parse_mode.lower() == "html":
            return parse_html(text)
        return text, list(entities or [])

    def _checked_markup(self, markup: Any) -> dict | None:
        """Inline keyboards come back in the Message; reply keyboards are accepted and not returned."""
        if not isinstance(markup, dict):
            return None
        if "inline_keyboard" not in markup:
            return None
        for row in markup["inline_keyboard"]:
            for button in row:
                if not button.get("text"):
                    raise BotApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= _MAX_CALLBACK_DATA_BYTES:
                    raise BotApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _bot_message(self, chat: dict, content: dict, params: dict) -> dict:
        message = {
            "message_id": self._next_message_id(chat["id"]),
            "date": int(time.time()),
            "chat": dict(chat),
            "from": self.bot_user,
            **content,
        }
        markup = self._checked_markup(params.get("reply_markup"))
        if markup:
            message["reply_markup"] = markup
        reply = params.get("reply_parameters") or {}
        reply_id = reply.get("message_id") or params.get("reply_to_message_id")
        if reply_id:
            original = self._messages.get((chat["id"], int(reply_id)))
            if original is None and not reply.get("allow_sending_without_reply"):
                raise BotApiError(400, "Bad Request: message to be replied not found")
            if original is not None:
                message["reply_to_message"] = copy.deepcopy(original)
        self._messages[(chat["id"], message["message_id"])] = message
        return copy.deepcopy(message)

    def _api_getme(self, params, files):
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    def _api_deletewebhook(self, params, files):
        self._webhook = {"url": ""}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_setwebhook(self, params, files):
        self._webhook = {"url": params.get("url", "")}
        return True

    def _api_getwebhookinfo(self, params, files):
        return {"url": self._webhook["url"], "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    def _api_sendmessage(self, params, files):
        chat = self._target_chat(params)
        text, entities = self._formatted(str(params.get("text", "")), params.get("parse_mode"), params.get("entities"))
        if not text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        if len(text) > _MAX_TEXT_LENGTH:
            raise BotApiError(400, "Bad Request: message is too long")
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self._bot_message(chat, content, params)

    def _editable(self, params: dict) -> dict | None:
        """The stored bot message an edit targets, or None for an inline message."""
        if params.get("inline_message_id"):
            return None
        chat = self._target_chat(params)
        message = self._messages.get((chat["id"], int(params.get("message_id") or 0)))
        if message is None:
            raise BotApiError(400, "Bad Request: message to edit not found")
        if message["from"]["id"] != self.bot_id:
            raise BotApiError(400, "Bad Request: message can't be edited")
        return message

    def _apply_edit(self, message: dict, changes: dict) -> dict:
        if all(message.get(key) == value for key, value in changes.items()):
            raise BotApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message",
            )
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _api_editmessagetext(self, params, files):
        text, entities = self._formatted(str(params.get("text", "")), params.get("parse_mode"), params.get("entities"))
        if not text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        if len(text) > _MAX_TEXT_LENGTH:
            raise BotApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        markup = self._checked_markup(params.get("reply_markup"))
        message = self._editable(params)
        if message is None:
            return True
        return self._apply_edit(message, {"text": text, "entities": entities or None, "reply_markup": markup})

    def _api_editmessagereplymarkup(self, params, files):
        markup = self._checked_markup(params.get("reply_markup"))
        message = self._editable(params)
        if message is None:
            return True
        return self._apply_edit(message, {"reply_markup": markup})

    def _api_deletemessage(self, params, files):
        chat = self._target_chat(params)
        key = (chat["id"], int(params.get("message_id") or 0))
        if key not in self._messages:
            raise BotApiError(400, "Bad Request: message to delete not found")
        del self._messages[key]
        return True

    def _api_answercallbackquery(self, params, files):
        query = self._callback_queries.get(str(params.get("callback_query_id")))
        if query is None or query["answered"]:
            raise BotApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        query["answered"] = True
        query["answer"] = dict(params)
        return True

    def _commands_key(self, params: dict) -> tuple[str, str]:
        return json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True), params.get("language_code") or ""

    def _api_setmycommands(self, params, files):
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise BotApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise BotApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise BotApiError(400, "Bad Request: command description is empty")
        self._commands[self._commands_key(params)] = commands
        return True

    def _api_getmycommands(self, params, files):
        return list(self._commands.get(self._commands_key(params), []))

    def _api_deletemycommands(self, params, files):
        self._commands.pop(self._commands_key(params), None)
        return True

    def _api_sendchataction(self, params, files):
        self._target_chat(params)
        return True

    def _api_senddocument(self, params, files):
        chat = self._target_chat(params)
        upload = files.get("document")
        if upload is not None:
            document = self._store_file(upload.content, file_name=upload.filename or "document",
                                        mime_type=upload.content_type or "application/octet-stream", prefix="doc")
        elif isinstance(params.get("document"), str) and params["document"] in self._files:
            document = dict(self._files[params["document"]][0])
        else:
            raise BotApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        content: dict[str, Any] = {"document": document}
        if params.get("caption"):
            caption, entities = self._formatted(params["caption"], params.get("parse_mode"),
                                                params.get("caption_entities"))
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        return self._bot_message(chat, content, params)

    def _api_getchat(self, params, files):
        chat = self._target_chat(params)
        gifts = {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                 "premium_subscription": False, "gifts_from_channels": False}
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}

    def _api_getfile(self, params, files):
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise BotApiError(400, "Bad Request: invalid file_id")
        file, _ = stored
        return {"file_id": file["file_id"], "file_unique_id": file["file_unique_id"],
                "file_size": file["file_size"], "file_path": f"files/{file['file_id']}"}

    def _api_setmydescription(self, params, files):
        return True

    def _api_setmyshortdescription(self, params, files):
        return True

    def _api_setchatmenubutton(self, params, files):
        return True

    def _api_close(self, params, files):
        return True

    def _api_logout(self, params, files):
        return True

    def _download(self, path: str) -> bytes | None:
        file_id = path.rsplit("/", 1)[-1]
        with self._lock:
            stored = self._files.get(file_id)
        return stored[1] if stored else None


class _Wait:
    """What the wait_for… helpers return: ``await`` it in async tests, or call ``.blocking()`` from
    a thread that is not running the bot's event loop."""

    def __init__(self, fake: FakeBotApi, find: Callable[[], Any], timeout: float, wanted: str):
        self._fake, self._find, self._timeout, self._wanted = fake, find, timeout, wanted
        fake._unawaited.add(id(self))

    def _timed_out(self) -> AssertionError:
        with self._fake._lock:
            recent = self._fake._describe_recent_calls()
        return AssertionError(f"timed out after {self._timeout}s waiting for {self._wanted}; {recent}")

    def __await__(self):
        return self._wait_async().__await__()

    async def _wait_async(self) -> Any:
        fake = self._fake
        fake._unawaited.discard(id(self))
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        waiter = (loop, event)
        deadline = loop.time() + self._timeout
        with fake._lock:
            fake._async_waiters.add(waiter)
        try:
            while True:
                event.clear()
                with fake._lock:
                    found = self._find()
                if found is not None:
                    return found
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise self._timed_out()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            with fake._lock:
                fake._async_waiters.discard(waiter)

    def blocking(self) -> Any:
        """Wait in this thread. Refuses inside a running event loop: it would freeze the bot."""
        self._fake._unawaited.discard(id(self))
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError("inside an event loop: use `await fake.wait_for…(...)` instead of .blocking()")
        deadline = time.monotonic() + self._timeout
        with self._fake._lock:
            while (found := self._find()) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._timed_out()
                self._fake._lock.wait(remaining)
            return found


class _RequestHandler(BaseHTTPRequestHandler):
    """HTTP plumbing: parse the URL and body, hand them to the FakeBotApi, write JSON back."""

    fake: FakeBotApi  # set on the per-server subclass
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers at shutdown

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests stay quiet; every call is in fake.calls

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        if len(parts) >= 3 and parts[0] == "file" and parts[1].startswith("bot"):
            content = self.fake._download(url.path)
            if content is None:
                self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            else:
                self._send_bytes(200, content, "application/octet-stream")
            return
        if len(parts) != 2 or not parts[0].startswith("bot") or not _TOKEN_PATTERN.match(parts[0][3:]):
            self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        token, method = parts[0][3:], parts[1]
        try:
            raw, files = self._read_params(url.query)
        except ValueError as error:
            self._reply(400, {"ok": False, "error_code": 400, "description": f"Bad Request: {error}"})
            return
        params = {name: _decode_param(name, value) for name, value in raw.items()}
        status, body = self.fake._serve(token, method, params, files)
        self._reply(status, body)

    def _read_params(self, query: str) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        params: dict[str, Any] = dict(parse_qsl(query))
        files: dict[str, UploadedFile] = {}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        if not body:
            return params, files
        if content_type.startswith("application/json"):
            params.update(json.loads(body))  # typed already: no string decoding needed below
        elif content_type.startswith("multipart/form-data"):
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                f"Content-Type: {content_type}\r\n\r\n".encode() + body
            )
            if not message.is_multipart():
                raise ValueError("malformed multipart body")
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True) or b""
                filename = part.get_filename()
                if filename is not None or part.get_content_type() not in ("text/plain",):
                    files[name] = UploadedFile(name, filename, payload, part.get_content_type())
                else:
                    params[name] = payload.decode("utf-8")
        else:
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        return params, files

    def _reply(self, status: int, body: dict) -> None:
        self._send_bytes(status, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json")

    def _send_bytes(self, status: int, content: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the bot gave up on this request (timeout or shutdown): nothing to answer


@contextlib.asynccontextmanager
async def running(application: Any, poll_timeout: int = 1):
    """Run a PTB Application with polling for the body of an ``async with``, then stop it the way
    PTB's own run_polling does. Duck-typed, so this module never imports telegram."""
    async with application:
        await application.start()
        await application.updater.start_polling(poll_interval=0.0, timeout=poll_timeout)
        try:
            yield application
        finally:
            if application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
