"""Texts: one loader, one map of placeholders (settings and pack), one place for each reply, and the same
answer lines in every channel. No model."""

from __future__ import annotations

import re
from dataclasses import fields
from types import SimpleNamespace

import pytest

from bot.dialogue import Outgoing
from bot.settings import Settings
from bot.telegram.render import render
from bot.texts import OFFICE_YAML, TELEGRAM_YAML, command_menu, for_office, for_people, placeholders
from intents.flows import FlowContext, safeguarding_prompt
from intents.texts import FLOWS_YAML, RESPONSES_YAML
from knowledge.compose import compose_answer, render_plain
from knowledge.engine import Match, Search
from knowledge.pack import load_pack
from knowledge.texts import Texts, fill

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
TEXT_FILES = (RESPONSES_YAML, FLOWS_YAML, OFFICE_YAML, TELEGRAM_YAML)


@pytest.fixture(scope="module")
def pack():
    return load_pack("clearwell")


def test_an_unknown_placeholder_stays_visible_and_values_are_inserted_verbatim():
    assert fill("Hi {name}, {unknown} {a.b} { x } {", {"name": "{evil}"}) == "Hi {evil}, {unknown} {a.b} { x } {"
    texts = Texts({"a": "Dear {school_name}: {ref}", "g": {"b": ["one {x}", "two"]}}, {"school_name": "Clearwell"})
    assert texts.get("a") == "Dear Clearwell: {ref}"
    assert texts.get("a", ref="BR-1", school_name="Other") == "Dear Other: BR-1"  # values win
    assert texts.get("g.b", x=1) == "one 1\ntwo"
    with pytest.raises(KeyError):
        texts.get("missing")


def test_one_placeholder_map_names_each_setting_as_settings_do(pack):
    values = placeholders(Settings(dsl_contact="Ms Rivera", report_retention_days=730), pack)
    assert values["dsl_contact"] == "Ms Rivera" and values["report_retention_years"] == "2"
    assert values["school_name"] == pack.school and values["policy_version"] == (pack.version or pack.title)
    assert values["complaints_policy_url"] == "ask the school office for a copy"
    assert placeholders(Settings(school_name="St Ann's", complaints_policy_url="https://x.example/c"), pack)["complaints_policy_url"] == "https://x.example/c"
    # Every placeholder a text file uses that names a setting is in the map, under that name, with no aliases.
    setting_names = {f.name for f in fields(Settings)}
    used = {name for path in TEXT_FILES for name in PLACEHOLDER.findall(path.read_text(encoding="utf-8"))}
    assert used & setting_names <= set(values)
    assert not used & {"school", "complaints_url"}


def test_people_and_office_texts_fill_from_the_same_map(pack):
    settings = Settings(school_name="Clearwell School", dsl_contact="Ms Rivera", complaints_policy_url="https://x.example/c")
    people = for_people(settings, pack)
    assert "Clearwell School" in people.get("conversation.welcome")
    assert "Clearwell School" in people.get("responses.greeting")
    assert "https://x.example/c" in people.get("complaint.myself")
    assert "Ms Rivera" in people.get("responses.safeguarding")
    assert for_office(settings, pack).placeholders == people.placeholders
    assert ("help", "What I can do") in command_menu()


def test_each_reply_text_is_written_once(pack):
    """The safeguarding reply, /help, "nothing typed" and the section line live in responses.yaml only."""
    people = for_people(Settings(dsl_contact="Ms Rivera"), pack)
    for gone in ("safeguarding.reply", "conversation.help", "conversation.empty", "conversation.section_label",
                 "conversation.not_sure", "conversation.did_you_mean", "conversation.out_of_scope"):
        assert not people.has(gone), gone
    # The flows' safeguarding prompt is the advisor's reply, word for word.
    prompt = safeguarding_prompt(FlowContext(people))
    assert prompt.text == people.get("responses.safeguarding")
    # No paragraph (a text of several words) is written twice across the text files.
    seen: dict[str, str] = {}

    def walk(node, key):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from walk(v, f"{key}.{k}" if key else str(k))
        elif isinstance(node, str) and len(node.split()) >= 6:
            yield key, " ".join(node.split())

    for path in TEXT_FILES:
        for key, text in walk(Texts.load(path).data, path.name):
            assert text not in seen, f"{key} repeats {seen.get(text)}"
            seen[text] = key


def test_plain_text_and_telegram_show_the_same_section_line_and_see_also(pack):
    """The console, the CLI and `ask --json` show the answer's lines as Telegram does."""
    phrases = for_people(Settings(), pack).within("responses").filled()
    clause = pack.clause("1.1")
    search = Search("what counts as social media?", "staff", True, 0.9, (Match(clause, 0.9),))
    answer = compose_answer(search, pack.clause, phrases)
    related = [pack.clause(r) for r in clause.related]
    see_also = "See also: " + "; ".join(f"{c.label} {c.heading}" for c in related) + "."
    assert answer.section_line == f"Section {clause.label} · {clause.title}"
    assert answer.see_also_line == see_also
    plain = render_plain(answer, phrases)
    assert answer.section_line in plain.splitlines() and see_also in plain.splitlines()
    assert f"“{answer.quote}”" in plain
    reply = SimpleNamespace(answer=answer, reply=plain, safeguarding=False, office=None, contacts="")
    [(html_text, _)] = render(Outgoing(plain, answer=reply))
    assert f"<i>{answer.section_line}</i>" in html_text and see_also in html_text


def test_a_closed_report_notice_reads_as_one_sentence_then_the_note(pack):
    people = for_people(Settings(), pack)
    kind = people.get("conversation.case_kinds.breach")
    notice = people.get("conversation.closed_notice", kind=kind, ref="BR-2026-0001", note="Post removed.")
    assert notice == "Your breach report BR-2026-0001 has been closed by the school office. Their note: Post removed."
    # The flow a person is in is called what its report is called.
    assert "middle of a breach report" in people.get("conversation.flow_in_progress", flow=kind)
