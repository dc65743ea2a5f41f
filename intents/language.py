"""Messages in other languages: which language, whether it may be about a child at risk, what to tell the writer.

No multilingual model is available offline, so this reads curated data (data/languages.yaml): per language,
marker words that identify it in a short informal message, words for children and for harm, and a one-line
notice in that language (the bot answers in English; 999 and the Designated Safeguarding Lead).

Detection: a message written mostly in a non-Latin script is that script's language (the markers choose
among languages sharing a script); a Latin-script message is another language when its words are that
language's markers rather than English function words. A harm cue of any language marks a possible risk
in a message that is not plainly English (an English message is judged by the English rules alone, so a
romanised word that happens to be English costs nothing).

Understated messages rarely use a word of harm ("she has marks on her arm again, says she fell", "an older
boy online sends him presents"). For those, data/safeguarding_concepts.yaml lists per language the words of
a few concepts (hurt, secret, an older person, gifts, no food, nobody home, a wedding abroad…) and which two
concepts together signal a possible risk; one concept alone never does (a bruise from football, a child
scared of a test, a family wedding abroad), except the few listed as enough on their own (wanting to be gone,
self-harm). Numbers count too: an age 8–16 is `young`; an age 18–40 next to the language's word for years
("22 de ani", "boyosh 20") is `adult`, a grown man beside a child.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from knowledge.pack import read_yaml

DATA = Path(__file__).resolve().parent / "data" / "languages.yaml"
CONCEPTS = Path(__file__).resolve().parent / "data" / "safeguarding_concepts.yaml"
# An age a child might be (a number in the message, in any script's digits): with a wedding or an older person.
AGE = re.compile(r"(?<![\d.,:£$€/])(\d{1,2})(?![\d%/]|[.,:]\d)")
YOUNG_AGES = range(8, 17)
# An adult's age (a grown man befriending a child): a number 18–40 beside the language's word for years
# (concept `years`: "22 de ani", "boyosh 20", "19 saal da"), and not beside a word of `family` (a brother,
# an eldest son, a husband: "her brother, 20, will pick her up"); counted as the concept `adult`.
ADULT_AGES = range(18, 41)
AGE_REACH = 24  # characters between the number and its word for years
# Arabic particles written joined to the next word: "and", "with", "for", "so", "like", "the" and their pairs.
JOINED = "وبال|وال|بال|فال|كال|لل|ال|و|ب|ل|ف|ك"
ENGLISH = "en"
# English words that are rarely anything else in a short message (judging whether a message is English).
# (Not the words other languages borrow — school, teacher, tiktok, friend, photo — which say nothing of the language.)
ENGLISH_WORDS = frozenset(
    """the a an and or but is are was were be been am i you he she we they it my your his her our their him us them
    this that these those of in on at for with from by about as if not no yes can could would should will shall may
    might must do does did have has had what when where who why how which there here some any all just very too
    please thanks thank hello hey ok okay allowed want wants get got going been being like know think need"""
    .split()
)
BETWEEN_WORDS = r"[\s'‘’\"“”«»]+"
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
# Unicode scripts by the first letter's name ("ARABIC LETTER…", "BENGALI LETTER…").
SCRIPT_NAMES = {
    "LATIN": "Latn", "ARABIC": "Arab", "BENGALI": "Beng", "GURMUKHI": "Guru", "DEVANAGARI": "Deva", "CYRILLIC": "Cyrl",
    "CJK": "Hans", "TAMIL": "Taml", "GUJARATI": "Gujr", "ETHIOPIC": "Ethi", "GREEK": "Grek", "HEBREW": "Hebr",
    "THAI": "Thai", "HANGUL": "Hang", "HIRAGANA": "Jpan", "KATAKANA": "Jpan",
}


def fold(text: str) -> str:
    """Lower case without accents ("Zgwałcił" → "zgwałcil" → compared as "zgwalcil")."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.replace("ł", "l").replace("ı", "i").replace("ø", "o").replace("đ", "d").replace("ß", "ss")


def script_of(ch: str) -> str:
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return ""
    first = name.split(" ")[0]
    if first == "CJK":
        return "Hans"
    return SCRIPT_NAMES.get(first, first.title()[:4])


# What py3langid calls the languages it knows that we have entries for (it knows no Somali, Yoruba, Twi,
# Tigrinya or romanised Urdu, Punjabi and Bengali: markers find those).
LANGID_CONFIDENT = 0.8


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    native_name: str
    scripts: tuple[str, ...]
    markers: frozenset[str]  # without accents
    notice: str
    child: tuple[str, ...]
    harm: tuple[str, ...]
    distress: tuple[str, ...] = ()
    self_words: tuple[str, ...] = ()
    reviewed: bool = False
    exact_markers: frozenset[str] = frozenset()  # as the language writes them


class Languages:
    """The languages the bot can recognise, with their safeguarding cues and notices."""

    def __init__(self, languages: list[Language], concepts: dict | None = None) -> None:
        self.languages = {lang.code: lang for lang in languages}
        concepts = concepts or {}
        joined = set(map(str, concepts.get("joined_particles") or ()))  # Arabic writes "and", "with", "the" joined on
        self._accented = set(map(str, concepts.get("exact_accents") or ()))  # read with accents (Vietnamese)
        # Per language, one pattern per concept (compiled at the first message not in English); the pairs of
        # concepts that together signal a risk.
        self._concept_words = concepts.get("languages") or {}
        self._joined = joined
        self._compiled: dict[str, dict[str, re.Pattern]] | None = None
        self._pairs = {frozenset(map(str, pair)) for pair in concepts.get("combinations") or () if len(set(pair)) == 2}
        self._kin = [set(map(str, group)) for group in concepts.get("kin") or ()]
        self._alone = {str(c) for c in concepts.get("on_its_own") or ()}  # a concept enough without a second
        # A concept that does not count beside another (a cat gone for two days is not a child missing).
        self._unless = {str(c): set(map(str, others or ())) for c, others in (concepts.get("unless") or {}).items()}
        self._harm = {lang.code: self._pattern(lang.harm) for lang in languages if lang.harm}
        # Another language's cues count only when they are long enough not to be a word of this one
        # (Polish "macał" starts Somali "macalinku", a teacher).
        self._harm_long = {lang.code: self._pattern(tuple(c for c in lang.harm if _distinctive(c))) for lang in languages if lang.harm}
        # Weaker cues (fear, crying, a stranger, a threat…): one concept among the others, below.
        self._distress = {
            lang.code: (self._pattern(lang.distress), self._pattern(lang.child + lang.self_words)) for lang in languages if lang.distress
        }
        self._identifier = None

    @property
    def _concepts(self) -> dict[str, dict[str, re.Pattern]]:
        if self._compiled is None:
            self._compiled = {
                str(code): {
                    str(name): p
                    for name, cues in (spec or {}).items()
                    if (p := self._pattern(tuple(str(c) for c in cues or ()), attached=code in self._joined, accents=code in self._accented)) is not None
                }
                for code, spec in self._concept_words.items()
            }
        return self._compiled

    @classmethod
    def load(cls, path: Path = DATA, concepts: Path | None = CONCEPTS) -> "Languages":
        data = read_yaml(path).get("languages") or {}
        out = []
        for code, spec in data.items():
            out.append(
                Language(
                    code=str(code),
                    name=str(spec.get("name", code)),
                    native_name=str(spec.get("native_name", "")),
                    scripts=tuple(str(s) for s in spec.get("scripts") or ("Latn",)),
                    # A language is recognised by its everyday words, its words for a child and for "I".
                    markers=frozenset(fold(str(m)) for m in (*(spec.get("markers") or ()), *(spec.get("child") or ()), *(spec.get("self") or ()))),
                    exact_markers=frozenset(str(m).lower() for m in (*(spec.get("markers") or ()), *(spec.get("child") or ()), *(spec.get("self") or ()))),
                    notice=str(spec.get("notice", "")),
                    child=tuple(str(c) for c in spec.get("child") or ()),
                    harm=tuple(str(h) for h in spec.get("harm") or ()),
                    distress=tuple(str(h) for h in spec.get("distress") or ()),
                    self_words=tuple(str(h) for h in spec.get("self") or ()),
                    reviewed=bool(spec.get("reviewed", False)),
                )
            )
        return cls(out, read_yaml(concepts) if concepts is not None and concepts.exists() else None)

    @staticmethod
    def _pattern(cues: tuple[str, ...], attached: bool = False, accents: bool = False) -> re.Pattern | None:
        """One pattern for a list of cues: a whole word or phrase, or its start for longer words (inflections);
        `attached`: a cue in Arabic script may also follow a letter (in Arabic, و "and", ب "with", ال "the" are
        written joined to the next word); `accents`: compared with their accents (`_accented`, below)."""
        parts = []
        for cue in sorted({(_accented(c) if accents else fold(c)).strip() for c in cues if c.strip()}, key=len, reverse=True):
            stem = cue.endswith("*")  # "bij*": a short stem, any ending
            whole = cue.endswith("=")  # "ударила=": this word only (not "ударилась", she knocked herself)
            cue = cue.rstrip("*=").strip()
            if not cue:
                continue
            # Between a phrase's words, spaces and quotes ("goes to 'work' at night", "pour la « préparer »").
            escaped = re.escape(cue).replace(r"\ ", BETWEEN_WORDS)
            if any(script_of(ch) in ("Hans", "Jpan", "Thai") for ch in cue):
                parts.append(escaped)  # no spaces between words
            elif attached and script_of(cue[0]) == "Arab":
                parts.append(rf"(?<!\w)(?:{JOINED})?{escaped}" + ("" if stem or len(cue) >= 4 else r"(?!\w)"))
            elif whole:
                parts.append(rf"(?<!\w){escaped}(?!\w)")
            elif stem or len(cue) >= 5 or (len(cue) >= 3 and script_of(cue[0]) == "Ethi"):
                # (Ethiopic writes a syllable a letter: a three-letter stem is already a word's start)
                parts.append(rf"(?<!\w){escaped}")  # the word's start: an ending may follow
            else:
                parts.append(rf"(?<!\w){escaped}(?!\w)")
        return re.compile("|".join(parts)) if parts else None

    # -- which language ----------------------------------------------------------------------------
    def detect(self, text: str) -> str:
        """The language code of the message, "en" for English (or too little to tell)."""
        letters = [ch for ch in text if ch.isalpha()]
        if not letters:
            return ENGLISH
        scripts: dict[str, int] = {}
        for ch in letters:
            s = script_of(ch)
            scripts[s] = scripts.get(s, 0) + 1
        script, count = max(scripts.items(), key=lambda item: item[1])
        words = [fold(w) for w in WORD.findall(text)]
        if script != "Latn" and count >= 0.4 * len(letters):
            candidates = [lang for lang in self.languages.values() if script in lang.scripts]
            if not candidates:
                return "und"  # a script we have no entry for: still not English
            return max(candidates, key=lambda lang: (self._marker_hits(lang, words, text), -len(lang.scripts))).code
        english = sum(w in ENGLISH_WORDS for w in words)
        if english >= max(1.0, 0.4 * len(words)):
            return ENGLISH  # the usual case, decided without the language model
        scored = sorted(
            ((self._marker_hits(lang, words, text), lang.code) for lang in self.languages.values() if "Latn" in lang.scripts),
            reverse=True,
        )
        best, code = scored[0] if scored else (0.0, ENGLISH)
        runner_up = scored[1][0] if len(scored) > 1 else 0.0
        guessed, confidence = self._langid(text)
        # Romanised Urdu, Punjabi and Bengali, Somali, Yoruba, Twi: the language model does not know them.
        if code not in self._langid_known and best >= 2 and best > runner_up and best > english:
            return code
        if guessed != ENGLISH and confidence >= LANGID_CONFIDENT and english < 0.34 * len(words):
            return guessed
        if best >= 2 and best > runner_up and best > english:
            return code
        if best >= 1 and best > runner_up and english == 0 and (len(words) >= 2 or len(words[0]) >= 4):
            return code  # "labas", "mahadsanid": a greeting or thanks in one word
        return ENGLISH

    @property
    def _langid_known(self) -> set[str]:
        self._langid("")
        return self._known

    def _langid(self, text: str) -> tuple[str, float]:
        """py3langid's guess among English and our languages it knows (loaded at the first need: ~0.7 s)."""
        if self._identifier is None:
            self._known: set[str] = set()
            try:
                import py3langid.langid as langid_module
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                identifier = LanguageIdentifier.from_modelpath(Path(langid_module.__file__).parent / MODEL_FILE, norm_probs=True)
                known = set(identifier.nb_classes)
                self._known = {c for c in self.languages if c in known}
                identifier.set_languages(sorted({ENGLISH} | self._known))
                self._identifier = identifier
            except Exception:  # noqa: BLE001 — without the model, markers alone decide
                self._identifier = False
        if not self._identifier or not text:
            return ENGLISH, 0.0
        code, confidence = self._identifier.classify(text)
        return str(code), float(confidence)

    @staticmethod
    def _marker_hits(lang: Language, words: list[str], text: str) -> float:
        """How many of the message's words are the language's markers: one for a word as the language writes it,
        a half for one that only matches without accents ("la" is French, and Vietnamese "là" unaccented)."""
        exact = {m for m in lang.exact_markers}
        lowered = [w.lower() for w in WORD.findall(text)]
        hits = sum(1.0 if raw in exact else 0.5 for raw, w in zip(lowered, words) if w in lang.markers)
        folded = fold(text)
        hits += sum(1.0 for m in lang.markers if " " in m and m in folded)  # multi-word markers ("sat sri akal")
        return hits

    # -- a child at risk ---------------------------------------------------------------------------
    def harm_in(self, text: str, code: str | None = None) -> str | None:
        """The language whose cues say a child may be at risk, if any: a strong cue alone, or two concepts that
        together signal a risk (data/safeguarding_concepts.yaml; the older `distress` cues count as one concept).
        The message's own language (`code`, detected when not given, with its siblings: ur and ur-Latn, its
        script's other languages, its kin) is read with all its cues; every other language with its distinctive
        harm cues (long words and phrases), in case the language was misjudged."""
        folded = fold(text)
        code = code or self.detect(text)
        own = {c for c in self.languages if c.split("-")[0] == code.split("-")[0]}
        for lang in sorted(own):
            pattern = self._harm.get(lang)
            if pattern is not None and pattern.search(folded):
                return lang
            distress, about = self._distress.get(lang, (None, None))
            if lang not in self._concepts and distress is not None:
                # A language without concept words yet: two weaker cues, or one about a child or in the
                # writer's own words (recall first, at the cost of "scared of the maths test").
                weak = {m.group(0) for m in distress.finditer(folded)}
                if len(weak) >= 2 or (weak and about is not None and about.search(folded)):
                    return lang
        found = self.concepts_in(text, code)
        if found & self._alone or any(frozenset(pair) in self._pairs for pair in _pairs_of(found)):
            return code if code in self.languages else sorted(own)[0] if own else code
        for lang, pattern in self._harm_long.items():
            if lang not in own and pattern is not None and pattern.search(folded):
                return lang
        return None

    def readers(self, code: str) -> list[str]:
        """The languages whose concept words are read for a message in `code`: its own and its siblings (ur,
        ur-Latn), the other languages of its script when that is not Latin (Hindi and Nepali, Urdu and Punjabi
        in Shahmukhi, Persian and Dari are easily taken for each other), and its kin in the data (romanised
        Urdu, Punjabi and Hindi)."""
        base = code.split("-")[0]
        own = {c for c in self.languages if c.split("-")[0] == base} | {code}
        scripts = set(self.languages[code].scripts) - {"Latn"} if code in self.languages else set()
        own |= {c for c, lang in self.languages.items() if scripts & set(lang.scripts)}
        for group in self._kin:
            if own & group:
                own |= group
        return sorted(c for c in own if c in self._concepts or c in self._distress)

    def concepts_in(self, text: str, code: str) -> set[str]:
        """The concepts the message's words name, read in its language (and its readers, above)."""
        folded, accented = fold(text), _accented(text)
        found: set[str] = set()
        for lang in self.readers(code):
            read = accented if lang in self._accented else folded
            for name, pattern in self._concepts.get(lang, {}).items():
                if name not in found and pattern.search(read):
                    found.add(name)
            distress = self._distress.get(lang, (None, None))[0]
            if distress is not None and any(not self._named(folded, m.start(), lang) for m in distress.finditer(folded)):
                found.add("distress")  # a weaker cue that is not already one of the concepts' words
        ages = [(int(m.group(1)), m) for m in AGE.finditer(unicodedata.normalize("NFKC", text)) if m.group(1).isdecimal()]
        if any(age in YOUNG_AGES for age, _ in ages):
            found.add("young")
        if "adult" not in found and any(age in ADULT_AGES and self._adult_age(text, m, code) for age, m in ages):
            found.add("adult")
        return {c for c in found if not self._unless.get(c, set()) & found}

    def _adult_age(self, text: str, match: re.Match, code: str) -> bool:
        """Whether an age is an adult's: a word for years (concept `years` of the message's readers) stands
        just before or after it, and no word of `family` does ("her brother, 20, picks her up" is ordinary)."""
        near = unicodedata.normalize("NFKC", text)[max(match.start() - AGE_REACH, 0) : match.end() + AGE_REACH]
        folded, accented = fold(near), _accented(near)
        years = family = False
        for lang in self.readers(code):
            read = accented if lang in self._accented else folded
            spec = self._concepts.get(lang, {})
            years = years or (spec.get("years") is not None and spec["years"].search(read) is not None)
            family = family or (spec.get("family") is not None and spec["family"].search(read) is not None)
        return years and not family

    def _named(self, folded: str, start: int, lang: str) -> bool:
        """Whether a concept's word of `lang` starts where a distress cue does ("tajemnica" is a secret already)."""
        return any(p.match(folded, start) or p.match(folded, max(start - 1, 0)) for p in self._concepts.get(lang, {}).values())

    def notice(self, code: str) -> str:
        lang = self.languages.get(code)
        return lang.notice if lang is not None else ""


def _accented(text: str) -> str:
    """Lower case, accents kept (composed the same way however they were typed)."""
    return unicodedata.normalize("NFC", text.lower())


def _pairs_of(found: set[str]) -> list[tuple[str, str]]:
    ordered = sorted(found)
    return [(a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :]]


def _distinctive(cue: str) -> bool:
    """A cue unlikely to be a word of another language: a phrase, a long word, or a word in a non-Latin script."""
    folded = fold(cue).strip()
    return " " in folded or len(folded) >= 7 or any(ch.isalpha() and script_of(ch) != "Latn" for ch in folded)


@lru_cache(maxsize=1)
def languages() -> Languages:
    """The project's language data (loaded once)."""
    return Languages.load()
