"""`policybot serve` (also `policybot` alone and `./policybot.sh`): the web chat on WEB_HOST:WEB_PORT and, when
TELEGRAM_BOT_TOKEN is set, the Telegram bot, in one process and one asyncio loop (bot/web/serve.py). With
WEB_PORT=off, the Telegram bot alone, as before: long polling, or its own webhook server on
WEBHOOK_LISTEN:WEBHOOK_PORT (with Telegram's secret token check) when WEBHOOK_URL is set.
`policybot web`: the web chat alone."""

from __future__ import annotations

import logging
import sys
from urllib.parse import urlsplit

from bot.settings import SettingsError, check_serve_settings, check_web_settings

log = logging.getLogger(__name__)


# Libraries whose debug output holds what people wrote and their names (PTB logs every update and every
# call's parameters; the webhook logs the body it received), or the token (httpx logs each request's URL at
# INFO, and Bot API URLs contain it): never below these levels, whatever LOG_LEVEL says.
QUIETER = {"telegram": logging.INFO, "telegram.Bot": logging.WARNING, "telegram.ext.ExtBot": logging.WARNING,
           "httpx": logging.WARNING, "httpcore": logging.WARNING}


def configure_logging(level: str) -> None:
    chosen = getattr(logging, level.upper(), logging.INFO)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=chosen)
    for name, floor in QUIETER.items():
        logging.getLogger(name).setLevel(max(chosen, floor))


def refused(command: str, check, settings) -> bool:
    """Run a settings check; if it fails, say why in one line on stderr (the caller exits 2)."""
    try:
        check(settings)
    except SettingsError as exc:
        print(f"policybot {command}: {exc}", file=sys.stderr)
        return True
    return False


def _default_advisor(settings):
    from bot.runtime import build_advisor

    return build_advisor(settings)


def run_serve(settings, advisor_factory=None) -> int:
    """Check the settings (one line if wrong), load the advisor once, then serve both channels (or the one)."""
    if refused("serve", check_serve_settings, settings):
        return 2
    configure_logging(settings.log_level)
    if not settings.web_on:
        run_telegram_alone(settings, (advisor_factory or _default_advisor)(settings))
        return 0
    return _serve_web("serve", settings, advisor_factory, telegram=bool(settings.telegram_bot_token))


def run_web(settings, advisor_factory=None) -> int:
    """`policybot web`: the web chat alone (no Telegram, whatever the token)."""
    if refused("web", check_web_settings, settings):
        return 2
    configure_logging(settings.log_level)
    return _serve_web("web", settings, advisor_factory, telegram=False)


def _serve_web(command: str, settings, advisor_factory, telegram: bool) -> int:
    from bot.web.serve import bind, serve_web

    try:
        sock = bind(settings)  # a port in use is said now, not after loading the model
    except SettingsError as exc:
        print(f"policybot {command}: {exc}", file=sys.stderr)
        return 2
    advisor = (advisor_factory or _default_advisor)(settings)
    return serve_web(settings, advisor, sock, telegram=telegram)


def run_telegram_alone(settings, advisor) -> None:
    """WEB_PORT=off: PTB runs its own loop, polling or with its own webhook server."""
    from bot.telegram.app import ALLOWED_UPDATES, build_application

    application = build_application(settings, advisor)
    if settings.webhook_url:
        path = urlsplit(settings.webhook_url).path.lstrip("/")
        log.info("starting the bot with a webhook on %s:%s", settings.webhook_listen, settings.webhook_port)
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=path,
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
        )
    else:
        log.info("starting the bot with long polling")
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
