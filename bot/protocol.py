"""The bot's vocabulary, in one place: roles, the office's commands, and the buttons' callback data.

Callback data is a short string, `kind:arg:arg` (at most 64 bytes, Telegram's limit), so a button on a message
sent last month still works after a restart (PTB's arbitrary callback data lives in memory and would not).
`decode` reads it back and says who a button is for: a person's buttons work only in that person's own
private chat; the office's only where the office may act (the office chat, the escalation chat, or an
admin's private chat: the caller checks who presses, at the moment of the press).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.roles import ROLES

OFFICE_COMMANDS = ("unanswered", "reports", "case", "close", "stats", "answer", "answers", "unlearn")

# Who a button is for.
PERSON = "person"
OFFICE = "office"

OFFICE_PREFIX = "of"
# The office's button verbs: what pressing does, and the arguments the data carries.
ANSWER_WITH = "a"  # of:a:<item>:<clause>  answer an unanswered question with a section
WRITE = "w"  # of:w:<item>               write an answer in the office's own words (next message)
DISMISS = "d"  # of:d:<item>
ACKNOWLEDGE = "k"  # of:k:<case ref>
CLOSE = "c"  # of:c:<case ref>           close with a note (next message)
EVIDENCE = "e"  # of:e:<case ref>          show a breach report's screenshots
SEND = "s"  # of:s:<item>                send the written answer shown for confirmation
DISCARD = "x"  # of:x:<item>             do not send it

_ITEM = r"(\d{1,9})"
_REF = r"((?:BR|CR|SA)-\d{4}-\d{4,6})"
_CLAUSE = r"([^:]{1,40})"  # a pack's clause id (the 64-byte limit is checked too)
OFFICE_VERBS = {
    ANSWER_WITH: rf"{_ITEM}:{_CLAUSE}",
    WRITE: _ITEM,
    DISMISS: _ITEM,
    ACKNOWLEDGE: _REF,
    CLOSE: _REF,
    EVIDENCE: _REF,
    SEND: _ITEM,
    DISCARD: _ITEM,
}
CASE_VERBS = (ACKNOWLEDGE, CLOSE, EVIDENCE)  # their argument is a case reference

# A person's buttons, by their first part (the dialogue reads the rest).
PERSON_KINDS = ("role", "fb", "sec", "go", "sg", "fg", "f", "cancel", "sig")  # sig: signing (bot/signatures.py)


@dataclass(frozen=True)
class Callback:
    """A button's data, read: for whom, which kind (a person's kind, or the office's verb), and its arguments."""

    audience: str
    kind: str
    args: tuple[str, ...]
    data: str

    def valid_in(self, chat_type: str, chat_id: int | None, user_id: int | None) -> bool:
        """Where a press can count: a person's button only in the presser's own private chat (so a forged one
        never runs a flow in a group, nor sends replies to someone else); the office's anywhere, as far as the
        codec goes: `Office.is_admin`/`may_handle` decide at the press."""
        if self.audience == PERSON:
            return chat_type == "private" and chat_id is not None and user_id is not None and int(chat_id) == int(user_id)
        return True


def office_button(verb: str, *args: object) -> str:
    """The data of an office button, e.g. `office_button(ANSWER_WITH, 12, "6.5")` → "of:a:12:6.5"."""
    data = ":".join([OFFICE_PREFIX, verb, *(str(a) for a in args)])
    if not office_pattern(verb).fullmatch(data) or len(data.encode()) > 64:
        raise ValueError(f"not valid office button data: {data!r}")
    return data


def person_button(kind: str, *args: object) -> str:
    """The data of a person's button, e.g. `person_button("sec", "6.5")` → "sec:6.5"."""
    if kind not in PERSON_KINDS:
        raise ValueError(f"not a kind of person's button: {kind!r}")
    data = ":".join([kind, *(str(a) for a in args)])
    if len(data.encode()) > 64:
        raise ValueError(f"callback data over Telegram's 64 bytes: {data!r}")
    return data


def office_pattern(verb: str) -> re.Pattern:
    """For `CallbackQueryHandler(pattern=…)`: exactly the data of one office verb, arguments as groups."""
    return re.compile(rf"^{OFFICE_PREFIX}:{verb}:{OFFICE_VERBS[verb]}$")


OFFICE_ANY = re.compile(rf"^{OFFICE_PREFIX}:")  # anything claiming to be an office button, valid or not
PERSON_ANY = re.compile(rf"^(?!{OFFICE_PREFIX}:)")  # every other button: the dialogue reads it


def decode(data: str | None) -> Callback | None:
    """A button's data read back; None for data that is no button of ours (forged or from an old version)."""
    data = data or ""
    if OFFICE_ANY.match(data):
        for verb in OFFICE_VERBS:
            match = office_pattern(verb).match(data)
            if match:
                return Callback(OFFICE, verb, match.groups(), data)
        return None
    kind = data.split(":", 1)[0]
    if kind in PERSON_KINDS and len(data.encode()) <= 64:
        return Callback(PERSON, kind, tuple(data.split(":")[1:]), data)
    return None


def is_safeguarding_button(data: str | None) -> bool:
    """The safeguarding offer's buttons ("alert the DSL" / "no"): never held back by a rate limit."""
    return (data or "").startswith("sg:")
