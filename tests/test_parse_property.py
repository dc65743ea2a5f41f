"""Property: whatever the layout, every sentence of a policy lands in exactly one clause and none is invented."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge.parse import normalise, parse_document

WORDS = ["staff", "must", "not", "share", "photos", "of", "pupils", "online", "may", "use", "the", "school",
         "account", "parents", "should", "report", "concerns", "to", "head", "privacy", "settings", "private"]


@st.composite
def sentence(draw) -> str:
    words = draw(st.lists(st.sampled_from(WORDS), min_size=4, max_size=12))
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


@st.composite
def numbered_policy(draw) -> tuple[str, list[str]]:
    lines, sentences = [], []
    for part in range(1, draw(st.integers(1, 4)) + 1):
        lines += [f"{part}. SECTION {'ABCD'[part - 1]} RULES", ""]
        for n in range(1, draw(st.integers(1, 4)) + 1):
            body = draw(st.lists(sentence(), min_size=1, max_size=3))
            sentences += body
            text = " ".join(body)
            if draw(st.booleans()) and lines and lines[-1]:
                lines[-1] += f" {part}.{n} {text}"  # run on mid-line, as a PDF does
            else:
                cut = draw(st.integers(1, max(1, len(text.split()) - 1)))
                words = text.split()
                lines += [f"{part}.{n} " + " ".join(words[:cut]), " ".join(words[cut:])]
            if draw(st.booleans()):
                items = draw(st.lists(sentence(), min_size=1, max_size=3))
                sentences += items
                lines += [f"{draw(st.sampled_from(['•', '-', '*', '▪']))} {item}" for item in items]
        lines.append("")
    return "\n".join(lines), sentences


@st.composite
def plain_policy(draw) -> tuple[str, list[str]]:
    lines, sentences = ["Social Media Guidance", ""], []
    for heading in draw(st.lists(st.sampled_from(["Purpose", "Accounts", "Photos", "Monitoring", "Breaches"]),
                                 min_size=1, max_size=4, unique=True)):
        lines += [heading, ""]
        for _ in range(draw(st.integers(1, 3))):
            body = draw(st.lists(sentence(), min_size=1, max_size=3))
            sentences += body
            lines += [" ".join(body), ""]
        if draw(st.booleans()):
            items = draw(st.lists(sentence(), min_size=1, max_size=3))
            sentences += items
            lines += ["Staff must:"] + [f"• {item}" for item in items] + [""]
    return "\n".join(lines), sentences


def check(text: str, sentences: list[str]) -> None:
    parsed, _ = parse_document(text)
    texts = [c.text for c in parsed.clauses]
    joined = " ".join(texts)
    for s in sentences:
        assert sum(t.count(s) for t in texts) >= 1, f"lost: {s!r}"
    # Nothing invented, nothing doubled: the clauses' words are the document's words, in order.
    strip = lambda t: [w for w in normalise(t).split() if w not in {"•", "-", "*", "▪"}]  # noqa: E731
    placed = strip(joined)
    source = strip(text)
    it = iter(source)
    assert all(word in it for word in placed), "clause text is not a subsequence of the document"
    body_words = sum(len(s.split()) for s in sentences)
    assert len(placed) <= body_words + 2 * len(texts)  # only "Staff must:" lead-ins may add words


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(numbered_policy())
def test_numbered_policies(case):
    check(*case)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plain_policy())
def test_unnumbered_policies(case):
    check(*case)
