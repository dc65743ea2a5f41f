"""Email through the outbox, to a local mail server (aiosmtpd): the office's notices (with or without Telegram),
retried when the server refuses or is away; a web asker's answer on their private link and by email; the
address erased with the question; and `serve` refusing to start with no way to reach the office."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest

from bot.answer_links import new_token, token_hash
from bot.email.delivery import EmailDelivery, delivering_email
from bot.office import Office
from bot.office_routes import office_channels, queue_notice
from bot.serve import refused
from bot.settings import Settings, SettingsError, check_office_route, load_settings
from bot.texts import for_office, for_people

ASKER = "parent@home.example"


async def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def office_over(store, settings, pack) -> Office:
    return Office(store, pack, settings, None, for_office(settings, pack), for_people(settings, pack))


def web_question(store, text="Can the PTA run a WhatsApp group?", email="") -> tuple[dict, str]:
    """An unanswered question from a web session, with its private link (as the dialogue makes it)."""
    user_key = store.people.user_key("web", "session-1")
    qid = store.questions.record(user_key, "parent", text, "question", False, 0.1, "")
    item_id = store.unanswered.add(qid, user_key, "web", "session-1", "parent", text, [])
    token = new_token()
    store.unanswered.set_link(item_id, token_hash(token))
    if email:
        assert store.unanswered.set_email(item_id, email)
    return store.unanswered.item(item_id), token


def everything_stored(store) -> str:
    """Every value in every table, as one string (to look for what must not be there)."""
    tables = [name for name in store.db.table_names() if not name.startswith("_")]
    return "\n".join(str(value) for table in tables for row in store.db[table].rows for value in row.values())


async def test_an_office_notice_is_emailed_after_the_server_refused_it_once(store, email_settings, smtp_server):
    text = 'Breach report "BR-1": a <b>post</b> & a photo — café\nSecond line'
    with store.transaction():
        queue_notice(store, email_settings, target="office", text=text, buttons=[[("Ack", "of:k:X")]], kind="unanswered", ref="U-7")
    rows = {row["channel"]: row for row in store.db["outbox"].rows}
    assert set(rows) == {"telegram", "email"}  # Telegram's office chat as well: one row for each route
    smtp_server.refuse = 1
    async with delivering_email(email_settings, store, interval=0.1, backoff_base=0.05):
        # The server has it, and then the outbox row says so (marked just after the server's reply).
        await wait_for(lambda: smtp_server.messages and store.db["outbox"].get(rows["email"]["id"])["status"] == "delivered")
    assert smtp_server.refused == 1
    row = store.db["outbox"].get(rows["email"]["id"])
    assert row["status"] == "delivered" and row["attempts"] == 1 and row["last_error"] == ""
    [message] = smtp_server.messages
    assert smtp_server.recipients == [["office@clearwell.example"]]
    assert message["From"] == "policybot@clearwell.example" and message["To"] == "office@clearwell.example"
    assert message["Subject"] == "[Clearwell School] Unanswered question U-7"
    assert message.get_content_type() == "text/plain" and message["Auto-Submitted"] == "auto-generated"
    body = message.get_content().replace("\r\n", "\n")  # as SMTP carries it
    assert body.startswith(text + "\n")  # plain text, exactly as written: nothing escaped
    assert "policybot office answer U-7" in body
    assert store.db["outbox"].get(rows["telegram"]["id"])["status"] == "pending"  # Telegram's own loop sends that


async def test_a_server_that_is_away_keeps_every_message_for_later(store, email_settings, smtp_server):
    away = replace(email_settings, smtp_port=smtp_server.port + 1 if smtp_server.port < 65535 else 1)
    with store.transaction():
        for n in (1, 2):
            queue_notice(store, away, target="office", text=f"notice {n}", kind="unanswered", ref=f"U-{n}")
    delivery = EmailDelivery(store, away, backoff_base=60)
    assert await delivery.deliver() == 0
    emails = [row for row in store.db["outbox"].rows if row["channel"] == "email"]
    assert [row["status"] for row in emails] == ["pending", "pending"]
    assert [row["attempts"] for row in emails] == [1, 0]  # the round stopped at the first: the rest keeps its order
    assert store.stats()["undelivered"] >= 1


async def test_a_safeguarding_alert_goes_first_and_says_urgent(store, email_settings, smtp_server):
    with store.transaction():
        queue_notice(store, email_settings, target="office", text="a question", kind="unanswered", ref="U-1")
        ref = store.cases.create("safeguarding", {"text": "x", "routed_to": "office", "urgent": True})
        queue_notice(store, email_settings, target="office", text="alert", kind="case", ref=ref)
    assert await EmailDelivery(store, email_settings).deliver() == 2
    subjects = [m["Subject"] for m in smtp_server.messages]
    assert subjects == [f"[Clearwell School] URGENT: safeguarding alert {ref}", "[Clearwell School] Unanswered question U-1"]


def test_notices_go_where_the_school_has_a_route(bot_settings):
    email_only = replace(bot_settings, office_chat_id=None, escalation_chat_id=None, smtp_host="mail", office_email="o@s.example")
    assert office_channels(email_only, "office") == ["email"]
    assert office_channels(email_only, "escalation") == ["email"]  # no address: kept, and the reporter told
    both = replace(email_only, office_chat_id=-1, escalation_chat_id=-2, escalation_email="chair@s.example")
    assert office_channels(both, "office") == ["telegram", "email"] and office_channels(both, "escalation") == ["telegram", "email"]
    assert office_channels(bot_settings, "office") == ["telegram"]  # no email: as before


async def test_a_report_about_the_office_is_never_emailed_to_the_office(store, bot_settings, smtp_server, pack):
    settings = replace(bot_settings, office_chat_id=None, escalation_chat_id=None, smtp_host="127.0.0.1",
                       smtp_port=smtp_server.port, smtp_from="bot@s.example", office_email="office@s.example")
    reporter = store.people.user_key("web", "r1")
    office = office_over(store, settings, pack)
    with store.transaction():
        ref = store.cases.create("complaint", {"routed_to": "escalation", "reporter_key": reporter, "reporter_channel": "web",
                                               "reporter_chat": "r1", "about": "the office"})
        queue_notice(store, settings, target="escalation", text="about the office", kind="case", ref=ref)
    assert await EmailDelivery(store, settings, route_failed=office.route_failed).deliver() == 0
    assert smtp_server.messages == []
    [told] = store.outbox.messages_for(reporter, "web")  # told honestly that it has not reached anyone yet
    assert told["kind"] == "route_failed" and ref in told["text"]


async def test_the_office_answer_reaches_the_web_link_and_the_email(store, email_settings, smtp_server, pack):
    item, token = web_question(store, email=ASKER)
    assert store.unanswered.by_link(token_hash(token))["id"] == item["id"]
    assert token not in everything_stored(store)  # only its hash is kept
    office = office_over(store, email_settings, pack)
    answer = 'Yes, if the group\'s admin is a parent & it says "not an official school channel" <here>.'
    assert office.answer_with_text(item["id"], answer, "tester").ok
    stored = store.unanswered.by_link(token_hash(token))
    assert answer in stored["answer_message"] and item["text"] in stored["answer_message"]
    assert await EmailDelivery(store, email_settings).deliver() == 1
    [message] = smtp_server.messages
    assert smtp_server.recipients == [[ASKER]] and message["Subject"] == "[Clearwell School] The school office has answered your question"
    assert answer in message.get_content() and "erased" in message.get_content()
    assert ASKER not in everything_stored(store)  # sent: the address is not kept
    [web_copy] = store.outbox.messages_for(item["user_key"], "web")  # and the chat shows it when they come back
    assert answer in web_copy["text"]


async def test_an_address_taken_back_is_not_written_to(store, email_settings, smtp_server, pack):
    item, _ = web_question(store, email=ASKER)
    office = office_over(store, email_settings, pack)
    assert office.answer_with_text(item["id"], "An answer.", "tester").ok
    store.unanswered.drop_email(item["id"])
    assert await EmailDelivery(store, email_settings).deliver() == 0
    assert smtp_server.messages == [] and not [r for r in store.db["outbox"].rows if r["channel"] == "email"]


def test_forget_me_and_retention_erase_the_email_address(store, email_settings, pack):
    from datetime import timedelta

    from bot.store import utc_now

    item, token = web_question(store, email=ASKER)
    office = office_over(store, email_settings, pack)
    assert office.answer_with_text(item["id"], "An answer.", "tester").ok  # an email to them is queued, too
    assert ASKER in everything_stored(store)
    store.privacy.forget(item["user_key"])
    assert ASKER not in everything_stored(store)  # (the answer itself is kept, as the office's, with no link to them)
    assert store.unanswered.by_link(token_hash(token)) is None
    kept, _ = web_question(store, email=ASKER)
    store.privacy.purge(365, 7 * 365, now=utc_now() + timedelta(days=366))
    assert ASKER not in everything_stored(store)


def test_a_dismissed_question_keeps_no_address(store, email_settings, pack):
    item, _ = web_question(store, email=ASKER)
    assert office_over(store, email_settings, pack).dismiss(item["id"], "tester").ok
    assert ASKER not in everything_stored(store)


# --- settings and `serve` ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"telegram_bot_token": "1:a"},  # Telegram, but no office chat
        {"web_host": "0.0.0.0"},  # a public web chat with nowhere to send a report
        {"web_host": "0.0.0.0", "office_chat_id": -1},  # an office chat, but no Telegram to post to it
    ],
)
def test_serve_for_real_use_refuses_to_start_with_no_way_to_reach_the_office(changes, capsys):
    settings = replace(Settings(), **changes)
    with pytest.raises(SettingsError, match="OFFICE_CHAT_ID.*OFFICE_EMAIL"):
        check_office_route(settings)
    assert refused("serve", check_office_route, settings)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("policybot serve: no way to reach the office")


def test_serve_starts_with_an_office_chat_or_an_office_email():
    check_office_route(Settings())  # on this machine only, with no token: trying it out
    check_office_route(Settings(telegram_bot_token="1:a", office_chat_id=-1))
    mail = {"smtp_host": "smtp.school.example", "smtp_from": "bot@school.example", "office_email": "office@school.example"}
    check_office_route(Settings(web_host="0.0.0.0", **mail))
    check_office_route(Settings(telegram_bot_token="1:a", **mail))


@pytest.mark.parametrize(
    "env, named",
    [
        ({"OFFICE_EMAIL": "office@school.example"}, "SMTP_HOST"),
        ({"OFFICE_EMAIL": "the office", "SMTP_HOST": "mail"}, "OFFICE_EMAIL"),
        ({"OFFICE_EMAIL": "o@school.example", "SMTP_HOST": "mail"}, "SMTP_FROM"),
        ({"SMTP_PORT": "smtp"}, "SMTP_PORT"),
        ({"SMTP_HOST": "mail", "SMTP_FROM": "bot@school.example", "SMTP_PASSWORD": "pw"}, "SMTP_USER"),
    ],
)
def test_email_settings_that_could_not_work_are_named(env, named):
    with pytest.raises(SettingsError, match=named):
        check_office_route(load_settings(None, env))


def test_email_settings_are_read_from_the_environment():
    settings = load_settings(None, {
        "SMTP_HOST": " mail.school.example ", "SMTP_PORT": "465", "SMTP_USER": "bot@school.example",
        "SMTP_PASSWORD": " pass word ", "OFFICE_EMAIL": "office@school.example", "ESCALATION_EMAIL": "chair@school.example",
    })
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_password) == ("mail.school.example", 465, " pass word ")
    assert settings.office_email == "office@school.example" and settings.escalation_email == "chair@school.example"
    check_office_route(settings)  # SMTP_FROM defaults to SMTP_USER, an address


async def test_a_persons_message_that_cannot_be_sent_holds_up_nothing(store, email_settings, smtp_server, pack, caplog):
    from bot.email.sender import SmtpSender

    class Fussy(SmtpSender):
        def send(self, smtp, to, subject, body):
            if to == ASKER:
                raise UnicodeEncodeError("ascii", ASKER, 0, 1, "cannot encode " + ASKER)
            super().send(smtp, to, subject, body)

    item, _ = web_question(store, email=ASKER)
    assert office_over(store, email_settings, pack).answer_with_text(item["id"], "An answer.", "tester").ok
    with store.transaction():
        queue_notice(store, email_settings, target="office", text="a later notice", kind="unanswered", ref="U-9")
    assert await EmailDelivery(store, email_settings, sender=Fussy(email_settings)).deliver() == 1
    assert smtp_server.recipients == [["office@clearwell.example"]]
    [given_up] = [r for r in store.db["outbox"].rows if r["channel"] == "email" and r["target"] == "user"]
    assert given_up["status"] == "undeliverable" and given_up["last_error"] == "UnicodeEncodeError"
    assert ASKER not in everything_stored(store)  # and the address is not kept
    assert "could not be sent (UnicodeEncodeError)" in caplog.text and ASKER not in caplog.text  # nor logged


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_the_sender_logs_in_and_never_sends_a_password_in_the_clear_to_another_machine(store, email_settings, monkeypatch):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from bot.email.sender import InsecureServer, SmtpSender
    from smtp_fixtures import Inbox, free_port

    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"bot" and auth_data.password == b"s3cret pw")

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_require_tls=False, auth_required=True)
    controller.start()
    try:
        settings = replace(email_settings, smtp_port=controller.port, smtp_user="bot", smtp_password="s3cret pw")
        with store.transaction():
            queue_notice(store, settings, target="office", text="notice", kind="unanswered", ref="U-1")
        assert await EmailDelivery(store, settings).deliver() == 1  # this machine: no TLS needed
        assert logins == [(b"bot", b"s3cret pw")] and len(inbox.messages) == 1
        monkeypatch.setattr("bot.email.sender.is_loopback", lambda host: False)  # as if it were another machine
        with pytest.raises(InsecureServer):  # offering no STARTTLS
            SmtpSender(settings).connect()
        assert len(logins) == 1  # the password was not offered
    finally:
        controller.stop()
