"""Signed, not just read: the version signed (a digest of the clauses shown), parents signing the agreement and
staff acknowledging the policy, a question before signing, a new version of the pack (only what changed is
shown again), the roster and its codes, /mydata and /forget, and retention. The service is driven directly
(no model); the last tests run the real bot through the fake Bot API."""

from __future__ import annotations

import asyncio
import csv
import os
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import pytest

from bot.dialogue import Person
from bot.dialogue.service import Dialogue
from bot.office import Office
from bot.roster import read_roster, status_lines, write_rest_csv
from bot.settings import Settings, load_settings
from bot.signatures import Signing
from bot.store import Store, utc_now
from bot.texts import for_office, for_people
from knowledge.pack import load_pack
from knowledge.signing import clauses_digest, signed_text

PARENT = Person("telegram", "7001", "7001", "Jane")
SECOND_PARENT = Person("telegram", "7002", "7002", "Sam")
STAFF = Person("telegram", "7003", "7003", "Tom")
WEB_PARENT = Person("web", "w-1", "w-1", "")


@pytest.fixture(scope="module")
def pack():
    return load_pack("clearwell")


def reworded(pack, clause_id: str, extra: str = " Parents will also be kind online."):
    """The same pack with one clause's verbatim text changed (a new version of the policy)."""
    return replace(pack, clauses=tuple(replace(c, text=c.text + extra) if c.id == clause_id else c for c in pack.clauses))


@pytest.fixture
def settings(tmp_path):
    return Settings(database_path=tmp_path / "policybot.db", school_name="Clearwell School", signature_retention_days=2555)


@pytest.fixture
def store(settings):
    opened = Store(settings.database_path)
    yield opened
    opened.close()


@pytest.fixture
def signing(store, settings, pack):
    office = Office(store, pack, settings, None, for_office(settings, pack), for_people(settings, pack))
    return Signing(store, pack, for_people(settings, pack), settings, office)


def texts_of(out) -> str:
    return "\n".join(o.text for o in out)


def labels(out) -> list[str]:
    return [b.label for o in out for row in o.buttons for b in row]


def sign_agreement(signing, person, name="Jane Doe", classes="3B, 5R"):
    signing.start(person, "agreement")
    signing.press(person, "sig:agree")
    signing.take_text(person, name)
    if classes is None:
        return signing.press(person, "sig:none")
    return signing.take_text(person, classes)


# --- the version signed -------------------------------------------------------------------------------


def test_parents_sign_the_agreement_clauses_and_staff_every_clause(pack):
    agreement = signed_text(pack, "agreement")
    assert [c.id for c in agreement.clauses] == ["10.5", "10.5-agreement"]  # the lead-in and the signed text the parser marks
    staff = signed_text(pack, "acknowledgement")
    assert len(staff.clauses) == len(pack.clauses) and agreement.digest != staff.digest
    assert len(agreement.digest) == 64 and agreement.short == agreement.digest[:12]


def test_the_digest_changes_with_the_words_of_the_policy_not_with_the_school_notes(pack):
    agreement = signed_text(pack, "agreement")
    assert clauses_digest(list(reversed(agreement.clauses))) == agreement.digest  # document order, whatever the order given
    renoted = replace(pack, clauses=tuple(replace(c, summary="Other words.", heading="Other") for c in pack.clauses))
    assert signed_text(renoted, "agreement").digest == agreement.digest
    changed = signed_text(reworded(pack, "10.5-agreement"), "agreement")
    assert changed.digest != agreement.digest
    changes = changed.changes_since(agreement.fingerprints())
    assert [c.id for c in changes.changed] == ["10.5-agreement"] and not changes.removed
    # A clause taken out is named; a clause elsewhere in the policy is no change to the agreement.
    assert signed_text(reworded(pack, "6.5"), "agreement").digest == agreement.digest
    fewer = signed_text(replace(pack, clauses=tuple(c for c in pack.clauses if c.id != "10.5")), "agreement")
    assert fewer.changes_since(agreement.fingerprints()).removed == ("10.5",)


# --- parents and staff signing -------------------------------------------------------------------------


def test_a_parent_reads_summary_and_text_is_told_it_is_kept_then_signs_with_name_and_classes(signing, store, pack):
    shown = signing.start(PARENT, "agreement")
    agreement = pack.clause("10.5-agreement")
    assert agreement.summary in texts_of(shown) and agreement.text in texts_of(shown)  # plain words, then verbatim
    assert [o.section.id for o in shown if o.section] == ["10.5", "10.5-agreement"]
    last = shown[-1]
    assert "2555 days" in last.text and "/forget does not erase" in last.text  # told before signing
    assert labels([last]) == ["I agree", "I have a question first", "Not now"]

    assert texts_of(signing.press(PARENT, "sig:agree")).startswith("Please type your full name")
    assert "Which class" in texts_of(signing.take_text(PARENT, "  Jane   Doe "))
    [done] = signing.take_text(PARENT, "3B and 5R; 6T")
    text = signed_text(pack, "agreement")
    assert "Jane Doe" in done.text and text.short in done.text and "3B, 5R, 6T" in done.text

    [row] = store.signatures.all()
    assert row["kind"] == "agreement" and row["outcome"] == "signed" and row["digest"] == text.digest
    assert row["channel"] == "telegram" and row["chat_id"] == "7001" and row["at"].startswith(utc_now().date().isoformat())
    assert row["name"] == "Jane Doe" and row["classes"] == "3B, 5R, 6T" and row["roster_id"] is None
    assert row["user_key"] == store.people.user_key("telegram", "7001")
    assert not store.signatures.session(row["user_key"])  # the signing is over
    assert "current one" in texts_of(signing.start(PARENT, "agreement"))  # nothing new to sign


def test_prefer_not_to_say_is_a_choice_and_is_stored_as_no_class(signing, store):
    [done] = sign_agreement(signing, PARENT, classes=None)
    assert "prefer not to say" in done.text
    assert store.signatures.all()[0]["classes"] == ""


def test_staff_acknowledge_every_clause_with_name_and_role(signing, store, pack):
    shown = signing.start(STAFF, "acknowledgement")
    assert pack.clause("6.5").text in texts_of(shown) and pack.clause("10.5-agreement").text in texts_of(shown)
    assert labels([shown[-1]])[0] == "I have read and understood" and "your role" in shown[-1].text
    signing.press(STAFF, "sig:agree")
    assert "role" in texts_of(signing.take_text(STAFF, "Tom Lee"))
    [done] = signing.take_text(STAFF, "Year 4 teacher")
    assert "acknowledged" in done.text and "Year 4 teacher" in done.text
    [row] = store.signatures.all()
    assert row["kind"] == "acknowledgement" and row["role"] == "Year 4 teacher"
    assert row["digest"] == signed_text(pack, "acknowledgement").digest


def test_buttons_and_words_outside_signing_do_nothing(signing, store):
    assert "no longer active" in texts_of(signing.press(PARENT, "sig:agree"))
    assert not signing.wants_text(PARENT)
    signing.start(PARENT, "agreement")
    assert not signing.wants_text(PARENT)  # reading: words are questions for the bot, not a name
    assert "no longer active" in texts_of(signing.press(PARENT, "sig:none"))  # not at the classes step
    assert "whenever you are ready" in texts_of(signing.press(PARENT, "sig:later"))
    assert store.signatures.all() == []


def test_a_question_first_goes_to_the_office_queue_and_signing_can_go_on(signing, store, settings):
    signing.start(PARENT, "agreement")
    assert "Type your question" in texts_of(signing.press(PARENT, "sig:ask"))
    assert signing.wants_text(PARENT)
    [sent] = signing.take_text(PARENT, "Does this stop me posting photos of my own child's sports day?")
    assert "school office" in sent.text
    [item] = store.unanswered.items()
    assert item["text"].startswith("Does this stop me") and item["chat_id"] == "7001" and item["role"] == "parent"
    [notice] = [m for m in store.outbox.due_messages() if m["target"] == "office"]
    assert "Does this stop me" in notice["text"] and notice["ref"] == f"U-{item['id']}"
    [asked] = store.signatures.all()
    assert asked["outcome"] == "asked" and asked["question_item"] == item["id"]
    # The answer comes; the person signs after all, from where they were.
    assert texts_of(signing.press(PARENT, "sig:agree")).startswith("Please type your full name")


def test_a_question_first_is_within_the_daily_share_and_reaches_every_office_route(store, pack, tmp_path):
    """As a question the bot could not answer: OFFICE_QUEUE_PER_PERSON_PER_DAY, and the office's mailbox too."""
    mailing = Settings(database_path=tmp_path / "policybot.db", office_queue_per_person_per_day=1, office_chat_id=-1001,
                       office_email="office@clearwell.example", smtp_host="127.0.0.1")
    office = Office(store, pack, mailing, None, for_office(mailing, pack), for_people(mailing, pack))
    signing = Signing(store, pack, for_people(mailing, pack), mailing, office)
    signing.start(PARENT, "agreement"), signing.press(PARENT, "sig:ask")
    signing.take_text(PARENT, "What if I disagree with one line?")
    assert {m["channel"] for m in store.db["outbox"].rows if m["target"] == "office"} == {"telegram", "email"}
    signing.press(PARENT, "sig:ask")
    [held] = signing.take_text(PARENT, "And a second question today?")
    assert "as many as I pass on in a day" in held.text and store.unanswered.open_count() == 1


def test_the_office_digest_setting_holds_the_notice_back(store, pack, tmp_path):
    quiet = Settings(database_path=tmp_path / "policybot.db", office_notify="digest")
    office = Office(store, pack, quiet, None, for_office(quiet, pack), for_people(quiet, pack))
    signing = Signing(store, pack, for_people(quiet, pack), quiet, office)
    signing.start(PARENT, "agreement")
    signing.press(PARENT, "sig:ask")
    signing.take_text(PARENT, "What if I disagree with one line?")
    assert store.unanswered.open_count() == 1 and store.outbox.due_messages() == []


def test_cancel_stops_signing_and_nothing_is_signed(signing, store):
    signing.start(PARENT, "agreement")
    signing.press(PARENT, "sig:agree")
    assert "nothing was signed" in texts_of(signing.cancel(PARENT))
    assert signing.cancel(PARENT) is None and store.signatures.all() == []


# --- a new version --------------------------------------------------------------------------------------


def test_a_new_version_at_start_messages_telegram_signers_once_and_shows_only_what_changed(signing, store, pack):
    assert signing.open_round() == 0  # the first version: nobody to ask again
    sign_agreement(signing, PARENT)
    sign_agreement(signing, WEB_PARENT)  # a web signer sees the changes on their next visit
    signing.start(STAFF, "acknowledgement"), signing.press(STAFF, "sig:agree")
    signing.take_text(STAFF, "Tom Lee"), signing.take_text(STAFF, "Teacher")
    assert signing.open_round() == 0  # the same pack again: nothing new

    signing.pack = reworded(pack, "10.5-agreement")
    assert signing.open_round() == 2  # the parent on Telegram, and the staff member (every clause is theirs)
    assert signing.open_round() == 0  # once per version
    notices = {m["chat_id"]: m for m in store.outbox.due_messages()}
    assert set(notices) == {"7001", "7003"}
    assert "1 section(s) changed: 10.5 (the agreement)" in notices["7001"]["text"]
    assert notices["7001"]["buttons"] == [[("Read the changes", "sig:go:agreement")]]

    shown = signing.press(PARENT, "sig:go:agreement")
    assert "Only what changed" in shown[0].text
    assert [o.section.id for o in shown if o.section] == ["10.5-agreement"]  # not 10.5, which did not change
    assert "kind online" in texts_of(shown)
    [done] = signing.press(PARENT, "sig:agree")  # the details they gave last time: no questions again
    assert "Jane Doe" in done.text and signed_text(signing.pack, "agreement").short in done.text
    rows = store.signatures.of_person(store.people.user_key("telegram", "7001"))
    assert [r["digest"] for r in rows] == [signed_text(pack, "agreement").digest, signed_text(signing.pack, "agreement").digest]


def test_a_version_change_while_reading_shows_what_changed_before_signing(signing, store, pack):
    signing.start(PARENT, "agreement")
    signing.pack = reworded(pack, "10.5-agreement")  # the pack changes while the parent reads
    shown = signing.press(PARENT, "sig:agree")
    assert shown[0].text.startswith("The policy changed while you were reading")
    assert [o.section.id for o in shown if o.section] == ["10.5-agreement"] and labels([shown[-1]])[0] == "I agree"
    assert store.signatures.all() == []  # not signed: they agree to the new words or not at all
    sign_tail = signing.press(PARENT, "sig:agree")
    assert "full name" in texts_of(sign_tail)
    signing.take_text(PARENT, "Jane Doe"), signing.take_text(PARENT, "2C")
    assert store.signatures.all()[0]["digest"] == signed_text(signing.pack, "agreement").digest


# --- the roster -----------------------------------------------------------------------------------------


def write_csv(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_a_roster_csv_is_read_with_its_problems_by_line(tmp_path, settings, pack):
    texts = for_office(settings, pack)
    good = write_csv(tmp_path / "r.csv", [["Kind", "Name", "Email", "Class"], ["parent", "Jane  Doe", "j@x.org", "3B; 5R"],
                                          ["staff", "Tom Lee", "", ""], []])
    people, problems = read_roster(good, texts)
    assert problems == [] and people == [
        {"kind": "parent", "name": "Jane Doe", "email": "j@x.org", "classes": "3B, 5R"},
        {"kind": "staff", "name": "Tom Lee", "email": "", "classes": ""},
    ]
    bad = write_csv(tmp_path / "bad.csv", [["kind", "name"], ["teacher", "X"], ["parent", " "]])
    people, problems = read_roster(bad, texts)
    assert problems == ["bad.csv, line 2: kind must be staff or parent, not “teacher”", "bad.csv, line 3: no name"]
    assert "kind, name, email, class" in read_roster(write_csv(tmp_path / "h.csv", [["who", "what"]]), texts)[1][0]


def test_a_roster_code_ties_the_signature_to_the_row_and_the_status_shows_who_stands_where(signing, store, settings, pack, tmp_path):
    texts = for_office(settings, pack)
    jane = store.signatures.add_to_roster("parent", "Jane Doe", "j@x.org", "3B")
    ann = store.signatures.add_to_roster("parent", "Ann Bell", "", "")
    tom = store.signatures.add_to_roster("staff", "Tom Lee", "t@x.org", "")
    assert store.signatures.add_to_roster("parent", "Jane Doe", "j@x.org", "3B")["code"] == jane["code"]  # imported twice: one row
    assert len({jane["code"], ann["code"], tom["code"]}) == 3

    assert signing.start_with_code(PARENT, "no-such-code") is None
    shown = signing.start_with_code(PARENT, jane["code"])
    assert "Hello Jane Doe" in shown[0].text and labels([shown[-1]])[0] == "I agree"
    assert store.people.role_of(store.people.user_key("telegram", "7001")) == "parent"
    [done] = signing.press(PARENT, "sig:agree")  # name and class from the roster: nothing to type
    assert "Jane Doe" in done.text and "3B" in done.text
    assert store.signatures.all()[0]["roster_id"] == jane["id"]

    signing.start_with_code(STAFF, ann["code"])  # Ann's link, used by someone: she asks first
    signing.press(STAFF, "sig:ask"), signing.take_text(STAFF, "Is this binding?")
    sign_agreement(signing, SECOND_PARENT, name="Sam Green", classes="1A")  # by name alone

    lines = "\n".join(status_lines(signing, texts))
    assert "Parents: 1 signed the current version, 0 signed an earlier one (asked to confirm again), 1 asked a question first, 0 not signed, of 2" in lines
    assert "Staff: 0 signed the current version, 0 signed an earlier one (asked to confirm again), 0 asked a question first, 1 not signed, of 1" in lines
    assert "asked first: Ann Bell" in lines
    assert "Signed by name alone" in lines and "Sam Green · 1A" in lines

    signing.pack = reworded(pack, "10.5-agreement")
    lines = "\n".join(status_lines(signing, texts))
    assert "Parents: 0 signed the current version, 1 signed an earlier one" in lines and "earlier version: Jane Doe" in lines

    rest = tmp_path / "rest.csv"
    assert write_rest_csv(signing, texts, rest, "clearwell_bot") == 3
    assert os.stat(rest).st_mode & 0o777 == 0o600
    rows = list(csv.DictReader(rest.open(encoding="utf-8")))
    assert {r["name"]: r["status"] for r in rows} == {"Jane Doe": "signed an earlier version", "Ann Bell": "asked a question first",
                                                    "Tom Lee": "not signed"}
    assert rows[0]["telegram_link"] == f"https://t.me/clearwell_bot?start={rows[0]['code']}"


def test_signing_by_name_first_then_using_the_code_links_the_earlier_signature(signing, store):
    sign_agreement(signing, PARENT)
    jane = store.signatures.add_to_roster("parent", "Jane Doe", "", "")
    assert signing.unmatched()
    signing.start_with_code(PARENT, jane["code"])
    assert store.signatures.all()[0]["roster_id"] == jane["id"] and signing.unmatched() == []


def test_roster_import_and_status_from_the_terminal(tmp_path, capsys):
    from bot.office_cli import cmd_roster_import, cmd_roster_status

    settings = Settings(database_path=tmp_path / "policybot.db")
    roster = write_csv(tmp_path / "r.csv", [["kind", "name", "email", "class"], ["parent", "Jane Doe", "j@x.org", "3B"]])
    assert cmd_roster_import(SimpleNamespace(settings=settings, file=roster, bot="clearwell_bot")) == 0
    out = capsys.readouterr().out
    assert "1 people on the roster (1 new)" in out and "/start " in out and "https://t.me/clearwell_bot?start=" in out
    bad = write_csv(tmp_path / "bad.csv", [["kind", "name"], ["governor", "X"]])
    assert cmd_roster_import(SimpleNamespace(settings=settings, file=bad, bot="")) == 1
    assert "Nothing imported" in capsys.readouterr().err
    assert cmd_roster_status(SimpleNamespace(settings=settings, csv=str(tmp_path / "rest.csv"), bot="")) == 0
    assert "1 not signed, of 1" in capsys.readouterr().out


# --- what people are told and what is kept ----------------------------------------------------------------


@pytest.fixture
def dialogue(store, settings, pack):
    """The dialogue's commands over the store; no model (commands and buttons do not ask the advisor)."""
    texts = for_people(settings, pack)
    office = Office(store, pack, settings, None, for_office(settings, pack), texts)
    return Dialogue(SimpleNamespace(pack=pack), store, settings, office, texts)


def test_mydata_shows_signatures_and_forget_keeps_them(signing, store, dialogue, pack):
    sign_agreement(signing, PARENT)
    mydata = texts_of(dialogue.handle(PARENT, text="/mydata"))
    assert "a record the school keeps for 2555 days" in mydata
    assert f"parents' agreement, version {signed_text(pack, 'agreement').short}, as Jane Doe (classes: 3B, 5R)" in mydata
    confirm = texts_of(dialogue.handle(PARENT, text="/forget"))
    assert "Agreements you signed" in confirm and "2555 days" in confirm
    dialogue.handle(PARENT, action="fg:yes")
    assert len(store.signatures.all()) == 1
    assert "parents' agreement" in texts_of(dialogue.handle(PARENT, text="/mydata"))


def test_forget_erases_an_unfinished_signing(signing, store, dialogue):
    signing.start(PARENT, "agreement"), signing.press(PARENT, "sig:agree"), signing.take_text(PARENT, "Jane Doe")
    dialogue.handle(PARENT, text="/forget"), dialogue.handle(PARENT, action="fg:yes")
    assert not signing.wants_text(PARENT) and store.db["sign_sessions"].count == 0


def test_privacy_and_the_agreement_say_how_to_sign_and_how_long_a_signature_is_kept(dialogue):
    privacy = texts_of(dialogue.handle(PARENT, text="/privacy"))
    assert "/agree" in privacy and "keeps for 2555 days" in privacy and "/forget does not erase it" in privacy
    assert "To sign it here: /agree" in texts_of(dialogue.handle(PARENT, text="/agreement"))


def test_signatures_go_after_signature_retention_days_not_before(signing, store):
    sign_agreement(signing, PARENT)
    signing.start(SECOND_PARENT, "agreement")  # an unfinished signing goes after RETENTION_DAYS
    later = utc_now() + timedelta(days=400)
    assert store.privacy.purge(365, 365, now=later)  # the general purge leaves signatures alone
    assert len(store.signatures.all()) == 1
    assert store.signatures.purge(2555, 365, now=later) == {"signatures": 0, "sign_sessions": 1}
    assert store.signatures.purge(2555, 365, now=utc_now() + timedelta(days=2556))["signatures"] == 1


def test_signature_retention_days_is_a_setting(tmp_path):
    assert Settings().signature_retention_days == 365 * 7
    assert load_settings(None, {"SIGNATURE_RETENTION_DAYS": "3650"}).signature_retention_days == 3650
    from bot.settings import SettingsError

    with pytest.raises(SettingsError):
        load_settings(None, {"SIGNATURE_RETENTION_DAYS": "0"})


def test_a_database_from_before_signatures_opens_and_gains_the_tables(tmp_path):
    import sqlite_utils

    from bot.store.schema import migrations

    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m006_signatures")
    assert "signatures" not in db.table_names()
    db.close()
    Store(path).close()
    assert {"roster", "signatures", "sign_versions", "sign_sessions"} <= set(sqlite_utils.Database(path).table_names())


def test_one_entry_point_for_channels_that_pass_everything_through_one_place(signing, store):
    """The console (and a web page) call `handle`: signing's replies, or None for the dialogue."""
    assert signing.handle(PARENT, text="Can I post photos?") is None  # a question, not signing
    assert signing.handle(PARENT, text="/cancel") is None and signing.handle(PARENT, text="/help") is None
    assert signing.handle(PARENT, action="fb:up:1") is None
    assert labels(signing.handle(PARENT, text="/agree"))[0] == "I agree"
    assert labels(signing.handle(STAFF, text="/acknowledge@clearwell_bot"))[0] == "I have read and understood"
    assert "full name" in texts_of(signing.handle(PARENT, action="sig:agree"))
    assert signing.handle(PARENT, text="a pupil is being hurt at home", urgent=True) is None  # to the dialogue
    assert "Which class" in texts_of(signing.handle(PARENT, text="Jane Doe"))
    assert "prefer not to say" in texts_of(signing.handle(PARENT, action="sig:none"))
    assert "not one I know" in texts_of(signing.handle(SECOND_PARENT, text="/start nosuchcode1"))
    assert signing.handle(SECOND_PARENT, text="/start extra words") is None  # not a code: the dialogue's welcome
    assert [r["name"] for r in store.signatures.all()] == ["Jane Doe"]


def test_the_console_signs_too(advisor, untaught_engine, tmp_path):
    import io

    from bot.console import run_chat

    settings = Settings(database_path=tmp_path / "console.db")
    stdin = io.StringIO("/agree\n1\nJane Doe\n3B\n/mydata\n")
    stdout = io.StringIO()
    assert run_chat(advisor, settings, "parent", stdin, stdout) == 0
    out = stdout.getvalue()
    assert "[1] I agree" in out and "You have signed the parents' agreement" in out and "as Jane Doe (classes: 3B)" in out
    store = Store(settings.database_path)
    try:
        assert store.signatures.all()[0]["channel"] == "console"
    finally:
        store.close()


# --- end to end on Telegram (the real bot, the fake Bot API, the model) ------------------------------------

TG_PARENT, TG_OTHER_PARENT, TG_STAFF = 6101, 6102, 6103


async def test_telegram_a_parent_signs_by_their_link_and_confirms_only_what_changed_after_a_new_version(
    fake_bot_api, start_bot, telegram_settings, advisor, pack
):
    from fake_bot_api import running

    from bot.telegram.app import build_application
    from bot_fixtures import OFFICE_CHAT
    from telegram_helpers import button, buttons, open_store, press, say

    fake = fake_bot_api
    store = open_store(telegram_settings)
    jane = store.signatures.add_to_roster("parent", "Jane Doe", "j@x.org", "3B")
    store.close()
    agreement = pack.clause("10.5-agreement")
    async with start_bot():
        shown = await say(fake, TG_PARENT, f"/start {jane['code']}")
        assert "Hello Jane Doe" in shown[0]["text"]
        assert any(agreement.summary in m["text"] for m in shown)  # in plain words
        assert any(agreement.text[:200] in m["text"] for m in shown)  # and verbatim
        last = shown[-1]
        assert "does not erase" in last["text"] and [label for label, _ in buttons(last)][:2] == ["I agree", "I have a question first"]
        [signed] = await press(fake, TG_PARENT, last, button(last, "I agree"))  # name and class from the roster
        assert "Jane Doe" in signed["text"] and "3B" in signed["text"]

        # Another parent asks first: the question reaches the office chat like an unanswered question.
        before = len(fake.sent_messages(OFFICE_CHAT))
        shown = await say(fake, TG_OTHER_PARENT, "/agree")
        [ask] = await press(fake, TG_OTHER_PARENT, shown[-1], button(shown[-1], "question first"))
        assert "Type your question" in ask["text"]
        [sent] = await say(fake, TG_OTHER_PARENT, "Does this stop me sharing my own child's sports day photos?")
        assert "school office" in sent["text"]
        [*_, notice] = await fake.wait_for_messages(OFFICE_CHAT, before + 1, timeout=10)
        assert "sports day photos" in notice["text"]

    # The school changes the agreement's words; the bot starts again: Jane is asked to confirm.
    changed = reworded(pack, "10.5-agreement")
    application = build_application(telegram_settings, advisor, outbox_interval=0.3, backoff_base=0.2)
    application.bot_data["signing"].pack = changed
    before = len(fake.sent_messages(TG_PARENT))
    async with running(application):
        [*_, notice] = await fake.wait_for_messages(TG_PARENT, before + 1, timeout=30)
        assert "updated the parents' agreement" in notice["text"] and "10.5 (the agreement)" in notice["text"]
        assert fake.sent_messages(TG_OTHER_PARENT)[-1]["text"].startswith("Thank you")  # nobody else is messaged
        shown = await press(fake, TG_PARENT, notice, button(notice, "Read the changes"))
        assert "Only what changed" in shown[0]["text"]
        assert any("kind online" in m["text"] for m in shown)
        assert not any(m["text"].startswith("Section 10.5 —") for m in shown)  # the lead-in did not change
        [signed] = await press(fake, TG_PARENT, shown[-1], button(shown[-1], "I agree"))
        assert signed_text(changed, "agreement").short in signed["text"]

    store = open_store(telegram_settings)
    try:
        rows = [r for r in store.signatures.all() if r["outcome"] == "signed"]
        assert [(r["name"], r["roster_id"], r["channel"]) for r in rows] == [("Jane Doe", jane["id"], "telegram")] * 2
        assert [r["digest"] for r in rows] == [signed_text(pack, "agreement").digest, signed_text(changed, "agreement").digest]
    finally:
        store.close()


async def test_telegram_staff_acknowledge_and_a_child_at_risk_mid_signing_still_gets_the_safeguarding_reply(
    fake_bot_api, start_bot, telegram_settings
):
    from telegram_helpers import button, open_store, press, say

    fake = fake_bot_api
    async with start_bot():
        shown = await say(fake, TG_STAFF, "/acknowledge")
        assert len(shown) >= 3  # the whole policy, split to fit Telegram
        assert all(len(m["text"]) <= 4096 for m in shown)
        [ask_name] = await press(fake, TG_STAFF, shown[-1], button(shown[-1], "read and understood"))
        assert "full name" in ask_name["text"]
        urgent = await say(fake, TG_STAFF, "A pupil just told me her stepdad hits her and she is scared to go home")
        assert any("999" in m["text"] or "Safeguarding" in m["text"] for m in urgent)  # the dialogue answered it
        [ask_role] = await say(fake, TG_STAFF, "Tom Lee")  # still waiting for the name
        assert "role" in ask_role["text"]
        [done] = await say(fake, TG_STAFF, "Year 4 teacher")
        assert "acknowledged" in done["text"] and "Year 4 teacher" in done["text"]
        mydata = await say(fake, TG_STAFF, "/mydata")
        assert "policy acknowledged" in mydata[-1]["text"]
    store = open_store(telegram_settings)
    try:
        [row] = store.signatures.all()
        assert row["name"] == "Tom Lee" and row["kind"] == "acknowledgement" and row["channel"] == "telegram"
    finally:
        store.close()


async def test_telegram_a_reminder_from_the_roster_reaches_the_parent_and_its_button_starts_signing(
    fake_bot_api, start_bot, telegram_settings, pack
):
    """`policybot office roster remind` queues the reminder; the running bot sends it through the outbox."""
    from bot.office_cli import cmd_roster_remind
    from telegram_helpers import button, buttons, open_store, press, say

    fake = fake_bot_api
    store = open_store(telegram_settings)
    ann = store.signatures.add_to_roster("parent", "Ann Bell", "", "1A")
    store.close()
    async with start_bot():
        shown = await say(fake, TG_OTHER_PARENT, f"/start {ann['code']}")  # her row tied to her chat; she goes away
        await press(fake, TG_OTHER_PARENT, shown[-1], button(shown[-1], "Not now"))
        before = len(fake.sent_messages(TG_OTHER_PARENT))
        assert cmd_roster_remind(SimpleNamespace(settings=telegram_settings)) == 0
        [*_, reminder] = await fake.wait_for_messages(TG_OTHER_PARENT, before + 1, timeout=10)
        assert reminder["text"].startswith("Hello Ann Bell.") and "not yet had yours" in reminder["text"]
        shown = await press(fake, TG_OTHER_PARENT, reminder, button(reminder, "Read and sign"))
        assert buttons(shown[-1])[0][0] == "I agree"
        [signed] = await press(fake, TG_OTHER_PARENT, shown[-1], button(shown[-1], "I agree"))
        assert "Ann Bell" in signed["text"] and "1A" in signed["text"]
        assert cmd_roster_remind(SimpleNamespace(settings=telegram_settings)) == 0  # signed now: nobody to remind
    store = open_store(telegram_settings)
    try:
        assert len([m for m in store.db["outbox"].rows if m["kind"] == "remind"]) == 1
    finally:
        store.close()
