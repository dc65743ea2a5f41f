"""Understated signs a child may be at risk, in English, raise the alarm by rule (no model needed), while the
ordinary news that shares their words does not. Each group is a sign a safeguarding lead would name."""

import pytest

from intents.classify import SafeguardingRules


@pytest.fixture(scope="module")
def rules():
    return SafeguardingRules.load()


SIGNS = {
    "an injury explained away": [
        "he turned up with a black eye again and says he walked into a door",
        "she's had burn marks on her hands twice this term",
        "he was limping on monday and wouldn't tell me what happened",
        "her story about the bruise keeps changing",
    ],
    "hidden self-harm and goodbyes": [
        "i keep my sleeves down so nobody sees what i do to my arms",
        "my son has been hoarding painkillers in his room",
        "she left a note saying sorry for everything",
        "he's been giving away his things to his friends",
    ],
    "an adult's special secret": [
        "my coach says it's our special secret",
        "he says mum must never ever know about it",
    ],
    "errands for cash": [
        "they give him £50 every time he takes a parcel to another town",
        "older lads pay her cash each trip to drop bags off",
    ],
    "a child who does not want to go home": [
        "she really doesn't want to go home tonight, can she stay at the club",
        "i don't want to go home when my stepdad is there",
    ],
}

ORDINARY = [
    "he got a black and white kit for football, does the school sell one?",
    "my daughter is giving her old uniform away, is there a swap shop?",
    "can my son go home at lunchtime for his dentist appointment?",
    "we're saving up for the ski trip, can we pay in instalments?",
    "please don't tell the class about her birthday cake, it's a surprise",
]


@pytest.mark.parametrize("sign,text", [(s, t) for s, texts in SIGNS.items() for t in texts])
def test_an_understated_sign_raises_the_alarm(rules, sign, text):
    assert rules.risk_in(text), sign


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_news_sharing_the_words_does_not(rules, text):
    assert not rules.risk_in(text)
