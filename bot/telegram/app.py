"""Wire the Telegram application: builder configuration, the services in `bot_data`, handlers and jobs.

The dialogue and office services are created here (from an advisor built once per process) and kept, typed,
in `application.bot_data["services"]`; the store is closed in `post_shutdown`. Every update is journalled
before Telegram is told it arrived (journal.py), and what a killed process left undone is handled at start.
Signing (/agree, /acknowledge) is bot/telegram/signing.py over `bot_data["signing"]`; a new version of what
people sign opens a re-confirmation round at start. Jobs: the outbox (retry with backoff), relearning what
other processes taught (the office CLI), the office digest (OFFICE_NOTIFY=digest) and the daily retention purge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import time as day_time
from zoneinfo import ZoneInfo

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot.answer_pool import BatchedAdvisor
from bot.dialogue import build_dialogue
from bot.protocol import PERSON_ANY
from bot.signatures import Signing
from bot.store import Store
from bot.telegram import people
from bot.texts import command_menu
from bot.upkeep import Learning, purge_expired
from bot.telegram.concurrency import PerPersonUpdateProcessor
from bot.telegram.errors import on_error
from bot.flood import FloodGate
from bot.telegram.journal import JournallingQueue, JournallingRequest, UpdateJournal
from bot.telegram.office import office_handlers
from bot.telegram.outbox import Delivery
from bot.telegram.services import Services
from bot.telegram.signing import signing_handlers
from intents.triage import UrgencyTriage

log = logging.getLogger(__name__)

# Questions for the model worked on at once (each person's updates in order; commands, buttons and
# safeguarding messages go past this limit).
MAX_WORKING_QUESTIONS = 64
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]


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
    office_timeout: float = 30.0,
    pause_after_timeout: float = 60.0,
    office_reply_minutes: float = 5.0,
    relearn_interval: float = 10.0,
) -> Application:
    """The bot, ready for `run_polling`, `run_webhook`, `running_in_this_loop`, or `async with` in tests."""
    store = store or Store(settings.database_path)
    triage = UrgencyTriage.for_classifier(advisor.classifier)  # what might be about a child at risk goes first
    answerer = BatchedAdvisor(advisor, triage=triage)  # questions asked at the same moment are answered in one batch
    updates = UpdateJournal(store)
    queue = JournallingQueue(updates)

    async def journal_done(update: object) -> None:
        if isinstance(update, Update):
            queue.mark_done(update.update_id)

    poll_timeout = {"read_timeout": poll_read_timeout} if poll_read_timeout is not None else {}
    processor = PerPersonUpdateProcessor(MAX_WORKING_QUESTIONS, triage.definite, triage.possible, journal_done)
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_base_url)
        .base_file_url(file_url_for(settings.telegram_base_url))
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=ZoneInfo(settings.timezone)))
        .update_queue(queue)
        .get_updates_request(JournallingRequest(queue, connection_pool_size=1, **poll_timeout))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .concurrent_updates(processor)
    )
    application = builder.build()

    dialogue = build_dialogue(answerer, store, settings)  # with the one office, shared with the handlers
    outbox = Delivery(store.outbox, settings, backoff_base, office_timeout, pause_after_timeout)
    outbox.before_answers = lambda: learn_from_database(application.bot_data)
    outbox.route_failed = dialogue.office.route_failed
    application.bot_data.update(
        services=Services(dialogue, dialogue.office, store, settings, advisor, triage, FloodGate(settings.rate_limit_per_minute),
                          outbox, updates, office_reply_minutes),
        store=store,
        advisor=advisor,
        answerer=answerer,
        signing=Signing(store, advisor.pack, dialogue.texts, settings, dialogue.office),
    )
    add_handlers(application, office_reply_minutes)
    add_jobs(application, settings, outbox_interval, relearn_interval)
    return application


@contextlib.asynccontextmanager
async def running_in_this_loop(application: Application, settings):
    """The bot, running for the body of an `async with` in a loop someone else runs (the web chat's uvicorn):
    the same steps, in the same order, as PTB's `run_polling`/`run_webhook` — initialise, post_init, polling
    (or the webhook registered with Telegram: its updates come to the web app's route), start; then stop,
    shutdown, post_shutdown."""
    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        if settings.webhook_url:
            await application.bot.set_webhook(url=settings.webhook_url, allowed_updates=ALLOWED_UPDATES,
                                              secret_token=settings.webhook_secret)
        else:
            await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        await application.start()
        try:
            yield application
        finally:
            if application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
    finally:
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)


def add_handlers(application: Application, office_reply_minutes: float) -> None:
    for group, handlers in office_handlers(office_reply_minutes).items():
        application.add_handlers(handlers, group=group)
    application.add_handlers(signing_handlers(), group=-1)  # after the office's pending reply, before the people's
    messages = filters.UpdateType.MESSAGE  # edited messages are not answered twice
    application.add_handlers(
        [
            CallbackQueryHandler(people.on_button, pattern=PERSON_ANY),
            MessageHandler(messages & filters.TEXT, people.on_text),
            MessageHandler(messages & ~filters.TEXT & ~filters.StatusUpdate.ALL, people.on_attachment),
        ]
    )
    application.add_error_handler(on_error)


def add_jobs(application: Application, settings, outbox_interval: float, relearn_interval: float) -> None:
    jobs = application.job_queue
    jobs.run_once(replay_job, when=0, name="replay")
    jobs.run_once(signing_round_job, when=0, name="signing_round")
    jobs.run_repeating(relearn_job, interval=relearn_interval, first=relearn_interval, name="relearn")
    jobs.run_repeating(outbox_job, interval=outbox_interval, first=1.0, name="outbox")
    jobs.run_repeating(retention_job, interval=24 * 3600, first=60.0, name="retention")
    if settings.office_notify == "digest":
        jobs.run_daily(digest_job, time=day_time(16, 0, tzinfo=ZoneInfo(settings.timezone)), name="digest")


async def post_init(application: Application) -> None:
    await asyncio.to_thread(learn_from_database, application.bot_data)
    try:
        await application.bot.set_my_commands(bot_commands())
    except Exception:  # a cosmetic call; the bot works without its menu
        log.warning("could not set the bot's command menu")


async def post_shutdown(application: Application) -> None:
    await asyncio.to_thread(application.bot_data["answerer"].close)
    application.bot_data["store"].close()


async def replay_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Updates journalled by a process that was killed before handling them: handled now, once."""
    await context.application.update_queue.replay(context.bot)


async def signing_round_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """At start: a new version of what people sign (the pack changed) asks signers of an earlier one to confirm
    again, through the outbox (bot/signatures.py)."""
    queued = await asyncio.to_thread(context.application.bot_data["signing"].open_round)
    if queued:
        log.info("signatures: %d re-confirmation message(s) queued", queued)
        await context.application.bot_data["services"].outbox.deliver(context.bot)


async def outbox_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.application.bot_data["services"].outbox.deliver(context.bot)


async def relearn_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """What `policybot office answer`/`unlearn` (another process) changed, taught to this bot too. (The outbox
    also relearns before it sends an office answer to its asker, so asking again at once gets it.)"""
    await asyncio.to_thread(learn_from_database, context.application.bot_data)


def learn_from_database(data: dict) -> None:
    """Questions the office answered with a section, and the office's own answers, as the database holds them
    now (`data` holds "store" and "advisor"; its `Learning` remembers how far it has learned)."""
    if "learning" not in data:
        data["learning"] = Learning(data["store"], data["advisor"])
    data["learning"].catch_up()


async def retention_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    s = context.application.bot_data["services"]
    counts = await asyncio.to_thread(purge_expired, s.store, s.settings)
    journalled = await asyncio.to_thread(s.updates.forget_done)
    log.info("retention: deleted %s rows", sum(counts.values()) + journalled)


async def digest_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """OFFICE_NOTIFY=digest: post the open unanswered questions once a day, through the outbox."""
    s = context.application.bot_data["services"]

    def queue() -> None:
        with s.store.transaction():
            for text, rows in s.office.digest():
                s.store.outbox.enqueue(target="office", text=text, buttons=rows, kind="digest")

    await asyncio.to_thread(queue)
    await s.outbox.deliver(context.bot)
