"""Names, email addresses, phone numbers and @handles taken out of a question before it is printed in the
review. Names are found by shape: a title and a capitalised word ("Mrs Patel"), a word after "my son",
"called"…, and any capitalised word the policy and the bot's own texts never use (a name, most likely)."""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
HANDLE = re.compile(r"(?<![\w@])@\w{2,}")
PHONE = re.compile(r"(?<!\w)(?:\+?\d[\d ()-]{7,}\d)(?!\w)")
URL_WITH_PERSON = re.compile(r"\b(?:https?://)?(?:www\.)?(?:facebook|instagram|tiktok|twitter|x|snapchat|linkedin)\.com/\S+", re.IGNORECASE)
TITLED = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Sir|Madam|Prof)\.?\s+[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?")
NAMED_AFTER = re.compile(
    r"\b((?:my|our|her|his|their)\s+(?:son|daughter|child|kid|boy|girl|nephew|niece|grandson|granddaughter|colleague|friend)"
    r"|(?:called|named|name is))\s+([A-Za-z][\w'’-]+)",
    re.IGNORECASE,
)
WORD = re.compile(r"[^\W\d_][\w'’-]*")
NAME = "[name]"


def redact(text: str, known_words: frozenset[str] = frozenset()) -> str:
    """The text with personal details replaced: [email], [phone], [handle], [link], [name]."""
    text = EMAIL.sub("[email]", text)
    text = URL_WITH_PERSON.sub("[link]", text)
    text = HANDLE.sub("[handle]", text)
    text = PHONE.sub("[phone]", text)
    text = TITLED.sub(NAME, text)
    # "my son Jayden", but not "my child wear…" or "named the SENCo": only a capitalised word, or one the
    # school's texts never use, is taken for a name.
    text = NAMED_AFTER.sub(lambda m: f"{m.group(1)} {NAME}" if _name_like(m.group(2), known_words) else m.group(0), text)
    return _unknown_capitals(text, known_words) if known_words else text


def _name_like(word: str, known_words: frozenset[str]) -> bool:
    return word[0].isupper() and word.lower() not in {"the", "a", "an", "my", "our", "is", "in", "at", "on"} or (
        bool(known_words) and word.lower() not in known_words
    )


def _unknown_capitals(text: str, known_words: frozenset[str]) -> str:
    """A capitalised word the school's texts never use, that is not the pronoun I or an acronym (WhatsApp, PE
    and Year 9 are in the texts; "Jayden" is not)."""
    def swap(match: re.Match) -> str:
        word = match.group(0)
        bare = word.rstrip("'’s").rstrip("'’")
        if not word[0].isupper() or word.isupper() or bare.lower() in known_words or word.lower() in known_words:
            return word
        return NAME

    return WORD.sub(swap, text)


def vocabulary(*texts: str) -> frozenset[str]:
    """Every word (lowercased) in these texts: what counts as an ordinary word, not a name."""
    return frozenset(w.lower().rstrip("'’s") for text in texts for w in WORD.findall(text)) | frozenset(
        w.lower() for text in texts for w in WORD.findall(text)
    )
