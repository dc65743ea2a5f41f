"""Who acts on whom, and where: the subject of a question and of a clause, read with the one lexicon.

A question "can a teacher add my son on snapchat?" from a parent is about staff (actor) contacting a pupil
(target) on a personal account; 6.13 (staff and parents as friends) has the right actor but the wrong target.
A clause's subject is the school's note (`about` in enrichment.yaml) or, for a pack nobody curated, read from
its rule sentence: the people named before the modal verb act, the first others named after it are acted on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.lexicon import Lexicon, Mention, lexicon

ACTORS = ("staff", "parent", "pupil", "school", "anyone")
TARGETS = ("pupil", "parent", "staff", "colleague", "school", "public", "anyone", "none")
CHANNELS = ("personal", "official", "any")
_MODAL = re.compile(
    r"\b(must|mustn.t|shall|should|shouldn.t|may|can|cannot|can.t|could|will|would|are (?:expected|required|asked|advised|allowed|permitted)|"
    r"is (?:expected|required|asked|advised|allowed|permitted)|need|needs|have to|has to|do not|don.t|does not|doesn.t|never|is|are|am|do|does|did)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Subject:
    actor: str = ""  # who acts: staff | parent | pupil | school | anyone | "" (not said)
    target: str = ""  # who is acted on: pupil | parent | staff | colleague | school | public | anyone | none | ""
    channel: str = ""  # personal | official | any | ""
    outsider: bool = False  # someone outside the school is named (a club coach, a tutor, another school)

    def to_dict(self) -> dict:
        return {"actor": self.actor, "target": self.target, "channel": self.channel, "outsider": self.outsider}


# "images of pupils", "sites for pupils", "friends with parents": people after these words are not who acts.
_OBJECT_BEFORE = re.compile(r"\b(of|for|with|to|from|about|by|towards|between|inviting|invite|at)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)
# "my sons football coach", "my daughter's TA": the second person is the one meant; the first only says whose.
_WHOSE_GAP = re.compile(r"^(?:'?s?\s+)(?:[\w-]+\s+){0,4}$", re.IGNORECASE)
_PERSONAL = re.compile(r"\bpersonal (?:social media|social networking|webspace|accounts?|sites?|pages?|profiles?|use|email)", re.IGNORECASE)


def _as_person(mention: Mention, role: str) -> str:
    if mention.kind == "self":
        return "parent" if role == "parent" else "staff"
    return mention.kind


def _heads(mentions: list[Mention], text: str) -> list[Mention]:
    """Mentions that name someone in their own right: "my son" in "my sons football coach" only says whose."""
    out = []
    for i, m in enumerate(mentions):
        nxt = mentions[i + 1] if i + 1 < len(mentions) else None
        if nxt is not None and m.kind in ("pupil", "parent", "self") and nxt.kind in ("staff", "pupil", "parent", "outsider") and _WHOSE_GAP.match(text[m.end : nxt.start]):
            if m.kind != "self" or m.text.lower() in ("my", "our"):
                continue
        out.append(m)
    return out


def of_question(text: str, role: str = "staff", lex: Lexicon | None = None) -> Subject:
    """The subject of a person's message: the first person named acts (the asker for "I"), the next other
    kind named is acted on; the school's own page or account names the channel."""
    lex = lex or lexicon()
    mentions = _heads(lex.mentions(text), text)
    people = [(_as_person(m, role), m) for m in mentions]
    channel = lex.channel(text)
    actor, target = "", ""
    form = _form_span(text, lex)
    ordered = people
    if form is not None:
        # "can a teacher…", "is it ok for staff to…": the one named right after the question's verb acts.
        after = [(k, m) for k, m in people if m.start >= form[0]]
        before = [(k, m) for k, m in people if m.start < form[0]]
        ordered = after + before
    for kind, mention in ordered:
        if lex.reports(text, mention):
            continue  # "I'm fairly sure a teacher posted…": the teacher acted
        if kind == "school":
            actor = actor or kind  # the school acts ("can the school post…"); it is never the one acted on
            continue
        if not actor:
            actor = kind
        elif kind != actor and not target:
            target = kind
    if not actor and form is not None:
        actor = "parent" if role == "parent" else "staff"  # "is it ok to post…": the asker
    staff_named = sum(1 for kind, m in people if kind == "staff")  # the asker counts when they are staff
    if actor == "staff" and not target and staff_named >= 2:
        target = "colleague"  # "my boss sent me a request", "can I add a colleague"
    if actor == target == "staff":
        target = "colleague"
    if actor == "school" and not channel:
        channel = "official"  # "can the school put my child's name on its page"
    outsider = any(kind == "outsider" for kind, _ in people)
    return Subject(actor, target, channel, outsider)


def _form_span(text: str, lex: Lexicon) -> tuple[int, int] | None:
    for _name, pattern in lex.forms:
        m = pattern.search(text)
        if m:
            return m.span()
    return None


def of_clause_text(text: str, lex: Lexicon | None = None) -> Subject:
    """A guess at a clause's subject from its wording (for packs without the school's notes)."""
    lex = lex or lexicon()
    channel = lex.channel(text)
    if not channel and any(m.kind == "school" for m in lex.mentions(text)):
        channel = "official"
    if not channel and _PERSONAL.search(text):
        channel = "personal"
    modal = _MODAL.search(text)
    cut = modal.start() if modal else len(text)
    mentions = [m for m in lex.mentions(text) if m.kind not in ("self", "school")]
    before = [m for m in mentions if m.start < cut and not _OBJECT_BEFORE.search(text[max(0, m.start - 40) : m.start])]
    after = [m for m in mentions if m.start >= cut]
    actor = before[0].kind if before else ""
    if not actor and re.match(r"\W*(you|your)\b", text, re.IGNORECASE):
        actor = "staff"
    target = next((m.kind for m in after if m.kind != actor), "")
    if actor == "staff" and not target and any(m.kind == "staff" for m in after):
        target = "colleague"
    return Subject(actor, target, channel)


def agreement(question: Subject, clause: Subject) -> dict[str, float]:
    """How the two subjects agree: 1 for a match, 1 for a clash, per part (both must be known)."""

    def same(a: str, b: str, wild: tuple[str, ...]) -> tuple[float, float]:
        if not a or not b or a in wild or b in wild:
            return 0.0, 0.0
        return (1.0, 0.0) if a == b else (0.0, 1.0)

    def person(a: str, b: str) -> tuple[float, float]:
        # The school's own account is run by staff; colleagues are staff.
        norm = {"school": "staff", "colleague": "staff"}
        return same(norm.get(a, a), norm.get(b, b), ("anyone",))

    actor = person(question.actor, clause.actor)
    q_target = question.target if question.target not in ("none",) else ""
    target = person(q_target, clause.target) if clause.target != "none" else (0.0, 0.0)
    if question.target == "colleague" and clause.target == "colleague":
        target = (1.0, 0.0)
    channel = same(question.channel, clause.channel, ("any",))
    return {
        "actor_match": actor[0],
        "actor_clash": actor[1],
        "target_match": target[0],
        "target_clash": target[1],
        "channel_match": channel[0],
        "channel_clash": channel[1],
    }
