"""The office's own answers: chosen by measurement (labelled pairs), given to the same question asked again —
labelled as the office's and dated — but never over a confident policy answer or a safeguarding response;
unlearned from the CLI (also in a running bot); kept across a restart."""

from __future__ import annotations

import threading

import pytest

from bot.dialogue import Person
from knowledge.office_answers import SIMILARITY_THRESHOLD, OfficeAnswer, OfficeAnswers, swapped_word

pytestmark = pytest.mark.slow

ASKER = Person("telegram", "7101", "7101", "Asker")
LATER = Person("telegram", "7102", "7102", "Later")

# Labelled pairs: (a question the office answered, a question asked later, is it the same question?).
# "Same" = a paraphrase the office's answer fits; "different" = another question on the same topic, most of
# them deliberately hard (the same sentence about another thing, another role, another action).
PAIRS = [
    ("Can I play music from Spotify in assembly?", "Are we allowed to use Spotify to play songs during assembly?", True),
    ("Can I play music from Spotify in assembly?", "spotify in assembly ok?", True),
    ("Can I play music from Spotify in assembly?", "Can I put a Spotify playlist on in the school assembly?", True),
    ("Can I play music from Spotify in assembly?", "Can pupils listen to Spotify on their phones in class?", False),
    ("Can I play music from Spotify in assembly?", "Can I play YouTube videos in assembly?", False),
    ("Can I play music from Spotify in assembly?", "Can I log in to my own Spotify account on the school laptop?", False),
    ("Can I play music from Spotify in assembly?", "Can I play music from Apple Music in assembly?", False),
    ("Can I run a crypto trading channel?", "Am I allowed to run a cryptocurrency trading channel?", True),
    ("Can I run a crypto trading channel?", "is it ok for me to have a crypto trading channel on telegram", True),
    ("Can I run a crypto trading channel?", "Can I invest my savings in crypto?", False),
    ("Can I run a crypto trading channel?", "Can I run a YouTube channel about gaming?", False),
    ("Can I use ChatGPT to write pupils' reports?", "Is it OK to write end of year reports with ChatGPT?", True),
    ("Can I use ChatGPT to write pupils' reports?", "can i get chat gpt to draft my school reports", True),
    ("Can I use ChatGPT to write pupils' reports?", "Can pupils use ChatGPT for their homework?", False),
    ("Can I use ChatGPT to write pupils' reports?", "Can I use ChatGPT to plan my lessons?", False),
    ("Who do I ask to reset my school email password?", "How do I get my school email password reset?", True),
    ("Who do I ask to reset my school email password?", "forgot my work email password, who can reset it", True),
    ("Who do I ask to reset my school email password?", "Can I forward my school email to my personal account?", False),
    ("Who do I ask to reset my school email password?", "Who do I ask to set up an email account for my class?", False),
    ("Is there wifi for visitors at parents' evening?", "Can parents get on the guest wifi at parents evening?", True),
    ("Is there wifi for visitors at parents' evening?", "parents evening - is there visitor wifi?", True),
    ("Is there wifi for visitors at parents' evening?", "Can I livestream parents' evening?", False),
    ("Is there wifi for visitors at parents' evening?", "What time does parents' evening start?", False),
    ("Can I take my school laptop home over the holidays?", "Am I allowed to take the school laptop home for the summer holidays?", True),
    ("Can I take my school laptop home over the holidays?", "is it ok to keep my work laptop at home during half term", True),
    ("Can I take my school laptop home over the holidays?", "Can I install Netflix on my school laptop?", False),
    ("Can I take my school laptop home over the holidays?", "Can I use my own laptop for school work?", False),
    ("Can the PTA sell raffle tickets on Facebook Marketplace?", "Is the PTA allowed to sell raffle tickets through Facebook marketplace?", True),
    ("Can the PTA sell raffle tickets on Facebook Marketplace?", "Can the PTA run its own Facebook page?", False),
    ("Can the PTA sell raffle tickets on Facebook Marketplace?", "Can I sell my old furniture on Facebook Marketplace?", False),
    ("How long is CCTV footage kept?", "For how long does the school keep its CCTV recordings?", True),
    ("How long is CCTV footage kept?", "how long do you keep cctv for", True),
    ("How long is CCTV footage kept?", "Can I ask to see CCTV footage of my child?", False),
    ("How long is CCTV footage kept?", "Where are the CCTV cameras in school?", False),
    ("How long is CCTV footage kept?", "How long are my child's records kept?", False),
    ("Can I wear a smartwatch while teaching?", "Are teachers allowed smart watches in lessons?", True),
    ("Can I wear a smartwatch while teaching?", "smart watch in class - allowed for staff?", True),
    ("Can I wear a smartwatch while teaching?", "Can pupils wear smartwatches in school?", False),
    ("Can I wear a smartwatch while teaching?", "Can I wear headphones while marking in the classroom?", False),
    ("Can I use Canva with my class?", "Is Canva approved for use with pupils?", True),
    ("Can I use Canva with my class?", "can my class use canva", True),
    ("Can I use Canva with my class?", "Can I pay for Canva Pro with the school card?", False),
    ("Can I use Canva with my class?", "Can I use Padlet with my class?", False),
    ("When is the staff Christmas party?", "what date is the staff christmas do", True),
    ("When is the staff Christmas party?", "Can partners come to the staff Christmas party?", False),
    ("When is the staff Christmas party?", "When is the pupils' Christmas party?", False),
    ("Can I claim back the cost of a Zoom subscription?", "Will the school pay me back for my Zoom subscription?", True),
    ("Can I claim back the cost of a Zoom subscription?", "Can I use Zoom for parents' meetings?", False),
    ("Is Minecraft Education allowed in computing lessons?", "can we use minecraft education edition in computing", True),
    ("Is Minecraft Education allowed in computing lessons?", "Can I play Minecraft online with my class at the weekend?", False),
    ("Is Minecraft Education allowed in computing lessons?", "Is Roblox allowed in computing lessons?", False),
    ("Can my child bring a tablet on the school trip?", "Is my son allowed to take his iPad on the residential trip?", True),
    ("Can my child bring a tablet on the school trip?", "Can my child bring a phone to school?", False),
    ("Can my child bring a tablet on the school trip?", "Will there be photos of the school trip online?", False),
    ("Who runs the school's Instagram account?", "who is in charge of the school instagram", True),
    ("Who runs the school's Instagram account?", "Can I follow the school's Instagram account?", False),
    ("Who runs the school's Instagram account?", "Who runs the school's Facebook page?", False),
    ("Do supply teachers get a school email account?", "will supply staff be given a school email address", True),
    ("Do supply teachers get a school email account?", "Do supply teachers have to follow the social media policy?", False),
    ("Do supply teachers get a school email account?", "Do trainee teachers get a school email account?", False),
    ("Can I set up a Discord server for my Year 10 revision group?", "Am I allowed to make a Discord server so my year 10s can revise together?", True),
    ("Can I set up a Discord server for my Year 10 revision group?", "can i run a discord for year 10 revision", True),
    ("Can I set up a Discord server for my Year 10 revision group?", "Can I join a Discord server for teachers?", False),
    ("Can I set up a Discord server for my Year 10 revision group?", "Can I set up a WhatsApp group for my Year 10 revision group?", False),
    ("Is there a dress code for staff on non-uniform day?", "what should staff wear on non uniform day", True),
    ("Is there a dress code for staff on non-uniform day?", "Do pupils have to pay to take part in non-uniform day?", False),
    ("Can I sell my lesson plans on TES?", "Is it OK to sell lesson resources I made on TES?", True),
    ("Can I sell my lesson plans on TES?", "Can I download lesson plans from TES for free?", False),
    ("Can I sell my lesson plans on TES?", "Can I sell my lesson plans on Etsy?", False),
    ("Does the school have a Microsoft Teams licence for parents?", "can parents get microsoft teams through the school", True),
    ("Does the school have a Microsoft Teams licence for parents?", "Can I use Microsoft Teams to message pupils?", False),
    ("Can I use my phone as a hotspot for the classroom projector?", "Is it ok to tether the classroom projector to my mobile data?", True),
    ("Can I use my phone as a hotspot for the classroom projector?", "Can I charge my phone in the classroom?", False),
]


@pytest.fixture(autouse=True)
def no_office_answers(advisor):
    """The session's one advisor starts and ends each test with no office answers of another test's."""
    advisor.office_answers.clear()
    yield
    advisor.office_answers.clear()


# --- the threshold, from measurement -------------------------------------------------------------------


@pytest.fixture(scope="module")
def measured(advisor):
    """(cosine, swapped word pair or None, same?) for every labelled pair, as the matcher sees them."""
    engine = advisor.engine
    stored = engine.embed([s for s, _, _ in PAIRS])
    asked = engine.embed([n for _, n, _ in PAIRS])
    return [
        (float(a @ b), swapped_word(engine.expand(n), engine.expand(s)), same)
        for (s, n, same), a, b in zip(PAIRS, stored, asked)
    ]


def accepted(rows, threshold, guard=True):
    return [same for cosine, swap, same in rows if cosine >= threshold and not (guard and swap)]


def test_the_labelled_set_is_balanced_enough_to_judge():
    same = sum(1 for *_, s in PAIRS if s)
    assert len(PAIRS) >= 70 and 25 <= same <= len(PAIRS) - 25
    assert len({(s, n) for s, n, _ in PAIRS}) == len(PAIRS)


def test_threshold_is_the_lowest_with_no_false_match_plus_a_small_margin(measured):
    grid = [round(0.70 + 0.01 * i, 2) for i in range(30)]
    lowest = next(t for t in grid if all(accepted(measured, t)))
    # The chosen threshold accepts no different question, and sits just above the measured boundary.
    assert lowest <= SIMILARITY_THRESHOLD <= lowest + 0.02, (lowest, SIMILARITY_THRESHOLD)
    assert all(accepted(measured, SIMILARITY_THRESHOLD))
    closest_different = max(c for c, swap, same in measured if not same and not swap)
    assert SIMILARITY_THRESHOLD - closest_different >= 0.015
    # ...while still recognising a useful share of the paraphrases (precision first: see the module).
    paraphrases = sum(1 for *_, s in measured if s)
    assert sum(accepted(measured, SIMILARITY_THRESHOLD)) / paraphrases >= 0.35


def test_the_rapidfuzz_guard_earns_its_place(measured):
    # Without it the same threshold gives a different question's answer ("trainee" for "supply" teachers)...
    assert not all(accepted(measured, SIMILARITY_THRESHOLD, guard=False))
    # ...and avoiding that by threshold alone would cost most of the paraphrases it finds.
    grid = [round(0.70 + 0.01 * i, 2) for i in range(30)]
    unguarded = next(t for t in grid if all(accepted(measured, t, guard=False)))
    assert sum(accepted(measured, unguarded, guard=False)) < sum(accepted(measured, SIMILARITY_THRESHOLD))


def test_swap_guard_on_its_own():
    assert swapped_word("Can I sell my lesson plans on Etsy?", "Can I sell my lesson plans on TES?") == ("etsy", "tes")
    assert swapped_word("Am I allowed to run a cryptocurrency trading channel?", "Can I run a crypto trading channel?") is None
    assert swapped_word("can my class use canva", "Can I use Canva with my class?") is None
    assert swapped_word("", "") is None


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
    assert near is not None and near.swapped == ("apple", "spotify") and not near.accepted
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
    dialogue.storage.set_role(dialogue.storage.user_key("telegram", ASKER.user_id), role)
    out = dialogue.handle(ASKER, text=question)
    assert "not sure" in out[0].text.lower()
    [item] = [i for i in dialogue.office.unanswered() if i["text"] == question]
    outcome = dialogue.office.answer_with_text(item["id"], answer, "tg:900")
    assert outcome.ok and "A-" in outcome.message
    return item


def ask_later(dialogue, text, role="staff"):
    dialogue.storage.set_role(dialogue.storage.user_key("telegram", LATER.user_id), role)
    return dialogue.handle(LATER, text=text)


def test_a_paraphrase_gets_the_office_answer_labelled_and_dated(dialogue, advisor):
    ask_and_answer_in_words(dialogue)
    [learned] = dialogue.storage.office_answers()
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
    [asked] = [q for q in dialogue.storage.db["questions"].rows if q["text"] == "spotify in assembly ok?"]
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
    dialogue.storage.add_office_answer(question, "Sure, why not.", "staff", "tg:900")
    from bot.office import load_office_answers

    load_office_answers(advisor, dialogue.storage)
    out = ask_later(dialogue, question)
    assert out[0].kind == "answer" and "Sure, why not." not in out[0].text
    assert out[0].answer.matches[0].clause.id == "6.5"


def test_safeguarding_is_never_bypassed(dialogue, advisor):
    message = "I think a pupil is being groomed online by an adult"
    dialogue.storage.add_office_answer(message, "Not our concern.", "staff", "tg:900")
    from bot.office import load_office_answers

    load_office_answers(advisor, dialogue.storage)
    reply = advisor.respond(message, "staff")
    assert reply.intent == "safeguarding" and reply.office is None and "Not our concern." not in reply.reply
    out = ask_later(dialogue, message)
    assert "999" in out[0].text and "Not our concern." not in " ".join(o.text for o in out)


def test_unlearn_stops_it_at_once_and_from_the_cli(dialogue, advisor, bot_settings, monkeypatch, tmp_path, capsys):
    from bot.cli import main
    from bot.telegram.app import learn_from_database

    ask_and_answer_in_words(dialogue)
    [learned] = dialogue.storage.office_answers()
    outcome = dialogue.office.unlearn(learned["id"], "tg:900")
    assert outcome.ok and f"A-{learned['id']}" in outcome.message
    assert ask_later(dialogue, "spotify in assembly ok?")[0].kind != "office_answer"
    assert not dialogue.office.unlearn(learned["id"], "tg:900").ok
    assert any(e["action"] == "unlearn" for e in dialogue.storage.audit_entries())

    # Answered and removed from the terminal (another process): a running bot follows the database.
    second = "Can I use Canva with my class?"
    ask_and_answer_in_words(dialogue, second, "Yes, with the school account.")
    [again] = dialogue.storage.office_answers()
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
    assert advisor.respond("can my class use canva").office is not None  # not yet picked up
    learn_from_database({"storage": dialogue.storage, "advisor": advisor})
    assert advisor.respond("can my class use canva").office is None


def test_an_answer_from_the_cli_is_learned_by_a_running_bot(dialogue, advisor, bot_settings, monkeypatch, tmp_path):
    from bot.cli import main
    from bot.telegram.app import learn_from_database

    dialogue.storage.set_role(dialogue.storage.user_key("telegram", ASKER.user_id), "staff")
    dialogue.handle(ASKER, text=SPOTIFY)
    [item] = dialogue.office.unanswered()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(bot_settings.database_path))
    assert main(["office", "answer", f"U-{item['id']}", "--text", SPOTIFY_ANSWER]) == 0
    assert advisor.respond("spotify in assembly ok?").office is None  # another process answered
    learn_from_database({"storage": dialogue.storage, "advisor": advisor})
    assert advisor.respond("spotify in assembly ok?").office.text == SPOTIFY_ANSWER


def test_office_answers_survive_a_restart(dialogue, advisor, bot_settings):
    from bot.runtime import load_stored_office_answers
    from bot.storage import Storage
    from intents.advisor import Advisor

    ask_and_answer_in_words(dialogue)
    # A new process: its own connection to the same file, a new advisor (sharing the loaded model and pack).
    reopened = Storage(bot_settings.database_path)
    try:
        assert [r["question"] for r in reopened.office_answers()] == [SPOTIFY]
    finally:
        reopened.close()
    fresh = Advisor(advisor.engine, advisor.classifier, advisor.responses)
    assert fresh.respond("spotify in assembly ok?").office is None
    assert load_stored_office_answers(fresh, bot_settings.database_path) == 1
    reply = fresh.respond("spotify in assembly ok?")
    assert reply.office is not None and reply.office.text == SPOTIFY_ANSWER


def test_the_console_shows_the_office_answer(advisor, bot_settings, storage, dialogue):
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
    [(html_text, _)] = render(Outgoing(reply.reply, answer=reply, kind="office_answer"), advisor.responses)
    assert "<blockquote>Yes &lt;b&gt;if&lt;/b&gt; licensed &amp; quiet.</blockquote>" in html_text
    assert html_text.startswith("<b>The school office answered this question on 20 November 2026:</b>")
    assert "<i>This is the office's own answer, not a quote from the policy." in html_text
    parse_html(html_text)  # valid for Telegram


def test_an_older_database_gains_the_table_and_keeps_its_data(tmp_path):
    import sqlite_utils

    from bot.storage import Storage, migrations

    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m002_office_answers")
    old["learned_alternates"].insert({"clause_id": "6.4", "text": "kept", "created": "2026-01-01T00:00:00+00:00"})
    old.close()
    store = Storage(path)
    try:
        assert store.learned_alternates() == [("6.4", "kept")]
        assert store.office_answers() == []
        answer_id = store.add_office_answer(" Q? ", " A. ", "parent", "cli:office")
        assert store.office_answer(answer_id)["question"] == "Q?" and store.remove_office_answer(answer_id)
    finally:
        store.close()


# --- Telegram, end to end ----------------------------------------------------------------------------


async def test_telegram_a_written_answer_is_given_to_the_next_person_who_asks(fake_bot_api, start_bot):
    import test_telegram_e2e as e2e
    from bot_fixtures import ADMIN, OFFICE_CHAT

    fake = fake_bot_api
    async with start_bot():
        await e2e.become(fake, e2e.STAFF, "staff")
        await e2e.say(fake, e2e.STAFF, SPOTIFY)
        [notice] = await fake.wait_for_messages(OFFICE_CHAT, 1, timeout=10)
        fake.press_button(ADMIN, notice, e2e.button(notice, "Write an answer"))
        await fake.wait_for_messages(OFFICE_CHAT, 2, timeout=10)
        before = len(fake.sent_messages(e2e.STAFF))
        written = "Yes, through the school's licence — <b>not</b> your own account & keep it quiet."
        fake.send_text(ADMIN, written, chat_id=OFFICE_CHAT, chat_type="supergroup")
        await fake.wait_for_messages(e2e.STAFF, before + 1, timeout=10)

        # Another member of staff asks the same thing in other words: the office's answer, no restart.
        other = e2e.STRANGER
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
        await e2e.settle(fake, OFFICE_CHAT)
        assert not [m for m in fake.sent_messages(OFFICE_CHAT) if "spotify in assembly ok?" in m.get("text", "")]
