"""One person's turn, channel-free: a message, a button or a photo in; the replies to show out.

`service.py` holds `Dialogue` (the entry point every channel calls), `turn.py` one turn's work, `answering.py`
a question answered, `records.py` what a turn stores as a case, `commands.py` the person's commands.
Replies are data (`Outgoing`); channels render them.
"""

from __future__ import annotations

from bot.dialogue.outgoing import ROLES, ButtonRows, Outgoing, Person, plain_buttons, short_label
from bot.dialogue.service import Dialogue
from bot.dialogue.turn import MAX_MESSAGE_CHARS, OFFICE_COMMANDS
from bot.office import Office, load_office_answers
from bot.services import Answerer
from bot.store import Store
from bot.texts import for_office, for_people

__all__ = [
    "MAX_MESSAGE_CHARS", "OFFICE_COMMANDS", "ROLES", "ButtonRows", "Dialogue", "Outgoing", "Person",
    "build_dialogue", "plain_buttons", "short_label",
]


def build_dialogue(advisor: Answerer, store: Store, settings) -> Dialogue:
    """The dialogue and the one office it shares with its channel (`dialogue.office`), over one store; the
    advisor gives exactly the office answers this database holds."""
    texts = for_people(settings, advisor.pack)
    office = Office(store, advisor.pack, settings, advisor, for_office(settings, advisor.pack), texts)
    load_office_answers(advisor, store)
    return Dialogue(advisor, store, settings, office, texts)
