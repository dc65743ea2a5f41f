"""The console chat drives the same dialogue as Telegram: answers, flows, safeguarding, state that
survives a restart, and office answers shown at the next prompt."""

from __future__ import annotations

import io

import pytest

from bot.console import PROMPT, run_chat

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("untaught_engine")]


def chat(advisor, settings, lines, role="staff"):
    stdin = io.StringIO("".join(f"{line}\n" for line in lines))
    stdout = io.StringIO()
    code = run_chat(advisor, settings, role, stdin, stdout)
    return code, stdout.getvalue()


def test_question_gets_the_advisors_plain_reply(advisor, bot_settings):
    question = "Can I accept a friend request from a pupil?"
    code, out = chat(advisor, bot_settings, [question])
    assert code == 0
    assert advisor.respond(question, "staff").reply in out
    assert "[1] 👍" in out and "Report a breach" in out
    assert out.count(PROMPT) == 2  # one per line, then the prompt that met EOF


def test_quit_and_eof_exit_zero(advisor, bot_settings):
    assert chat(advisor, bot_settings, ["/quit", "never read"])[0] == 0
    assert chat(advisor, bot_settings, [])[0] == 0


def test_commands(advisor, bot_settings):
    _, out = chat(advisor, bot_settings, ["/help", "/privacy", "/agreement", "/section 6.5", "/section 99", "/nonsense", "/role"])
    assert "/report" in out and "pseudonym" in out
    assert "I understand that the school has a duty of care" in out
    assert "Section 6.5" in out
    assert "can't find section 99" in out and "6.13" in out
    assert "don't know that command" in out
    assert "You are set as staff" in out


def test_pressing_buttons_by_number(advisor, bot_settings):
    _, out = chat(advisor, bot_settings, ["Can I accept a friend request from a pupil?", "3"])
    assert out.count("Section 6.5") >= 2  # the answer, then the full section


def test_a_number_with_no_such_button_says_so(advisor, bot_settings):
    _, out = chat(advisor, bot_settings, ["1", "Can I accept a friend request from a pupil?", "9"])
    assert out.count("There is no button") == 2
    assert "You're welcome" not in out  # a bare number is not taken as thanks


def test_breach_report_survives_a_restart_and_completes(advisor, bot_settings, store):
    _, first = chat(advisor, bot_settings, ["/report", "A colleague shared a photo of pupils on a public page", "Facebook"])
    assert "When did it happen" in first
    # A new run picks up where the person was.
    _, second = chat(
        advisor, bot_settings,
        ["yesterday", "a colleague", "1", "2", "done", "1", "2", "1"],
    )
    assert second.index("Back to where you were") < second.index("When did it happen")
    assert "Here is your report" in second and "BR-" in second
    [report] = list(store.db["breach_reports"].rows)
    assert report["what"] == "A colleague shared a photo of pupils on a public page"
    assert report["where_"] == "Facebook" and report["when_"] == "yesterday" and report["pupil_risk"] == "identifiable"
    [notice] = list(store.db["outbox"].rows)
    assert notice["target"] == "office" and report["ref"] in notice["text"]


def test_safeguarding_interrupts_a_complaint_without_losing_it(advisor, bot_settings, store):
    _, out = chat(
        advisor, bot_settings,
        ["/complaint", "1", "I think a pupil is being groomed online by an adult", "1", "Homework marking"],
        role="parent",
    )
    assert "999" in out and "A.2.3" in out
    assert "SA-" in out  # the alert was accepted (button 1 of the safeguarding reply)
    assert "Which class or member of staff" in out  # the complaint went on
    [alert] = list(store.db["safeguarding_alerts"].rows)
    assert "groomed" in alert["text"] and alert["context"] == "complaint" and alert["urgent"] == 1


def test_office_answer_is_shown_at_the_next_prompt(advisor, bot_settings, store, dialogue):
    question = "Can I play music from Spotify in assembly?"
    _, out = chat(advisor, bot_settings, [question])
    assert "not sure" in out.lower()
    [item] = dialogue.office.unanswered()
    assert item["channel"] == "console"
    outcome = dialogue.office.answer_with_text(item["id"], "Yes, through the school's licence.", "tester")
    assert outcome.ok
    _, later = chat(advisor, bot_settings, [])
    assert "Yes, through the school's licence." in later and question in later


def test_forget_in_the_console(advisor, bot_settings, store):
    _, out = chat(advisor, bot_settings, ["Can I accept a friend request from a pupil?", "/forget", "1", "/mydata"])
    assert "erased" in out
    assert not list(store.db["questions"].rows)
