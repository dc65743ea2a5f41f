"""Fixtures for the bot's tests: settings pointing at a fresh SQLite file (and, end to end, at the fake
Bot API), the store and the dialogue service over the session's one advisor."""

from __future__ import annotations

import contextlib
from dataclasses import replace

import pytest

OFFICE_CHAT = -1001
ESCALATION_CHAT = -2002
ADMIN = 900
SECOND_ADMIN = 901
CHAIR = 950  # the chair of governors: not office staff, a member of the escalation chat


@pytest.fixture
def bot_settings(engine_settings, tmp_path):
    """Settings for one test: its own database, an office chat, two admins. The texts' settings (DSL contact,
    office hours…) stay those of the session's advisor, as they are in one running bot."""
    return replace(
        engine_settings,
        database_path=tmp_path / "policybot.db",
        office_chat_id=OFFICE_CHAT,
        escalation_chat_id=ESCALATION_CHAT,
        admin_user_ids=(ADMIN, SECOND_ADMIN),
    )


@pytest.fixture
def untaught_engine(advisor):
    """The session's one engine (not a fresh one), with whatever a test taught it (taught questions, office
    answers) forgotten before and after, so one test's teaching cannot change another test's answers."""
    engine = advisor.engine
    engine.forget_learned()
    advisor.office_answers.clear()
    yield engine
    engine.forget_learned()
    advisor.office_answers.clear()


@pytest.fixture
def store(bot_settings):
    from bot.store import Store

    opened = Store(bot_settings.database_path)
    yield opened
    opened.close()


@pytest.fixture
def dialogue(advisor, store, bot_settings, untaught_engine):
    from bot.dialogue import build_dialogue

    return build_dialogue(advisor, store, bot_settings)


@pytest.fixture
def telegram_settings(bot_settings, fake_bot_api):
    fake_bot_api.add_chat(OFFICE_CHAT, "supergroup", title="Office")
    fake_bot_api.add_chat(ESCALATION_CHAT, "group", title="Chair of governors")
    return replace(bot_settings, telegram_bot_token=fake_bot_api.token, telegram_base_url=fake_bot_api.base_url)


@pytest.fixture
def start_bot(telegram_settings, advisor, untaught_engine):
    """An async context manager factory: the real Application polling the fake Bot API."""
    from fake_bot_api import running

    from bot.telegram.app import build_application

    @contextlib.asynccontextmanager
    async def start(settings=None, **options):
        options.setdefault("outbox_interval", 0.3)
        options.setdefault("backoff_base", 0.2)
        application = build_application(settings or telegram_settings, advisor, **options)
        async with running(application):
            yield application

    return start
