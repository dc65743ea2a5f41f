"""Telegram HTML rendering: user text escaped, answers with a blockquote, every message within the limit
and valid for Telegram's parser (checked with the fake Bot API's parser)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st

from bot.dialogue import Outgoing
from bot.telegram.render import TELEGRAM_LIMIT, render, size
from fake_bot_api import parse_html
from intents.flows import Button
from intents.texts import person_texts
from knowledge.compose import section_line, see_also_line


def check(messages):
    for html_text, _ in messages:
        plain, _ = parse_html(html_text)  # raises on anything Telegram would reject
        assert plain.strip() and size(plain) <= TELEGRAM_LIMIT


def test_plain_text_is_escaped():
    [(html_text, markup)] = render(Outgoing("a <b> & c", ((Button("Yes", "f:x:yes"),),)))
    assert html_text == "a &lt;b&gt; &amp; c"
    assert markup.inline_keyboard[0][0].callback_data == "f:x:yes"


def test_answer_has_verdict_section_and_blockquote():
    phrases = person_texts().within("responses").filled()
    clause = SimpleNamespace(label="6.2", heading="Friends", summary="", title="Friends")
    answered = SimpleNamespace(label="6.5", title="Friend requests")
    answer = SimpleNamespace(
        verdict_line="No — <not> allowed.", section_label="6.5", heading="Friend requests", quote="Staff must decline…",
        note="", see_also=(clause,), section_line=section_line(answered, phrases), see_also_line=see_also_line((clause,), phrases),
    )
    reply = SimpleNamespace(answer=answer, reply="plain", safeguarding=False, contacts="")
    [(html_text, _)] = render(Outgoing("plain", answer=reply))
    assert html_text.startswith("<b>No — &lt;not&gt; allowed.</b>")
    assert "<i>Section 6.5 · Friend requests</i>" in html_text
    assert "<blockquote>Staff must decline…</blockquote>" in html_text
    assert "See also: 6.2 Friends." in html_text


def test_long_section_is_split_inside_the_limit_with_buttons_on_the_last():
    clause = SimpleNamespace(text=("A sentence of the policy & more. " * 400).strip())
    messages = render(Outgoing("Section 10.5 — Agreement", ((Button("Ok", "x"),),), section=clause))
    assert len(messages) >= 3
    check(messages)
    assert all(markup is None for _, markup in messages[:-1]) and messages[-1][1] is not None
    assert all(m[0].startswith("<blockquote>") for m in messages[1:])


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=12000).filter(lambda s: s.strip()))
def test_any_text_renders_as_valid_messages(text):
    check(render(Outgoing(text)))


@pytest.mark.parametrize("text", ["😀" * 5000, "&" * 5000, "<" * 9000, "x" * 10000, "\n".join(["line"] * 3000)])
def test_awkward_long_texts(text):
    check(render(Outgoing(text)))
