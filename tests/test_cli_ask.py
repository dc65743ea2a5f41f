"""`policybot ask` as other tools use it: the JSON contract, stdin batches, blank lines, bad arguments."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
KEYS = {"question", "role", "intent", "answered", "confidence", "verdict", "matches", "reply", "verdict_kind"}
INTENTS = {"question", "report_breach", "complaint", "safeguarding", "greeting", "thanks", "help", "out_of_scope"}


def policybot(*args, stdin=""):
    env = dict(os.environ, HF_HUB_OFFLINE="1", CACHE_DIR=str(REPO / "data" / "cache"))
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True, cwd=REPO, env=env, timeout=600
    )


@pytest.mark.slow  # runs `policybot ask` end to end on the real model
def test_ask_json_from_stdin_pairs_each_line_with_one_object(tmp_path):
    lines = ["can I friend a parent?", "", "When is half term?", "🙂🙂 <b>hi</b> & *bye*", "my year 9 kid sent me a friend request"]
    done = policybot("ask", "--json", "--role", "staff", stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == len(lines)
    pack_texts = None
    for line, obj in zip(lines, out):
        assert set(obj) == KEYS
        assert obj["question"] == " ".join(line.split())
        assert obj["intent"] in INTENTS and obj["role"] == "staff"
        assert 0.0 <= obj["confidence"] <= 1.0
        assert len(obj["matches"]) <= 3 and obj["reply"]
        for match in obj["matches"]:
            assert set(match) == {"id", "section", "heading", "text", "score"}
        if obj["intent"] != "question":
            assert obj["answered"] is False and obj["verdict"] is None
        # The kind of verdict asserted for this question; none for a hedge or another intent.
        if obj["answered"]:
            assert obj["verdict_kind"] in ("not_allowed", "allowed", "needs_approval", "required", "advised_against", "information")
        else:
            assert obj["verdict_kind"] is None
    friend, blank, half_term, markup, kid = out
    assert friend["answered"] and friend["matches"][0]["section"] == "6.13"
    assert blank["answered"] is False and "question" in blank["reply"].lower()
    assert half_term["intent"] == "out_of_scope" and half_term["answered"] is False
    assert kid["answered"] and kid["verdict"].startswith("No") and kid["verdict_kind"] == "not_allowed"
    assert "Staff members and Representatives of the School must decline" in kid["matches"][0]["text"]


@pytest.mark.slow  # runs `policybot ask` end to end on the real model
def test_ask_plain_reply_shows_verdict_section_and_quote():
    done = policybot("ask", "can I post a photo of sports day?")
    assert done.returncode == 0, done.stderr
    first, section, quote, *_ = done.stdout.strip().splitlines()
    assert first.startswith("No")
    assert section.startswith("Section 6.9")
    assert quote.startswith("“Photographs, videos")


def test_bad_arguments_give_usage_and_exit_2():
    for args in (["ask", "--role", "teacher", "x"], ["frobnicate"], ["ask", "--nonsense"], ["eval", "a", "b"]):
        done = policybot(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert "usage:" in done.stderr


def test_unknown_pack_is_one_clear_line():
    done = policybot("ask", "--pack", "no-such-school", "hello")
    assert done.returncode == 2
    assert "no policy pack named 'no-such-school'" in done.stderr
    assert "Traceback" not in done.stderr
