"""First guesses at a clause's notes from its wording: heading, audience, verdict kind and verdict.

Used by `policybot ingest` so a pack answers usefully before anyone curates it. The guesses are
deliberately plain keyword rules (read the clause, find the modal verb, find who it names) so an
office can see why a guess was made and correct it in enrichment.yaml.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from knowledge.clause import Clause
from knowledge.lexicon import lexicon
from knowledge.pack import read_yaml

TEXTS = Path(__file__).resolve().parent / "guess_texts.yaml"

# Checked in this order; the first kind whose pattern appears in the clause's rule sentence wins.
PROHIBITION = re.compile(
    r"\b(must not|must never|mustn[’']t|shall not|may not(?! (?:require|need|be (?:necessary|needed|required|appropriate)|always|necessarily))|cannot|can not|can[’']t|are not (?:allowed|permitted)|"
    r"is not (?:allowed|permitted)|not be (?:allowed|permitted|used|published|posted|shared|disclosed)|"
    r"(?:is|are) (?:strictly )?prohibited|(?:is|are) forbidden|prohibited from|never (?:be )?(?:post|share|use|accept|"
    r"disclose|publish|contact|give|tolerated)|do not|don[’']t|no\s+\w+\s+(?:is|are) (?:allowed|permitted)|"
    r"under no circumstances|does not want|do not want|no\s+(?:\w+\s+){0,6}(?:may|can|should) be|"
    r"must (?:decline|refuse)|I will not|I agree not to)\b",
    re.IGNORECASE,
)
APPROVAL = re.compile(
    r"\b(approval|approved by|authori[sz]ation|authori[sz]ed by|permission|consent|prior agreement|"
    r"sign(?:ed)? off|agreed in advance|with the agreement of)\b",
    re.IGNORECASE,
)
STRONG_REQUIREMENT = re.compile(r"\b(must|shall|are required to|is required to|have to|has to)\b", re.IGNORECASE)
REQUIREMENT = re.compile(
    r"\b(should(?! not| never|n[’']t)|(?:are|is) (?:strongly )?(?:advised|encouraged|asked) to|are expected to|is expected to|need to|needs to|are responsible for|is responsible for|will ensure|"
    r"should always|always|are asked to|is asked to|(?:is|lies) (?:ultimately )?(?:the|with the) responsibility)\b|"
    r"^\W*(stay|keep|make sure|ensure|check|remember|report|tell|respect|follow|set|use only|only use)\b",
    re.IGNORECASE,
)
# The approval words only make a rule of it when something governs them ("must be sought", "only with").
APPROVAL_GOVERNED = re.compile(
    r"\b(only|must|needs?|require[sd]?|sought|obtain(?:ed)?|seek|subject to|with the (?:approval|agreement|"
    r"permission|consent)|once|until|unless|before)\b",
    re.IGNORECASE,
)
CAUTION = re.compile(
    r"\b(should not|should never|shouldn[’']t|caution|careful|think carefully|are advised not|"
    r"is advised against|(?:strongly )?advised not to|asked (?:to agree )?not to|ask \w+ (?:to agree )?not to|not recommended|discouraged|avoid|be wary)\b",
    re.IGNORECASE,
)
# People, by group, come from the one lexicon (knowledge/data/lexicon.yaml: `words`).
_STAFF = lexicon().alternation("staff")
_PARENTS = lexicon().alternation("parent")
_PUPILS = lexicon().alternation("pupil")
_ANYONE = lexicon().alternation("anyone")
# "may" only grants something when a person is its subject ("staff may"), not in "may apply" or "may lead to".
PERMISSION = re.compile(
    rf"\b({_STAFF}|{_PARENTS}|{_PUPILS}|{_ANYONE}|members?|they)\b(?:\s+\w+){{0,3}}?\s+(may|can|are allowed to|are permitted to|are free to|are welcome to)\b|"
    r"\b(is|are) (?:allowed|permitted|fine|acceptable)\b",
    re.IGNORECASE,
)

SITE_WORK = re.compile(
    r"\b((?:creat\w*|set(?:ting)? up|moderat\w*|administ\w*)\s(?:\w+\s){0,4}(?:sites?|pages?|groups?)|"
    r"(?:sites?|pages?|groups?) (?:\w+ ){0,3}(?:creat\w*|set up|moderated|administered)|"
    r"moderat\w+|administrators?|house rules|terms of use)\b",
    re.IGNORECASE,
)
PARENTS_SUBJECT = re.compile(
    rf"(^|[.;:]\s+)(?:the\s+|all\s+|our\s+|some\s+|any\s+)?({_PARENTS})\b|"
    rf"\b(ask|asks|asked|expect|expects|request)\s+(?:all\s+)?({_PARENTS})\b",
    re.IGNORECASE,
)
STAFF = re.compile(rf"\b({_STAFF}|{_PUPILS}|{_ANYONE})\b", re.IGNORECASE)
# Staff named as the subject of the rule ("Staff must only…", "Employees who…"): the clause is theirs even
# under a heading that names parents ("Communicating with pupils and parents").
STAFF_SUBJECT = re.compile(rf"(^|[.;:]\s+)(?:the\s+|all\s+|any\s+|our\s+)?(?:{_STAFF})\b", re.IGNORECASE)
# A heading that names parents is written for them ("Parents' use of social media", "Our expectations of parents"),
# unless they are only whom staff deal with ("Communicating with pupils and parents" is a staff section).
PARENTS_HEADING = re.compile(rf"\b({_PARENTS})\b", re.IGNORECASE)
DEALING_WITH = re.compile(
    rf"\b(with|to|towards)\s+(?:the\s+|our\s+)?(?:(?:{_PUPILS})\s*(?:,|and|&)\s*)?(?:{_PARENTS})\b",
    re.IGNORECASE,
)
MODAL_SENTENCE = re.compile(
    r"\b(must|shall|should|may|can|cannot|never|not|required|expected|approval|authori[sz]|permission|prohibited|"
    r"caution|advised|allowed|permitted|avoid|do not)\b",
    re.IGNORECASE,
)


@cache
def _texts() -> dict:
    return read_yaml(TEXTS)


def _rule_sentence(text: str, lead: str = "") -> str:
    """The sentence that states the rule: the first with a modal verb (a list item borrows its lead-in's)."""
    sentences = [s for s in re.split(r"(?<=[.;!?])\s+", text.strip()) if s]
    for sentence in sentences[:3]:
        if MODAL_SENTENCE.search(sentence):
            return sentence
    if lead:
        return f"{lead} {text}"
    return sentences[0] if sentences else text


# A list item states a rule of its own only when it opens with one ("never share…", "ensure…", "must not…");
# "breach any obligations they may have" under "employees are prohibited from using social media to:" is
# governed by its lead-in, whatever "may" appears inside it.
ITEM_OWN_RULE = re.compile(
    r"^\W*(?:\w+\s+){0,2}?(must|mustn[’']t|shall|should|shouldn[’']t|may|can|cannot|can[’']t|never|always|do not|don[’']t|"
    r"not|avoid|ensure|make sure|be careful|are (?:not )?(?:allowed|permitted|expected|required)|is (?:not )?(?:allowed|permitted))\b",
    re.IGNORECASE,
)
# An instruction that opens the sentence decides it before any word inside it ("Double check your photos: ensure
# they don't contain your address" is a requirement; "Never post…" a prohibition).
OPENS_WITH_DONT = re.compile(r"^\W*(do not|don[’']t|never|not\b|no\b)", re.IGNORECASE)
OPENS_WITH_AVOID = re.compile(r"^\W*(avoid|try not to|think twice|be careful|take care|be wary)\b", re.IGNORECASE)
OPENS_WITH_DO = re.compile(
    r"^\W*(ensure|make sure|double[- ]check|check|remember|always|be sure|keep|stay|report|tell|use only|only use|respect|follow|"
    r"set|protect|abide by|comply with|read|declare|state|identify yourself|include)\b",
    re.IGNORECASE,
)


def _kind(sentence: str) -> str:
    """The verdict kind one sentence states (see guess_verdict_kind)."""
    if OPENS_WITH_DONT.search(sentence):
        return "not_allowed"
    if OPENS_WITH_AVOID.search(sentence):
        return "advised_against"
    if OPENS_WITH_DO.search(sentence):
        return "required"
    if PROHIBITION.search(sentence):
        return "not_allowed"
    if APPROVAL.search(sentence) and APPROVAL_GOVERNED.search(sentence):
        return "needs_approval"
    if CAUTION.search(sentence) and not STRONG_REQUIREMENT.search(sentence):
        return "advised_against"
    if STRONG_REQUIREMENT.search(sentence) or REQUIREMENT.search(sentence):
        return "required"
    if PERMISSION.search(sentence):
        return "allowed"
    return "information"


def _lead_sentence(lead: str) -> str:
    """The sentence of a lead-in that introduces the list ("For example, employees are prohibited from…:")."""
    sentences = [s for s in re.split(r"(?<=[.;!?])\s+", lead.strip()) if s]
    return sentences[-1] if sentences else lead


def guess_verdict_kind(text: str, lead: str = "") -> str:
    """must not → not_allowed; approval → needs_approval; must → required; should not/caution →
    advised_against; may/can → allowed; otherwise information. A list item takes its lead-in's verdict unless
    it opens with a rule of its own; then its own words decide ("Staff should:" + "never share passwords")."""
    if lead:
        lead_kind = _kind(_lead_sentence(lead))
        if not ITEM_OWN_RULE.search(text):
            return lead_kind if lead_kind != "information" else _kind(_rule_sentence(text))
        own = _kind(text)
        return own if own != "information" else lead_kind
    return _kind(_rule_sentence(text))


GENERAL_HEADING = re.compile(r"^\W*(introduction|scope|purpose|aims?|overview|definitions?|background|about)\b", re.I)


def guess_audience(text: str, lead: str = "", heading: str = "", kind: str = "") -> str:
    """Who the clause is written for, from who it names: site creators, parents, staff, else everyone.

    `heading` is the clause's section heading and any heading above it ("APPENDIX A — Requirements for
    creating social media sites", "CHILDREN AND YOUNG PEOPLE"); what an introduction or scope says
    (`kind` information) is for everyone.
    """
    whole = f"{lead} {text}".strip()
    if SITE_WORK.search(whole) or SITE_WORK.search(heading):
        return "site_creators"
    if PARENTS_SUBJECT.search(whole):
        return "parents"
    if STAFF_SUBJECT.search(whole):
        return "staff"
    if any(PARENTS_HEADING.search(h) and not DEALING_WITH.search(h) for h in heading.split(" | ")):
        return "parents"
    if kind == "information" and GENERAL_HEADING.search(heading.split(" | ")[-1]):
        return "everyone"
    if STAFF.search(whole):
        return "staff"
    return "everyone"


def guess_heading(clause: Clause) -> str:
    """The section heading the clause sits under, in sentence case ("PERSONAL USE" → "Personal use")."""
    heading = clause.part_heading.split(" — ")[0].strip()
    if not heading:
        return str(_texts().get("untitled_heading", ""))
    letters = [c for c in heading if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) >= 0.8 * len(letters):
        heading = heading[:1].upper() + heading[1:].lower()
    return heading


def guess_summary(text: str, lead: str = "", words: int = 14) -> str:
    """The clause's rule in its own words, clipped ("Employees must not accept or send friend…"), for lists
    such as "Did you mean" where a section heading shared by several clauses cannot tell them apart.
    Empty when the clause is already that short. A list item is given with its lead-in."""
    sentence = _rule_sentence(text, lead) if not lead else f"{lead} {text}"
    parts = sentence.split()
    if len(parts) <= words:
        return sentence if lead or sentence != text.strip() else ""
    return " ".join(parts[:words]).rstrip(",;:") + "…"


def guess_verdict(kind: str) -> str:
    """Empty unless guess_texts.yaml sets one: the answer then opens with the standard line for the kind."""
    return str((_texts().get("verdicts") or {}).get(kind, ""))


def guess_enrichment(clause: Clause, lead: str = "", context: str = "") -> dict:
    """The enrichment stub for one clause, marked as a guess (curated: false).

    `context` is the heading of the top-level part the clause sits in, when that differs from its own
    section heading (an appendix "Requirements for creating social media sites" above "A.2 CHILDREN").
    """
    kind = guess_verdict_kind(clause.text, lead)
    headings = " | ".join(h for h in (context, clause.part_heading) if h)
    return {
        "heading": guess_heading(clause),
        "audience": guess_audience(clause.text, lead, headings, kind),
        "verdict_kind": kind,
        "verdict": guess_verdict(kind),
        "summary": guess_summary(clause.text, lead),
        "related": [],
        "alternates": [],
        "curated": False,
    }
