"""Nobody let in: office actions only for ADMIN_USER_IDS in the office chat or in private, forged buttons
refused, /status only for the filer, the token never in logs or messages, a private database file, deletion
that really deletes, the webhook's secret token, and a rate limit that is polite, fair and never holds back
a safeguarding message. The real bot, model and SQLite; `policybot serve` itself for the webhook."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import sqlite3
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from bot_fixtures import ADMIN, ESCALATION_CHAT, OFFICE_CHAT, SECOND_ADMIN
from fake_bot_api import FakeBotApi, running
from telegram_helpers import become, button, buttons, complete_breach_report, end_of_turn, press, say, settle

pytestmark = pytest.mark.slow

STAFF = 7001
PARENT = 7002
OUTSIDER = 7003  # an admin of some other group; not office staff
OTHER_GROUP = -7007
REPO = Path(__file__).resolve().parent.parent
REFUSED = "Sorry — that is only available to the school office."
UNSURE = "Can I play music from Spotify in assembly?"


def table_rows(database: Path, sql: str, params=()) -> list[tuple]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return db.execute(sql, params).fetchall()


def everything_in(database: Path) -> str:
    """The whole database as text, to look for anything about a person."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return "\n".join(db.iterdump())


async def open_case_and_item(fake):
    """A breach report (with a screenshot) and an unanswered question, both noticed in the office chat."""
    await become(fake, STAFF, "staff")
    stored = await complete_breach_report(fake, STAFF, photo=True)
    ref = next(w.strip(".,") for w in stored["text"].split() if w.startswith("BR-"))
    await say(fake, STAFF, UNSURE)
    notices = await fake.wait_for_messages(OFFICE_CHAT, 2, timeout=15)
    case_notice = next(m for m in notices if ref in m["text"])
    item_notice = next(m for m in notices if "Spotify" in m["text"])
    item = int(button(item_notice, "Dismiss").split(":")[2])
    return ref, case_notice, item_notice, item


async def test_office_commands_and_buttons_refuse_outsiders_and_admins_elsewhere(fake_bot_api, start_bot, telegram_settings):
    fake = fake_bot_api
    fake.add_chat(OTHER_GROUP, "supergroup", title="PTA committee")
    async with start_bot():
        ref, case_notice, item_notice, item = await open_case_and_item(fake)
        staff_seen = len(fake.sent_messages(STAFF))
        commands = ["/unanswered", "/reports", f"/case {ref}", f"/close {ref} nothing to see", "/stats",
                    f"/answer U-{item} 6.5", f"/reports@{fake.bot_username}", f"/case@{fake.bot_username} {ref}",
                    "/answers", "/unlearn A-1"]
        askers = [
            (PARENT, None, "private"),            # a parent in private
            (OUTSIDER, OTHER_GROUP, "supergroup"),  # the admin of another group, in that group
            (OUTSIDER, OFFICE_CHAT, "supergroup"),  # someone who got into the office chat
            (SECOND_ADMIN, OTHER_GROUP, "supergroup"),  # office staff, but in a chat that is not the office's
        ]
        for user, chat, chat_type in askers:
            target = user if chat is None else chat
            for command in commands:
                before = len(fake.sent_messages(target))
                fake.send_text(user, command, chat_id=chat, chat_type=chat_type)
                [*_, reply] = await fake.wait_for_messages(target, before + 1, timeout=15)
                assert reply["text"] == REFUSED, (user, chat, command)

        # Every button the office has, and forged ones, pressed by outsiders on the office's own messages.
        genuine = [data for _, data in buttons(case_notice) + buttons(item_notice)]
        assert {d.split(":")[1] for d in genuine} >= {"k", "c", "e", "a", "w", "d"}
        forged = [f"of:k:{ref[:-1]}9", f"of:a:{item}:99.9", f"of:d:{item + 1}", "of:w:", "of:", "of:x:y:z"]
        for user in (PARENT, OUTSIDER):
            for data in genuine + forged:
                since = len(fake.calls)
                fake.press_button(user, case_notice, data)
                call = await fake.wait_for(method="answerCallbackQuery", since=since, timeout=15)
                assert call.params.get("text") == REFUSED, (user, data)
        for user in (PARENT, OUTSIDER):
            await end_of_turn(fake, user)
        assert len(fake.sent_messages(STAFF)) == staff_seen  # the reporter and asker heard nothing more
        assert not fake.calls_to("sendPhoto")  # no evidence shown to anyone
        for chat in (PARENT, OUTSIDER, OTHER_GROUP):
            leaked = [m["text"] for m in fake.sent_messages(chat) if ref in m["text"] or "Spotify" in m["text"]]
            assert not leaked, leaked
    database = telegram_settings.database_path
    assert table_rows(database, "SELECT status FROM breach_reports") == [("open",)]
    assert table_rows(database, "SELECT status FROM unanswered") == [("open",)]
    assert table_rows(database, "SELECT count(*) FROM audit_log") == [(0,)]
    assert table_rows(database, "SELECT count(*) FROM learned_alternates") == [(0,)]


async def test_forged_callback_data_is_refused_even_for_the_office(fake_bot_api, start_bot, telegram_settings):
    fake = fake_bot_api
    async with start_bot():
        ref, case_notice, item_notice, item = await open_case_and_item(fake)
        forged = {
            "of:k:BR-2026-9999": "BR-2026-9999",                 # a made-up reference
            f"of:k:{ref}' OR '1'='1": None,                       # SQL in the data
            f"of:a:{item + 7}:6.5": None,                         # an item that does not exist
            f"of:a:{item}:99.99": None,                           # a section that does not exist
            f"of:d:-1": None,
            "of:e:CR-2026-0001": None,                            # evidence of a case that is not there
            "of:zz": None,
            "of:" + "9" * 55: None,
        }
        for data in forged:
            since = len(fake.calls)
            fake.press_button(ADMIN, item_notice, data)
            call = await fake.wait_for(method="answerCallbackQuery", since=since, timeout=15)
            assert call.params.get("text"), data  # told why nothing happened
        await end_of_turn(fake, ADMIN)
    database = telegram_settings.database_path
    assert table_rows(database, "SELECT ref, status FROM breach_reports") == [(ref, "open")]
    assert table_rows(database, "SELECT status FROM unanswered") == [("open",)]
    assert table_rows(database, "SELECT count(*) FROM learned_alternates") == [(0,)]
    assert not fake.calls_to("sendPhoto")


async def test_status_answers_only_the_person_who_filed_it(fake_bot_api, start_bot):
    fake = fake_bot_api
    async with start_bot():
        await become(fake, STAFF, "staff")
        named = await complete_breach_report(fake, STAFF, photo=False)
        named_ref = next(w.strip(".,") for w in named["text"].split() if w.startswith("BR-"))
        anonymous = await complete_breach_report(fake, STAFF, photo=False, anonymous=True)
        anonymous_ref = next(w.strip(".,") for w in anonymous["text"].split() if w.startswith("BR-"))
        [mine] = await say(fake, STAFF, f"/status {named_ref.lower()}")
        assert named_ref in mine["text"] and "not yet looked at" in mine["text"]

        await become(fake, PARENT, "parent")
        for asker in (PARENT, ADMIN):  # another person, even office staff in private, learns nothing here
            for text in (f"/status {named_ref}", f"/status {anonymous_ref}", f"/status {named_ref}' OR '1'='1",
                         "/status %", "/status BR-2026-*"):
                [reply] = await say(fake, asker, text)
                assert "can't find" in reply["text"], (asker, text)
                assert "not yet looked at" not in reply["text"] and "Instagram" not in reply["text"]
        # An anonymous report is not linked to anyone, so not even its reporter can be traced through /status.
        [reply] = await say(fake, STAFF, f"/status {anonymous_ref}")
        assert "can't find" in reply["text"]


async def test_the_token_never_appears_in_logs_or_error_messages(advisor, bot_settings, caplog):
    from bot.serve import configure_logging
    from bot.telegram.app import build_application

    token = "987654:SeCrEtToKeN_ForTheLogTest"
    configure_logging("DEBUG")  # as `policybot serve` sets it up
    caplog.set_level(logging.DEBUG)
    with FakeBotApi(token=token) as fake:
        fake.add_chat(OFFICE_CHAT, "supergroup", title="Office")
        settings = replace(bot_settings, telegram_bot_token=token, telegram_base_url=fake.base_url)
        application = build_application(settings, advisor, outbox_interval=0.3, backoff_base=0.05)
        fake.fail("sendMessage", 500, times=None, chat_id=OFFICE_CHAT)  # the outbox fails and logs
        async with running(application):
            await become(fake, STAFF, "staff")
            fake.fail("sendMessage", 400, times=1, chat_id=STAFF, description=f"Bad Request: {token} echoed back")
            before = len(fake.sent_messages(STAFF))
            fake.send_text(STAFF, UNSURE)  # the reply fails: the error handler logs and apologises
            await fake.wait_for(lambda c: c.status == 400, method="sendMessage", timeout=15)
            await fake.wait_for(lambda c: c.status == 500, method="sendMessage", timeout=15)
            fake.fail("getUpdates", 502, times=2)  # polling itself fails
            await fake.wait_for(lambda c: c.status == 502, method="getUpdates", timeout=15)
            await fake.wait_for_messages(STAFF, before + 1, timeout=15)
            fake.recover()
        sent = [c.params.get("text", "") for c in fake.calls_to("sendMessage")]
    assert any("went wrong" in text for text in sent)
    assert "failed" in caplog.text  # the failures were logged…
    secret = token.split(":")[1].lower()  # PTB rewrites error text (capitalises it): compare ignoring case
    assert secret not in caplog.text.lower()  # …without the token
    assert not [text for text in sent if secret in text.lower()]
    assert str(STAFF) not in "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot"))


async def test_the_database_is_created_private_whatever_the_umask(start_bot, telegram_settings, fake_bot_api):
    previous = os.umask(0)  # the most permissive umask a server could have
    try:
        async with start_bot():
            await become(fake_bot_api, STAFF, "staff")
            await say(fake_bot_api, STAFF, UNSURE)
            database = telegram_settings.database_path
            files = [database] + [Path(f"{database}{suffix}") for suffix in ("-wal", "-shm") if Path(f"{database}{suffix}").exists()]
            modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}
    finally:
        os.umask(previous)
    assert modes[database.name] == 0o600
    assert all(mode & 0o077 == 0 for mode in modes.values()), {name: oct(mode) for name, mode in modes.items()}


async def test_forget_and_the_retention_job_really_delete(fake_bot_api, start_bot, telegram_settings):
    fake = fake_bot_api
    database = telegram_settings.database_path
    async with start_bot() as application:
        await become(fake, PARENT, "parent")
        [answer, *_] = await say(fake, PARENT, "Can I complain about a teacher on Facebook?")
        fake.press_button(PARENT, answer, button(answer, "👍"))
        await fake.wait_for(lambda c: c.method == "answerCallbackQuery" and c.params.get("text"), timeout=15)
        await say(fake, PARENT, UNSURE)
        [notice] = await fake.wait_for_messages(OFFICE_CHAT, 1, timeout=15)
        fake.press_button(ADMIN, notice, button(notice, "Answer with"))  # the answer reaches them…
        await fake.wait_for(lambda c: c.method == "editMessageText", timeout=15)
        await end_of_turn(fake, ADMIN)  # the answer went out with the press
        key = application.bot_data["store"].people.user_key("telegram", PARENT)
        assert "Spotify" in everything_in(database) and key in everything_in(database)

        [confirm] = await say(fake, PARENT, "/forget")
        [done] = await press(fake, PARENT, confirm, button(confirm, "Yes") if buttons(confirm) else "fg:yes")
        assert "erased" in done["text"]
        dump = everything_in(database)
        # …and after /forget nothing about them is left: not their pseudonym, their chat, nor their questions.
        assert key not in dump
        assert f"'{PARENT}'" not in dump and f",{PARENT}," not in dump
        assert "Spotify" not in dump.replace(table_rows(database, "SELECT text FROM learned_alternates")[0][0], "")

        # Retention: others' old questions go, a report within REPORT_RETENTION_DAYS stays, an older one goes.
        await become(fake, STAFF, "staff")
        await say(fake, STAFF, "Can I accept a friend request from a pupil?")
        kept = await complete_breach_report(fake, STAFF, photo=False)
        kept_ref = next(w.strip(".,") for w in kept["text"].split() if w.startswith("BR-"))
        old = await complete_breach_report(fake, STAFF, photo=False)
        old_ref = next(w.strip(".,") for w in old["text"].split() if w.startswith("BR-"))
        with sqlite3.connect(database) as db:
            long_ago = "2001-01-01T00:00:00+00:00"
            for table, column in (("questions", "created"), ("profiles", "last_seen"), ("feedback", "created"),
                                  ("unanswered", "created"), ("conversation_state", "updated")):
                db.execute(f"UPDATE {table} SET {column} = ?", [long_ago])
            db.execute("UPDATE breach_reports SET created = ? WHERE ref = ?", [long_ago, old_ref])
        [job] = application.job_queue.get_jobs_by_name("retention")
        await job.run(application)
    for table in ("questions", "profiles", "feedback", "unanswered", "conversation_state"):
        assert table_rows(database, f"SELECT count(*) FROM {table}") == [(0,)], table
    assert table_rows(database, "SELECT ref FROM breach_reports") == [(kept_ref,)]


async def test_rate_limit_is_polite_fair_and_never_holds_back_safeguarding(fake_bot_api, start_bot, telegram_settings):
    fake = fake_bot_api
    limit = 5
    async with start_bot(replace(telegram_settings, rate_limit_per_minute=limit)):
        await become(fake, PARENT, "parent")
        await become(fake, STAFF, "staff")  # /start is one message of the limit (buttons are not counted)
        before = len(fake.sent_messages(STAFF))
        flood = ["Can I accept a friend request from a pupil?"] * 12
        for text in flood:
            fake.send_text(STAFF, text)
        fake.send_text(STAFF, "I think a pupil is being groomed online by an adult")
        other_call = len(fake.calls)
        fake.send_text(PARENT, "/help")  # someone else, during the flood
        [*_, help_reply] = await fake.wait_for_messages(PARENT, len(fake.sent_messages(PARENT)) + 1, timeout=30)
        await fake.wait_for(lambda c: "999" in (c.params.get("text") or ""), method="sendMessage", timeout=60)
        await end_of_turn(fake, STAFF)
        replies = [m["text"] for m in fake.sent_messages(STAFF)[before:]]
    assert "/report" in help_reply["text"]
    polite = [text for text in replies if "quickly" in text]
    answers = [text for text in replies if "Section 6.5" in text]
    # The limit's worth answered; "slow down" said once in the window, not once per message over it.
    assert len(answers) == limit - 1 and len(polite) == 1
    assert any("999" in text for text in replies)  # the safeguarding message, answered whatever the flood
    assert all(len(text) < 400 for text in polite)
    # The other person was not kept waiting for the flood to be worked through.
    help_index = next(i for i, c in enumerate(fake.calls) if c.method == "sendMessage" and str(c.chat_id) == str(PARENT) and i >= other_call)
    last_flood_reply = max(i for i, c in enumerate(fake.calls) if c.method == "sendMessage" and str(c.chat_id) == str(STAFF))
    assert help_index < last_flood_reply


# --- webhook ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post_update(port: int, update: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram/hook", data=json.dumps(update).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


async def test_serve_in_webhook_mode_rejects_requests_without_the_right_secret(fake_bot_api, telegram_settings, tmp_path):
    fake = fake_bot_api
    port, secret = free_port(), "a-long-webhook-secret-42"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(REPO),  # this checkout's code, whichever the console script was installed from
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_BASE_URL": fake.base_url,
        "OFFICE_CHAT_ID": str(OFFICE_CHAT),
        "ESCALATION_CHAT_ID": str(ESCALATION_CHAT),
        "ADMIN_USER_IDS": str(ADMIN),
        "DSL_CONTACT": "Ms Rivera, 01234 567891",  # a live bot must name the school's DSL
        "DATABASE_PATH": str(telegram_settings.database_path),
        "CACHE_DIR": str(REPO / "data" / "cache"),
        "WEBHOOK_URL": "https://bot.example.org/telegram/hook",
        "WEBHOOK_SECRET": secret,
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "WEB_PORT": "off",  # WEBHOOK_LISTEN/PORT apply to the bot alone (with the web chat on, see test_web_serve.py)
    }
    fake.add_chat(STAFF, "private")  # the updates come straight to the webhook, not through the fake
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(Path(sys.executable).parent / "policybot"), "serve"], cwd=tmp_path, env=env,
                                   stdout=out, stderr=out)
    try:
        registered = await fake.wait_for(method="setWebhook", timeout=120)
        assert registered.params["url"] == "https://bot.example.org/telegram/hook"
        assert registered.params["secret_token"] == secret

        def update(update_id: int, text: str) -> dict:
            return {"update_id": update_id, "message": {
                "message_id": update_id, "date": 0, "chat": {"id": STAFF, "type": "private"},
                "from": {"id": STAFF, "is_bot": False, "first_name": "S"}, "text": text,
                "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}}

        for attempt in range(100):  # the webhook server starts just after registering
            try:
                status = await asyncio.to_thread(post_update, port, update(1, "/help"), None)
                break
            except (ConnectionError, urllib.error.URLError):
                await asyncio.sleep(0.2)
        assert status == 403
        assert await asyncio.to_thread(post_update, port, update(2, "/help"), "wrong-secret") == 403
        assert await asyncio.to_thread(post_update, port, update(3, "/help"), secret[:-1]) == 403
        assert await asyncio.to_thread(post_update, port, update(4, "/privacy"), secret) == 200
        [reply] = await fake.wait_for_messages(STAFF, 1, timeout=30)
        await asyncio.sleep(1.0)
        assert [m["text"][:40] for m in fake.sent_messages(STAFF)] == [reply["text"][:40]]  # only the genuine one
        assert "pseudonym" in reply["text"]  # /privacy, not /help
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    assert fake.token.split(":")[1] not in log.read_text(errors="replace")


async def test_a_persons_buttons_count_only_in_their_own_private_chat(fake_bot_api, start_bot, telegram_settings):
    fake = fake_bot_api
    async with start_bot():
        await become(fake, STAFF, "staff")
        [answer] = await say(fake, STAFF, "Can I accept a friend request from a pupil?")
        await become(fake, PARENT, "parent")
        await say(fake, PARENT, UNSURE)
        [notice] = await fake.wait_for_messages(OFFICE_CHAT, 1, timeout=15)
        office_seen, staff_seen = len(fake.sent_messages(OFFICE_CHAT)), len(fake.sent_messages(STAFF))
        # Forged people's buttons pressed in the office chat run nothing there.
        for user in (OUTSIDER, ADMIN):
            for data in ("go:breach", "go:complaint", "role:staff", "sec:6.5", "fg:yes", "sg:alert", "cancel"):
                since = len(fake.calls)
                fake.press_button(user, notice, data)
                call = await fake.wait_for(method="answerCallbackQuery", since=since, timeout=15)
                assert "no longer active" in call.params.get("text", ""), (user, data)
        # A parent pressing buttons on a staff member's message: no reply to anyone, nothing changed.
        for data in ("role:parent", "go:complaint", "sec:6.5", "fb:dn:1", "fg:yes"):
            since = len(fake.calls)
            fake.press_button(PARENT, answer, data)
            call = await fake.wait_for(method="answerCallbackQuery", since=since, timeout=15)
            assert "no longer active" in call.params.get("text", ""), data
        await end_of_turn(fake, PARENT)
        await settle(fake, OFFICE_CHAT, quiet=0.5)
        assert len(fake.sent_messages(OFFICE_CHAT)) == office_seen and len(fake.sent_messages(STAFF)) == staff_seen
    database = telegram_settings.database_path
    assert table_rows(database, "SELECT count(*) FROM feedback") == [(0,)]
    assert sorted(table_rows(database, "SELECT role FROM profiles")) == [("parent",), ("staff",)]
    assert table_rows(database, "SELECT count(*) FROM conversation_state WHERE state LIKE '%flow%'") == [(0,)]


async def test_an_admin_cannot_tell_an_escalated_case_from_no_case(fake_bot_api, start_bot):
    fake = fake_bot_api
    async with start_bot():
        await become(fake, STAFF, "staff")
        stored = await complete_breach_report(fake, STAFF, leadership="yes", photo=True, anonymous=True)
        ref = next(w.strip(".,") for w in stored["text"].split() if w.startswith("BR-"))
        [notice] = await fake.wait_for_messages(ESCALATION_CHAT, 1, timeout=15)
        missing = f"BR-{ref[3:7]}-9999"
        replies = {}
        for verb in "kce":  # acknowledge, close with a note, show the screenshots
            for which, target in (("escalated", ref), ("missing", missing)):
                since = len(fake.calls)
                fake.press_button(ADMIN, notice, f"of:{verb}:{target}")
                call = await fake.wait_for(method="answerCallbackQuery", since=since, timeout=15)
                replies[(verb, which)] = (call.params.get("text"), call.params.get("show_alert"))
        for verb in "kce":
            assert replies[(verb, "escalated")] == replies[(verb, "missing")] == (REFUSED, True)
        commands = {}
        for which, target in (("escalated", ref), ("missing", missing)):
            for command in (f"/case {target}", f"/close {target} done"):
                [reply] = await say(fake, ADMIN, command)
                commands[(command.split()[0], which)] = reply["text"].replace(target, "REF")
        assert commands[("/case", "escalated")] == commands[("/case", "missing")]
        assert commands[("/close", "escalated")] == commands[("/close", "missing")]
    assert not fake.calls_to("sendPhoto")


async def test_message_text_and_names_stay_out_of_the_logs_at_debug(fake_bot_api, start_bot, caplog):
    from bot.serve import configure_logging

    fake = fake_bot_api
    secret_words = "Zanzibar marmalade sandwiches"
    fake.set_user(PARENT, first_name="Philippa", last_name="Quartermaine", username="pquartermaine")
    configure_logging("DEBUG")  # as `policybot serve` sets it up with LOG_LEVEL=DEBUG
    caplog.set_level(logging.DEBUG)
    async with start_bot():
        await become(fake, PARENT, "parent")
        await say(fake, PARENT, f"Can I post about {secret_words} on Facebook?")
        await say(fake, PARENT, f"/complaint {secret_words}")
    logged = caplog.text
    assert "Application started" in logged  # the logs were captured
    for private in (secret_words, "Philippa", "Quartermaine", "pquartermaine"):
        assert private not in logged, private
