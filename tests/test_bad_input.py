"""Bad input never crashes: whatever text arrives — any Unicode, emoji, right-to-left text, control
characters, HTML and Markdown characters, nothing at all, 10,000 characters — the person gets a reply,
in valid Telegram HTML, each message within 4096 characters. Non-text updates get a kind pointer or are
ignored. Property-based (hypothesis) over the real bot through the fake Bot API, and over the console chat.

The Telegram properties share one running bot (its own thread and event loop, for the whole module), so
each example costs one turn, not a start-up."""

from __future__ import annotations

import asyncio
import io
import itertools
import logging
import threading
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from bot_fixtures import ADMIN, OFFICE_CHAT
from fake_bot_api import FakeBotApi, parse_html, running

pytestmark = pytest.mark.slow

WAIT = 60.0  # generous: a loaded CI machine may be slow, and no assertion here is about speed
TELEGRAM_LIMIT = 4096

# Text that has broken chat bots: markup, entities, control characters, bidi marks, emoji sequences.
NASTY = [
    "<b>bold</b>", "<i>", "</blockquote>", "<a href='x'>x</a>", "&amp;", "&", "&lt;", "<", ">", "*_[]()~`>#+-=|{}.!",
    "```code```", "\\", "\x00", "\x1b[31m", "\u200f", "\u202e", "\ufeff", "\u2028", "\r\n", "\t",
    "שלום, האם מותר לי לפרסם תמונה?", "هل يمكنني نشر صورة؟", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇬🇧", "Z̴̡̪a̶l̷g̵o̶",
    "I think a pupil is being groomed online by an adult",
]
texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(NASTY) | st.text(max_size=20), max_size=8).map("".join),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=3000, max_size=10_000),
    st.sampled_from(["", " ", "\n\n", "\u3000", "   \t  "]),
)


class LiveBot:
    """The real Application polling a fake Bot API, in a thread of its own, for tests that block."""

    def __init__(self, settings, advisor, fake: FakeBotApi):
        self.fake, self.settings, self.advisor = fake, settings, advisor
        self.users = itertools.count(40_000)
        self._stop = threading.Event()
        self._ready = threading.Event()
        self.errors: list[logging.LogRecord] = []
        self.thread = threading.Thread(target=lambda: asyncio.run(self._serve()), name="live-bot", daemon=True)

    async def _serve(self) -> None:
        from bot.telegram.app import build_application

        application = build_application(self.settings, self.advisor, outbox_interval=0.5, backoff_base=0.2)
        self.application = application
        async with running(application):
            self._ready.set()
            while not self._stop.is_set():
                await asyncio.sleep(0.05)

    def __enter__(self) -> LiveBot:
        self.thread.start()
        assert self._ready.wait(120), "the bot did not start"
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.thread.join(60)

    def turn(self, user: int, send) -> list[dict]:
        """Do `send()` as `user`, then press a 👍 button; return what the bot sent in between. One person's
        updates are handled in order, so the answer to the press closes the turn. Checks every call to
        that chat in the turn worked (the fake refuses malformed HTML and over-long text with 400)."""
        fake = self.fake
        since = len(fake.calls)
        send()
        chat = {"id": user, "type": "private"}
        with fake._lock:  # the press's own query id, to know its answer from that of a button in `send`
            fake.press_button(user, {"message_id": 1, "date": 0, "chat": chat, "text": "?"}, "fb:up:0")
            query_id = fake._updates[-1]["callback_query"]["id"]
        closing = fake.wait_for(lambda c: c.params.get("callback_query_id") == query_id,
                                method="answerCallbackQuery", since=since, timeout=WAIT).blocking()
        calls = fake.calls
        end = next(i for i in range(since, len(calls)) if calls[i] is closing)
        in_turn = [c for c in calls[since:end] if str(c.chat_id) == str(user)]
        failed = [(c.method, c.status, c.error) for c in in_turn if not c.ok]
        assert not failed, failed
        return [c.result for c in in_turn if c.method == "sendMessage"]


class ErrorLog(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture(scope="module")
def live(advisor, engine_settings, tmp_path_factory):
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    with FakeBotApi() as fake:
        fake.add_chat(OFFICE_CHAT, "supergroup", title="Office")
        settings = replace(
            engine_settings,
            database_path=tmp_path_factory.mktemp("bad-input") / "policybot.db",
            telegram_bot_token=fake.token,
            telegram_base_url=fake.base_url,
            office_chat_id=OFFICE_CHAT,
            admin_user_ids=(ADMIN,),
        )
        with LiveBot(settings, advisor, fake) as bot:
            bot.errors = errors.records
            yield bot
    logging.getLogger().removeHandler(errors)


def check_replies(replies: list[dict]) -> None:
    assert replies, "no reply"
    for reply in replies:
        text = reply.get("text", "")
        assert text.strip()
        assert len(text) <= TELEGRAM_LIMIT
        assert "went wrong" not in text  # the error handler's apology: something raised


def no_errors_logged(live: LiveBot) -> None:
    errors = [f"{r.name}: {r.getMessage()}" for r in live.errors]
    live.errors.clear()
    assert not errors, errors


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=texts, in_report=st.booleans())
@example(text="x" * 10_000, in_report=False)
@example(text="<b>" * 2000, in_report=True)
@example(text="", in_report=False)
@example(text="&<>\"' *bold* _it_ [link](http://x) `code`", in_report=True)
def test_any_text_gets_valid_replies_in_or_out_of_a_report(live, text, in_report):
    user = next(live.users)
    if in_report:
        live.turn(user, lambda: live.fake.send_text(user, "/report"))
    replies = live.turn(user, lambda: live.fake.send_text(user, text))
    check_replies(replies)  # the fake Bot API has already refused any malformed HTML (400)
    if len(text) > 4000:
        assert any("shorten" in r["text"].lower() or "under" in r["text"].lower() for r in replies)
    no_errors_logged(live)


@pytest.mark.parametrize(
    "command, hint",
    [
        ("/frobnicate", "/help"),
        ("/section", "section"),
        ("/section 99.99", "section"),
        ("/section <b>6.5", "section"),
        ("/status", "/status"),
        ("/status <script>", "can't find"),
        ("/role teacher", "staff"),
        ("/start extra words", "staff or a parent"),
        ("/" + "x" * 300, "/help"),
    ],
)
def test_unknown_commands_and_wrong_arguments_get_a_helpful_reply(live, command, hint):
    user = next(live.users)
    replies = live.turn(user, lambda: live.fake.send_text(user, command))
    check_replies(replies)
    assert any(hint.lower() in r["text"].lower() for r in replies), [r["text"] for r in replies]
    no_errors_logged(live)


def test_a_report_of_the_longest_answers_is_split_into_valid_messages(live):
    """Four answers of the longest length a step takes, full of markup: the summary and the office's
    notice run past 4096 characters and must be split cleanly, each part valid HTML."""
    fake, user = live.fake, next(live.users)

    def longest(seed: str) -> str:
        return (f"{seed} <b>&amp; *_[]` ‏שלום 👨‍👩‍👧 </blockquote> " * 200)[:2000].strip()

    answers = {step: longest(step) for step in ("what", "where", "when", "who")}
    last = live.turn(user, lambda: fake.send_text(user, "/report"))[-1]
    for step in ("what", "where", "when", "who"):
        last = live.turn(user, lambda: fake.send_text(user, answers[step]))[-1]
    for action in ("f:leadership:no", "f:pupil_risk:none", "f:evidence:done", "f:anonymous:named", "f:clauses:none"):
        replies = live.turn(user, lambda: fake.press_button(user, last, action))
        check_replies(replies)
        last = replies[-1]
    summary = replies
    assert len(summary) >= 2 and "Here is your report" in summary[0]["text"]
    for answer in answers.values():  # shown whole, as typed (escaped, not interpreted), never cut mid-way
        assert any(answer in message["text"] for message in summary), answer[:40]
    office_before = len(fake.sent_messages(OFFICE_CHAT))
    stored = live.turn(user, lambda: fake.press_button(user, last, "f:confirm:send"))
    check_replies(stored)
    notice = fake.wait_for_messages(OFFICE_CHAT, office_before + 2, timeout=WAIT).blocking()[office_before:]
    assert all(len(m["text"]) <= TELEGRAM_LIMIT for m in notice)
    assert not [c for c in fake.calls_to("sendMessage") if str(c.chat_id) == str(OFFICE_CHAT) and not c.ok]
    no_errors_logged(live)


def voice(user: int) -> dict:
    return {"message": {"message_id": 99_000 + user % 1000, "date": 0, "chat": {"id": user, "type": "private"},
                        "from": {"id": user, "is_bot": False, "first_name": "V"},
                        "voice": {"file_id": "voice-1", "file_unique_id": "uv1", "duration": 3}}}


@pytest.mark.parametrize("kind", ["photo", "sticker", "voice", "document", "photo with caption"])
def test_non_text_messages_get_a_kind_pointer_and_photos_outside_a_report_are_not_kept(live, kind):
    fake, user = live.fake, next(live.users)
    send = {
        "photo": lambda: fake.send_photo(user),
        "photo with caption": lambda: fake.send_photo(user, caption="<b>look</b> & see"),
        "sticker": lambda: fake.send_sticker(user),
        "voice": lambda: (fake.add_chat(user, "private"), fake.inject_update(voice(user))),
        "document": lambda: fake.send_document(user, "notes.pdf", b"%PDF-1.4 fake", "application/pdf"),
    }[kind]
    replies = live.turn(user, send)
    check_replies(replies)
    no_errors_logged(live)
    store = live.application.bot_data["store"]
    with store.transaction():
        dump = "\n".join(store.db.conn.iterdump())
    assert "photo-" not in dump and "voice-1" not in dump and "doc-" not in dump  # no file id kept
    assert not fake.calls_to("sendPhoto") and not fake.calls_to("forwardMessage")


def test_edited_messages_and_group_chatter_are_ignored_quietly(live):
    fake, user = live.fake, next(live.users)
    group = -5_000_001
    fake.add_chat(group, "group", title="Year 6 parents")
    check_replies(live.turn(user, lambda: fake.send_text(user, "Can I accept a friend request from a pupil?")))
    with fake._lock:  # the id of the person's own question, to edit it
        own_message_id = max(mid for (chat, mid), m in fake._messages.items() if chat == user and m.get("from", {}).get("id") == user)
    since = len(fake.calls)
    replies = live.turn(user, lambda: fake.edit_text(user, own_message_id, "<b>edited</b> I think a pupil is at risk"))
    assert replies == []  # an edit is not a new message; it is not answered twice
    for text in ("Can I post photos of the school play?", "/report", "I think a pupil is being groomed online by an adult", "@someone hi"):
        fake.send_text(user, text, chat_id=group, chat_type="group")
    live.turn(user, lambda: None)  # a turn of the same person, after the group messages in the queue
    assert not [c for c in fake.calls[since:] if str(c.chat_id) == str(group)]
    no_errors_logged(live)


# --- the console chat ------------------------------------------------------------------------------


class Transcript(io.StringIO):
    """stdout that remembers each write, so the prompts can be told apart from replies that contain "> "."""

    def __init__(self):
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)

    def after_prompts(self, prompt: str) -> list[str]:
        segments: list[list[str]] = []
        for text in self.writes:
            if text == prompt:
                segments.append([])
            elif segments:
                segments[-1].append(text)
        return ["".join(parts) for parts in segments]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines=st.lists(texts.filter(lambda t: "\n" not in t and "\r" not in t and t.strip().lower() not in ("/quit", "/exit")),
                      min_size=1, max_size=4),
       role=st.sampled_from(["staff", "parent", ""]))
@example(lines=["/report", "<b>&" * 50, "1", "x" * 10_000], role="staff")
@example(lines=["\x00\x1b[2J", "‏שלום", "🏳️‍🌈" * 500], role="parent")
def test_console_chat_answers_every_line_and_never_raises(advisor, engine_settings, tmp_path_factory, lines, role):
    from bot.console import PROMPT, run_chat

    settings_here = replace(engine_settings, database_path=tmp_path_factory.mktemp("console") / "policybot.db")
    stdout = Transcript()
    assert run_chat(advisor, settings_here, role, io.StringIO("".join(line + "\n" for line in lines)), stdout) == 0
    answers = stdout.after_prompts(PROMPT)  # what followed each prompt: the reply to that line
    assert len(answers) == len(lines) + 1  # and a last prompt met by the end of input
    for line, answer in zip(lines, answers):
        assert answer.strip(), f"no reply to {line[:80]!r}"
