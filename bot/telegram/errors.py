"""The one error handler: log the failure without personal data or the token, then tell the person (in a
private chat) that something went wrong, never what."""

from __future__ import annotations

import logging
import re
from html import escape

from telegram import Update
from telegram.ext import ContextTypes

from bot.telegram.services import is_private, services

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    token = context.bot.token if context.bot else ""
    detail = str(error)
    if token:  # PTB may change the case of error text: hide the token's secret part in any case
        detail = re.sub(re.escape(token.split(":")[-1]), "<token>", detail, flags=re.IGNORECASE)
    update_id = getattr(update, "update_id", None)
    log.error("update %s failed: %s: %s", update_id, type(error).__name__, detail[:300])
    if isinstance(update, Update) and update.effective_chat is not None and is_private(update):
        try:
            text = services(context).dialogue.texts.get("conversation.error")
            await context.bot.send_message(chat_id=update.effective_chat.id, text=escape(text))
        except Exception:
            pass
