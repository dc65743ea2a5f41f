"""End to end: the real PTB Application polling the fake Bot API on 127.0.0.1, a real SQLite file, the
real model. Each test speaks as people and the office and checks what Telegram was asked to send."""

from __future__ import annotations

import json

import pytest

from bot_fixtures import ADMIN, ESCALATION_CHAT, OFFICE_CHAT

pytestmark = pytest.mark.slow

STAFF = 5001
PARENT = 5002
STRANGER = 5003


def buttons(message: dict) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]


def button(message: dict, label_part: str) -> str:
    for label, data in buttons(message):
        if label_part.lower() in label.lower():
            return data
    raise AssertionError(f"no button like {label_part!r} in {buttons(message)}")


async def say(fake, user, text, count_before=None):
    """Send text and wait for at least one new message to that user; returns the new messages."""
    before = len(fake.sent_messages(user)) if count_before is None else count_before
    fake.send_text(user, text)
    messages = await fake.wait_for_messages(user, before + 1, timeout=15)
    await settle(fake, user)
    return fake.sent_messages(user)[before:]


async def press(fake, user, message, data):
    before = len(fake.sent_messages(user))
    fake.press_button(user, message, data)
    await fake.wait_for_messages(user, before + 1, timeout=15)
    await settle(fake, user)
    return fake.sent_messages(user)[before:]


async def settle(fake, chat, quiet=0.3):
    """Wait until the bot has stopped sending to `chat` for a moment (a turn may send several messages)."""
    import asyncio

    count = -1
    while count != len(fake.sent_messages(chat)):
        count = len(fake.sent_messages(chat))
        await asyncio.sleep(quiet)


async def test_start_role_question_quotes_the_right_section(fake_bot_api, start_bot, telegram_settings):
    fake = fake_bot_api
    async with start_bot():
        welcome = await say(fake, STAFF, "/start")
        assert "Clearwell School" in welcome[0]["text"]
        assert "not legal or HR advice" in welcome[0]["text"]
        ask_role = welcome[-1]
        assert "staff or a parent" in ask_role["text"]
        [role_set] = await press(fake, STAFF, ask_role, button(ask_role, "staff"))
        assert "for staff" in role_set["text"]

        [answer] = await say(fake, STAFF, "Can I accept a friend request from a pupil?")
        assert "Section 6.5" in answer["text"]
        kinds = {e["type"] for e in answer.get("entities", [])}
        assert "blockquote" in kinds and "bold" in kinds
        labels = [label for label, _ in buttons(answer)]
        assert "👍" in labels and "👎" in labels and "Full section" in labels and "Report a breach" in labels

        # 👍 is stored as feedback, against the stored question.
        fake.press_button(STAFF, answer, button(answer, "👍"))
        await fake.wait_for(lambda c: c.method.lower() == "answercallbackquery" and c.params.get("text"), timeout=10)
        from bot.storage import Storage

        store = Storage(telegram_settings.database_path)
        try:
            [feedback] = list(store.db["feedback"].rows)
            assert feedback["value"] == 1
            [question] = list(store.db["questions"].rows)
            assert question["top_clause"] == "6.5" and question["answered"] == 1
            assert str(STAFF) not in question["user_key"]
        finally:
            store.close()

        # The role survives: a parent's view is different.
        full = await press(fake, STAFF, answer, button(answer, "Full section"))
        assert full[0]["text"].startswith("Section 6.5")
