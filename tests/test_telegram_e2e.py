"""End to end: the real PTB Application polling the fake Bot API on 127.0.0.1, a real SQLite file, the
real model. Each test speaks as people and the office and checks what Telegram was asked to send."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot_fixtures import ADMIN, CHAIR, ESCALATION_CHAT, OFFICE_CHAT, SECOND_ADMIN
from telegram_helpers import become, button, buttons, complete_breach_report, end_of_turn, open_store, press, say

pytestmark = pytest.mark.slow

STAFF = 5001
PARENT = 5002
STRANGER = 5003


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
        from bot.store import Store

        store = Store(telegram_settings.database_path)
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


async def test_unanswered_question_reaches_the_office_and_the_answer_reaches_the_asker(fake_bot_api, start_bot, telegram_settings):
    fake = fake_bot_api
    question = "Can I use AI chatbots to write reports?"  # the policy does not say: it goes to the office
    async with start_bot():
        await become(fake, STAFF, "staff")
        [not_sure, *_] = await say(fake, STAFF, question)
        assert "not sure" in not_sure["text"].lower()
        assert "office" in not_sure["text"].lower()
        did_you_mean = [data for _, data in buttons(not_sure) if data.startswith("sec:")]
        assert 1 <= len(did_you_mean) <= 3

        [notice] = await fake.wait_for_messages(OFFICE_CHAT, 1, timeout=10)
        assert question in notice["text"]
        answer_with = [(label, data) for label, data in buttons(notice) if label.startswith("Answer with")]
        assert answer_with and any(label == "Write an answer" for label, _ in buttons(notice))
        label, data = answer_with[0]
        section = label.removeprefix("Answer with ").strip()

        before = len(fake.sent_messages(STAFF))
        fake.press_button(ADMIN, notice, data)
        [*_, delivered] = await fake.wait_for_messages(STAFF, before + 1, timeout=10)
        assert question in delivered["text"] and f"Section {section}" in delivered["text"]
        # The office message now says what was done, and its buttons are gone.
        await fake.wait_for(lambda c: c.method == "editMessageText" and "answered" in c.params.get("text", ""), timeout=10)
        assert not buttons(fake.message(OFFICE_CHAT, notice["message_id"]))

        # The engine learned the question: asked again, it is answered with that section, no restart.
        [answer, *_] = await say(fake, STAFF, question)
        assert f"Section {section}" in answer["text"]

    store = open_store(telegram_settings)
    try:
        [item] = list(store.db["unanswered"].rows)
        assert item["status"] == "answered" and item["resolved_by"] == f"tg:{ADMIN}"
        learned = list(store.db["learned_alternates"].rows)
        assert [(r["text"]) for r in learned] == [question]
        assert set(learned[0]) == {"id", "clause_id", "text", "created"}  # no link to the asker
        assert any(e["action"] == "answer" for e in store.audit.entries())
    finally:
        store.close()


async def office_starts_writing_an_answer(fake) -> dict:
    """A parent's question the bot cannot answer reaches the office, and an admin presses "Write an answer"."""
    await become(fake, PARENT, "parent")
    await say(fake, PARENT, "Can I run a crypto trading channel?")
    [notice] = await fake.wait_for_messages(OFFICE_CHAT, 1, timeout=10)
    fake.press_button(ADMIN, notice, button(notice, "Write an answer"))
    await fake.wait_for_messages(OFFICE_CHAT, 2, timeout=10)
    return notice


async def test_write_an_answer_goes_to_the_asker(fake_bot_api, start_bot):
    fake = fake_bot_api
    async with start_bot():
        await office_starts_writing_an_answer(fake)
        before = len(fake.sent_messages(PARENT))
        fake.send_text(ADMIN, "Please ask the class teacher <b>directly</b> & they will explain.", chat_id=OFFICE_CHAT, chat_type="supergroup")
        # Shown with the question for confirmation first; sent only when the admin says so.
        [*_, confirm] = await fake.wait_for_messages(OFFICE_CHAT, 3, timeout=10)
        assert "crypto trading channel" in confirm["text"] and "<b>directly</b> & they" in confirm["text"]
        assert len(fake.sent_messages(PARENT)) == before
        fake.press_button(ADMIN, confirm, button(confirm, "Send"))
        [*_, delivered] = await fake.wait_for_messages(PARENT, before + 1, timeout=10)
        assert "Please ask the class teacher <b>directly</b> & they will explain." in delivered["text"]


async def test_full_breach_report_reaches_the_office_chat_and_the_database(fake_bot_api, start_bot, telegram_settings):
    fake = fake_bot_api
    async with start_bot():
        await become(fake, STAFF, "staff")
        stored = await complete_breach_report(fake, STAFF, risk="identifiable")
        assert "BR-" in stored["text"]
        ref = next(w.strip(".,") for w in stored["text"].split() if w.startswith("BR-"))
        [notice] = await fake.wait_for_messages(OFFICE_CHAT, 1, timeout=10)
        assert ref in notice["text"] and "Instagram" in notice["text"] and "data-protection" in notice["text"]
        labels = [label for label, _ in buttons(notice)]
        assert "Acknowledge" in labels and "Close with a note" in labels
        assert not fake.sent_messages(ESCALATION_CHAT)

        status = await say(fake, STAFF, f"/status {ref}")
        assert "not yet looked at" in status[0]["text"]
        # Only the reporter learns the status.
        await become(fake, STRANGER, "staff")
        other = await say(fake, STRANGER, f"/status {ref}")
        assert "can't find" in other[0]["text"]

        # The office acknowledges, then closes with a note; the reporter is told.
        fake.press_button(ADMIN, notice, button(notice, "Acknowledge"))
        await fake.wait_for(lambda c: c.method == "editMessageText" and "acknowledged" in c.params.get("text", ""), timeout=10)
        status = await say(fake, STAFF, f"/status {ref}")
        assert "being looked at" in status[0]["text"]
        before = len(fake.sent_messages(STAFF))
        fake.send_text(ADMIN, f"/close {ref} Spoke to the TA; the post was removed.", chat_id=OFFICE_CHAT, chat_type="supergroup")
        [*_, closed] = await fake.wait_for_messages(STAFF, before + 1, timeout=10)
        assert ref in closed["text"] and "the post was removed" in closed["text"]

    store = open_store(telegram_settings)
    try:
        case = store.cases.get(ref)
        row = case.row
        assert row["status"] == "closed" and row["data_protection"] == 1 and row["urgent"] == 0
        assert row["where_"] == "Instagram" and "Year 5" in row["what"]
        assert len(json.loads(row["evidence"])) == 1
        assert row["reporter_key"] == store.people.user_key("telegram", STAFF)
    finally:
        store.close()


async def test_report_about_the_headteacher_goes_to_escalation_not_the_office(fake_bot_api, start_bot):
    fake = fake_bot_api
    async with start_bot():
        await become(fake, STAFF, "staff")
        stored = await complete_breach_report(fake, STAFF, leadership="yes", photo=False, anonymous=True)
        assert "chair of governors" in stored["text"]
        assert "anonymous" in stored["text"]
        [notice] = await fake.wait_for_messages(ESCALATION_CHAT, 1, timeout=10)
        assert "Breach report" in notice["text"] and "anonymous" in notice["text"]
        assert not [m for m in fake.sent_messages(OFFICE_CHAT) if "Breach report" in m["text"]]
        ref = next(w.strip(".,") for w in stored["text"].split() if w.startswith("BR-"))

        # The office can neither see nor handle it.
        [reports] = await say(fake, ADMIN, "/reports")
        assert ref not in reports["text"]
        [case] = await say(fake, ADMIN, f"/case {ref}")
        assert "There is no case" in case["text"]
        [close] = await say(fake, ADMIN, f"/close {ref} nothing to see")
        assert "There is no case" in close["text"]
        since = len(fake.calls)
        fake.press_button(ADMIN, notice, button(notice, "Acknowledge"))
        refused = await fake.wait_for(lambda c: c.method == "answerCallbackQuery", since=since, timeout=10)
        assert refused.params["text"] == "Sorry — that is only available to the school office."

        # The chair of governors handles it in the escalation chat.
        fake.press_button(CHAIR, notice, button(notice, "Acknowledge"))
        await fake.wait_for(lambda c: c.method == "editMessageText" and "acknowledged" in c.params.get("text", ""), timeout=10)
        fake.press_button(CHAIR, notice, button(notice, "Close with a note"))
        await fake.wait_for_messages(ESCALATION_CHAT, 2, timeout=10)
        fake.send_text(CHAIR, "Discussed with the headteacher.", chat_id=ESCALATION_CHAT, chat_type="group")
        [*_, closed] = await fake.wait_for_messages(ESCALATION_CHAT, 3, timeout=10)
        assert ref in closed["text"] and "closed" in closed["text"]


async def test_complaint_referral(fake_bot_api, start_bot, telegram_settings):
    fake = fake_bot_api
    async with start_bot():
        await become(fake, PARENT, "parent")
        [route] = await say(fake, PARENT, "/complaint")
        assert "10.3" in route["text"] and "personally" in route["text"]
        [about] = await press(fake, PARENT, route, "f:route:continue")
        [who] = await say(fake, PARENT, "Homework feedback for my son has stopped")
        [child] = await press(fake, PARENT, who, "f:who:skip")
        [tried] = await press(fake, PARENT, child, "f:child:skip")
        [outcome] = await say(fake, PARENT, "I spoke to the class teacher twice")
        [contact] = await say(fake, PARENT, "Regular feedback again")
        [address] = await press(fake, PARENT, contact, "f:contact:email")
        assert "email address" in address["text"]
        [summary] = await say(fake, PARENT, "parent@example.org")
        assert "Homework feedback" in summary["text"] and "By email" in summary["text"] and "parent@example.org" in summary["text"]
        [stored] = await press(fake, PARENT, summary, "f:confirm:send")
        ref = next(w.strip(".,") for w in stored["text"].split() if w.startswith("CR-"))
        [notice] = await fake.wait_for_messages(OFFICE_CHAT, 1, timeout=10)
        assert ref in notice["text"] and "Homework feedback" in notice["text"]
        status = await say(fake, PARENT, f"/status {ref}")
        assert ref in status[0]["text"]
    store = open_store(telegram_settings)
    try:
        assert store.cases.get(ref).row["tried"] == "I spoke to the class teacher twice"
    finally:
        store.close()


async def test_safeguarding_in_the_middle_of_a_breach_report(fake_bot_api, start_bot, telegram_settings):
    fake = fake_bot_api
    async with start_bot():
        await become(fake, STAFF, "staff")
        await say(fake, STAFF, "/report")
        where = await say(fake, STAFF, "Someone posted pupils' names in a public group")
        assert "Where" in where[-1]["text"]
        replies = await say(fake, STAFF, "I think a pupil is being groomed online by an adult")
        safeguarding = replies[0]
        assert "999" in safeguarding["text"] and telegram_settings.dsl_contact in safeguarding["text"]
        assert "A.2.3" in safeguarding["text"]
        # The report is not lost: the bot asks the same step again.
        assert "Where was it posted" in replies[-1]["text"]
        # Accepting the offer sends an urgent alert to the office…
        alerted, back, step = await press(fake, STAFF, safeguarding, button(safeguarding, "Alert"))
        assert "SA-" in alerted["text"]
        [alert] = await fake.wait_for_messages(OFFICE_CHAT, 1, timeout=10)
        assert "URGENT" in alert["text"] and "groomed" in alert["text"]
        # …and the report, still open, is shown again with its buttons (the ones above may be out of sight).
        assert "Back to where you were" in back["text"] and "Where was it posted" in step["text"]
        assert button(step, "Facebook") == "f:where:facebook" and button(step, "Cancel") == "cancel"
        [when] = await press(fake, STAFF, step, "f:where:facebook")
        assert "When" in when["text"]


OFFICE_ACTIONS = ["/unanswered", "/reports", "/case {ref}", "/close {ref} done", "/stats", "/answer U-{item} 6.5"]


async def test_non_admins_get_a_polite_refusal_for_every_office_command_and_button(fake_bot_api, start_bot, telegram_settings):
    fake = fake_bot_api
    other_group = -3003
    fake.add_chat(other_group, "group", title="Some other group")
    async with start_bot():
        await become(fake, STAFF, "staff")
        stored = await complete_breach_report(fake, STAFF, photo=True)
        ref = next(w.strip(".,") for w in stored["text"].split() if w.startswith("BR-"))
        await say(fake, STAFF, "Can I run a crypto trading channel?")
        notices = await fake.wait_for_messages(OFFICE_CHAT, 2, timeout=10)
        case_notice = next(m for m in notices if ref in m["text"])
        item_notice = next(m for m in notices if "Unanswered" in m["text"])
        item = int(button(item_notice, "Dismiss").split(":")[2])
        staff_messages = len(fake.sent_messages(STAFF))

        # Every office command, from a stranger in private and in the office chat, and from an admin in another group.
        for user, chat, chat_type in ((STRANGER, None, "private"), (STRANGER, OFFICE_CHAT, "supergroup"), (ADMIN, other_group, "group")):
            for command in OFFICE_ACTIONS:
                text = command.format(ref=ref, item=item)
                target = chat if chat is not None else user
                before = len(fake.sent_messages(target))
                fake.send_text(user, text, chat_id=chat, chat_type=chat_type)
                [*_, refusal] = await fake.wait_for_messages(target, before + 1, timeout=10)
                assert refusal["text"] == "Sorry — that is only available to the school office."
                assert ref not in refusal["text"]

        # Every office button, genuine and forged.
        datas = [data for _, data in buttons(case_notice) + buttons(item_notice)]
        datas += ["of:k:BR-2026-9999", "of:a:99999:6.5", "of:c:CR-2026-0001", "of:zz", "of:e:" + ref]
        refusal = "Sorry — that is only available to the school office."
        since = len(fake.calls)
        for data in datas:
            fake.press_button(STRANGER, case_notice, data)
        for count in range(1, len(datas) + 1):
            await fake.wait_for(
                lambda c, n=count: len([x for x in fake.calls[since:] if x.method == "answerCallbackQuery"]) >= n,
                since=since, timeout=10,
            )
        answers = [c.params for c in fake.calls[since:] if c.method == "answerCallbackQuery"]
        assert len(answers) == len(datas)
        assert all(a.get("text") == refusal and a.get("show_alert") for a in answers), answers

        # Nothing happened: the case is open, the question unanswered, the reporter and asker heard nothing more.
        assert len(fake.sent_messages(STAFF)) == staff_messages
        assert not fake.calls_to("sendPhoto")
    store = open_store(telegram_settings)
    try:
        assert store.cases.get(ref).status == "open"
        assert store.unanswered.item(item)["status"] == "open"
        assert not store.audit.entries()
    finally:
        store.close()


async def test_restart_in_the_middle_of_a_report_continues_where_the_person_was(fake_bot_api, start_bot, telegram_settings):
    fake = fake_bot_api
    async with start_bot():
        await become(fake, STAFF, "staff")
        await say(fake, STAFF, "/report")
        await say(fake, STAFF, "A parent shared a video of the nativity play on a public page")
        [when] = await say(fake, STAFF, "WhatsApp group of Year 2 parents")
        assert "When" in when["text"]
    # A new process: a new Application over the same database.
    async with start_bot():
        [who] = await say(fake, STAFF, "Last Friday")
        assert "Who is involved" in who["text"]
        [lead] = await say(fake, STAFF, "A parent")
        risk_q = (await press(fake, STAFF, lead, "f:leadership:no"))[-1]
        evidence = (await press(fake, STAFF, risk_q, "f:pupil_risk:identifiable"))[-1]
        anon_q = (await press(fake, STAFF, evidence, "f:evidence:done"))[-1]
        clause_q = (await press(fake, STAFF, anon_q, "f:anonymous:named"))[-1]
    async with start_bot():
        [summary] = await press(fake, STAFF, clause_q, "f:clauses:none")
        assert "nativity play" in summary["text"] and "WhatsApp group" in summary["text"] and "Last Friday" in summary["text"]
        [stored] = await press(fake, STAFF, summary, "f:confirm:send")
        assert "BR-" in stored["text"]
    store = open_store(telegram_settings)
    try:
        [report] = list(store.db["breach_reports"].rows)
        assert report["when_"] == "Last Friday" and report["who"] == "A parent" and report["pupil_risk"] == "identifiable"
        assert store.people.load_state(store.people.user_key("telegram", STAFF)) == {}
    finally:
        store.close()


async def test_office_notice_waits_in_the_outbox_until_the_office_chat_works(fake_bot_api, start_bot):
    fake = fake_bot_api
    fake.fail("sendMessage", 502, times=None, chat_id=OFFICE_CHAT)
    async with start_bot():
        await become(fake, STAFF, "staff")
        [reply, *_] = await say(fake, STAFF, "Can I play music from Spotify in assembly?")
        assert "not sure" in reply["text"].lower()  # the person is answered even though the office chat is down
        await fake.wait_for(lambda c: c.method == "sendMessage" and str(c.params.get("chat_id")) == str(OFFICE_CHAT) and not c.ok, timeout=10)
        stats = await say(fake, ADMIN, "/stats")
        assert "Undelivered notifications: 1" in stats[0]["text"]
        fake.recover()
        [notice] = await fake.wait_for_messages(OFFICE_CHAT, 1, timeout=15)
        assert "Spotify" in notice["text"]
        stats = await say(fake, ADMIN, "/stats")
        assert "Undelivered notifications: 0" in stats[0]["text"]


async def test_privacy_mydata_and_forget(fake_bot_api, start_bot, telegram_settings):
    fake = fake_bot_api
    async with start_bot():
        await become(fake, PARENT, "parent")
        await say(fake, PARENT, "Can I post photos of the school play on Facebook?")
        [privacy] = await say(fake, PARENT, "/privacy")
        assert "pseudonym" in privacy["text"] and "days" in privacy["text"]
        [mydata] = await say(fake, PARENT, "/mydata")
        assert "Role: parent" in mydata["text"] and "school play" in mydata["text"]
        [confirm] = await say(fake, PARENT, "/forget")
        assert "Reports" in confirm["text"] and "kept" in confirm["text"]
        [done] = await press(fake, PARENT, confirm, "fg:yes")
        assert "erased" in done["text"]
        [mydata] = await say(fake, PARENT, "/mydata")
        assert "school play" not in mydata["text"] and "Role:" not in mydata["text"]
    store = open_store(telegram_settings)
    try:
        key = store.people.user_key("telegram", PARENT)
        assert store.privacy.data_of(key)["questions"] == [] and store.people.role_of(key) is None
    finally:
        store.close()


async def test_user_text_is_escaped_in_every_reply(fake_bot_api, start_bot):
    fake = fake_bot_api
    nasty = "<b>bold</b> & <script>alert(1)</script> *_[]` <blockquote>"
    async with start_bot():
        await become(fake, STAFF, "staff")
        await say(fake, STAFF, "/report")
        await say(fake, STAFF, nasty)
        [when] = await say(fake, STAFF, "Instagram")
        await say(fake, STAFF, "today")
        [lead] = await say(fake, STAFF, "someone")
        risk_q = (await press(fake, STAFF, lead, "f:leadership:no"))[-1]
        evidence = (await press(fake, STAFF, risk_q, "f:pupil_risk:none"))[-1]
        anon_q = (await press(fake, STAFF, evidence, "f:evidence:done"))[-1]
        clause_q = (await press(fake, STAFF, anon_q, "f:anonymous:named"))[-1]
        [summary] = await press(fake, STAFF, clause_q, "f:clauses:none")
        assert nasty in summary["text"]  # shown exactly as typed: escaped, not interpreted
        await press(fake, STAFF, summary, "f:confirm:send")
        [notice] = await fake.wait_for_messages(OFFICE_CHAT, 1, timeout=10)
        assert nasty in notice["text"]
    assert all(call.ok for call in fake.calls_to("sendMessage"))


async def test_rate_limit_answers_floods_politely_but_never_holds_back_safeguarding(fake_bot_api, start_bot, telegram_settings):
    from dataclasses import replace

    fake = fake_bot_api
    settings = replace(telegram_settings, rate_limit_per_minute=3)
    async with start_bot(settings):
        for text in ("/start", "hello", "Can I post photos of the school play on Facebook?"):
            await say(fake, STRANGER, text)
        [limited] = await say(fake, STRANGER, "Can I message a parent on WhatsApp?")
        assert "quickly" in limited["text"]
        replies = await say(fake, STRANGER, "I think a pupil is being groomed online by an adult")
        assert "999" in replies[0]["text"]
        # Someone else is not held back.
        [other] = await say(fake, PARENT, "/help")
        assert "/report" in other["text"]


async def test_digest_mode_posts_one_daily_digest_instead_of_each_question(fake_bot_api, start_bot, telegram_settings):
    from dataclasses import replace
    import asyncio

    fake = fake_bot_api
    async with start_bot(replace(telegram_settings, office_notify="digest")) as application:
        await become(fake, STAFF, "staff")
        await say(fake, STAFF, "May I use AI chatbots to write reports?")
        await asyncio.sleep(1.0)
        assert not fake.sent_messages(OFFICE_CHAT)
        [job] = application.job_queue.get_jobs_by_name("digest")
        await job.run(application)
        header, notice = await fake.wait_for_messages(OFFICE_CHAT, 2, timeout=10)
        assert "digest" in header["text"].lower() and "AI chatbots" in notice["text"]
        assert any(label == "Dismiss" for label, _ in buttons(notice))


async def test_evidence_is_shown_only_to_the_office_on_request(fake_bot_api, start_bot):
    fake = fake_bot_api
    photos_sent = []

    def send_photo(params):
        photos_sent.append(params)
        return {"message_id": 10_000 + len(photos_sent), "date": 0, "chat": {"id": int(params["chat_id"]), "type": "supergroup"},
                "photo": [{"file_id": params["photo"], "file_unique_id": "u", "width": 1, "height": 1}]}

    fake.handle("sendPhoto", send_photo)
    async with start_bot():
        await become(fake, STAFF, "staff")
        stored = await complete_breach_report(fake, STAFF, photo=True)
        ref = next(w.strip(".,") for w in stored["text"].split() if w.startswith("BR-"))
        [notice] = await fake.wait_for_messages(OFFICE_CHAT, 1, timeout=10)
        assert not photos_sent  # evidence is not forwarded anywhere by itself
        fake.press_button(STRANGER, notice, button(notice, "Screenshots"))
        fake.press_button(ADMIN, notice, button(notice, "Screenshots"))
        await fake.wait_for(lambda c: c.method == "sendPhoto", timeout=10)
        assert [str(p["chat_id"]) for p in photos_sent] == [str(OFFICE_CHAT)]
        assert photos_sent[0]["caption"] == ref


async def test_webhook_mode_rejects_requests_without_the_secret_token(fake_bot_api, telegram_settings, advisor, untaught_engine):
    import asyncio
    import socket
    import urllib.error
    import urllib.request

    from bot.telegram.app import ALLOWED_UPDATES, build_application

    fake = fake_bot_api
    fake.add_chat(STAFF, "private")  # the update comes straight to the webhook, not through the fake
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    application = build_application(telegram_settings, advisor)
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": STAFF, "type": "private"},
              "from": {"id": STAFF, "is_bot": False, "first_name": "S"}, "text": "/help",
              "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}

    def post(headers):
        request = urllib.request.Request(f"http://127.0.0.1:{port}/hook", data=json.dumps(update).encode(),
                                         headers={"Content-Type": "application/json", **headers})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    async with application:
        await application.start()
        await application.updater.start_webhook(listen="127.0.0.1", port=port, url_path="hook",
                                                webhook_url=f"https://bot.example.org/hook", secret_token="s3cret",
                                                allowed_updates=ALLOWED_UPDATES)
        try:
            assert await asyncio.to_thread(post, {}) == 403
            assert await asyncio.to_thread(post, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}) == 403
            await asyncio.sleep(0.5)
            assert not fake.sent_messages(STAFF)
            assert await asyncio.to_thread(post, {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}) == 200
            [help_text] = await fake.wait_for_messages(STAFF, 1, timeout=10)
            assert "/report" in help_text["text"]
        finally:
            await application.updater.stop()
            await application.stop()


async def test_reports_about_the_head_are_listed_to_the_escalation_users_only(fake_bot_api, start_bot, telegram_settings):
    from dataclasses import replace

    fake = fake_bot_api
    settings = replace(telegram_settings, escalation_user_ids=(CHAIR,))
    store = open_store(settings)
    try:
        case = {"reporter_key": "", "reporter_channel": "telegram", "reporter_chat": "", "reporter_name": "", "role": "staff",
                "urgent": 0, "anonymous": 1, "where_": "Instagram", "when_": "today", "who": "a teacher", "pupil_risk": "none",
                "data_protection": 0, "evidence": "[]", "clauses": "[]"}
        ours = store.cases.create("breach", {**case, "routed_to": "office", "what": "A class photo", "about_leadership": 0})
        theirs = store.cases.create("breach", {**case, "routed_to": "escalation", "what": "The head's post", "about_leadership": 1})
    finally:
        store.close()
    async with start_bot(settings):
        [office_list] = await say(fake, ADMIN, "/reports")
        assert ours in office_list["text"] and theirs not in office_list["text"]
        [chair_list] = await say(fake, CHAIR, "/reports")  # in private with the bot
        assert theirs in chair_list["text"] and ours not in chair_list["text"]
        [detail] = await say(fake, CHAIR, f"/case {theirs}")
        assert "The head's post" in detail["text"]
        [not_theirs] = await say(fake, CHAIR, f"/case {ours}")
        assert "There is no case" in not_theirs["text"]
        [refused] = await say(fake, STRANGER, "/reports")
        assert "only available to the school office" in refused["text"]


async def test_office_commands_and_buttons_for_an_admin(fake_bot_api, start_bot):
    fake = fake_bot_api
    async with start_bot():
        await become(fake, PARENT, "parent")
        [route] = await say(fake, PARENT, "/complaint")
        [about] = await press(fake, PARENT, route, "f:route:continue")
        for text in ["Photos of my daughter on the class page", "Year 1", "skip", "Asked the teacher", "Take them down"]:
            await say(fake, PARENT, text)
        [summary] = await press(fake, PARENT, fake.sent_messages(PARENT)[-1], "f:contact:here")
        [stored] = await press(fake, PARENT, summary, "f:confirm:send")
        ref = next(w.strip(".,") for w in stored["text"].split() if w.startswith("CR-"))
        await say(fake, PARENT, "Can I run a crypto trading channel?")
        notices = await fake.wait_for_messages(OFFICE_CHAT, 2, timeout=10)
        case_notice = next(m for m in notices if ref in m["text"])
        item_notice = next(m for m in notices if "Unanswered" in m["text"])

        # In private with the bot, an admin can list and read.
        [reports] = await say(fake, ADMIN, "/reports")
        assert ref in reports["text"]
        [case] = await say(fake, ADMIN, f"/case {ref}")
        assert "Photos of my daughter" in case["text"]
        unanswered = await say(fake, ADMIN, "/unanswered")
        assert any("crypto" in m["text"] for m in unanswered)
        [stats] = await say(fake, ADMIN, "/stats")
        assert "1 referral" in stats["text"]

        # Dismiss a question; close a case with a note through the button.
        fake.press_button(ADMIN, item_notice, button(item_notice, "Dismiss"))
        await fake.wait_for(lambda c: c.method == "editMessageText" and "dismissed" in c.params.get("text", ""), timeout=10)
        office_count = len(fake.sent_messages(OFFICE_CHAT))
        fake.press_button(SECOND_ADMIN, case_notice, button(case_notice, "Close with a note"))
        [*_, prompt] = await fake.wait_for_messages(OFFICE_CHAT, office_count + 1, timeout=10)
        assert ref in prompt["text"]
        before = len(fake.sent_messages(PARENT))
        fake.send_text(SECOND_ADMIN, "Photos removed; we'll check consent forms.", chat_id=OFFICE_CHAT, chat_type="supergroup")
        [*_, closed] = await fake.wait_for_messages(PARENT, before + 1, timeout=10)
        assert ref in closed["text"] and "consent forms" in closed["text"]
        [reports] = await say(fake, ADMIN, "/reports")
        assert ref not in reports["text"]
        [everything] = await say(fake, ADMIN, "/reports --all")  # closed ones too, as the README says
        assert ref in everything["text"] and "closed" in everything["text"]


async def test_an_answer_from_the_terminal_reaches_the_asker_and_teaches_the_running_bot(fake_bot_api, start_bot, telegram_settings, monkeypatch, tmp_path):
    import asyncio

    from bot.cli import main

    fake = fake_bot_api
    question = "Can I play music from Spotify in assembly?"
    async with start_bot():
        await become(fake, STAFF, "staff")
        await say(fake, STAFF, question)
        await fake.wait_for_messages(OFFICE_CHAT, 1, timeout=10)
        store = open_store(telegram_settings)
        try:
            [item] = store.unanswered.items()
        finally:
            store.close()
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("DATABASE_PATH", str(telegram_settings.database_path))
        before = len(fake.sent_messages(STAFF))
        assert await asyncio.to_thread(main, ["office", "answer", f"U-{item['id']}", "6.4"]) == 0
        [*_, delivered] = await fake.wait_for_messages(STAFF, before + 1, timeout=10)
        assert "Section 6.4" in delivered["text"] and question in delivered["text"]
        [answer, *_] = await say(fake, STAFF, question)
        assert "Section 6.4" in answer["text"]


DISCLOSURE = "a pupil told me her stepdad hits her and she is scared to go home"


async def test_a_disclosure_in_a_caption_gets_the_safeguarding_response_in_any_state(fake_bot_api, start_bot):
    fake = fake_bot_api

    async def sends(send) -> list[dict]:
        before = len(fake.sent_messages(STAFF))
        send()
        await fake.wait_for_messages(STAFF, before + 1, timeout=30)
        await end_of_turn(fake, STAFF)
        return fake.sent_messages(STAFF)[before:]

    async with start_bot():
        await become(fake, STAFF, "staff")
        # A photo or a file whose caption is a disclosure: read like text, not "I can only read text messages".
        for send in (lambda: fake.send_photo(STAFF, caption=DISCLOSURE),
                     lambda: fake.send_document(STAFF, "note.pdf", b"%PDF-1.4", "application/pdf", caption=DISCLOSURE)):
            replies = await sends(send)
            assert "999" in replies[0]["text"] and button(replies[0], "Alert"), [r["text"][:60] for r in replies]
        # A caption that is no disclosure changes nothing: outside a report a photo is still not read.
        [pointer] = await sends(lambda: fake.send_photo(STAFF, caption="look at this"))
        assert "only read text" in pointer["text"]
        # Mid-report, at a step that wants words and at the step that wants screenshots.
        await say(fake, STAFF, "/report")
        replies = await sends(lambda: fake.send_photo(STAFF, caption=DISCLOSURE))
        assert "999" in replies[0]["text"] and "What happened" in replies[-1]["text"]
        where = await say(fake, STAFF, "A teaching assistant posted a photo of our Year 5 class trip on Instagram")
        await press(fake, STAFF, where[-1], button(where[-1], "Instagram"))
        await say(fake, STAFF, "yesterday evening")
        [lead] = await say(fake, STAFF, "A teaching assistant")
        risk_q = (await press(fake, STAFF, lead, "f:leadership:no"))[-1]
        evidence = (await press(fake, STAFF, risk_q, "f:pupil_risk:none"))[-1]
        assert "screenshots" in evidence["text"].lower()
        replies = await sends(lambda: fake.send_photo(STAFF, caption=DISCLOSURE))
        assert "999" in replies[0]["text"] and "screenshots" in replies[-1]["text"].lower()


async def test_a_written_answer_is_bound_to_its_admin_ends_with_another_command_expires_and_is_confirmed(fake_bot_api, start_bot, telegram_settings):
    fake = fake_bot_api
    cake = "Lunch is in the staff room today, bring cake"

    async def office_turn(user, text) -> list[dict]:
        """`text` from `user` in the office chat, then their /stats (handled after it): what the bot posted."""
        before, since = len(fake.sent_messages(OFFICE_CHAT)), len(fake.calls)
        fake.send_text(user, text, chat_id=OFFICE_CHAT, chat_type="supergroup")
        fake.send_text(user, "/stats", chat_id=OFFICE_CHAT, chat_type="supergroup")
        await fake.wait_for(lambda c: "Undelivered" in (c.text or ""), method="sendMessage", since=since, timeout=30)
        return fake.sent_messages(OFFICE_CHAT)[before:]

    async with start_bot():
        notice = await office_starts_writing_an_answer(fake)

        # Another admin's next message is not the answer; nor is the admin's own after another office command.
        posted = await office_turn(SECOND_ADMIN, cake)
        assert [m for m in posted if "Undelivered" in m["text"]] and not [m for m in posted if cake in m["text"]]
        await office_turn(ADMIN, "/unanswered")
        posted = await office_turn(ADMIN, cake)
        assert not [m for m in posted if cake in m["text"]]

        # Pressed again: the answer is shown with the question first, and "Don't send" sends nothing.
        fake.press_button(ADMIN, notice, button(notice, "Write an answer"))
        [*_, prompt] = await fake.wait_for_messages(OFFICE_CHAT, len(fake.sent_messages(OFFICE_CHAT)) + 1, timeout=10)
        assert "U-1" in prompt["text"]
        fake.send_text(ADMIN, cake, chat_id=OFFICE_CHAT, chat_type="supergroup")
        [*_, confirm] = await fake.wait_for_messages(OFFICE_CHAT, len(fake.sent_messages(OFFICE_CHAT)) + 1, timeout=10)
        assert "crypto trading channel" in confirm["text"] and cake in confirm["text"]
        since = len(fake.calls)
        fake.press_button(ADMIN, confirm, button(confirm, "Don't send"))
        await fake.wait_for(method="answerCallbackQuery", since=since, timeout=10)
        # A Send pressed after that (or forged) is refused: nothing is waiting to be sent.
        since = len(fake.calls)
        fake.press_button(ADMIN, confirm, button(confirm, "Send it"))
        refused = await fake.wait_for(method="answerCallbackQuery", since=since, timeout=10)
        assert refused.params.get("show_alert")

    # After a few minutes (here, a second) the wait ends by itself.
    async with start_bot(office_reply_minutes=1 / 60):
        fake.press_button(ADMIN, notice, button(notice, "Write an answer"))
        await fake.wait_for_messages(OFFICE_CHAT, len(fake.sent_messages(OFFICE_CHAT)) + 1, timeout=10)
        await asyncio.sleep(2.5)
        posted = await office_turn(ADMIN, cake)
        assert not [m for m in posted if cake in m["text"]]
    assert not [m for m in fake.sent_messages(PARENT) if "cake" in m["text"]]
    store = open_store(telegram_settings)
    try:
        assert store.unanswered.item(1)["status"] == "open" and store.answers.office_answers() == []
    finally:
        store.close()


async def test_a_burst_of_questions_is_capped_per_person_and_reaches_the_office_as_one_notice(fake_bot_api, start_bot, telegram_settings):
    """Three new accounts asking over and over: each gets two questions to the office (the limit here) and is
    told politely after that; the office gets the first at once and the rest together in one notice."""
    from dataclasses import replace

    fake = fake_bot_api
    question = "Can I run a crypto trading channel?"
    askers = (5101, 5102, 5103)
    settings = replace(telegram_settings, office_queue_per_person_per_day=2, office_notice_window_seconds=2)
    async with start_bot(settings):
        for asker in askers:
            await become(fake, asker, "parent")
        for asker in askers:
            replies = [(await say(fake, asker, question))[0]["text"] for _ in range(3)]
            assert all("noted your question for the office" in r for r in replies[:2])
            assert "haven't passed this one on" in replies[2] and "noted your question" not in replies[2]
        first, together = await fake.wait_for_messages(OFFICE_CHAT, 2, timeout=15)
        await asyncio.sleep(2.5)  # a further window: nothing else comes
        assert len(fake.sent_messages(OFFICE_CHAT)) == 2
        store = open_store(telegram_settings)
        try:
            items = [item["id"] for item in store.unanswered.items()]
        finally:
            store.close()
        assert len(items) == 6 and f"U-{items[0]}" in first["text"]
        assert "5 unanswered questions came in together" in together["text"]
        assert all(f"U-{item}" in together["text"] for item in items[1:])
        # Each button says which question it is for; dealing with one leaves the others' buttons.
        dismiss = button(together, f"U-{items[1]} · Dismiss")
        fake.press_button(ADMIN, together, dismiss)
        await fake.wait_for(lambda c: c.method == "editMessageText" and "dismissed" in c.params.get("text", ""), timeout=10)
        left = buttons(fake.message(OFFICE_CHAT, together["message_id"]))
        assert left and not any(label.startswith(f"U-{items[1]} ") for label, _ in left)
        assert {label.split(" ")[0] for label, _ in left} == {f"U-{item}" for item in items[2:]}
