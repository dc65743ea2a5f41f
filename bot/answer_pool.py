"""Model inference for a busy bot: one inference thread answers questions in batches.

Encoding 32 questions at once costs a fraction per question of encoding them one by one, so when many
people ask at the same moment their questions are answered together (`Advisor.respond_many`, grouped by
role). Callers on any thread call `respond()` and block only their own worker thread, never the event loop.
A message that the safeguarding rules flag does not queue at all: it is answered at once, in its caller's
thread, taking the model before the running batch's next chunk (knowledge/encoder.py `first_in_line`). A message that might be about a child at risk (the wider
triage in intents/triage.py: concern rules, words of harm, nearest examples) goes to the front of the queue,
so the next batch starts with it.
Everything else the advisor protocol asks for (`bot.services.Answerer`: engine, classifier, office answers,
what the office teaches) is the wrapped advisor's, unchanged.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import queue
import threading
from concurrent.futures import Future

from intents.advisor import Advisor, Reply
from intents.triage import UrgencyTriage
from knowledge.office_answers import OfficeAnswer

log = logging.getLogger(__name__)

_STOP = object()
URGENT, ORDINARY, LAST = 0, 1, 2  # queue priorities; the stop signal comes after everything waiting


class BatchedAdvisor:
    """Wraps an `intents.advisor.Advisor` (a `bot.services.Answerer` itself): `respond` is batched."""

    def __init__(self, advisor: Advisor, max_batch: int = 32, idle_seconds: float = 30.0, triage: UrgencyTriage | None = None):
        self._advisor = advisor
        self.engine = advisor.engine
        self.classifier = advisor.classifier
        self.office_answers = advisor.office_answers
        self._triage = triage or UrgencyTriage.for_classifier(advisor.classifier)  # which lane a message takes
        self._max_batch = max_batch
        self._idle_seconds = idle_seconds  # the inference thread stops when idle, and starts again on demand
        # (priority, arrival, text, role, future): urgent first, then first come first served
        self._waiting: queue.PriorityQueue = queue.PriorityQueue()
        self._arrivals = itertools.count()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # guards _thread, so nothing is queued for a thread that is leaving
        self.batches_run = 0  # how many respond_many calls, for the load benchmark's curiosity

    @property
    def pack(self):
        return self._advisor.pack

    def respond_many(self, messages: list[str], role: str = "staff") -> list[Reply]:
        """Several messages at once, in the calling thread (already one batch)."""
        return self._advisor.respond_many(messages, role)

    def learn_question(self, clause_id: str, question: str) -> bool:
        return self._advisor.learn_question(clause_id, question)

    def learn_office_answer(self, answer: OfficeAnswer) -> None:
        self._advisor.learn_office_answer(answer)

    def forget_office_answer(self, answer_id: int) -> bool:
        return self._advisor.forget_office_answer(answer_id)

    def follow_office_answers(self, answers: list[OfficeAnswer]) -> int:
        return self._advisor.follow_office_answers(answers)

    def respond(self, message: str, role: str = "staff") -> Reply:
        """The advisor's reply to one message; blocks the calling (worker) thread until it is ready."""
        if self._triage.definite(message):
            with self._first_in_line():
                return self._advisor.respond(message, role)
        future: Future = Future()
        priority = URGENT if self._triage.possible(message) else ORDINARY
        with self._lock:
            self._waiting.put((priority, next(self._arrivals), message, role, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="answer-batches", daemon=True)
                self._thread.start()
        return future.result()

    def _first_in_line(self):
        """The model before the running batch's next chunk (an engine without our encoder: no change)."""
        encoder = getattr(self.engine, "encoder", None)
        return encoder.first_in_line() if hasattr(encoder, "first_in_line") else contextlib.nullcontext()

    def close(self) -> None:
        """Answer what is waiting, then stop the inference thread."""
        with self._lock:
            thread = self._thread
            if thread is not None:
                self._waiting.put((LAST, next(self._arrivals), _STOP, None, None))
        if thread is not None:
            thread.join(timeout=60)

    # -------------------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                batch = [self._waiting.get(timeout=self._idle_seconds)]
            except queue.Empty:
                with self._lock:
                    if self._waiting.empty():
                        self._thread = None
                        return
                continue
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            batch = [item[2:] for item in batch]  # (text, role, future)
            stop = any(item[0] is _STOP for item in batch)
            self._answer([item for item in batch if item[0] is not _STOP])
            if stop:
                with self._lock:
                    leftovers = []
                    while not self._waiting.empty():
                        leftovers.append(self._waiting.get_nowait()[2:])
                    self._thread = None
                self._answer([item for item in leftovers if item[0] is not _STOP])
                return

    def _answer(self, batch: list[tuple]) -> None:
        by_role: dict[str, list[tuple]] = {}
        for item in batch:
            by_role.setdefault(item[1], []).append(item)
        for role, items in by_role.items():
            try:
                replies = self._advisor.respond_many([item[0] for item in items], role)
                self.batches_run += 1
            except Exception:  # one bad message must not fail the others in its batch
                log.exception("answering a batch of %d failed; answering one by one", len(items))
                for item in items:
                    try:
                        item[2].set_result(self._advisor.respond(item[0], role))
                    except Exception as exc:
                        item[2].set_exception(exc)
                continue
            for item, reply in zip(items, replies):
                item[2].set_result(reply)
