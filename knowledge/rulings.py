"""Choose the verdict for the question asked, not for the clause: which ruling applies, and Yes or No.

A clause may decide several situations (6.1: not during school hours; nothing against your own time). The
ruling whose example messages are closest to the question applies when it is clearly closer than any ruling
with another verdict; otherwise the answer quotes the clause and shows what each situation gets, without a
Yes or No. The opening word then fits the form of the question: "can I…" is answered Yes for an allowed
action, "do I have to…" is answered No for it, "will I get in trouble if…" Yes for a forbidden one, and an
action that undoes or refuses ("unfriend", "decline") turns the answer when the ruling's examples don't.
Pure functions; the engine supplies how close each ruling's examples are (`fits`).
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.clause import Clause, Ruling
from knowledge.lexicon import Lexicon, lexicon

# A ruling applies when its examples are this close to the question (cosine)…
RULING_FLOOR = 0.45
# …and this much closer than the closest ruling with a different verdict.
RULING_MARGIN = 0.04
# How much the words that tell a clause's rulings apart (TF-IDF, 0..1) add to the cosine.
LEXICAL_WEIGHT = 0.3
ANSWERS = ("yes", "no", "approval", "careful")


@dataclass(frozen=True)
class Choice:
    """What the answer asserts for this question."""

    ruling: Ruling | None  # None: no single ruling clearly applies (quote the clause; show the situations)
    kind: str  # the verdict kind asserted ("information" when none)
    answer: str | None  # yes | no | approval | careful | None (not a yes/no question, or no verdict)
    reason: str = ""  # why no ruling was chosen: "situations" (several apply) | "unclear" (none fits)


def default_ruling(clause: Clause) -> Ruling | None:
    """The clause's single verdict as a ruling, for packs whose clauses have no rulings noted."""
    if clause.verdict_kind == "information":
        return None
    return Ruling(when="", kind=clause.verdict_kind, says="")


def opening(form: str, kind: str, flipped: bool) -> str | None:
    """Yes / No / approval / careful for a question of `form` about an action whose verdict is `kind`, where that
    is safe to say (`flipped`: the question asks about undoing or refusing the action the ruling is about).

    Only like-for-like questions get a Yes or No: "can I…" about the ruling's own action, and "do I have to /
    do I need permission to…" where the ruling requires it. Otherwise the line states the rule with its kind
    ("Not allowed — …"): "do I have to say who I am?" against "posting anonymously is not allowed" would need
    to know that the two actions are opposites, and a wrong No is worse than a plain statement of the rule."""
    if kind == "information" or flipped:
        return None
    if form == "permission":
        return {"allowed": "yes", "required": "yes", "not_allowed": "no", "advised_against": "careful", "needs_approval": "approval"}[kind]
    if form == "obligation" and kind in ("required", "needs_approval"):
        return "yes"
    return None


def choose(
    clause: Clause,
    question: str,
    fits: dict[int, tuple[float, str]],
    lex: Lexicon | None = None,
    story: str = "",
) -> Choice:
    """The ruling of `clause` that applies to `question`, and the word that opens the answer.

    `question` is the sentence that asks; `story` the whole message, when it tells more. A message that says it
    stays clear of what the rule is about ("no pupils in them", "without naming the school") gets the rule
    stated without a No: the verdict may not fit the conditions it sets out.
    `fits` maps a ruling's position to (its closest example's cosine with the question, that example, and
    optionally the TF-IDF fit of the words that tell the clause's rulings apart)."""
    lex = lex or lexicon()
    form = lex.form(question)
    rulings = clause.rulings
    if not rulings:
        ruling = default_ruling(clause)
        if ruling is None:
            return Choice(None, "information", None)
        flipped = lex.negates(question)
        return Choice(ruling, ruling.kind, _unless_clear(opening(form, ruling.kind, flipped), story or question, lex))
    def fit(i: int) -> float:
        found = fits.get(i, (0.0, ""))
        return found[0] + (LEXICAL_WEIGHT * found[2] if len(found) > 2 else 0.0)

    scored = sorted(((fit(i), i) for i in range(len(rulings))), reverse=True)
    best_fit, best = scored[0]
    rival = next((fit for fit, i in scored[1:] if rulings[i].kind != rulings[best].kind), None)
    if best_fit < RULING_FLOOR:
        if len({r.kind for r in rulings}) == 1:
            ruling = rulings[best]  # every situation gets the same verdict
        else:
            return Choice(None, "information", None, "unclear")
    elif rival is not None and best_fit - rival < RULING_MARGIN and form != "open":
        # A Yes or No would rest on a near tie between situations with different verdicts: show them all.
        # (An open question, "what should I do?", gets the closest ruling's line and no Yes or No.)
        return Choice(None, "information", None, "situations")
    else:
        ruling = rulings[best]
    example = fits.get(rulings.index(ruling), (0.0, ""))[1] if fits else ""
    flipped = lex.negates(question) != lex.negates(example)
    return Choice(ruling, ruling.kind, _unless_clear(opening(form, ruling.kind, flipped), story or question, lex))


def _unless_clear(answer: str | None, message: str, lex: Lexicon) -> str | None:
    """No "No" for a message that says it stays clear of what the rule is about."""
    return None if answer == "no" and lex.says_clear_of(message) else answer
