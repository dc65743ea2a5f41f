"""Wire the Telegram application: builder configuration, services in `bot_data`, handlers, jobs.

The dialogue and office services are created here (from an advisor built once per process), kept in
`application.bot_data`, and the store is closed in `post_shutdown`. Jobs: the outbox (retry with
backoff), the office digest (OFFICE_NOTIFY=digest) and the daily retention purge.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import time as day_time
from zoneinfo import ZoneInfo

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot.answer_pool import BatchedAdvisor
from bot.dialogue import build_dialogue
from bot.office import Office
from bot.store import Store
from bot.texts import command_menu
from bot.telegram import handlers
from bot.telegram.concurrency import PerPersonUpdateProcessor
from bot.telegram.outbox import deliver_due
from intents.triage import UrgencyTriage

log = logging.getLogger(__name__)

OFFICE_COMMANDS = ["unanswered", "reports", "case", "close", "stats", "answer", "answers", "unlearn"]
# Questions for the model worked on at once (each person's updates in order; commands, buttons and
# safeguarding messages go past this limit).
MAX_WORKING_QUESTIONS = 64


def file_url_for(base_url: str) -> str:
    """Telegram's file URL sits beside its API URL: …/bot → …/file/bot."""
    base = base_url.rstrip("/")
    return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"


def bot_commands() -> list[BotCommand]:
    return [BotCommand(name, description) for name, description in command_menu()]


def build_application(
    settings,
    advisor,
    *,
    store: Store | None = None,
    outbox_interval: float = 10.0,
    backoff_base: float = 5.0,
    poll_read_timeout: float | None = None,
) -> Application:
    """The bot, ready for `run_polling`, `run_webhook`, or `async with` in tests."""
    store = store or Store(settings.database_path)
    triage = UrgencyTriage.for_classifier(advisor.classifier)  # what might be about a child at risk goes first
    answerer = BatchedAdvisor(advisor, triage=triage)  # questions asked at the same moment are answered in one batch
    processor = PerPersonUpdateProcessor(MAX_WORKING_QUESTIONS, triage.definite, triage.possible)

    async def post_init(application: Application) -> None:
        await asyncio.to_thread(learn_from_database, application.bot_data)
        try:
            await application.bot.set_my_commands(bot_commands())
        except Exception:  # a cosmetic call; the bot works without its menu
            log.warning("could not set the bot's command menu")

    async def post_shutdown(application: Application) -> None:
        await asyncio.to_thread(answerer.close)
        store.close()

    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_base_url)
        .base_file_url(file_url_for(settings.telegram_base_url))
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=ZoneInfo(settings.timezone)))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .concurrent_updates(processor)
    )
    if poll_read_timeout is not None:
        builder = builder.get_updates_read_timeout(poll_read_timeout)
    application = builder.build()

    dialogue = build_dialogue(answerer, store, settings)  # with the one office, shared with the handlers
    application.bot_data.update(
        dialogue=dialogue,
        office=dialogue.office,
        store=store,
        settings=settings,
        advisor=advisor,
        outbox_lock=asyncio.Lock(),
        backoff_base=backoff_base,
        rate_limiter=handlers.RateLimiter(settings.rate_limit_per_minute),
        triage=triage,
    )

    private_or_group = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler(OFFICE_COMMANDS, handlers.office_command, filters=private_or_group))
    application.add_handler(CallbackQueryHandler(handlers.on_button))
    application.add_handler(MessageHandler(private_or_group & filters.TEXT, handlers.on_text))
    application.add_handler(MessageHandler(private_or_group & filters.PHOTO, handlers.on_photo))
    application.add_handler(MessageHandler(private_or_group & ~filters.TEXT & ~filters.PHOTO & ~filters.StatusUpdate.ALL, handlers.on_other))
    application.add_error_handler(handlers.on_error)

    jobs = application.job_queue
    jobs.run_repeating(outbox_job, interval=outbox_interval, first=1.0, name="outbox")
    jobs.run_repeating(retention_job, interval=24 * 3600, first=60.0, name="retention")
    if settings.office_notify == "digest":
        jobs.run_daily(digest_job, time=day_time(16, 0, tzinfo=ZoneInfo(settings.timezone)), name="digest")
    return application


async def outbox_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    data = context.application.bot_data
    # Learn first: by the time an asker reads the office's answer, asking again gets it from the bot.
    await asyncio.to_thread(learn_from_database, data)
    await deliver_due(context.bot, data["store"].outbox, data["settings"], data["outbox_lock"], data["backoff_base"])


def learn_from_database(data: dict) -> None:
    """Answers given from `policybot office answer` (another process) teach the running bot too; the office's
    own answers follow the database both ways (`policybot office unlearn` stops one here as well)."""
    from bot.office import load_office_answers

    pairs = data["store"].answers.taught_questions()
    known = data.get("taught_known", 0)
    if len(pairs) > known:
        data["advisor"].engine.add_alternates(pairs[known:])
        data["taught_known"] = len(pairs)
    load_office_answers(data["advisor"], data["store"])


async def retention_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    data = context.application.bot_data
    settings = data["settings"]
    counts = await asyncio.to_thread(data["store"].privacy.purge, settings.retention_days, settings.report_retention_days)
    log.info("retention: deleted %s rows", sum(counts.values()))


async def digest_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """OFFICE_NOTIFY=digest: post the open unanswered questions once a day, through the outbox."""
    data = context.application.bot_data
    office: Office = data["office"]
    store: Store = data["store"]

    def queue() -> None:
        with store.transaction():
            for text, rows in office.digest():
                store.outbox.enqueue(target="office", text=text, buttons=rows, kind="digest")

    await asyncio.to_thread(queue)
    await outbox_job(context)


ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
