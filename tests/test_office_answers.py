"""The office's own answers: chosen by measurement (labelled pairs), given to the same question asked again —
labelled as the office's and dated — but never over a confident policy answer or a safeguarding response;
unlearned from the CLI (also in a running bot); kept across a restart."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml

from bot.dialogue import Person
from knowledge.office_answers import SIMILARITY_THRESHOLD, OfficeAnswer, OfficeAnswers, different_detail

pytestmark = pytest.mark.slow

ASKER = Person("telegram", "7101", "7101", "Asker")
LATER = Person("telegram", "7102", "7102", "Later")

# Labelled pairs (a question the office answered, a question asked later, is it the same question?), with how
# each set was written and used: tests/fixtures/office_answer_pairs.yaml.
PAIR_SETS = yaml.safe_load((Path(__file__).parent / "fixtures" / "office_answer_pairs.yaml").read_text(encoding="utf-8"))["sets"]
PAIRS = [(p["answered"], p["asked"], p["same"]) for labelled in PAIR_SETS for p in labelled["pairs"]]


@pytest.fixture(autouse=True)
def no_office_answers(advisor):
    """The session's one advisor starts and ends each test with no office answers of another test's."""
    advisor.office_answers.clear()
    yield
    advisor.office_answers.clear()


# --- the threshold, from measurement -------------------------------------------------------------------


@pytest.fixture(scope="module")
def measured(advisor):
    """(cosine, what the guard finds different, same?) for every labelled pair, as the matcher sees them."""
    engine = advisor.engine
    stored = engine.embed([s for s, _, _ in PAIRS])
    asked = engine.embed([n for _, n, _ in PAIRS])
    return [
        (float(a @ b), different_detail(engine.expand(n), engine.expand(s)), same)
        for (s, n, same), a, b in zip(PAIRS, stored, asked)
    ]


def accepted(rows, threshold, guard=True):
    return [same for cosine, differs, same in rows if cosine >= threshold and not (guard and differs)]


def lowest_without_false_match(rows, guard=True):
    grid = [round(0.60 + 0.01 * i, 2) for i in range(40)]
    return next(t for t in grid if all(accepted(rows, t, guard)))


def test_the_labelled_set_is_big_and_balanced_enough_to_judge():
    same = sum(1 for *_, s in PAIRS if s)
    assert len(PAIRS) >= 140 and 50 <= same <= len(PAIRS) - 50
    assert len({(s, n) for s, n, _ in PAIRS}) == len(PAIRS)


def test_threshold_is_the_lowest_with_no_false_match_plus_a_margin(measured):
    lowest = lowest_without_false_match(measured)
    # No different question is accepted, and the threshold sits a small margin above the measured boundary.
    assert all(accepted(measured, SIMILARITY_THRESHOLD))
    assert lowest + 0.02 <= SIMILARITY_THRESHOLD <= lowest + 0.05, (lowest, SIMILARITY_THRESHOLD)
    closest_different = max(c for c, differs, same in measured if not same and not differs)
    assert SIMILARITY_THRESHOLD - closest_different >= 0.03
    # ...while still recognising a useful share of the paraphrases (precision first: see the module).
    paraphrases = sum(1 for *_, s in measured if s)
    # (14 of 58 with the Clearwell pack's adapter, 18 with the base model: the adapter sharpens policy questions,
    # and office answers are mostly about what the policy does not cover.)
    assert sum(accepted(measured, SIMILARITY_THRESHOLD)) / paraphrases >= 0.2


def test_the_rapidfuzz_guard_earns_its_place(measured):
    # Without it the same threshold gives other questions' answers ("Can pupils use a VPN…" at 0.936)...
    wrong = len(accepted(measured, SIMILARITY_THRESHOLD, guard=False)) - sum(accepted(measured, SIMILARITY_THRESHOLD, guard=False))
    assert wrong >= 10
    # ...and avoiding that by the threshold alone would leave almost no paraphrase recognised.
    unguarded = lowest_without_false_match(measured, guard=False)
    assert unguarded >= 0.9
    assert sum(accepted(measured, unguarded, guard=False)) < sum(accepted(measured, SIMILARITY_THRESHOLD)) / 2


def test_the_guard_on_its_own():
    assert different_detail("Can I sell my lesson plans on Etsy?", "Can I sell my lesson plans on TES?") == ("etsy", "tes")
    assert different_detail("Can pupils use a VPN on the school wifi?", "Can I use a VPN on the school wifi?") == ("@pupils",)
    assert different_detail("can teachers ride e-scooters to school", "Are staff allowed to ride e-scooters to school?") == ()
    assert different_detail("Am I allowed to run a cryptocurrency trading channel?", "Can I run a crypto trading channel?") == ()
    assert different_detail("can my class use canva", "Can I use Canva with my class?") == ()
    assert different_detail("spotify in assembly ok?", "Can I play music from Spotify in assembly?") == ()  # words dropped
    assert different_detail("", "") == ()


def test_the_index_searches_and_changes_without_a_restart(advisor):
    engine = advisor.engine
    index = OfficeAnswers(engine.embed, engine.expand)
    assert index.best("Anything at all?") is None
    spotify = OfficeAnswer(1, "Can I play music from Spotify in assembly?", "Yes, with the school's licence.", "2026-11-20T10:00:00+00:00", "tg:1", "staff")
    assert index.add([spotify]) == 1 and len(index) == 1
    found = index.best("spotify in assembly ok?", role="staff")
    assert found is not None and found.entry.id == 1 and found.similarity >= SIMILARITY_THRESHOLD
    assert index.best("spotify in assembly ok?", role="parent") is None  # answered for staff, not parents
    assert index.best("Can I play music from Apple Music in assembly?", role="staff") is None
    near = index.nearest("Can I play music from Apple Music in assembly?", role="staff")
    assert near is not None and near.differs == ("apple", "spotify") and not near.accepted
    # The office answered the same question again later: the newer answer is given.
    newer = OfficeAnswer(2, spotify.question, "Only royalty-free music, please.", "2026-11-25T09:00:00+00:00", "tg:2", "staff")
    index.add([newer])
    assert index.best("spotify in assembly ok?", role="staff").entry.id == 2
    assert index.remove(2) and not index.remove(2)
    assert index.best("spotify in assembly ok?", role="staff").entry.id == 1
    assert index.sync([]) == 1 and index.best("spotify in assembly ok?") is None
    assert spotify.answered_on == "20 November 2026"


def test_adding_while_another_thread_searches(advisor):
    engine = advisor.engine
    index = OfficeAnswers(engine.embed, engine.expand)
    questions = [f"Can I bring item number {i} to the staff room?" for i in range(40)]
    errors: list[BaseException] = []
    stop = threading.Event()

    def search() -> None:
        vector = engine.embed(["Can I bring item number 3 to the staff room?"])
        while not stop.is_set():
            try:
                for match in index.candidates_many(["Can I bring item number 3 to the staff room?"], vector)[0]:
                    assert match.entry.question in questions
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return

    reader = threading.Thread(target=search)
    reader.start()
    try:
        for i, question in enumerate(questions):
            index.add([OfficeAnswer(i + 1, question, f"Answer {i}", "2026-11-20T10:00:00+00:00", "t")])
            if i % 7 == 6:
                index.remove(i)
    finally:
        stop.set()
        reader.join(timeout=30)
    assert not errors
    assert len(index) == 40 - len([i for i in range(40) if i % 7 == 6])


# --- the advisor and the dialogue ----------------------------------------------------------------------

SPOTIFY = "Can I play music from Spotify in assembly?"
SPOTIFY_ANSWER = "Yes — the school has a licence; use the assembly laptop, not your own account."


def ask_and_answer_in_words(dialogue, question=SPOTIFY, answer=SPOTIFY_ANSWER, role="staff"):
    dialogue.store.people.set_role(dialogue.store.people.user_key("telegram", ASKER.user_id), role)
    out = dialogue.handle(ASKER, text=question)
    assert "not sure" in out[0].text.lower()
    [item] = [i for i in dialogue.office.unanswered() if i["text"] == question]
    outcome = dialogue.office.answer_with_text(item["id"], answer, "tg:900")
    assert outcome.ok and "A-" in outcome.message
    return item


def ask_later(dialogue, text, role="staff"):
    dialogue.store.people.set_role(dialogue.store.people.user_key("telegram", LATER.user_id), role)
    return dialogue.handle(LATER, text=text)


def test_a_paraphrase_gets_the_office_answer_labelled_and_dated(dialogue, advisor):
    ask_and_answer_in_words(dialogue)
    [learned] = dialogue.store.answers.office_answers()
    assert learned["question"] == SPOTIFY and learned["answer"] == SPOTIFY_ANSWER and learned["role"] == "staff"
    assert set(learned) == {"id", "question", "answer", "role", "answered_at", "answered_by"}  # no link to the asker
    out = ask_later(dialogue, "spotify in assembly ok?")
    first = out[0]
    assert first.kind == "office_answer"
    assert SPOTIFY_ANSWER in first.text
    assert "school office answered" in first.text.lower() and "not a quote from the policy" in first.text
    assert OfficeAnswer(0, "q", "a", learned["answered_at"], "").answered_on in first.text  # "26 November 2026"
    assert "not sure" not in first.text.lower()
    # Nothing new for the office: the question was answered, and counts as answered.
    assert [i for i in dialogue.office.unanswered()] == []
    [asked] = [q for q in dialogue.store.db["questions"].rows if q["text"] == "spotify in assembly ok?"]
    assert asked["answered"] == 1 and asked["top_clause"] == ""
    # The structured reply says where the answer came from, and --json gains a field without losing any.
    reply = advisor.respond("spotify in assembly ok?", "staff")
    assert reply.answered and reply.office is not None and reply.answer is None and reply.matches == ()
    data = reply.to_json()
    assert {"question", "role", "intent", "answered", "confidence", "verdict", "matches", "reply"} <= set(data)
    assert data["office_answer"]["id"] == learned["id"] and data["office_answer"]["text"] == SPOTIFY_ANSWER
    assert "office_answer" not in advisor.respond("Can I accept a friend request from a pupil?").to_json()


def test_an_unrelated_or_merely_similar_question_does_not_get_it(dialogue):
    ask_and_answer_in_words(dialogue)
    for text in ("Can I run a crypto trading channel?", "Can I play music from Apple Music in assembly?"):
        out = ask_later(dialogue, text)
        assert out[0].kind != "office_answer" and SPOTIFY_ANSWER not in out[0].text, text
    # A parent asking the staff member's question is not given the staff answer.
    out = ask_later(dialogue, "spotify in assembly ok?", role="parent")
    assert SPOTIFY_ANSWER not in out[0].text


def test_a_confident_policy_answer_still_wins(dialogue, advisor):
    question = "Can I accept a friend request from a pupil?"
    assert advisor.respond(question, "staff").answered
    # Even an office answer to exactly this question does not replace the policy's clause.
    dialogue.store.answers.add_office_answer(question, "Sure, why not.", "staff", "tg:900")
    from bot.office import load_office_answers

    load_office_answers(advisor, dialogue.store)
    out = ask_later(dialogue, question)
    assert out[0].kind == "answer" and "Sure, why not." not in out[0].text
    assert out[0].answer.matches[0].clause.id == "6.5"


def test_safeguarding_is_never_bypassed(dialogue, advisor):
    message = "I think a pupil is being groomed online by an adult"
    dialogue.store.answers.add_office_answer(message, "Not our concern.", "staff", "tg:900")
    from bot.office import load_office_answers

    load_office_answers(advisor, dialogue.store)
    reply = advisor.respond(message, "staff")
    assert reply.intent == "safeguarding" and reply.office is None and "Not our concern." not in reply.reply
    out = ask_later(dialogue, message)
    assert "999" in out[0].text and "Not our concern." not in " ".join(o.text for o in out)


def test_unlearn_stops_it_at_once_and_from_the_cli(dialogue, advisor, bot_settings, monkeypatch, tmp_path, capsys):
    from bot.cli import main
    from bot.telegram.app import learn_from_database

    ask_and_answer_in_words(dialogue)
    [learned] = dialogue.store.answers.office_answers()
    outcome = dialogue.office.unlearn(learned["id"], "tg:900")
    assert outcome.ok and f"A-{learned['id']}" in outcome.message
    assert ask_later(dialogue, "spotify in assembly ok?")[0].kind != "office_answer"
    assert not dialogue.office.unlearn(learned["id"], "tg:900").ok
    assert any(e["action"] == "unlearn" for e in dialogue.store.audit.entries())

    # Answered and removed from the terminal (another process): a running bot follows the database.
    second = "Can I use Pinterest boards for my lesson ideas?"
    ask_and_answer_in_words(dialogue, second, "Yes, with the school account.")
    [again] = dialogue.store.answers.office_answers()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(bot_settings.database_path))
    assert main(["office", "answers"]) == 0
    listing = capsys.readouterr().out
    assert f"A-{again['id']}" in listing and second in listing and "Yes, with the school account." in listing
    assert main(["office", "export", str(tmp_path / "answers.csv"), "--what", "answers"]) == 0
    capsys.readouterr()
    assert "Yes, with the school account." in (tmp_path / "answers.csv").read_text(encoding="utf-8")
    assert main(["office", "unlearn", "nonsense"]) == 2
    assert main(["office", "unlearn", f"A-{again['id']}"]) == 0
    assert "removed" in capsys.readouterr().out
    assert main(["office", "unlearn", f"A-{again['id']}"]) == 1
    assert main(["office", "answers"]) == 0 and "No answers" in capsys.readouterr().out
    assert advisor.respond("pinterest boards for my lesson ideas - can I?").office is not None  # not yet picked up
    learn_from_database({"store": dialogue.store, "advisor": advisor})
    assert advisor.respond("pinterest boards for my lesson ideas - can I?").office is None


def test_an_answer_from_the_cli_is_learned_by_a_running_bot(dialogue, advisor, bot_settings, monkeypatch, tmp_path):
    from bot.cli import main
    from bot.telegram.app import learn_from_database

    dialogue.store.people.set_role(dialogue.store.people.user_key("telegram", ASKER.user_id), "staff")
    dialogue.handle(ASKER, text=SPOTIFY)
    [item] = dialogue.office.unanswered()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(bot_settings.database_path))
    assert main(["office", "answer", f"U-{item['id']}", "--text", SPOTIFY_ANSWER]) == 0
    assert advisor.respond("spotify in assembly ok?").office is None  # another process answered
    learn_from_database({"store": dialogue.store, "advisor": advisor})
    assert advisor.respond("spotify in assembly ok?").office.text == SPOTIFY_ANSWER


def test_office_answers_survive_a_restart(dialogue, advisor, bot_settings):
    from bot.runtime import load_stored_office_answers
    from bot.store import Store
    from intents.advisor import Advisor

    ask_and_answer_in_words(dialogue)
    # A new process: its own connection to the same file, a new advisor (sharing the loaded model and pack).
    reopened = Store(bot_settings.database_path)
    try:
        assert [r["question"] for r in reopened.answers.office_answers()] == [SPOTIFY]
    finally:
        reopened.close()
    fresh = Advisor(advisor.engine, advisor.classifier, advisor.texts)
    assert fresh.respond("spotify in assembly ok?").office is None
    assert load_stored_office_answers(fresh, bot_settings.database_path) == 1
    reply = fresh.respond("spotify in assembly ok?")
    assert reply.office is not None and reply.office.text == SPOTIFY_ANSWER


def test_the_console_shows_the_office_answer(advisor, bot_settings, store, dialogue):
    import io

    from bot.console import run_chat

    ask_and_answer_in_words(dialogue)
    out = io.StringIO()
    run_chat(advisor, bot_settings, "staff", io.StringIO("spotify in assembly ok?\n"), out)
    text = out.getvalue()
    assert SPOTIFY_ANSWER in text and "school office answered" in text.lower()


def test_telegram_renders_the_office_answer_escaped(advisor):
    from bot.dialogue import Outgoing
    from bot.telegram.render import render
    from fake_bot_api import parse_html

    advisor.office_answers.add([OfficeAnswer(9, SPOTIFY, "Yes <b>if</b> licensed & quiet.", "2026-11-20T10:00:00+00:00", "t", "staff")])
    reply = advisor.respond("spotify in assembly ok?", "staff")
    [(html_text, _)] = render(Outgoing(reply.reply, answer=reply, kind="office_answer"))
    assert "<blockquote>Yes &lt;b&gt;if&lt;/b&gt; licensed &amp; quiet.</blockquote>" in html_text
    assert html_text.startswith("<b>The school office answered this question on 20 November 2026:</b>")
    assert "<i>This is the office's own answer, not a quote from the policy." in html_text
    parse_html(html_text)  # valid for Telegram


def test_an_older_database_gains_the_table_and_keeps_its_data(tmp_path):
    import sqlite_utils

    from bot.store import Store, migrations

    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m002_office_answers")
    old["learned_alternates"].insert({"clause_id": "6.4", "text": "kept", "created": "2026-01-01T00:00:00+00:00"})
    old.close()
    store = Store(path)
    try:
        assert store.answers.taught_questions() == [("6.4", "kept")]
        assert store.answers.office_answers() == []
        answer_id = store.answers.add_office_answer(" Q? ", " A. ", "parent", "cli:office")
        assert store.answers.office_answer(answer_id)["question"] == "Q?" and store.answers.remove_office_answer(answer_id)
    finally:
        store.close()


# --- Telegram, end to end ----------------------------------------------------------------------------


async def test_telegram_a_written_answer_is_given_to_the_next_person_who_asks(fake_bot_api, start_bot):
    import telegram_helpers as e2e
    from bot_fixtures import ADMIN, OFFICE_CHAT

    staff, stranger = 5001, 5003  # a member of staff who asks, and another who asks later

    fake = fake_bot_api
    async with start_bot():
        await e2e.become(fake, staff, "staff")
        await e2e.say(fake, staff, SPOTIFY)
        [notice] = await fake.wait_for_messages(OFFICE_CHAT, 1, timeout=10)
        fake.press_button(ADMIN, notice, e2e.button(notice, "Write an answer"))
        await fake.wait_for_messages(OFFICE_CHAT, 2, timeout=10)
        before = len(fake.sent_messages(staff))
        written = "Yes, through the school's licence — <b>not</b> your own account & keep it quiet."
        fake.send_text(ADMIN, written, chat_id=OFFICE_CHAT, chat_type="supergroup")
        [*_, confirm] = await fake.wait_for_messages(OFFICE_CHAT, 3, timeout=10)  # shown for confirmation first
        fake.press_button(ADMIN, confirm, e2e.button(confirm, "Send"))
        await fake.wait_for_messages(staff, before + 1, timeout=10)

        # Another member of staff asks the same thing in other words: the office's answer, no restart.
        other = stranger
        await e2e.become(fake, other, "staff")
        [answer, *_] = await e2e.say(fake, other, "spotify in assembly ok?")
        assert written in answer["text"]
        assert answer["text"].startswith("The school office answered this question on")
        assert "not a quote from the policy" in answer["text"]
        kinds = {e["type"] for e in answer.get("entities", [])}
        assert {"bold", "blockquote", "italic"} <= kinds
        labels = [label for label, _ in e2e.buttons(answer)]
        assert "👍" in labels and not any("Full section" in label for label in labels)
        # Nothing new reached the office.
        await e2e.end_of_turn(fake, other)
        assert not [m for m in fake.sent_messages(OFFICE_CHAT) if "spotify in assembly ok?" in m.get("text", "")]

        # The office sees what the bot gives in its words, and takes it back, from Telegram.
        before = len(fake.sent_messages(OFFICE_CHAT))
        fake.send_text(ADMIN, "/answers", chat_id=OFFICE_CHAT, chat_type="supergroup")
        [*_, listing] = await fake.wait_for_messages(OFFICE_CHAT, before + 1, timeout=10)
        assert "A-1" in listing["text"] and SPOTIFY in listing["text"]
        for wrong in ("/unlearn", "/unlearn banana"):
            before = len(fake.sent_messages(OFFICE_CHAT))
            fake.send_text(ADMIN, wrong, chat_id=OFFICE_CHAT, chat_type="supergroup")
            [*_, usage] = await fake.wait_for_messages(OFFICE_CHAT, before + 1, timeout=10)
            assert usage["text"].startswith("Usage: /unlearn")
        before = len(fake.sent_messages(OFFICE_CHAT))
        fake.send_text(ADMIN, "/unlearn A-1", chat_id=OFFICE_CHAT, chat_type="supergroup")
        [*_, done] = await fake.wait_for_messages(OFFICE_CHAT, before + 1, timeout=10)
        assert "A-1 removed" in done["text"]
        third = stranger + 1
        await e2e.become(fake, third, "staff")
        [again, *_] = await e2e.say(fake, third, "spotify in assembly ok?")
        assert written not in again["text"]  # no longer given


def test_build_advisor_loads_the_stored_answers_at_start(dialogue, bot_settings, tmp_path):
    from dataclasses import replace

    from bot.runtime import build_advisor

    ask_and_answer_in_words(dialogue)
    started = build_advisor(bot_settings)  # a new process would start like this (`policybot ask`, `serve`)
    assert [e.question for e in started.office_answers.entries()] == [SPOTIFY]
    assert started.respond("spotify in assembly ok?").office.text == SPOTIFY_ANSWER
    # No database yet (a fresh checkout): nothing is loaded, and no database is created.
    missing = tmp_path / "none" / "policybot.db"
    assert len(build_advisor(replace(bot_settings, database_path=missing)).office_answers) == 0
    assert not missing.exists()
    assert len(build_advisor(bot_settings, office_answers=False).office_answers) == 0
