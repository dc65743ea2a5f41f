"""The advisor: one message in, one reply out — intent first, then the policy answer when it is a question.

Channel-free: the console, the CLI and Telegram all call `respond`. The reply carries both structured
data (intent, matches, composed answer) for channels that render richly and `reply`, the plain text.
When the policy gives no confident answer but the school office has answered the same question in its own
words, that answer is given instead — labelled as the office's, with the day it was given. The policy's
clause always wins when the engine is confident, and safeguarding is decided before either.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from intents.classify import QUESTION_FORM, IntentClassifier, IntentResult
from intents.language import ENGLISH
from intents.texts import person_texts
from knowledge.compose import ComposedAnswer, compose_answer, compose_bearing, render_plain, suggestion_line
from knowledge.engine import Match, PolicyEngine, Search
from knowledge.office_answers import OfficeAnswer, OfficeAnswers, OfficeMatch
from knowledge.roles import ROLES
from knowledge.texts import Texts, fill

MAX_CHARS = 1000
# The office taught a question this close (cosine) for another clause than the first: hedge, don't contradict it.
LEARNED_CONFLICT = 0.65


@dataclass(frozen=True)
class OfficeReply:
    """The office's own answer to an earlier, matching question: what to show, and where it came from."""

    heading: str  # "The school office answered this question on 26 November 2026:"
    text: str  # the office's words, as written
    note: str  # that this is the office's answer, not a quote from the policy
    match: OfficeMatch

    def to_json(self) -> dict:
        entry = self.match.entry
        return {"id": entry.id, "answered_at": entry.answered_at, "text": self.text, "similarity": round(self.match.similarity, 4)}


@dataclass(frozen=True)
class Reply:
    question: str
    role: str
    intent: str
    answered: bool
    confidence: float
    verdict: str | None
    matches: tuple[Match, ...]
    reply: str
    answer: ComposedAnswer | None = None
    safeguarding: bool = False  # show the safeguarding response (or contacts) as well
    suggestions: tuple[Match, ...] = ()  # "Did you mean…" when not answered
    scores: dict = field(default_factory=dict, repr=False)
    office: OfficeReply | None = None  # the school office's own answer, when that is what answered
    verdict_kind: str | None = None  # the kind of verdict asserted for this question; None for a hedge or another intent
    answer_word: str | None = None  # yes | no | approval | careful: how the answer opens, if it opens with one
    language: str = "en"  # the language the message was written in, when the advisor could tell
    contacts: str = ""  # the safeguarding contacts added beneath an answer (also the last line of `reply`)

    def to_json(self) -> dict:
        """The `policybot ask --json` contract. `office_answer` is present only when the office's own answer
        was given (then `answered` is true, `verdict` null and `matches` empty: no clause answered)."""
        out = {
            "question": self.question,
            "role": self.role,
            "intent": self.intent,
            "answered": self.answered,
            "confidence": round(self.confidence, 4),
            "verdict": self.verdict,
            "verdict_kind": self.verdict_kind,
            "matches": [m.to_json() for m in self.matches],
            "reply": self.reply,
        }
        if self.office is not None:
            out["office_answer"] = self.office.to_json()
        return out


class Advisor:
    """Classifies a message and answers it from the engine, in the school's own words."""

    def __init__(
        self,
        engine: PolicyEngine,
        classifier: IntentClassifier,
        texts: Texts | None = None,
        office_answers: OfficeAnswers | None = None,
    ) -> None:
        self.engine = engine
        self.classifier = classifier
        # The texts people are shown (intents.texts.person_texts, with the school's placeholders); the replies
        # are those under `responses.`, filled once: they are also the phrases an answer is composed with.
        self.texts = texts if texts is not None else person_texts()
        self.responses: dict[str, str] = self.texts.within("responses").filled()
        # The office's own answers, filled from the bot's database (build_advisor, the channels); else empty.
        self.office_answers = office_answers if office_answers is not None else OfficeAnswers(engine.embed, engine.expand)

    @property
    def pack(self):
        return self.engine.pack

    def text(self, key: str, **values) -> str:
        return fill(self.responses.get(key, key), values)

    # -- what the office teaches it (bot.office.Learner) ----------------------------------------------
    def learn_question(self, clause_id: str, question: str) -> bool:
        """A question the office answered with a clause: asked again, it finds that clause."""
        return self.engine.add_alternate(clause_id, question)

    def learn_office_answer(self, answer: OfficeAnswer) -> None:
        self.office_answers.add([answer])

    def forget_office_answer(self, answer_id: int) -> bool:
        return self.office_answers.remove(answer_id)

    def follow_office_answers(self, answers: list[OfficeAnswer]) -> int:
        """Give exactly these office answers (the database's); returns how many changed."""
        return self.office_answers.sync(answers)

    def respond(self, message: str, role: str = "staff") -> Reply:
        return self.respond_many([message], role)[0]

    def respond_many(self, messages: list[str], role: str = "staff") -> list[Reply]:
        """Answer several messages with one batched encode."""
        role = role if role in ROLES else "staff"
        cleaned = [" ".join(str(m).split()) for m in messages]
        replies: dict[int, Reply] = {}
        languages = self.classifier.rules.languages
        for i, m in enumerate(cleaned):
            code = languages.detect(m) if languages is not None and m else ENGLISH
            if code != ENGLISH:
                replies[i] = self._other_language(m, role, code)
        live = [i for i, m in enumerate(cleaned) if m and len(m) <= MAX_CHARS and i not in replies]
        if live:
            texts = [cleaned[i] for i in live]
            vectors = self.engine.embed(texts)
            searches = self.engine.search_many(texts, role, vectors)
            # Only questions the policy does not answer with confidence look for an office answer.
            unsure = [k for k, search in enumerate(searches) if not search.answered]
            office: dict[int, OfficeMatch | None] = {}
            if unsure and len(self.office_answers):
                found = self.office_answers.best_many([texts[k] for k in unsure], vectors[unsure], role)
                office = dict(zip(unsure, found))
            for k, (i, text, vector, search) in enumerate(zip(live, texts, vectors, searches)):
                replies[i] = self._reply(text, role, vector, search, office.get(k))
        out: list[Reply] = []
        for i, m in enumerate(cleaned):
            if i in replies:
                out.append(replies[i])
            elif not m:
                out.append(self._simple(m, role, "help", self.text("empty")))
            else:
                out.append(self._too_long(m, role))
        return out

    # -- building replies --------------------------------------------------------------------------
    def _simple(self, question: str, role: str, intent: str, text: str, search: Search | None = None, safeguarding: bool = False, scores=None) -> Reply:
        matches = search.matches if search else ()
        confidence = search.confidence if search else 0.0
        return Reply(question, role, intent, False, confidence, None, matches, text, safeguarding=safeguarding, scores=scores or {})

    def _other_language(self, message: str, role: str, code: str) -> Reply:
        """A message in another language: the notice in that language (English beneath, with 999 and the DSL);
        the safeguarding reply as well when it may be about a child at risk."""
        notice = fill(self.classifier.rules.languages.notice(code), self.texts.placeholders)
        lines = [notice] if notice else []
        lines.append(self.text("language_notice"))
        at_risk = self.classifier.rules.risk_in(message)
        if at_risk:
            lines.append(self.text("safeguarding"))
        intent = "safeguarding" if at_risk else "out_of_scope"
        return Reply(message, role, intent, False, 0.0, None, (), "\n\n".join(lines), safeguarding=at_risk, language=code)

    def _too_long(self, message: str, role: str) -> Reply:
        # Even an over-long message is checked for a child at risk before anything else.
        if self.classifier.rules.risk_in(message):
            return self._simple(message, role, "safeguarding", self.text("safeguarding"), safeguarding=True)
        return self._simple(message, role, "question", self.text("too_long", max_chars=MAX_CHARS))

    def _reply(self, text: str, role: str, vector: np.ndarray, search: Search, office: OfficeMatch | None = None) -> Reply:
        intent: IntentResult = self.classifier.classify(text, vector, question_fit=search.question_similarity)
        if intent.intent == "safeguarding":
            body = self.text("safeguarding")
            if search.answered and QUESTION_FORM.search(text):
                # Safeguarding first; the question the message also asks is still answered beneath.
                answer = compose_answer(search, self.engine.pack.clause, self.responses)
                body = f"{body}\n\n{self.text('also_your_question')}\n{render_plain(answer, self.responses)}"
            return self._simple(text, role, "safeguarding", body, search, True, intent.scores)
        if intent.intent in ("greeting", "thanks", "help", "report_breach", "complaint"):
            return self._simple(text, role, intent.intent, self.text(intent.intent), search, False, intent.scores)
        if not search.answered and office is not None:
            # The office answered this very question before (it reached them as a question the policy did not
            # answer); a rewording the classifier now deems outside the policy is still that question.
            return self._office_reply(text, role, search, office, intent)
        if intent.intent == "out_of_scope" and (not search.answered or self._known_questions(search)):
            return self._simple(text, role, "out_of_scope", self.text("out_of_scope"), search, False, intent.scores)
        ungoverned = self._not_governed(search, role)
        if not search.answered or search.learned_elsewhere >= LEARNED_CONFLICT or ungoverned:
            lines = [self.text("not_sure")]
            reason = ungoverned or self._hedge_reason(search)
            if reason:
                lines.append(reason)
            if search.matches:
                lines.append(self.text("did_you_mean"))
                lines += [f"• {suggestion_line(m.clause)}" for m in search.matches]
            lines.append(self.text("office_will_answer"))
            if intent.safeguarding_risk:
                lines.append(self._contacts(intent))
            return Reply(text, role, "question", False, search.confidence, None, search.matches, "\n".join(lines),
                         safeguarding=intent.safeguarding_risk, suggestions=search.matches, scores=intent.scores,
                         contacts=self._contacts(intent))
        if search.long and search.vague:
            answer = compose_bearing(search, self.responses)
        else:
            answer = compose_answer(search, self.engine.pack.clause, self.responses)
        contacts = self._contacts(intent)
        body = "\n".join(filter(None, (render_plain(answer, self.responses), contacts)))
        return Reply(text, role, "question", True, search.confidence, answer.verdict_line, search.matches, body,
                     answer=answer, safeguarding=intent.safeguarding_risk, scores=intent.scores,
                     verdict_kind=answer.verdict_kind, answer_word=answer.answer_word, contacts=contacts)

    def _contacts(self, intent: IntentResult) -> str:
        """The safeguarding contacts, when the message may be about a child at risk (shown beneath the answer)."""
        return self.text("safeguarding_contacts") if intent.safeguarding_risk else ""

    def _not_governed(self, search: Search, role: str) -> str:
        """Why the best clause cannot answer this person, when it governs someone else: the message is about
        someone outside the school (a club coach, a private tutor, another school), or a parent asks about their
        own conduct and the closest rule is written for staff. Empty when the clause governs them."""
        if not search.matches:
            return ""
        subject = search.subject
        if subject.actor == "outsider":
            return self.text("hedge.outsider")
        clause = search.matches[0].clause
        lexicon = self.engine.lexicon
        mine = role == "parent" and subject.actor == "parent" and bool(lexicon.first_person.search(search.question))
        # Not when staff are part of it ("can I add my daughter's teacher?", "I'm a parent governor…"): then the
        # staff rule is the answer.
        if mine and clause.audience == "staff" and "staff" not in lexicon.kinds_in(search.question):
            return self.text("hedge.staff_rule")
        return ""

    def _hedge_reason(self, search: Search) -> str:
        """Why the bot is unsure, in a few words, from how its best candidates differ."""
        if search.learned_elsewhere >= LEARNED_CONFLICT:
            return self.text("hedge.office_differs")
        if len(search.matches) < 2:
            return self.text("hedge.unclear")
        first, second = (self.engine.subject_of(m.clause.id) for m in search.matches[:2])
        if {first.channel, second.channel} == {"personal", "official"}:
            return self.text("hedge.channel")
        if first.actor and second.actor and first.actor != second.actor and {first.actor, second.actor} <= {"staff", "parent", "school"}:
            return self.text("hedge.actor")
        if first.target and second.target and first.target != second.target and "none" not in (first.target, second.target):
            return self.text("hedge.target")
        if search.long:
            return self.text("hedge.long")
        return self.text("hedge.unclear")

    def _known_questions(self, search: Search) -> bool:
        """The classifier's "outside the policy" outweighs a confident match only when the matched clause has
        questions people ask (a curated pack): its judgement compares the message with those questions, and a
        clause known only by its wording gives it little to go on ("what's for lunch" vs. a school-hours rule)."""
        return bool(search.matches) and self.engine.has_questions_for(search.matches[0].clause.id)

    def _office_reply(self, text: str, role: str, search: Search, office: OfficeMatch, intent: IntentResult) -> Reply:
        """The office's earlier answer to the same question, labelled as the office's and dated."""
        entry = office.entry
        shown = OfficeReply(
            heading=self.text("office_answer.heading", date=entry.answered_on),
            text=entry.answer.strip(),
            note=self.text("office_answer.note"),
            match=office,
        )
        contacts = self._contacts(intent)
        lines = [shown.heading, shown.text, shown.note, contacts]
        return Reply(text, role, "question", True, search.confidence, None, (), "\n".join(filter(None, lines)),
                     safeguarding=intent.safeguarding_risk, scores=intent.scores, office=shown, contacts=contacts)
