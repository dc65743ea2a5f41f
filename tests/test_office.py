"""The office service and `policybot office …`: answering teaches the engine, items resolve once, closing
tells the reporter, export and backup work on the live database."""

from __future__ import annotations

import csv
import stat

import pytest

from bot.dialogue import Person

pytestmark = pytest.mark.slow

ASKER = Person("telegram", "7001", "7001", "Asker")


def ask_unanswerable(dialogue, text="Can I run a crypto trading channel?"):
    dialogue.store.people.set_role(dialogue.store.people.user_key("telegram", ASKER.user_id), "staff")
    out = dialogue.handle(ASKER, text=text)
    assert "not sure" in out[0].text.lower()
    [item] = [i for i in dialogue.office.unanswered() if i["text"] == text]
    return item


def test_unanswered_item_is_noticed_with_suggestions(dialogue):
    item = ask_unanswerable(dialogue)
    text, rows = dialogue.office.unanswered_notice(item)
    assert item["text"] in text
    actions = [a for row in rows for _, a in row]
    assert any(a.startswith(f"of:a:{item['id']}:") for a in actions)
    assert f"of:w:{item['id']}" in actions and f"of:d:{item['id']}" in actions
    [queued] = dialogue.store.outbox.due_messages()
    assert queued["target"] == "office" and queued["ref"] == f"U-{item['id']}"


def test_answering_with_a_section_teaches_the_engine_once(dialogue, advisor):
    question = "Can I run a crypto trading channel?"
    assert not advisor.respond(question, "staff").answered
    item = ask_unanswerable(dialogue, question)
    office = dialogue.office
    outcome = office.answer_with_clause(item["id"], "6.4", "tester")
    assert outcome.ok and "6.4" in outcome.message
    after = advisor.respond(question, "staff")
    assert after.answered and after.matches[0].clause.id == "6.4"
    # The item resolves once; a second answer is refused.
    again = office.answer_with_clause(item["id"], "6.5", "tester")
    assert not again.ok and "already" in again.message
    # The asker is sent the section; the learned question has no link to them.
    [answer] = [m for m in dialogue.store.outbox.due_messages() if m["kind"] == "answer"]
    assert answer["chat_id"] == ASKER.chat_id and "Section 6.4" in answer["text"]
    assert f'"{question}" with section 6.4 of the policy' in answer["text"] and "{" not in answer["text"]
    assert dialogue.store.answers.taught_questions() == [("6.4", question)]


def test_answer_takes_a_section_or_the_offices_own_words(dialogue):
    office = dialogue.office
    by_section = ask_unanswerable(dialogue, "Can I run a crypto trading channel?")
    assert office.answer(by_section["id"], " 6.4 ", "tester").ok
    assert dialogue.store.answers.taught_questions() == [("6.4", "Can I run a crypto trading channel?")]
    in_words = ask_unanswerable(dialogue, "Can I play music from Spotify in assembly?")
    outcome = office.answer(in_words["id"], "Yes, through the school's licence.", "tester")
    assert outcome.ok and [a.answer for a in office.office_answers()] == ["Yes, through the school's licence."]
    assert dialogue.store.answers.taught_questions() == [("6.4", "Can I run a crypto trading channel?")]  # no clause taught


def test_unknown_items_sections_and_cases_are_refused(dialogue):
    office = dialogue.office
    assert not office.answer_with_clause(424242, "6.5", "t").ok
    item = ask_unanswerable(dialogue)
    assert "no section" in office.answer_with_clause(item["id"], "99.9", "t").message
    assert not office.dismiss(424242, "t").ok
    assert not office.close("BR-2026-9999", "note", "t").ok
    assert not office.acknowledge("nonsense", "t").ok
    assert not office.case_detail("CR-1").ok


def file_complaint(dialogue, person):
    dialogue.store.people.set_role(dialogue.store.people.user_key("telegram", person.user_id), "parent")
    for step in ["/complaint"]:
        dialogue.handle(person, text=step)
    dialogue.handle(person, action="f:route:continue")
    for text in ["The class blog shows my child's name", "Year 3", "skip", "Emailed the teacher", "Remove the name", "Reply here"]:
        dialogue.handle(person, text=text)
    out = dialogue.handle(person, action="f:confirm:send")
    return next(w.strip(".,") for w in out[-1].text.split() if w.startswith("CR-"))


def test_acknowledge_and_close_tell_the_reporter(dialogue):
    parent = Person("telegram", "7002", "7002", "Parent")
    ref = file_complaint(dialogue, parent)
    office = dialogue.office
    assert [c.ref for c in office.reports()] == [ref]
    assert office.acknowledge(ref, "tester").ok
    assert not office.acknowledge(ref, "tester").ok
    assert office.close(ref, "Name removed from the blog.", "tester").ok
    assert not office.close(ref, "again", "tester").ok
    assert office.reports() == []
    [notice] = [m for m in dialogue.store.outbox.due_messages() if m["kind"] == "case_update"]
    assert notice["chat_id"] == parent.chat_id and "Name removed" in notice["text"] and ref in notice["text"]
    actions = [(e["action"], e["target"]) for e in dialogue.store.audit.entries()]
    assert actions == [("acknowledge", ref), ("close", ref)]
    assert "closed" in dialogue.handle(parent, text=f"/status {ref}")[0].text


def test_stats_text(dialogue):
    ask_unanswerable(dialogue)
    text = dialogue.office.stats_text()
    assert "Questions: 1, answered 0 (0%)" in text and "1 unanswered" in text


def test_cli_reports_export_and_backup(dialogue, bot_settings, monkeypatch, tmp_path, capsys):
    from bot.cli import main

    parent = Person("telegram", "7003", "7003", "=HYPERLINK(\"http://evil\")")
    ref = file_complaint(dialogue, parent)
    item = ask_unanswerable(dialogue)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(bot_settings.database_path))
    assert main(["office", "reports"]) == 0
    assert ref in capsys.readouterr().out
    assert main(["office", "unanswered"]) == 0
    assert f"U-{item['id']}" in capsys.readouterr().out
    assert main(["office", "answer", f"U-{item['id']}", "--text", "Not allowed on school devices."]) == 0
    assert "answered" in capsys.readouterr().out
    assert main(["office", "answer", "nonsense", "6.5"]) == 2
    assert main(["office", "export", str(tmp_path / "out")]) == 0
    with (tmp_path / "out" / "complaints.csv").open(newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["ref"] == ref and "reporter_chat" not in row
    assert "reporter_name" not in row and "child" not in row  # pseudonymised: names only when asked for
    files = list((tmp_path / "out").iterdir())
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)  # like the database
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o700
    assert main(["office", "export", str(tmp_path / "named.csv"), "--what", "complaints", "--with-names"]) == 0
    with (tmp_path / "named.csv").open(newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["reporter_name"].startswith("'=")  # no formula injection
    assert stat.S_IMODE((tmp_path / "named.csv").stat().st_mode) == 0o600
    assert main(["office", "backup", str(tmp_path / "copy.db")]) == 0
    from bot.store import Store

    copy = Store(tmp_path / "copy.db")
    try:
        assert copy.cases.get(ref) is not None
    finally:
        copy.close()


def test_cli_acknowledges_and_closes_a_case_audited(dialogue, bot_settings, monkeypatch, tmp_path, capsys):
    from bot.cli import main

    parent = Person("telegram", "7004", "7004", "Parent")
    ref = file_complaint(dialogue, parent)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(bot_settings.database_path))
    assert main(["office", "ack", ref.lower()]) == 0
    assert f"{ref} acknowledged" in capsys.readouterr().out
    assert main(["office", "ack", ref]) == 1  # once
    assert main(["office", "close", ref, "Name removed from the blog.", "--by", "Mrs Khan"]) == 0
    assert f"{ref} closed by cli:Mrs Khan" in capsys.readouterr().out
    assert main(["office", "close", ref, "again"]) == 1 and "already closed" in capsys.readouterr().err
    assert main(["office", "ack", "CR-2026-9999"]) == 1
    case = dialogue.store.cases.get(ref)
    assert case.status == "closed" and case.row["closed_by"] == "cli:Mrs Khan"
    actions = [(e["action"], e["target"], e["actor"]) for e in dialogue.store.audit.entries()]
    assert actions[0][:2] == ("acknowledge", ref) and actions[0][2].startswith("cli:")
    assert actions[1] == ("close", ref, "cli:Mrs Khan")
    # The reporter, who gave their identity, is sent the note by the running bot.
    [notice] = [m for m in dialogue.store.outbox.due_messages() if m["kind"] == "case_update"]
    assert notice["chat_id"] == parent.chat_id and "Name removed from the blog." in notice["text"]


def test_one_office_is_shared_by_the_dialogue_and_the_telegram_handlers(telegram_settings, advisor, untaught_engine):
    from bot.telegram.app import build_application

    data = build_application(telegram_settings, advisor).bot_data
    try:
        services = data["services"]  # what the handlers read
        assert services.office is services.dialogue.office
        assert services.office.store is data["store"] is services.dialogue.store is services.store
    finally:
        data["store"].close()


def test_forget_erases_the_question_from_the_offices_notices(dialogue):
    """/forget: a notice not yet sent is dropped, and the question's words leave the copy of one already sent."""
    store = dialogue.store
    sent_item = ask_unanswerable(dialogue, "Can I run a crypto trading channel?")
    [sent] = store.outbox.due_messages()
    store.outbox.mark_delivered(sent["id"], 77)
    ask_unanswerable(dialogue, "Can I play music from Spotify in assembly?")  # its notice still waits
    dialogue.handle(ASKER, text="/forget")
    assert "erased" in dialogue.handle(ASKER, action="fg:yes")[0].text
    rows = list(store.db["outbox"].rows)
    assert "crypto" not in str(rows) and "Spotify" not in str(rows)
    [kept] = rows
    assert kept["ref"] == f"U-{sent_item['id']}" and "[erased at the asker's request]" in kept["text"]


def test_one_persons_questions_to_the_office_are_capped_per_day_and_safeguarding_never(advisor, store, bot_settings, untaught_engine):
    from dataclasses import replace

    from bot.dialogue import build_dialogue

    dialogue = build_dialogue(advisor, store, replace(bot_settings, office_queue_per_person_per_day=2))
    ask_unanswerable(dialogue, "Can I run a crypto trading channel?")
    ask_unanswerable(dialogue, "Can I play music from Spotify in assembly?")
    [capped, *_] = dialogue.handle(ASKER, text="Can I use AI chatbots to write reports?")
    assert "haven't passed this one on" in capped.text and "ask again tomorrow" in capped.text
    assert "noted your question" not in capped.text and capped.buttons  # still the nearest sections
    assert len(store.unanswered.items()) == 2
    # Someone else is not held back by it…
    other = Person("telegram", "7009", "7009", "Other")
    dialogue.handle(other, text="Can I use AI chatbots to write reports?")
    assert len(store.unanswered.items()) == 3
    # …and a child at risk is never held back: the alert reaches the office.
    urgent = dialogue.handle(ASKER, text="I think a pupil is being groomed online by an adult")
    assert urgent[0].kind == "safeguarding"
    assert "SA-" in dialogue.handle(ASKER, action="sg:alert")[0].text
    assert any(m["kind"] == "case" and m["ref"].startswith("SA-") for m in store.outbox.due_messages())


def test_questions_close_together_wait_and_go_as_one_notice(dialogue):
    from bot.office_queue import GROUP_KIND
    from bot.store import utc_now

    store = dialogue.store
    first = ask_unanswerable(dialogue, "Can I run a crypto trading channel?")
    later = [ask_unanswerable(dialogue, q) for q in ("Can I play music from Spotify in assembly?", "Can I use AI chatbots to write reports?")]
    [now] = store.outbox.due_messages()  # the first goes at once; the others wait for the window's end
    assert now["ref"] == f"U-{first['id']}"
    [waiting] = store.outbox.held(target="office", kinds=(GROUP_KIND,), now=utc_now())
    assert waiting["ref"] == ",".join(f"U-{i['id']}" for i in later)
    assert "Spotify" in waiting["text"] and "AI chatbots" in waiting["text"] and "2 unanswered questions" in waiting["text"]
