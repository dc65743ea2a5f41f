"""Long messages (a paragraph of situation, then a question): rules a person could state, checked without the model.

- Two clauses that may both answer a message competing is no doubt: the answer/hedge decision looks at how far
  the first is ahead of any candidate that is not its kin (the same section, or a clause the school lists as
  related).
- A Yes or No answers the sentence that asks, not a "can I…" told earlier in the story.
- Words of complaint in the story do not make a message a complaint when it ends by asking whether something
  is allowed.
"""

from __future__ import annotations

import numpy as np

from intents.classify import IntentCues, cue_text
from knowledge.clause import Clause, Ruling
from knowledge.engine import kinship, kin_signals
from knowledge.lexicon import asking_sentence
from knowledge.rulings import choose


def _clause(cid: str, section: str, related: tuple[str, ...] = (), rulings: tuple[Ruling, ...] = ()) -> Clause:
    return Clause(id=cid, section=section, text=f"Clause {cid}.", related=related, rulings=rulings)


# -- kin: clauses that may answer the same message ------------------------------------------------------

def test_kin_are_the_same_number_printed_twice_and_related_clauses_either_way_round():
    clauses = [_clause("6.2", "6.2"), _clause("6.2-2", "6.2"), _clause("6.13", "6.13", related=("6.2-2",)), _clause("9.1", "9.1")]
    kin = kinship(clauses)
    assert kin[0] == {1} and kin[1] == {0, 2}
    assert kin[2] == {1}, "related is read both ways"
    assert kin[3] == set()


def test_two_kin_clauses_competing_leave_the_first_clearly_ahead_of_any_rival():
    kin = [{1}, {0}, set()]
    positions = [0, 1, 2]
    scores = np.array([0.80, 0.79, 0.60])
    order = np.argsort(-scores)
    signals = kin_signals(kin, positions, (), scores, order)
    assert abs(signals["margin_kin"] - 0.20) < 1e-9, "the close second is kin: the rival is the third"
    # The same close second, when it is not kin, is a rival: the lead is small.
    unrelated = kin_signals([set(), set(), set()], positions, (), scores, order)
    assert abs(unrelated["margin_kin"] - 0.01) < 1e-9


def test_votes_count_the_sentences_whose_best_clause_is_the_first_or_its_kin():
    kin = [{1}, {0}, set()]
    scores = np.array([0.8, 0.7, 0.6])
    order = np.argsort(-scores)
    assert kin_signals(kin, [0, 1, 2], (0, 1, 2, 2), scores, order)["votes"] == 0.5
    assert kin_signals(kin, [0, 1, 2], (), scores, order)["votes"] == 1.0, "a message read whole"


# -- the Yes or No answers the sentence that asks --------------------------------------------------------

def test_the_asking_sentence_is_the_last_question_or_else_the_last_sentence():
    story = "Can I post a congratulations on my facebook? No photo, first name only, and his mum would love it."
    assert asking_sentence(story) == "Can I post a congratulations on my facebook?"
    told = "A colleague said I can keep it up. Another said take it down. am I overreacting?"
    assert asking_sentence(told) == "am I overreacting?"
    assert asking_sentence("can i add a parent on fb") == "can i add a parent on fb"


def test_a_can_i_told_in_the_story_gets_no_yes_or_no_when_the_question_asks_something_else():
    allowed = _clause("6.2-2", "6.2", rulings=(Ruling("friends from before", "allowed", "Friends from before may stay friends.", ("can I stay friends",)),))
    fits = {0: (0.7, "can I stay friends")}
    message = "Her son is in my class now. I asked the head, can I stay friends with her online? She said fine. Another TA says that's daft. Is she right?"
    assert choose(allowed, message, fits).answer == "yes", "the whole message holds a 'can I' and would get a Yes"
    assert choose(allowed, asking_sentence(message), fits).answer is None
    asked = "Her son has just joined my class and we've been friends for years. Can I stay friends with her on facebook?"
    assert choose(allowed, asking_sentence(asked), fits).answer == "yes"


# -- words of complaint in the story --------------------------------------------------------------------

def test_complaint_words_in_the_story_do_not_make_a_rules_question_a_complaint():
    cues = IntentCues.load()
    message = "Found my daughter's photo on her teacher's public instagram. I never agreed to that and I'm fuming. Is the teacher even allowed to do that?"
    assert "complaint" in cues.matching(message)
    assert cues.matching(cue_text(message)) == []


def test_a_message_that_asks_to_complain_is_still_read_for_it():
    cues = IntentCues.load()
    for message in (
        "The teacher posted my son's photo. I want to make a complaint.",
        "I'm fuming about a teacher's post about my son. How do I make a complaint?",
        "i want to complain about a teacher",
    ):
        assert "complaint" in cues.matching(cue_text(message)), message


def test_complained_tells_of_the_past_and_is_not_a_misspelt_complaint():
    cues = IntentCues.load()
    assert "complaint" not in cues.matching("she wrote about a parent who complained about homework, is that allowed?")
    assert "complaint" in cues.matching("i want to make a complaine about a teacher")


# -- a message that says it stays clear of what the rule is about -------------------------------------

def test_no_flat_no_when_the_message_says_it_stays_clear_of_what_the_rule_forbids():
    photos = _clause("6.9", "6.9", rulings=(Ruling("photos of pupils on a personal account", "not_allowed", "Staff must not post photos of pupils.", ("can i post photos of my class",)),))
    fits = {0: (0.7, "can i post photos of my class")}
    story = "I'm posting my wedding photos on facebook. Colleagues came but no pupils, and nobody wore a school logo. Is that fine?"
    plain = "Can I post the photos from the class trip on my facebook?"
    assert choose(photos, asking_sentence(plain), fits, story=plain).answer == "no"
    choice = choose(photos, asking_sentence(story), fits, story=story)
    assert choice.answer is None and choice.kind == "not_allowed", "the rule is still stated, without a No"
    for told in ("It doesn't say which school I work at.", "I never mention where I work.", "without naming the school"):
        assert choose(photos, "Is that ok?", fits, story=f"{told} Is that ok?").answer is None, told
    # Blurred faces or no names do not keep pupils out of a photo: the No stands.
    for told in ("No names, and the faces are blurred.", "Only first names."):
        assert choose(photos, "Is that ok?", fits, story=f"Photos of my class. {told} Is that ok?").answer == "no", told
