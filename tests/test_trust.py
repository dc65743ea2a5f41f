"""Answers people can trust: rules a person could state, checked with the real model and the Clearwell pack.

Each test states a class of behaviour (who acts on whom, the school's own channels, verdicts that fit the
question, other languages, answers typed inside a report), not a list of remembered questions.
"""

from __future__ import annotations

import pytest

from bot.dialogue import Person

pytestmark = pytest.mark.slow

ME = Person("telegram", "8101", "8101", "Me")


# -- answers typed inside a report are answers, not alarms ----------------------------------------------

@pytest.mark.parametrize("platform", ["TikTok", "Snapchat", "Instagram", "WhatsApp", "YouTube", "a colleague", "yesterday"])
def test_a_bare_platform_time_or_role_is_never_a_disclosure(advisor, platform):
    assert advisor.respond(platform, "staff").intent != "safeguarding"


def test_a_report_goes_on_when_the_answer_names_the_platform_asked_for(dialogue, store):
    dialogue.handle(ME, text="/report")
    dialogue.handle(ME, text="Someone posted a pupil's photo publicly")
    state = store.people.load_state(store.people.user_key("telegram", ME.user_id))
    assert state["flow"]["step"] == "where", "a description of the breach moves the report on"
    out = dialogue.handle(ME, text="TikTok")
    assert all(o.kind != "safeguarding" for o in out)
    state = store.people.load_state(store.people.user_key("telegram", ME.user_id))
    assert state["flow"]["step"] == "when" and state["flow"]["answers"]["where"] == "TikTok"


def test_a_disclosure_typed_inside_a_report_still_gets_the_safeguarding_reply(dialogue, store):
    dialogue.handle(ME, text="/report")
    out = dialogue.handle(ME, text="a pupil told me her stepdad hits her and she is scared to go home")
    assert out[0].kind == "safeguarding" and "999" in out[0].text
    state = store.people.load_state(store.people.user_key("telegram", ME.user_id))
    assert state["flow"]["step"] == "what", "the report waits at the same step"


# -- other languages ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, lang",
    [
        ("Mój syn jest bity w domu przez ojczyma", "pl"),
        ("Mon fils est frappé à la maison", "fr"),
        ("mi hija dice que su padrastro le pega", "es"),
        ("meri beti ko ghar mein maarte hain", "ur-Latn"),
    ],
)
def test_a_child_at_risk_in_another_language_gets_the_safeguarding_reply_and_a_notice(advisor, text, lang):
    reply = advisor.respond(text, "parent")
    assert reply.intent == "safeguarding" and reply.safeguarding
    assert reply.language == lang
    assert "999" in reply.reply and "Designated Safeguarding Lead" in reply.reply
    assert "I can only answer in English" in reply.reply


@pytest.mark.parametrize(
    "text",
    ["czy nauczyciel może dodać mojego syna do znajomych na facebooku?", "Dzień dobry", "¿cuándo empiezan las vacaciones de Semana Santa?", "merci beaucoup"],
)
def test_an_ordinary_message_in_another_language_is_told_the_bot_answers_in_english(advisor, text):
    reply = advisor.respond(text, "parent")
    assert reply.intent != "safeguarding" and reply.answered is False
    assert reply.language != "en"
    assert "I can only answer in English" in reply.reply and "999" in reply.reply


@pytest.mark.parametrize("text", ["can a teacher add my son on facebook?", "hi", "TikTok", "thanks x", "ok"])
def test_english_messages_are_read_as_english(advisor, text):
    assert advisor.respond(text, "parent").language == "en"


# -- the verdict fits the question, not the clause ---------------------------------------------------------

def test_a_clause_that_decides_two_situations_answers_each_by_its_situation(advisor):
    during = advisor.respond("can I check instagram in my free period?", "staff")
    assert during.answered and during.matches[0].clause.id == "6.1"
    assert during.answer_word == "no" and during.verdict_kind == "not_allowed"
    evening = advisor.respond("is it ok to post on instagram on a saturday night?", "staff")
    # The school-hours rule never says No about one's own time.
    assert not (evening.answered and evening.answer_word == "no")


def test_yes_or_no_opens_only_a_question_that_asks_for_it(advisor):
    open_question = advisor.respond("what should I do when a pupil sends me a friend request?", "staff")
    assert open_question.answered and open_question.answer_word is None
    assert open_question.verdict_kind in ("not_allowed", "required")


# -- who acts on whom -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text", ["is my daughter's form tutor allowed to follow her on tiktok?", "can a TA message my son on whatsapp?"]
)
def test_a_parent_asking_about_a_teachers_contact_with_their_child_gets_the_pupil_rules(advisor, text):
    reply = advisor.respond(text, "parent")
    assert reply.matches[0].clause.id in {"6.3", "6.5", "6.6"}
    assert reply.matches[0].clause.id != "6.13"


def test_the_personal_account_photo_rule_never_answers_for_the_schools_own_page(advisor):
    reply = advisor.respond("can the school put photos of the nativity on its facebook page?", "staff")
    assert not (reply.answered and reply.matches[0].clause.id == "6.9")


def test_a_teacher_harassed_by_a_parent_gets_what_parents_must_not_do(advisor):
    reply = advisor.respond("a dad keeps posting nasty things about me on the village facebook group, what can the school do?", "staff")
    assert reply.matches[0].clause.part == "10"


def test_what_parents_agreed_to_is_the_agreement_itself(advisor):
    reply = advisor.respond("what exactly did I agree to on the social media form?", "parent")
    assert reply.intent == "question" and not reply.safeguarding
    assert reply.matches[0].clause.id == "10.5-agreement"


# -- out of scope that shares words ---------------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    ["my son's swimming club coach added him on facebook, is that allowed?", "can I take photos of my own daughter at the school fair?"],
)
def test_people_the_policy_does_not_govern_get_no_confident_quote(advisor, text):
    reply = advisor.respond(text, "parent")
    assert not reply.answered
    assert reply.matches, "the nearest clauses are still offered"


# -- long posts --------------------------------------------------------------------------------------

def test_a_long_post_with_a_vague_question_gets_what_bears_on_it(advisor):
    post = (
        "Bit of a weird one. One of the dads from my class has started commenting on everything I post on my own "
        "facebook, even old holiday photos, and last night he sent me a message saying I looked lovely. I haven't "
        "replied. My account is public I think. AIBU to feel uncomfortable?"
    )
    reply = advisor.respond(post, "staff")
    assert reply.intent == "question"
    if reply.answered:
        assert reply.answer.style == "bears" and reply.answer_word is None
        assert reply.reply.startswith("What the policy says that bears on this")


# -- learning from the office ------------------------------------------------------------------------

def test_a_question_the_office_answered_is_quoted_without_a_verdict_and_its_paraphrase_is_never_confidently_wrong(advisor, untaught_engine):
    taught = "my new line manager wants to add me on insta, should i"
    assert untaught_engine.add_alternate("6.13", taught)
    exact = advisor.respond(taught, "staff")
    assert exact.answered and exact.matches[0].clause.id == "6.13"
    assert exact.answer_word is None and exact.verdict_kind == "information"
    paraphrase = advisor.respond("is it ok to accept a follow request from my line manager on instagram", "staff")
    assert not paraphrase.answered or paraphrase.matches[0].clause.id == "6.13"


def test_a_disclosure_that_also_asks_about_the_policy_gets_the_safeguarding_reply_first_and_the_answer_beneath(advisor):
    reply = advisor.respond("a pupil told me she is being bullied on snapchat, can I message her on snapchat to check she is ok?", "staff")
    assert reply.intent == "safeguarding" and reply.reply.startswith("⚠️")
    assert "Section 6.3" in reply.reply and reply.reply.index("999") < reply.reply.index("Section 6.3")
