"""The answer engine with the real model: role-aware answers, abstention, teaching, and the disk cache."""

from pathlib import Path

import numpy as np
import pytest

from knowledge.engine import PolicyEngine
from knowledge.pack import load_pack


def top_id(search):
    return search.matches[0].clause.id


def test_friend_request_from_a_pupil_is_declined(advisor):
    reply = advisor.respond("my year 9 kid sent me a friend request what do i do", "staff")
    assert reply.intent == "question" and reply.answered
    assert reply.matches[0].clause.id in {"6.5", "6.3"}
    assert reply.verdict.startswith("No")
    assert "Section 6.5" in reply.reply or "Section 6.3" in reply.reply


def test_staff_photo_question_is_answered_from_6_9(engine):
    search = engine.search("can I post a photo of sports day?", "staff")
    assert search.answered
    assert top_id(search) == "6.9"


def test_a_parent_is_never_handed_a_staff_rule_as_their_own(advisor):
    reply = advisor.respond("can I post a photo of sports day?", "parent")
    assert "6.9" in reply.reply, "the staff rule on photos is offered"
    # Either the parents' own rules answer, or the reply says the closest rule is the staff's and does not
    # present it as the parent's own.
    top = reply.matches[0].clause
    if reply.answered:
        assert top.audience in {"parents", "everyone"} or "rule for the school's staff" in reply.reply
    else:
        assert "rule for the school's staff" in reply.reply


def test_half_term_is_out_of_scope_and_not_answered(advisor):
    reply = advisor.respond("When is half term?", "parent")
    assert reply.intent == "out_of_scope"
    assert reply.answered is False and reply.verdict is None
    assert reply.matches, "candidates are always offered"


def test_matches_are_whole_clauses_with_scores_in_range(advisor, pack):
    reply = advisor.respond("can i use fb during school hours", "staff")
    assert 1 <= len(reply.matches) <= 3
    texts = {c.text for c in pack.clauses}
    for match in reply.matches:
        assert match.clause.text in texts
        assert 0.0 <= match.score <= 1.0
    scores = [m.score for m in reply.matches]
    assert scores == sorted(scores, reverse=True)


def test_low_confidence_question_is_not_pretended(advisor):
    reply = advisor.respond("what is the procedure for reclaiming mileage for a school trip", "staff")
    assert reply.answered is False
    assert reply.verdict is None
    assert reply.matches


def test_empty_and_whitespace_questions_get_a_helpful_reply(advisor):
    for text in ("", "   ", "\n\t"):
        reply = advisor.respond(text)
        assert reply.answered is False and reply.intent == "help"
        assert "question" in reply.reply.lower()


def test_over_long_message_asks_to_shorten_but_still_sees_a_child_at_risk(advisor):
    long = "can I post on facebook " * 100
    assert "shorten" in advisor.respond(long).reply
    risky = "a man online asked my daughter to send him naked pictures " * 40
    assert advisor.respond(risky).intent == "safeguarding"


@pytest.mark.parametrize(
    "text",
    [
        "someone online is asking my 12 year old daughter for pictures of herself",
        "a pupil told me today that her stepdad hurts her",
        "one of my year 8s posted that she wants to kill herself",
        "I think a teacher is grooming a pupil on snapchat, can I report it?",
    ],
)
def test_safeguarding_wins_even_when_it_looks_like_a_question(advisor, text):
    reply = advisor.respond(text, "staff")
    assert reply.intent == "safeguarding"
    assert reply.safeguarding
    assert "999" in reply.reply and "Designated Safeguarding Lead" in reply.reply


def test_question_about_safeguarding_rules_is_answered_with_contacts(advisor):
    reply = advisor.respond("what does the policy say about grooming?", "staff")
    assert reply.intent == "question"
    assert reply.safeguarding
    assert "Designated Safeguarding Lead" in reply.reply


@pytest.mark.slow  # builds its own engine on the real model
def test_office_answer_teaches_the_engine(engine_settings):
    from bot.runtime import build_advisor

    advisor = build_advisor(engine_settings)  # its own engine, so other tests don't see the lesson
    question = "is the rota for the staff room kettle covered"
    before = advisor.engine.search(question, "staff")
    assert top_id(before) != "8.2" or not before.answered
    assert advisor.engine.add_alternate("8.2", question)
    after = advisor.engine.search(question, "staff")
    assert top_id(after) == "8.2" and after.answered
    assert not advisor.engine.add_alternate("8.2", question), "the same question is not learned twice"


class CountingEncoder:
    """The real encoder, counting how many texts it was asked to encode."""

    def __init__(self, inner):
        self.inner = inner
        self.fingerprint = inner.fingerprint
        self.dimensions = inner.dimensions
        self.encoded = 0

    def encode(self, texts, batch_size=64):
        self.encoded += len(texts)
        return self.inner.encode(texts, batch_size)


def test_warm_start_reads_embeddings_from_disk(engine, tmp_path: Path):
    counting = CountingEncoder(engine.encoder)
    pack = load_pack()
    cold = PolicyEngine(pack, counting, cache_dir=tmp_path)
    assert counting.encoded == len(cold.index.entries)
    assert list(tmp_path.glob("embeddings-*.npy"))
    counting.encoded = 0
    warm = PolicyEngine(pack, counting, cache_dir=tmp_path)
    assert counting.encoded == 0
    assert np.allclose(warm.index.vectors.numpy(), cold.index.vectors.numpy())
    q = "can i friend a parent"
    assert top_id(warm.search(q)) == top_id(cold.search(q))


def test_changed_clause_text_is_re_encoded(engine, tmp_path: Path):
    counting = CountingEncoder(engine.encoder)
    pack = load_pack()
    PolicyEngine(pack, counting, cache_dir=tmp_path)
    changed = pack.clauses[0].with_notes(alternates=("a brand new way of asking about the internet",))
    from dataclasses import replace

    counting.encoded = 0
    PolicyEngine(replace(pack, clauses=(changed,) + pack.clauses[1:]), counting, cache_dir=tmp_path)
    assert counting.encoded > 0


def test_batch_answers_equal_single_answers(advisor):
    questions = ["can I friend a parent?", "can I use my school email for twitter", "when is half term?"]
    batch = advisor.respond_many(questions, "staff")
    for q, reply in zip(questions, batch):
        single = advisor.respond(q, "staff")
        assert [m.clause.id for m in single.matches] == [m.clause.id for m in reply.matches]
        assert single.intent == reply.intent and single.answered == reply.answered


# -- freshly ingested, uncurated packs ---------------------------------------------------------------
UNCURATED_POLICY = """\
BROOKSIDE COLLEGE
Staff Online Conduct Policy

1. PERSONAL ACCOUNTS
1.1 Staff must set their personal social media profiles to private.
1.2 Staff must not accept friend requests from current students on personal accounts.
1.3 Staff must not post photographs or videos of students on personal accounts.

2. COMMUNICATING WITH STUDENTS AND PARENTS
2.1 Staff must not give students their personal mobile phone number.
2.2 Staff who receive a message from a parent on a personal account should not reply and should tell the office.
2.3 Recording or live streaming of lessons may only take place on platforms approved by the Principal.

3. BREACHES
3.1 Breaches of this policy may be dealt with under the College's disciplinary procedure.

4. OFFICIAL COLLEGE ACCOUNTS
4.1 Photographs of students may only be published where written consent is held by the office.
4.2 Passwords must be kept by the office and changed when an administrator leaves.
"""


@pytest.fixture(scope="module")
def uncurated_engine(engine, tmp_path_factory):
    from knowledge.ingest import ingest_document

    folder = tmp_path_factory.mktemp("uncurated")
    source = folder / "brookside.txt"
    source.write_text(UNCURATED_POLICY, encoding="utf-8")
    ingest_document(source, "brookside", folder / "packs", school="Brookside College")
    pack = load_pack("brookside", folder / "packs")
    # A freshly ingested pack is answered with the base model (only a curated pack gets its own adapter).
    from knowledge.encoder import load_encoder

    return PolicyEngine(pack, load_encoder(), cache_dir=folder / "cache")


def test_staff_rules_under_a_heading_that_names_parents_are_for_staff(uncurated_engine):
    # "Communicating with students and parents" is a staff section: its rules are not the parents' own.
    audiences = {c.id: c.audience for c in uncurated_engine.pack.clauses}
    assert audiences["2.1"] == "staff" and audiences["2.2"] == "staff"
    assert audiences["2.3"] != "parents"
    search = uncurated_engine.search("can i give a student my mobile number", "staff")
    assert top_id(search) == "2.1" and search.answered


def test_section_heading_read_with_the_clause_tells_what_it_is_about(uncurated_engine):
    # Each clause is also indexed as "heading: text", so a rule is found by what its section is about.
    kinds = {e.kind for e in uncurated_engine.index.entries}
    assert "in_context" in kinds
    contexts = [e.text for e in uncurated_engine.index.entries if e.kind == "in_context"]
    assert "Breaches: Breaches of this policy may be dealt with under the College's disciplinary procedure." in contexts
    assert top_id(uncurated_engine.search("what happens if i keep breaking the rules", "staff")) == "3.1"
    # The photo rule for the college's own accounts, not the one for personal accounts.
    assert top_id(uncurated_engine.search("can we put student photos on the college account?", "staff")) == "4.1"


@pytest.mark.parametrize(
    "heading, audience",
    [
        ("Communicating with pupils and parents", "everyone"),  # whom staff deal with: not the parents' own rules
        ("Communicating with families", "everyone"),
        ("OUR EXPECTATIONS OF PARENTS AND CARERS", "parents"),
        ("Parents' use of social media", "parents"),
    ],
)
def test_heading_names_parents_only_when_written_for_them(heading, audience):
    from knowledge.guess import guess_audience

    assert guess_audience("Recordings of school events may be shared online.", heading=heading) == audience
