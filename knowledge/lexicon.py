"""The one vocabulary for reading questions and clauses (data/lexicon.yaml): people, channels, question forms.

Also the one sentence splitter. Pure functions over compiled patterns; loaded once per process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from knowledge.pack import read_yaml

LEXICON = Path(__file__).resolve().parent / "data" / "lexicon.yaml"
PEOPLE_KINDS = ("outsider", "school", "staff", "pupil", "parent")
# A new sentence starts after . ; ! ? (and after : in clause text) before a capital, a quote or a bracket.
_SENTENCE = re.compile(r"(?<=[.;!?])\s+(?=[A-Z‘'\"(])")
_SENTENCE_WITH_COLON = re.compile(r"(?<=[.;:!?])\s+(?=[A-Z‘'\"(])")
# People type without capitals: any . ! ? (or a line break) ends a sentence in a message.
_MESSAGE_SENTENCE = re.compile(r"(?<=[.!?])\s+|\s*\n+\s*")


def _whole(fragment: str) -> re.Pattern:
    # A possessive belongs to the word ("my son's teacher" names a son, then a teacher).
    return re.compile(rf"(?<![\w'])(?:{fragment})(?:'s|’s)?(?![\w'’])", re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    kind: str  # outsider | school | staff | pupil | parent | self
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Lexicon:
    people: tuple[tuple[str, re.Pattern], ...]
    first_person: re.Pattern
    official: re.Pattern
    personal: re.Pattern
    forms: tuple[tuple[str, re.Pattern], ...]
    negative_action: re.Pattern
    vague_closer: re.Pattern
    reporting: re.Pattern | None = None  # "I'm fairly sure…", "I found…": the asker reports, someone else acted
    stays_clear: re.Pattern | None = None  # "no pupils in them", "without naming the school"
    words: dict = field(default_factory=dict)  # plain words for people by group (staff, parent, pupil, anyone)
    office_groups: dict = field(default_factory=dict)  # the office answers' guard: word groups of people

    @classmethod
    def load(cls, path: Path = LEXICON) -> "Lexicon":
        data = read_yaml(path)
        people = data.get("people") or {}
        unknown = set(people) - set(PEOPLE_KINDS)
        if unknown:
            raise ValueError(f"{path.name}: unknown kinds of people {sorted(unknown)}")
        channel = data.get("channel") or {}
        forms = data.get("forms") or {}
        return cls(
            people=tuple((kind, _whole("|".join(people[kind]))) for kind in PEOPLE_KINDS if people.get(kind)),
            first_person=_whole(data["first_person"]),
            official=_whole(channel["official"]),
            personal=_whole(channel["personal"]),
            forms=tuple((name, _whole(forms[name])) for name in ("open", "trouble", "obligation", "permission") if forms.get(name)),
            negative_action=_whole(data["negative_action"]),
            vague_closer=_whole(data["vague_closers"]),
            reporting=re.compile(rf"^\s*(?:{data['reporting']})\b", re.IGNORECASE) if data.get("reporting") else None,
            stays_clear=re.compile(data["stays_clear"], re.IGNORECASE) if data.get("stays_clear") else None,
            words={k: tuple(str(w) for w in v) for k, v in (data.get("words") or {}).items()},
            office_groups={k: tuple(str(w) for w in v) for k, v in (data.get("office_groups") or {}).items()},
        )

    def alternation(self, *groups: str) -> str:
        """A regular-expression alternation of the plain words of these groups (longest first)."""
        words = sorted({w for g in groups for w in self.words.get(g, ())}, key=len, reverse=True)
        return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)

    # -- people -------------------------------------------------------------------------------------
    def mentions(self, text: str) -> list[Mention]:
        """Every mention of a kind of person (or of the asker, as `self`), in order; overlaps go to the first kind."""
        found: list[Mention] = []
        taken: list[tuple[int, int]] = []
        for kind, pattern in self.people:
            for m in pattern.finditer(text):
                if any(m.start() < end and start < m.end() for start, end in taken):
                    continue
                found.append(Mention(kind, m.start(), m.end(), m.group(0)))
                taken.append((m.start(), m.end()))
        for m in self.first_person.finditer(text):
            if not any(m.start() < end and start < m.end() for start, end in taken):
                found.append(Mention("self", m.start(), m.end(), m.group(0)))
        return sorted(found, key=lambda mention: mention.start)

    def reports(self, text: str, mention: Mention) -> bool:
        """Whether this mention of the asker only reports what they saw, heard or think."""
        return mention.kind == "self" and self.reporting is not None and bool(self.reporting.match(text[mention.end : mention.end + 40]))

    def kinds_in(self, text: str) -> set[str]:
        return {m.kind for m in self.mentions(text) if m.kind != "self"}

    # -- channels and forms ---------------------------------------------------------------------------
    def channel(self, text: str) -> str:
        """official | personal | "" (not said)."""
        official = self.official.search(text) is not None
        personal = self.personal.search(text) is not None
        if official and not personal:
            return "official"
        if personal and not official:
            return "personal"
        return ""

    def form(self, text: str) -> str:
        """trouble | obligation | permission | open: how the question asks (the last question in the text decides;
        "open" also when nothing asks Yes or No)."""
        found = [(m.start(), m.end(), name) for name, pattern in self.forms for m in pattern.finditer(text)]
        # A form inside another ("should I" in "what should I do") is part of it.
        outer = [f for f in found if not any(o[0] < f[0] < o[1] for o in found)]
        return max(outer)[2] if outer else "open"

    def negates(self, text: str) -> bool:
        """Whether the action asked about undoes or refuses something ("unfriend", "decline", "block")."""
        return self.negative_action.search(text) is not None

    def says_clear_of(self, text: str) -> bool:
        """Whether the message says it stays clear of pupils, the school or its name ("no pupils in them",
        "without naming the school"): the conditions a rule forbids may not hold."""
        return self.stays_clear is not None and self.stays_clear.search(text) is not None

    def vague(self, text: str) -> bool:
        """A closing question that carries no topic of its own ("AIBU?", "what should I do?")."""
        stripped = re.sub(r"[^\w\s']", " ", text).strip()
        if not stripped:
            return True
        m = self.vague_closer.search(stripped)
        return m is not None and len(stripped.split()) <= len(m.group(0).split()) + 4


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The project's vocabulary (loaded once)."""
    return Lexicon.load()


def clause_sentences(text: str, colon: bool = False) -> list[str]:
    """A clause's sentences: split only where a new sentence clearly starts (a capital after the stop)."""
    splitter = _SENTENCE_WITH_COLON if colon else _SENTENCE
    return [p.strip() for p in splitter.split(text) if p.strip()]


def message_sentences(text: str) -> list[str]:
    """A message's sentences: people type without capitals, so any stop or line break ends one."""
    return [p.strip() for p in _MESSAGE_SENTENCE.split(text) if p and p.strip()]


def asking_sentence(text: str) -> str:
    """The sentence that asks: the last one with a question mark, else the last one (the whole of a one-line
    question). A Yes or No answers this sentence, not a "can I…" told earlier in the story."""
    sentences = message_sentences(text)
    if not sentences:
        return text
    return next((s for s in reversed(sentences) if "?" in s), sentences[-1])
