"""`policybot serve`: run the Telegram bot — long polling, or a webhook (with Telegram's secret token check)
when WEBHOOK_URL is set."""

from __future__ import annotations

import logging
import sys
from urllib.parse import urlsplit

from bot.settings import SettingsError, check_serve_settings

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


def run_serve(settings) -> int:
    if refused("serve", check_serve_settings, settings):
        return 2
    configure_logging(settings.log_level)
    from bot.runtime import build_advisor
    from bot.telegram.app import ALLOWED_UPDATES, build_application

    advisor = build_advisor(settings)
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
    return 0
