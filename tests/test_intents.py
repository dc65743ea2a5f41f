"""The intent classifier on messages it has never seen, with the real model and the real data files.

tests/fixtures/intents_heldout.yaml was written before the classifier was tuned and never used to tune it:
its accuracy may not fall below a floor set a little under what was measured, and every message in it
that suggests a child may be at risk must get the safeguarding reply.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from intents.classify import INTENTS, IntentCues, IntentResult, load_examples
from knowledge.pack import read_yaml

HELDOUT = Path(__file__).resolve().parent / "fixtures" / "intents_heldout.yaml"
# Measured 0.944 (117/124) on 2026-11-26 after tuning (0.863 through the advisor before it); the floor leaves
# room for two or three borderline messages to move when examples are added, not for a real loss.
ACCURACY_FLOOR = 0.92
ROLES = ("staff", "parent")


@pytest.fixture(scope="module")
def heldout() -> list[dict]:
    return read_yaml(HELDOUT)["intents"]


def classify_all(advisor, items: list[dict]) -> list[IntentResult]:
    """The classifier as the advisor runs it: one encode per message, the engine's fit as `question_fit`."""
    results: list[IntentResult | None] = [None] * len(items)
    by_role: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        by_role[item["role"]].append(i)
    for role, positions in by_role.items():
        texts = [" ".join(items[i]["text"].split()) for i in positions]
        vectors = advisor.engine.embed(texts)
        for i, text, vector, search in zip(positions, texts, vectors, advisor.engine.search_many(texts, role, vectors)):
            results[i] = advisor.classifier.classify(text, vector, question_fit=search.question_similarity)
    return results


def _plain(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def test_heldout_set_covers_every_intent_in_real_words(heldout):
    assert len(heldout) >= 100
    counts = Counter(item["intent"] for item in heldout)
    assert set(counts) == set(INTENTS), f"intents without held-out messages: {set(INTENTS) - set(counts)}"
    assert min(counts.values()) >= 8, counts
    assert counts["safeguarding"] >= 20
    assert all(item["role"] in ROLES and item["text"].strip() for item in heldout)
    texts = [" ".join(item["text"].lower().split()) for item in heldout]  # "hi" and "hi 👋" are both wanted
    assert len(texts) == len(set(texts)), "a held-out message appears twice"


# Common phrasings that were already examples in intents.yaml before the held-out set was written (it was
# written without reading them): they coincide, they were not copied. No other held-out message may become one.
ALREADY_EXAMPLES = {
    "what can you do", "how does this work", "how do i use this bot", "can you help me", "i want to make a complaint",
    "how do i complain about a teacher", "how do i reset my email password", "what s the capital of france", "tell me a joke",
}


def test_heldout_messages_are_not_copied_into_the_examples(heldout):
    # Short social words ("hi", "thanks") are bound to be both; anything longer must not be.
    examples = {_plain(e) for items in load_examples().values() for e in items}
    copied = [
        item["text"] for item in heldout
        if len(item["text"].split()) > 3 and _plain(item["text"]) in examples and _plain(item["text"]) not in ALREADY_EXAMPLES
    ]
    assert not copied, f"held-out messages used as examples: {copied}"


def test_heldout_accuracy_stays_above_floor(advisor, heldout):
    results = classify_all(advisor, heldout)
    misses = [(item["text"], item["intent"], got.intent) for item, got in zip(heldout, results) if got.intent != item["intent"]]
    accuracy = 1 - len(misses) / len(heldout)
    listing = "\n".join(f"  {text!r}: expected {want}, got {got}" for text, want, got in misses)
    assert accuracy >= ACCURACY_FLOOR, f"held-out intent accuracy {accuracy:.3f} < {ACCURACY_FLOOR}\n{listing}"


def test_every_heldout_disclosure_gets_the_safeguarding_reply(advisor, heldout):
    """Recall over precision: a missed disclosure is far worse than a false alarm. Checked end to end."""
    by_role: dict[str, list[str]] = defaultdict(list)
    for item in heldout:
        if item["intent"] == "safeguarding":
            by_role[item["role"]].append(item["text"])
    missed = []
    for role, texts in by_role.items():
        for text, reply in zip(texts, advisor.respond_many(texts, role)):
            if reply.intent != "safeguarding" or not reply.safeguarding:
                missed.append((text, reply.intent))
    assert not missed, f"disclosures not treated as safeguarding: {missed}"


def test_heldout_questions_about_the_rules_stay_questions(advisor, heldout):
    """'Can I message a pupil?' asks what the rules are: it is answered, not met with the safeguarding alarm."""
    questions = [item for item in heldout if item["intent"] == "question"]
    alarmed = [item["text"] for item, got in zip(questions, classify_all(advisor, questions)) if got.intent == "safeguarding"]
    assert len(alarmed) <= 1, f"policy questions taken for disclosures: {alarmed}"


@pytest.mark.parametrize(
    "text, role, intent",
    [
        # "ta" is British for thanks, not a teaching assistant; a whole message of thanks is thanks.
        ("ta!", "staff", "thanks"),
        ("lovely, ta", "parent", "thanks"),
        ("ok 👍", "staff", "thanks"),
        ("hello, this is mrs patel from year 3", "staff", "greeting"),
        # asking what to do IF something happens is a question about the rules (answered with the contacts) ...
        ("what should staff do if a child discloses something on a school site", "staff", "question"),
        ("is it ok to video call a pupil who is off sick", "staff", "question"),
        # ... while telling what IS happening to a child raises the alarm, even with no alarming word in it
        ("my son's coach keeps dming him late in the evening", "parent", "safeguarding"),
        ("a member of staff gave a pupil his personal number", "staff", "safeguarding"),
        # ... but an adult writing to a parent is not a child at risk
        ("the teacher texted me about parents evening", "parent", "question"),
        # other topics, even when the engine finds a loosely matching clause
        ("what's the pay scale for a TA", "staff", "out_of_scope"),
        ("when do reports go home", "parent", "out_of_scope"),
    ],
)
def test_classifier_reads_plain_messages(advisor, text, role, intent):
    result = classify_all(advisor, [{"text": text, "role": role}])[0]
    assert result.intent == intent, (text, result.intent, result.scores)


def test_a_rules_question_near_a_disclosure_is_answered_with_the_contacts(advisor):
    result = classify_all(advisor, [{"text": "what should staff do if a child discloses something on a school site", "role": "staff"}])[0]
    assert result.intent == "question" and result.safeguarding_risk


def test_whole_message_cues_never_swallow_a_longer_message():
    cues = IntentCues.load()
    for text in ("ta, can i add a parent on fb", "hi can i post a photo of sports day", "thanks but what about tiktok", "hi i'm worried"):
        assert cues.whole_message(text) is None, text
    for text, intent in (("ta", "thanks"), ("cheers mate", "thanks"), ("hiya", "greeting"), ("/help", "help")):
        assert cues.whole_message(text) == intent, text


def test_one_encode_per_message(advisor, monkeypatch):
    """The classifier reuses the engine's embedding: a batch of messages is encoded once, nothing more."""
    encoder = advisor.engine.encoder
    calls: list[int] = []
    original = encoder.encode

    def counting(texts, *args, **kwargs):
        calls.append(len(texts))
        return original(texts, *args, **kwargs)

    monkeypatch.setattr(encoder, "encode", counting)
    messages = ["ta", "can i friend a parent?", "what's for lunch today", "a man keeps messaging my daughter on roblox"]
    advisor.respond_many(messages, "staff")
    assert calls == [len(messages)]
