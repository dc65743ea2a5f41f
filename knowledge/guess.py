"""First guesses at a clause's notes from its wording: heading, audience, verdict kind and verdict.

Used by `policybot ingest` so a pack answers usefully before anyone curates it. The guesses are
deliberately plain keyword rules (read the clause, find the modal verb, find who it names) so an
office can see why a guess was made and correct it in enrichment.yaml.
"""

from __future__ import annotations

import re
from pathlib import Path

from knowledge.clause import Clause
from knowledge.pack import read_yaml

TEXTS = Path(__file__).resolve().parent / "guess_texts.yaml"

# Checked in this order; the first kind whose pattern appears in the clause's rule sentence wins.
PROHIBITION = re.compile(
    r"\b(must not|must never|mustn[’']t|shall not|may not|cannot|can not|can[’']t|are not (?:allowed|permitted)|"
    r"is not (?:allowed|permitted)|not be (?:allowed|permitted|used|published|posted|shared|disclosed)|"
    r"(?:is|are) (?:strictly )?prohibited|(?:is|are) forbidden|never (?:be )?(?:post|share|use|accept|"
    r"disclose|publish|contact|give|tolerated)|do not|don[’']t|no\s+\w+\s+(?:is|are) (?:allowed|permitted)|"
    r"under no circumstances|does not want|do not want|no\s+(?:\w+\s+){0,6}(?:may|can|should) be)\b",
    re.IGNORECASE,
)
APPROVAL = re.compile(
    r"\b(approval|approved by|authori[sz]ation|authori[sz]ed by|permission|consent|prior agreement|"
    r"sign(?:ed)? off|agreed in advance|with the agreement of)\b",
    re.IGNORECASE,
)
REQUIREMENT = re.compile(
    r"\b(must|shall|are required to|is required to|are expected to|is expected to|have to|has to|need to|"
    r"needs to|are responsible for|is responsible for|will ensure|should always|always)\b",
    re.IGNORECASE,
)
CAUTION = re.compile(
    r"\b(should not|should never|shouldn[’']t|caution|careful|think carefully|are advised not|"
    r"is advised against|(?:strongly )?advised to|asked (?:to agree )?not to|ask \w+ (?:to agree )?not to|not recommended|discouraged|avoid|be wary)\b",
    re.IGNORECASE,
)
# "may" only grants something when a person is its subject ("staff may"), not in "may apply" or "may lead to".
PERMISSION = re.compile(
    r"\b(you|staff|employees?|members?|colleagues?|parents?|carers?|they|pupils?|students?|governors?|volunteers?|we|"
    r"teachers?|individuals?)\b(?:\s+\w+){0,3}?\s+(may|can|are allowed to|are permitted to|are free to|are welcome to)\b|"
    r"\b(is|are) (?:allowed|permitted|fine|acceptable)\b",
    re.IGNORECASE,
)

SITE_WORK = re.compile(
    r"\b((?:creat\w*|set(?:ting)? up|moderat\w*|administ\w*)\s(?:\w+\s){0,4}(?:sites?|pages?|groups?)|"
    r"(?:sites?|pages?|groups?) (?:\w+ ){0,3}(?:created|set up|moderated|administered)|"
    r"moderat\w+|administrators?|house rules|terms of use)\b",
    re.IGNORECASE,
)
PARENTS_SUBJECT = re.compile(
    r"(^|[.;:]\s+)(?:the\s+|all\s+|our\s+|some\s+|any\s+)?(parents?|carers?|families|guardians?)\b|\b(ask|asks|asked|expect|expects|request)\s+"
    r"(?:all\s+)?(parents?|carers?|families)\b|\b(parents?|carers?)\s+(?:and carers\s+)?(?:are|is|may|must|should|will|can)\b",
    re.IGNORECASE,
)
STAFF = re.compile(
    r"\b(staff|employees?|colleagues?|teachers?|workers?|volunteers?|governors?|contractors?|pupils?|students?|"
    r"children|learners?|you|your|representatives?|trainees?|members of staff|personnel)\b",
    re.IGNORECASE,
)
MODAL_SENTENCE = re.compile(
    r"\b(must|shall|should|may|can|cannot|never|not|required|expected|approval|authori[sz]|permission|prohibited|"
    r"caution|advised|allowed|permitted|avoid|do not)\b",
    re.IGNORECASE,
)


def _texts() -> dict:
    cache = _texts.__dict__.get("cache")
    if cache is None:
        cache = _texts.__dict__["cache"] = read_yaml(TEXTS)
    return cache


def _rule_sentence(text: str, lead: str = "") -> str:
    """The sentence that states the rule: the first with a modal verb (a list item borrows its lead-in's)."""
    sentences = [s for s in re.split(r"(?<=[.;!?])\s+", text.strip()) if s]
    for sentence in sentences[:3]:
        if MODAL_SENTENCE.search(sentence):
            return sentence
    if lead:
        return f"{lead} {text}"
    return sentences[0] if sentences else text


def guess_verdict_kind(text: str, lead: str = "") -> str:
    """must not → not_allowed; approval → needs_approval; must → required; should not/caution →
    advised_against; may/can → allowed; otherwise information."""
    sentence = _rule_sentence(text, lead)
    if lead and not MODAL_SENTENCE.search(text):
        sentence = f"{lead} {text}"
    if PROHIBITION.search(sentence):
        # "must not ... without authorisation" is a permission with a condition, not a ban.
        if APPROVAL.search(sentence) and re.search(r"\b(without|unless|until|only with|except with)\b", sentence, re.I):
            return "needs_approval"
        return "not_allowed"
    if APPROVAL.search(sentence) and re.search(r"\b(only|must|needs?|require|sought|obtain|seek|with|without)\b", sentence, re.I):
        return "needs_approval"
    if CAUTION.search(sentence):
        return "advised_against"
    if REQUIREMENT.search(sentence):
        return "required"
    if PERMISSION.search(sentence):
        return "allowed"
    return "information"


def guess_audience(text: str, lead: str = "", heading: str = "") -> str:
    """Who the clause is written for, from who it names: site creators, parents, staff, else everyone."""
    whole = f"{lead} {text}".strip()
    if SITE_WORK.search(whole) or SITE_WORK.search(heading):
        return "site_creators"
    if PARENTS_SUBJECT.search(whole) or re.search(r"\b(parents?|carers?)\b", heading, re.I):
        return "parents"
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


def guess_verdict(kind: str) -> str:
    return str((_texts().get("verdicts") or {}).get(kind, ""))


def guess_enrichment(clause: Clause, lead: str = "") -> dict:
    """The enrichment stub for one clause, marked as a guess (curated: false)."""
    kind = guess_verdict_kind(clause.text, lead)
    return {
        "heading": guess_heading(clause),
        "audience": guess_audience(clause.text, lead, clause.part_heading),
        "verdict_kind": kind,
        "verdict": guess_verdict(kind),
        "summary": "",
        "related": [],
        "alternates": [],
        "curated": False,
    }
