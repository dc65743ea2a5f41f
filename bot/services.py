"""What the channel-free services ask of the answering side, as protocols.

`Answerer` is what a dialogue turn asks questions of (`intents.advisor.Advisor`, or `BatchedAdvisor` in a busy
bot); `Learner` is what the office teaches when it answers (the same advisor; none in `policybot office`,
whose answers the running bot picks up from the database).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: `policybot office` imports this without loading the engine's modules
    from intents.advisor import Reply
    from intents.classify import IntentClassifier
    from knowledge.engine import PolicyEngine
    from knowledge.office_answers import OfficeAnswer, OfficeAnswers
    from knowledge.pack import Pack


class Learner(Protocol):
    def learn_question(self, clause_id: str, question: str) -> bool:
        """A question answered with a clause: asked again, it finds that clause."""

    def learn_office_answer(self, answer: OfficeAnswer) -> None:
        """An answer in the office's words, given from now on to the same question."""

    def forget_office_answer(self, answer_id: int) -> bool:
        """Stop giving one of the office's answers."""

    def follow_office_answers(self, answers: list[OfficeAnswer]) -> int:
        """Give exactly these office answers (the database's); returns how many changed."""


class Answerer(Learner, Protocol):
    engine: PolicyEngine
    classifier: IntentClassifier
    office_answers: OfficeAnswers

    @property
    def pack(self) -> Pack: ...

    def respond(self, message: str, role: str = "staff") -> Reply: ...

    def respond_many(self, messages: list[str], role: str = "staff") -> list[Reply]: ...
