"""Proof that the real python-telegram-bot Application runs against tests/fake_bot_api.py: commands,
echo, buttons, uploads, faults as PTB sees them, and a clean stop. Also pins the fake's own rules."""

import asyncio
import datetime as dtm
import json
import threading
import time
import urllib.request

import pytest
import pytest_asyncio
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from fake_bot_api import FakeBotApi, parse_html, running

USER = 4242


def build_application(fake, errors: list | None = None, **timeouts):
    """The three handlers of the brief, plus an error handler that keeps what PTB reports."""

    async def start(update, context):
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])
        await update.message.reply_text("Welcome <b>in</b>", parse_mode="HTML", reply_markup=keyboard)

    async def echo(update, context):
        await update.message.reply_text(update.message.text)

    async def button(update, context):
        query = update.callback_query
        await query.answer("Noted")  # answer first, then edit, as PTB's examples do
        await query.edit_message_text(f"You chose {query.data}")

    async def on_error(update, context):
        errors.append(context.error)

    builder = ApplicationBuilder().token(fake.token).base_url(fake.base_url).base_file_url(fake.base_file_url)
    for name, seconds in timeouts.items():
        builder = getattr(builder, name)(seconds)
    application = builder.build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.add_handler(CallbackQueryHandler(button))
    if errors is not None:
        application.add_error_handler(on_error)
    return application


async def test_start_echo_and_button_with_the_real_application(fake_bot_api):
    application = build_application(fake_bot_api)
    async with application:
        await application.start()
        await application.updater.start_polling(poll_interval=0.0, timeout=1)

        fake_bot_api.send_text(USER, "/start")
        [welcome] = await fake_bot_api.wait_for_messages(USER, 1)
        assert welcome["text"] == "Welcome in"  # HTML parsed as Telegram does
        assert welcome["entities"] == [{"type": "bold", "offset": 8, "length": 2}]
        assert welcome["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"
        assert welcome["from"]["is_bot"]
        assert welcome["chat"] == {"id": USER, "type": "private", "first_name": f"User{USER}"}

        fake_bot_api.send_text(USER, "what about <photos> & names?")
        messages = await fake_bot_api.wait_for_messages(USER, 2)
        assert messages[1]["text"] == "what about <photos> & names?"
        assert messages[1]["message_id"] > welcome["message_id"]

        fake_bot_api.press_button(USER, welcome, "yes")
        answer = await fake_bot_api.wait_for(method="answerCallbackQuery")
        assert answer.ok and answer.params["text"] == "Noted"
        edit = await fake_bot_api.wait_for(lambda call: call.ok, method="editMessageText")
        assert edit.result["text"] == "You chose yes"
        assert "reply_markup" not in fake_bot_api.message(USER, welcome["message_id"])

        started = time.monotonic()
        await application.updater.stop()
        await application.stop()
    assert time.monotonic() - started < 2
    assert [call.method for call in fake_bot_api.calls][:2] == ["getMe", "deleteWebhook"]


async def test_command_text_without_its_entity_is_not_a_command(fake_bot_api):
    """Telegram marks commands with a bot_command entity; PTB's CommandHandler looks only at that."""
    async with running(build_application(fake_bot_api)):
        fake_bot_api.send_text(USER, "/start", entities=[])
        [reply] = await fake_bot_api.wait_for_messages(USER, 1)
    assert reply["text"] == "/start"  # the echo handler took it, not the start handler


async def test_retry_after_reaches_the_error_handler_and_polling_goes_on(fake_bot_api, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    errors = []
    fault = fake_bot_api.fail("sendMessage", 429, retry_after=1)
    async with running(build_application(fake_bot_api, errors)):
        fake_bot_api.send_text(USER, "first")
        await fake_bot_api.wait_for(lambda call: call.status == 429, method="sendMessage")
        fake_bot_api.send_text(USER, "second")
        [reply] = await fake_bot_api.wait_for_messages(USER, 1)
    # PTB without a rate limiter does not retry: the first reply is lost, the handler's error is
    # RetryAfter carrying Telegram's retry_after, and the next update is served normally.
    assert reply["text"] == "second"
    assert fault.hits == 1 and fault.remaining == 0
    [error] = errors
    assert isinstance(error, RetryAfter) and error.retry_after == dtm.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("status", "exception", "ptb_message"),
    [
        (500, NetworkError, "Internal Server Error"),
        (502, NetworkError, "Bad Gateway"),
        (403, Forbidden, "Forbidden: bot was blocked by the user"),
        (400, BadRequest, "Chat not found"),  # PTB strips "Bad Request: " and capitalises
    ],
)
async def test_api_errors_surface_as_ptb_exceptions(fake_bot_api, status, exception, ptb_message):
    errors = []
    fake_bot_api.fail("sendMessage", status, chat_id=USER, times=None)
    async with running(build_application(fake_bot_api, errors)):
        fake_bot_api.send_text(USER, "hello")
        await fake_bot_api.wait_for(lambda call: call.status == status, method="sendMessage")
        fake_bot_api.recover()
        fake_bot_api.send_text(USER, "again")
        [reply] = await fake_bot_api.wait_for_messages(USER, 1)
    assert reply["text"] == "again"
    [error] = errors
    assert type(error) is exception and error.message == ptb_message


async def test_a_failing_get_updates_is_retried_by_the_updater(fake_bot_api):
    fake_bot_api.fail("getUpdates", 502, times=1)
    async with running(build_application(fake_bot_api)):
        fake_bot_api.send_text(USER, "still there?")
        [reply] = await fake_bot_api.wait_for_messages(USER, 1)
    assert reply["text"] == "still there?"
    assert [call.status for call in fake_bot_api.calls_to("getUpdates")][0] == 502


async def test_a_slow_answer_times_out_in_ptb_but_the_message_was_sent(fake_bot_api):
    errors = []
    fake_bot_api.delay("sendMessage", 0.5)
    application = build_application(fake_bot_api, errors, write_timeout=0.1, read_timeout=0.1)
    async with running(application):
        fake_bot_api.send_text(USER, "slow")
        [sent] = await fake_bot_api.wait_for_messages(USER, 1)
        await application.update_queue.join()
        while not errors:  # the error handler runs as its own task
            await asyncio.sleep(0.01)
    assert sent["text"] == "slow"
    assert isinstance(errors[0], TimedOut)


async def test_stop_does_not_wait_for_a_pending_long_poll(fake_bot_api):
    application = build_application(fake_bot_api)
    async with application:
        await application.start()
        await application.updater.start_polling(poll_interval=0.0, timeout=30)
        await fake_bot_api.wait_for_long_poll()
        started = time.monotonic()
        await application.updater.stop()
        await application.stop()
    assert time.monotonic() - started < 2


async def test_updates_confirmed_by_offset_are_not_delivered_again(fake_bot_api):
    first = fake_bot_api.send_text(USER, "one")
    second = fake_bot_api.send_text(USER, "two")
    async with Bot(fake_bot_api.token, base_url=fake_bot_api.base_url) as bot:
        updates = await bot.get_updates(timeout=0)
        assert [u.update_id for u in updates] == [first, second]
        assert [u.update_id for u in await bot.get_updates(offset=second, timeout=0)] == [second]
        assert await bot.get_updates(offset=second + 1, limit=5, timeout=0) == ()
    assert fake_bot_api.pending_updates() == []
    await fake_bot_api.wait_for_confirmed(second)


async def test_long_poll_waits_for_an_update_and_returns_empty_when_idle(fake_bot_api):
    async with Bot(fake_bot_api.token, base_url=fake_bot_api.base_url) as bot:
        started = time.monotonic()
        assert await bot.get_updates(timeout=1) == ()
        assert 0.9 < time.monotonic() - started < 1.8

        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await fake_bot_api.wait_for_long_poll()
        started = time.monotonic()
        update_id = fake_bot_api.send_text(USER, "now")
        [update] = await poll
        assert update.update_id == update_id and update.message.text == "now"
        assert time.monotonic() - started < 1


def test_stopping_the_server_releases_a_pending_long_poll():
    fake = FakeBotApi().start()
    url = f"{fake.base_url}{fake.token}/getUpdates?timeout=30"
    outcome = {}

    def poll():
        with urllib.request.urlopen(url, timeout=10) as response:
            outcome["body"] = json.loads(response.read())

    thread = threading.Thread(target=poll)
    thread.start()
    fake.wait_for_long_poll().blocking()
    started = time.monotonic()
    fake.stop()
    thread.join(timeout=5)
    assert time.monotonic() - started < 1.5
    assert outcome["body"] == {"ok": True, "result": []}


async def test_documents_buttons_commands_chats_and_files_through_ptb(fake_bot_api):
    async with Bot(fake_bot_api.token, base_url=fake_bot_api.base_url, base_file_url=fake_bot_api.base_file_url) as bot:
        assert bot.username == fake_bot_api.bot_username and bot.id == 123
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.send_message(USER, "nobody wrote to the bot yet")

        upload_update = fake_bot_api.send_document(USER, "policy.pdf", b"%PDF-1.4 fake", "application/pdf")
        [update] = await bot.get_updates(timeout=0)
        assert update.update_id == upload_update
        incoming = await update.message.document.get_file()
        assert bytes(await incoming.download_as_bytearray()) == b"%PDF-1.4 fake"

        sent = await bot.send_document(USER, b"quarterly report", filename="report.txt", caption="Report")
        [call] = fake_bot_api.calls_to("sendDocument")
        assert call.files["document"].filename == "report.txt"
        assert call.files["document"].content == b"quarterly report"
        assert sent.document.file_name == "report.txt" and sent.caption == "Report"

        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
        message = await bot.send_message(USER, "pick", reply_markup=keyboard)
        assert fake_bot_api.calls_to("sendMessage")[-1].params["reply_markup"] == keyboard.to_dict()
        edited = await bot.edit_message_reply_markup(USER, message.message_id, reply_markup=None)
        assert edited.reply_markup is None
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await bot.edit_message_text("pick", USER, message.message_id)
        with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
            too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
            await bot.send_message(USER, "pick", reply_markup=too_long)
        with pytest.raises(BadRequest, match="(?i)can't parse entities"):
            await bot.send_message(USER, "a <script> b", parse_mode="HTML")
        assert await bot.delete_message(USER, message.message_id)
        with pytest.raises(BadRequest, match="(?i)message to delete not found"):
            await bot.delete_message(USER, message.message_id)

        assert await bot.send_chat_action(USER, "typing")
        assert await bot.set_my_commands([BotCommand("start", "Begin"), BotCommand("help", "How to ask")])
        assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
        chat = await bot.get_chat(USER)
        assert chat.id == USER and chat.type == "private"


async def test_button_press_needs_a_single_answer_and_sees_the_edited_message(fake_bot_api):
    fake_bot_api.send_text(USER, "hi")
    async with Bot(fake_bot_api.token, base_url=fake_bot_api.base_url) as bot:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])
        message = await bot.send_message(USER, "menu", reply_markup=keyboard)
        await bot.edit_message_text("menu, edited", USER, message.message_id, reply_markup=keyboard)
        fake_bot_api.press_button(USER, message.to_dict(), "go")
        updates = await bot.get_updates(timeout=0)
        query = updates[-1].callback_query
        assert query.message.text == "menu, edited" and query.data == "go" and query.from_user.id == USER
        assert await query.answer("ok")
        with pytest.raises(BadRequest, match="(?i)query is too old"):
            await query.answer("twice")
    assert fake_bot_api.callback_answer(query.id)["text"] == "ok"


async def test_user_media_and_edits_arrive_as_ptb_objects(fake_bot_api):
    fake_bot_api.send_photo(USER, caption="screenshot")
    fake_bot_api.send_sticker(USER, emoji="🙂")
    group = -100
    fake_bot_api.send_text(USER, "/start@policy_advisor_test_bot", chat_id=group, chat_type="supergroup")
    first = fake_bot_api.send_text(USER, "tpyo")
    async with Bot(fake_bot_api.token, base_url=fake_bot_api.base_url) as bot:
        updates = await bot.get_updates(timeout=0)
        message_id = updates[-1].message.message_id
        fake_bot_api.edit_text(USER, message_id, "typo")
        edited = (await bot.get_updates(offset=first + 1, timeout=0))[0]
    photo, sticker, command = (u.message for u in updates[:3])
    assert photo.caption == "screenshot" and len(photo.photo) == 2
    assert sticker.sticker.emoji == "🙂"
    assert command.chat.type == "supergroup" and command.entities[0].type == "bot_command"
    assert command.entities[0].length == len("/start@policy_advisor_test_bot")
    assert edited.edited_message.text == "typo" and edited.edited_message.message_id == message_id


def test_html_parse_mode_follows_telegram():
    # offsets count UTF-16 units: the emoji is two
    assert parse_html("a &lt;b&gt; <i>é😀</i>&amp;") == (
        "a <b> é😀&",
        [{"type": "italic", "offset": 6, "length": 3}],
    )
    assert parse_html('<a href="https://x.org/?a=1&amp;b=2">x</a>')[1][0]["url"] == "https://x.org/?a=1&b=2"
    for bad in ("1 < 2", "Tom & Jerry", "<b>open", "<b><i>x</b></i>", "<script>x</script>"):
        with pytest.raises(Exception, match="can't parse entities"):
            parse_html(bad)


async def test_a_wait_that_is_never_awaited_fails_the_test(fake_bot_api):
    fake_bot_api.wait_for_messages(USER, 1)  # forgot `await`: this must not pass silently
    with pytest.raises(AssertionError, match="never awaited"):
        fake_bot_api.check_all_waits_awaited()
    with pytest.raises(AssertionError, match=r"timed out after 0.1s waiting for 1 message\(s\) to chat 4242"):
        await fake_bot_api.wait_for_messages(USER, 1, timeout=0.1)


async def test_faults_can_target_one_chat_and_unknown_methods_say_so(fake_bot_api):
    other = 777
    fake_bot_api.send_text(USER, "hi")
    fake_bot_api.send_text(other, "hi")
    blocked = fake_bot_api.fail("sendMessage", 403, chat_id=USER, times=None)
    fake_bot_api.handle("sendSchoolNotice", lambda params: {"notice_for": params["chat_id"]})
    async with Bot(fake_bot_api.token, base_url=fake_bot_api.base_url) as bot:
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(USER, "hello")
        mark = fake_bot_api.call_count
        assert (await bot.send_message(other, "hello")).text == "hello"
        assert [m["text"] for m in await fake_bot_api.wait_for_messages(other, 1, since=mark)] == ["hello"]
        assert blocked.hits == 1 and blocked.remaining is None
        assert await bot.do_api_request("sendSchoolNotice", {"chat_id": other}) == {"notice_for": other}
        with pytest.raises(InvalidToken, match="does not implement sendVenue"):  # PTB's reading of a 404
            await bot.send_venue(other, 51.5, -0.1, "School", "1 High St")
        fake_bot_api.recover()
        assert (await bot.send_message(USER, "unblocked")).text == "unblocked"


@pytest_asyncio.fixture
async def fixture_loop():
    return asyncio.get_running_loop()


async def test_async_fixtures_and_tests_share_one_event_loop(fixture_loop):
    # conftest puts async tests on the session loop that pyproject gives async fixtures, so an
    # Application built in a fixture can be driven by the test.
    assert fixture_loop is asyncio.get_running_loop()


async def test_sends_to_one_chat_faster_than_its_limit_get_429_with_retry_after(fake_bot_api):
    other = 778
    fake_bot_api.send_text(USER, "hi")
    fake_bot_api.send_text(other, "hi")
    fake_bot_api.limit_per_chat(1.0)
    async with Bot(fake_bot_api.token, base_url=fake_bot_api.base_url) as bot:
        await bot.send_message(USER, "one")
        with pytest.raises(RetryAfter) as limited:
            await bot.send_message(USER, "two")
        assert limited.value.retry_after in (1, dtm.timedelta(seconds=1))
        assert (await bot.send_message(other, "elsewhere")).text == "elsewhere"  # the limit is per chat
        await asyncio.sleep(1.05)
        assert (await bot.send_message(USER, "two")).text == "two"
        fake_bot_api.limit_per_chat(None)
        await bot.send_message(USER, "three")
        assert (await bot.send_message(USER, "four")).text == "four"
