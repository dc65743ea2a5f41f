"""Process updates from different people at the same time, and each person's updates in order.

PTB's default is one update at a time, so one slow answer would hold up everyone; its plain concurrent
mode would let one person's two messages race through the same conversation. Here each person (each
chat when there is no user) has a queue of one: their next update waits for the previous one, while
other people's updates go ahead.

Questions for the model are limited to so many at once (they wait for answer batches in worker threads);
everything else — commands, button presses, photos, and any message the safeguarding rules flag — takes
a fast lane past that limit, so a burst of questions never holds up /start or a child at risk. A message
that only might be about a child at risk (the wider triage: intents/triage.py) has a lane of its own, with
its own smaller limit, so it never waits behind the questions and can never crowd out the fast lane.
The per-person wait comes before the limits, so a flood from one person never occupies the slots others need.
A message the safeguarding rules flag does not wait even for that: it goes past the person's own queue, so
a child at risk is answered within seconds however many messages the same person sent before it (their
turns stay consistent: each turn reads and writes the conversation in one transaction).
When an update's handlers have finished, `on_done(update)` is called (the update journal marks it done).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import BaseUpdateProcessor

# PTB's own semaphore is taken before `do_process_update`; it is set this high so that only ours (taken
# after the per-person lock) limits concurrency.
_UNBOUNDED = 1_000_000
# Worker threads beyond the questions' limit, for the fast lane and for the possibly-urgent lane's limit.
FAST_LANE_THREADS = 32
POSSIBLY_URGENT_AT_ONCE = 16


def sender_key(update: object) -> str:
    """Whose update this is: the user, else the chat; updates of unknown shape share one key."""
    if isinstance(update, Update):
        if update.effective_user is not None:
            return f"u{update.effective_user.id}"
        if update.effective_chat is not None:
            return f"c{update.effective_chat.id}"
    return "other"


def question_text(update: object) -> str | None:
    """The words of a private message (its text, or a photo's or a file's caption) that will go to the model;
    None for anything else."""
    message = update.message if isinstance(update, Update) else None
    words = (message.text or message.caption) if message is not None else None
    if not words or message.chat.type != ChatType.PRIVATE or words.startswith("/"):
        return None
    return words


class PerPersonUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across people, sequential per person, at most `max_questions` questions in hand at once."""

    def __init__(
        self,
        max_questions: int = 64,
        is_urgent: Callable[[str], bool] | None = None,
        might_be_urgent: Callable[[str], bool] | None = None,
        on_done: Callable[[object], Awaitable[None]] | None = None,
    ):
        super().__init__(_UNBOUNDED)
        self.max_questions = max_questions
        # Both set by the app from intents.triage: the safeguarding rules, and the wider generous net.
        self.is_urgent = is_urgent or (lambda text: False)
        self.might_be_urgent = might_be_urgent or (lambda text: False)
        self.on_done = on_done
        self._questions: asyncio.Semaphore | None = None
        self._possibly_urgent: asyncio.Semaphore | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._holders: dict[str, int] = {}
        self._urgent: dict[str, int] = {}  # urgent updates in hand, per person
        self._urgent_over: dict[str, asyncio.Event] = {}  # set when a person's urgent updates are done

    async def initialize(self) -> None:
        self._questions = asyncio.Semaphore(self.max_questions)
        self._possibly_urgent = asyncio.Semaphore(POSSIBLY_URGENT_AT_ONCE)
        widen_worker_threads(asyncio.get_running_loop(), self.max_questions + POSSIBLY_URGENT_AT_ONCE + FAST_LANE_THREADS)

    async def shutdown(self) -> None:
        self._locks.clear()
        self._holders.clear()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self._questions is None:
            await self.initialize()
        try:
            text = question_text(update)
            if text is not None and self.is_urgent(text):
                await self._urgent_turn(sender_key(update), coroutine)
            else:
                await self._in_turn(update, text, coroutine)
        finally:
            if self.on_done is not None:
                await self.on_done(update)

    async def _urgent_turn(self, key: str, coroutine: Awaitable[Any]) -> None:
        """Past the person's own queue and every limit; their later updates wait for it (see `_in_turn`)."""
        self._urgent[key] = self._urgent.get(key, 0) + 1
        self._urgent_over.setdefault(key, asyncio.Event()).clear()
        try:
            await coroutine
        finally:
            self._urgent[key] -= 1
            if not self._urgent[key]:
                del self._urgent[key]
                self._urgent_over.pop(key).set()

    async def _in_turn(self, update: object, text: str | None, coroutine: Awaitable[Any]) -> None:
        key = sender_key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            # asyncio.Lock wakes waiters first come, first served, and PTB starts the tasks in the order
            # the updates arrived: so one person's updates run in their order.
            async with lock:
                if key in self._urgent_over:  # an urgent message that arrived before this one is still in hand
                    await self._urgent_over[key].wait()
                if text is None:
                    await coroutine
                elif self.might_be_urgent(text):
                    async with self._possibly_urgent:
                        await coroutine
                else:
                    async with self._questions:
                        await coroutine
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:  # forget idle people, or the dict grows with every user ever seen
                del self._holders[key]
                self._locks.pop(key, None)


_widened_loops: weakref.WeakSet = weakref.WeakSet()


def widen_worker_threads(loop: asyncio.AbstractEventLoop, workers: int) -> None:
    """Give the loop a default thread pool as wide as the updates worked on at once.

    Each turn runs in a worker thread (`asyncio.to_thread`) and may wait there for its batch of answers;
    with asyncio's default pool (a handful of threads on a small server) the batches would stay small and
    everyone else would queue behind them. Done once per loop.
    """
    if loop in _widened_loops:
        return
    loop.set_default_executor(ThreadPoolExecutor(max_workers=workers, thread_name_prefix="turn"))
    _widened_loops.add(loop)
