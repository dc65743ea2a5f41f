"""The console chat: the same replies and flows as the Telegram bot, in a terminal.

State lives in the same SQLite database as the bot's, so a report started here survives a restart.
Buttons are numbered; typing the number presses it. The role given on the command line (`--role`) is
set at start; `/role` changes it for the rest of the session. Messages the office sends back (answers to
unanswered questions, a closed report) are shown at the next prompt.
"""

from __future__ import annotations

import getpass
import logging
from typing import TextIO

from bot.dialogue import ROLES, Outgoing, Person, build_dialogue, plain_buttons
from bot.signatures import Signing
from bot.services import Answerer
from bot.store import Store

log = logging.getLogger(__name__)
PROMPT = "> "


def console_person() -> Person:
    try:
        user = getpass.getuser()
    except Exception:  # no login name (e.g. a container without one)
        user = "console"
    return Person(channel="console", user_id=user, chat_id=user, name=user)


def render(outgoing: list[Outgoing], first_number: int = 1) -> str:
    """Plain text for a batch of replies, with buttons numbered across the whole batch."""
    lines: list[str] = []
    number = first_number
    for item in outgoing:
        text = item.answer.reply if item.answer is not None else item.text
        lines.append(text)
        labels = []
        for row in item.buttons:
            for button in row:
                labels.append(f"[{number}] {button.label}")
                number += 1
        if labels:
            lines.append("  " + "   ".join(labels))
        lines.append("")
    return "\n".join(lines)


def load_taught_questions(advisor: Answerer, store: Store) -> None:
    """Questions the office has answered with a section match that section from the start."""
    pairs = store.answers.taught_questions()
    if pairs:
        advisor.engine.add_alternates(pairs)


def deliver_pending(store: Store, user_key: str, texts, stdout: TextIO) -> None:
    for message in store.outbox.messages_for(user_key, "console"):
        stdout.write(f"{texts.get('conversation.console_delivered')}\n{message['text']}\n\n")
        store.outbox.mark_delivered(message["id"])


def run_chat(advisor: Answerer, settings, role: str, stdin: TextIO, stdout: TextIO) -> int:
    """Chat until EOF or /quit; returns the exit code (0)."""
    store = Store(settings.database_path)
    try:
        load_taught_questions(advisor, store)
        dialogue = build_dialogue(advisor, store, settings)
        signing = Signing(store, dialogue.pack, dialogue.texts, settings, dialogue.office)  # /agree, /acknowledge
        person = console_person()
        user_key = store.people.user_key(person.channel, person.user_id)
        if role in ROLES:
            store.people.set_role(user_key, role)
        stdout.write(dialogue.texts.get("conversation.welcome") + "\n")
        stdout.write(dialogue.texts.get("conversation.console_intro") + "\n\n")
        resumed = dialogue.resume(person)
        stdout.write(render(resumed))
        buttons = plain_buttons(resumed)
        while True:
            deliver_pending(store, user_key, dialogue.texts, stdout)
            stdout.write(PROMPT)
            stdout.flush()
            line = stdin.readline()
            if not line:
                stdout.write("\n")
                return 0
            line = line.rstrip("\r\n")
            if line.strip().lower() in ("/quit", "/exit"):
                return 0
            typed = line.strip()
            if typed.isdigit() and buttons and 1 <= int(typed) <= len(buttons):
                action = buttons[int(typed) - 1].action
                out = signing.handle(person, action=action)
                out = dialogue.handle(person, action=action) if out is None else out
            elif typed.isdigit() and len(typed) <= 2:  # a button number where there is no such button
                stdout.write(dialogue.texts.get("conversation.no_such_button", number=typed, count=len(buttons)) + "\n")
                continue
            else:
                out = signing.handle(person, text=line, urgent=dialogue.is_safeguarding(line))
                out = dialogue.handle(person, text=line) if out is None else out
            buttons = plain_buttons(out)
            stdout.write(render(out))
            stdout.flush()
    finally:
        store.close()
