"""Serving the web chat: on WEB_HOST:WEB_PORT in one uvicorn worker (the model is loaded once), alone
(`policybot web`) or with the Telegram bot in the same asyncio loop (`policybot serve` with a token).

With both, the Telegram Application is started in the app's lifespan, as python-telegram-bot documents for a
custom web server: initialised, polling (or its webhook registered), its JobQueue (outbox, relearning,
digest, retention) running in this loop; what a web turn queues for the office is delivered by the bot's
outbox at once; and Telegram's webhook, when WEBHOOK_URL is set, is a route of this app, checked against
WEBHOOK_SECRET and journalled before Telegram is answered (JournallingQueue.put).

  bind(settings)                                 the listening socket (a port in use: SettingsError)
  serve_web(settings, advisor, sock, telegram)   print the address, serve until stopped
  build_server(settings, advisor, application)   the ASGI app (the web chat, plus the bot when given one)
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import socket
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from bot.settings import SettingsError
from bot.web.app import build_app

log = logging.getLogger(__name__)
WEBHOOK_MAX_BYTES = 1024 * 1024
KEEP_ALIVE_SECONDS = 75  # see server_config  # an update is a few kB; Telegram's own server never sends near this


def address(settings) -> str:
    """Where this machine serves the web chat (what a browser on it opens)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(settings.web_host, settings.web_host)  # every address: loopback too
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.web_port}"


def bind(settings) -> socket.socket:
    """The listening socket, bound before anything slow starts; a port in use is one line, not a traceback."""
    family = socket.AF_INET6 if ":" in settings.web_host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.web_host, settings.web_port))
    except OSError as exc:
        sock.close()
        raise SettingsError(
            f"the web chat cannot listen on {settings.web_host}:{settings.web_port} ({exc.strerror}): "
            "set WEB_PORT to a free port, or WEB_PORT=off"
        ) from None
    return sock


def webhook_route(application, settings) -> Route:
    """Telegram posts updates here (WEBHOOK_URL's path). Only a request carrying WEBHOOK_SECRET is taken (403
    otherwise, as PTB's own webhook server answers); the update is journalled as it is queued, so answering
    200 afterwards never loses it."""
    from telegram import Update

    secret = settings.webhook_secret.encode()

    async def telegram_webhook(request: Request) -> Response:
        sent = request.headers.get("x-telegram-bot-api-secret-token", "").encode()
        if not hmac.compare_digest(sent, secret):
            return Response(status_code=403)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > WEBHOOK_MAX_BYTES:
                return Response(status_code=413)
        try:
            update = Update.de_json(json.loads(body), application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return Response(status_code=400)
        await application.update_queue.put(update)
        return Response(status_code=200)

    return Route(urlsplit(settings.webhook_url).path or "/", telegram_webhook, methods=["POST"], name="telegram_webhook")


class OutboxNudge:
    """Pure ASGI middleware around the web chat when the bot runs beside it: after each form the chat takes (a
    POST), the bot's outbox is delivered at once, so what a web turn queued for the office (a safeguarding
    alert, a report, an unanswered question) goes now, not at the outbox job's next tick. Nudges coalesce:
    one delivery at a time, and one more if a form came in meanwhile."""

    def __init__(self, app, application):
        self.app = app
        self.application = application
        self.task: asyncio.Task | None = None
        self.again = False

    @property
    def routes(self):
        """The chat's routes, so that `url_for` finds its pages through the Mount this sits in."""
        return self.app.routes

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)
        if scope["type"] == "http" and scope["method"] == "POST":
            self.nudge()

    def nudge(self) -> None:
        if self.task is not None and not self.task.done():
            self.again = True
            return
        self.task = asyncio.get_running_loop().create_task(self.deliver())

    async def deliver(self) -> None:
        while True:
            self.again = False
            try:
                await self.application.bot_data["services"].outbox.deliver(self.application.bot)
            except Exception:  # the outbox job tries again on its own
                log.exception("outbox delivery after a web turn failed")
            if not self.again:
                return


def build_server(settings, advisor, application=None) -> Starlette:
    """The web chat; with `application`, also the Telegram bot, started and stopped with the app. Both then share
    the bot's store (one SQLite connection for the process) and its answer batches (one model queue, so web and
    Telegram questions asked at the same moment are answered in one batch, and what may be about a child at risk
    goes first on either channel)."""
    if application is None:
        return build_app(settings, advisor)
    from bot.telegram.app import running_in_this_loop

    web = build_app(settings, application.bot_data["answerer"], store=application.bot_data["store"])

    @contextlib.asynccontextmanager
    async def lifespan(app):
        # The bot around the chat: the chat (and its email) stops first, then the bot closes what they share.
        async with running_in_this_loop(application, settings):
            async with web.router.lifespan_context(web):
                yield

    routes = [webhook_route(application, settings)] if settings.webhook_url else []
    routes.append(Mount("", app=OutboxNudge(web, application)))
    return Starlette(routes=routes, lifespan=lifespan)


def quiet_exit_server():
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server; stopped by SIGTERM or Ctrl+C, it finishes cleanly (exit status 0, as the Telegram bot
        alone does) instead of raising the signal again once stopped."""

        @contextlib.contextmanager
        def capture_signals(self):
            with super().capture_signals():
                try:
                    yield
                finally:
                    self._captured_signals.clear()

    return Server


def server_config(app, log_level: str = "warning"):
    """How uvicorn serves the app: one worker (the model is loaded once). No access log: a request line holds
    people's addresses and private links. Forwarded headers are read by the app itself, from WEB_TRUSTED_PROXIES
    only (security.ClientAddress), not by uvicorn. An idle connection is kept longer than a reverse proxy's or a
    browser's usual idle time (60 s), so the server never closes one just as a form is sent on it (the client
    would see the connection reset, and a POST is not retried)."""
    import uvicorn

    return uvicorn.Config(app, workers=1, log_level=log_level.lower(), access_log=False, proxy_headers=False,
                          server_header=False, lifespan="on", timeout_keep_alive=KEEP_ALIVE_SECONDS)


def serve_web(settings, advisor, sock: socket.socket, *, telegram: bool = False) -> int:
    """Print the address, serve on `sock` until stopped (Ctrl+C or SIGTERM, then a clean stop)."""
    application = None
    if telegram:
        from bot.telegram.app import build_application

        application = build_application(settings, advisor)
    app = build_server(settings, advisor, application)
    print(f"The web chat is at {address(settings)}  (Ctrl+C stops it)", flush=True)
    if settings.web_public_url:
        print(f"People reach it at {settings.web_public_url}", flush=True)
    if application is not None:
        how = f"webhook at {settings.webhook_url}" if settings.webhook_url else "long polling"
        print(f"The Telegram bot runs in the same process ({how})", flush=True)
    server = quiet_exit_server()(server_config(app, settings.log_level))
    server.run(sockets=[sock])
    return 0 if server.started else 1
