"""One person's turn, channel-free: a message, a button or a photo in; the replies to show out.

`service.py` holds `Dialogue` (the entry point every channel calls), `turn.py` one turn's work, `answering.py`
a question answered, `records.py` what a turn stores as a case, `commands.py` the person's commands.
Replies are data (`Outgoing`); channels render them.
"""

from __future__ import annotations

from bot.dialogue.outgoing import ROLES, ButtonRows, Outgoing, Person, plain_buttons, short_label
from bot.dialogue.service import Dialogue
from bot.dialogue.turn import MAX_MESSAGE_CHARS, OFFICE_COMMANDS
from bot.office import Office, OfficeTexts, load_office_answers
from bot.services import Answerer
from bot.store import Store
from intents.flows import FlowTexts, placeholders_from

__all__ = [
    "MAX_MESSAGE_CHARS", "OFFICE_COMMANDS", "ROLES", "ButtonRows", "Dialogue", "Outgoing", "Person",
    "build_dialogue", "person_texts", "plain_buttons", "short_label",
]


def person_texts(settings, pack) -> FlowTexts:
    """What people are told (flows.yaml), with the school's settings filled in."""
    return FlowTexts.load(placeholders_from(settings, pack.school, pack.version or pack.title))


def build_dialogue(advisor: Answerer, store: Store, settings) -> Dialogue:
    """The dialogue and the one office it shares with its channel (`dialogue.office`), over one store; the
    advisor gives exactly the office answers this database holds."""
    texts = person_texts(settings, advisor.pack)
    office = Office(store, advisor.pack, settings, advisor, OfficeTexts(), texts)
    load_office_answers(advisor, store)
    return Dialogue(advisor, store, settings, office, texts)
