"""Compose an answer for a phone: the verdict first, the section as printed, the clause quoted verbatim.

A long clause is shortened around the sentence that answers the question, marked with "…"; the whole
clause is always one tap away (and always in `matches[].text`). Every word comes from the caller's phrases
(the advisor's `responses.yaml`); the lines are worded here once, and channels only mark them up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from knowledge.clause import Clause
from knowledge.engine import Search
from knowledge.lexicon import asking_sentence
from knowledge.rulings import Choice, choose
from knowledge.texts import fill

QUOTE_LIMIT = 330
SENTENCE = re.compile(r"(?<=[.;!?])\s+(?=[A-Z‘'\"(])")

@dataclass(frozen=True)
class ComposedAnswer:
    clause_id: str
    verdict_line: str
    section_label: str
    heading: str
    quote: str
    quote_is_shortened: bool
    full_text: str
    see_also: tuple[Clause, ...] = ()
    note: str = ""
    verdict_kind: str = "information"  # the kind of verdict asserted for this question
    answer_word: str | None = None  # yes | no | approval | careful: how the answer opens, if it opens with one
    style: str = "verdict"  # verdict | depends (several situations, no single verdict) | bears (several clauses)
    details: tuple[str, ...] = ()  # depends: a line per situation; bears: a line per further clause
    also: tuple[Clause, ...] = ()  # bears: the further clauses, each one tap from its full text
    section_line: str = ""  # "Section 6.5 · Friend requests"
    see_also_line: str = ""  # "See also: 6.2 Friends; 6.13 Colleagues." (empty without related clauses)


def verdict_line(clause: Clause, phrases: Mapping[str, str]) -> str:
    return clause.verdict or phrases[f"verdict.{clause.verdict_kind}"]


def ruling_line(clause: Clause, choice: Choice, phrases: Mapping[str, str]) -> str:
    """The opening line for the question asked: "No — Staff must not…", or the clause's own line."""
    ruling = choice.ruling
    if ruling is None:
        if choice.reason:
            return phrases["depends"]
        # No verdict is asserted: the clause's own line only where it asserts none either.
        return verdict_line(clause, phrases) if clause.verdict_kind == "information" else phrases["quote_only"]
    says = ruling.says or phrases.get(f"says.{ruling.kind}", "")
    if choice.answer is not None:
        word = phrases[f"answer.{choice.answer}"]
        return f"{word} — {says}" if says else word
    if ruling.says:
        label = phrases.get(f"kind.{ruling.kind}", "")
        return f"{label} — {says}" if label else says
    return verdict_line(clause, phrases)


def shorten(text: str, focus: str = "", limit: int = QUOTE_LIMIT) -> tuple[str, bool]:
    """The clause, or the part of it that answers the question, within `limit` characters."""
    if len(text) <= limit:
        return text, False
    sentences = [s for s in SENTENCE.split(text) if s.strip()]
    chosen = focus if focus and focus in sentences else sentences[0]
    index = sentences.index(chosen)
    if len(chosen) > limit:
        cut = chosen[:limit].rsplit(" ", 1)[0]
        chosen = cut.rstrip(",;: ") + " …"
    else:
        # Add following sentences while they fit, so the quote reads as a whole.
        for nxt in sentences[index + 1 :]:
            if len(chosen) + 1 + len(nxt) > limit:
                break
            chosen = f"{chosen} {nxt}"
        if not text.endswith(chosen):
            chosen = f"{chosen} …"
    if index > 0:
        chosen = f"… {chosen}"
    return chosen, True


def compose_answer(search: Search, pack_clause, phrases: Mapping[str, str]) -> ComposedAnswer | None:
    """The answer from the best match of `search`; `pack_clause(id)` looks up related clauses."""
    if not search.matches:
        return None
    best = search.matches[0]
    clause = best.clause
    # The Yes or No answers the sentence that asks ("…am I overreacting?"), not a "can I" told in the story.
    choice = choose(clause, asking_sentence(search.question), search.ruling_fits, story=search.question)
    if search.learned_fit > max((fit[0] for fit in search.ruling_fits.values()), default=0.0) and choice.ruling is not None:
        # The office answered a question like this one with this clause and no verdict: quote it without one.
        choice = Choice(None, "information", None)
    quote, shortened = shorten(clause.text, best.sentence)
    see_also: list[Clause] = []
    for related_id in clause.related:
        related = pack_clause(related_id)
        if related is not None and related.id != clause.id and related not in see_also:
            see_also.append(related)
    for other in search.matches[1:]:
        if other.score >= 0.5 and other.clause.id != clause.id and other.clause not in see_also and other.score >= best.score - 0.25:
            see_also.append(other.clause)
    note = ""
    if search.staff_rule is not None:
        staff_quote, _ = shorten(search.staff_rule.text, limit=160)
        note = fill(phrases["parent_note"], {"section": search.staff_rule.label, "quote": staff_quote})
    elif search.role == "parent" and clause.audience in ("staff", "site_creators"):
        # A parent is never handed a staff rule as if it were their own.
        note = fill(phrases["staff_rule_note"], {"section": clause.label})
    details: tuple[str, ...] = ()
    if choice.ruling is None and choice.reason:
        details = tuple(
            fill(phrases["depends.line"], {"when": r.when[:1].upper() + r.when[1:], "kind": phrases.get(f"kind.{r.kind}", "") or r.says})
            for r in clause.rulings
        )
    return ComposedAnswer(
        clause_id=clause.id,
        verdict_line=ruling_line(clause, choice, phrases),
        section_label=clause.label,
        heading=clause.title,
        quote=quote,
        quote_is_shortened=shortened,
        full_text=clause.text,
        see_also=tuple(see_also[:2]),
        note=note,
        section_line=section_line(clause, phrases),
        see_also_line=see_also_line(see_also[:2], phrases),
        verdict_kind=choice.kind,
        answer_word=choice.answer,
        style="depends" if details else "verdict",
        details=details,
    )


def compose_bearing(search: Search, phrases: Mapping[str, str], limit: int = 3) -> ComposedAnswer | None:
    """For a long message whose question is the situation itself: the clauses that bear on it, each in a line.

    Commits to the first (quoted, with its section); the others follow with a short quote each."""
    if not search.matches:
        return None
    best = search.matches[0]
    quote, shortened = shorten(best.clause.text, best.sentence, limit=200)
    top = best.score
    others = [m for m in search.matches[1:limit] if m.score >= 0.3 * top]
    details = tuple(
        fill(phrases["bears.line"], {"section": m.clause.label, "gist": gist(m.clause), "quote": shorten(m.clause.text, m.sentence, limit=140)[0]})
        for m in others
    )
    return ComposedAnswer(
        clause_id=best.clause.id,
        verdict_line=phrases["bears"],
        section_label=best.clause.label,
        heading=best.clause.title,
        quote=quote,
        quote_is_shortened=shortened,
        full_text=best.clause.text,
        verdict_kind="information",
        style="bears",
        details=details,
        also=tuple(m.clause for m in others),
        section_line=section_line(best.clause, phrases),
    )


def gist(clause: Clause) -> str:
    """A few words that tell this clause apart: the school's heading, else the guessed summary."""
    if clause.curated:
        return clause.heading or clause.summary or clause.title
    return clause.summary or clause.heading or clause.title


def suggestion_line(clause: Clause) -> str:
    """A clause offered after "Did you mean:": its section and what tells it apart."""
    gist_text = gist(clause)
    return f"{clause.label}: {gist_text}" if gist_text else clause.label


def section_line(clause: Clause, phrases: Mapping[str, str]) -> str:
    """The line above the quote: "Section 6.5 · Friend requests"."""
    heading = f" · {clause.title}" if clause.title else ""
    return fill(phrases["section"], {"section": clause.label}) + heading


def see_also_line(clauses, phrases: Mapping[str, str]) -> str:
    """The related sections, each with its heading: "See also: 6.2 Friends; 6.13 Colleagues." (empty for none)."""
    if not clauses:
        return ""
    sections = "; ".join(f"{c.label} {c.heading or c.summary or c.title}".strip() for c in clauses)
    return fill(phrases["see_also"], {"sections": sections})


def render_plain(answer: ComposedAnswer, phrases: Mapping[str, str]) -> str:
    """The answer as plain text, for the console, the CLI's `reply` field and tests."""
    lines = [answer.verdict_line, answer.section_line, fill(phrases["quote"], {"quote": answer.quote}), *answer.details]
    if answer.note:
        lines.append(answer.note)
    if answer.see_also_line:
        lines.append(answer.see_also_line)
    return "\n".join(lines)
