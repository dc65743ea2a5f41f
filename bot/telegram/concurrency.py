"""Process updates from different people at the same time, and each person's updates in order.

PTB's default is one update at a time, so one slow answer would hold up everyone; its plain concurrent
mode would let one person's two messages race through the same conversation. Here each person (each
chat when there is no user) has a queue of one: their next update waits for the previous one, while
other people's updates go ahead, up to a limit on how many are worked on at once. The per-person wait
comes before the shared limit, so a flood from one person never occupies the slots others need.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# PTB's own semaphore is taken before `do_process_update`; it is set this high so that only ours (taken
# after the per-person lock) limits concurrency.
_UNBOUNDED = 1_000_000


def sender_key(update: object) -> str:
    """Whose update this is: the user, else the chat; updates of unknown shape share one key."""
    if isinstance(update, Update):
        if update.effective_user is not None:
            return f"u{update.effective_user.id}"
        if update.effective_chat is not None:
            return f"c{update.effective_chat.id}"
    return "other"


class PerPersonUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across people, sequential per person, at most `max_working` updates in hand at once."""

    def __init__(self, max_working: int = 64):
        super().__init__(_UNBOUNDED)
        self.max_working = max_working
        self._working: asyncio.Semaphore | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._holders: dict[str, int] = {}

    async def initialize(self) -> None:
        self._working = asyncio.Semaphore(self.max_working)
        widen_worker_threads(asyncio.get_running_loop(), self.max_working)

    async def shutdown(self) -> None:
        self._locks.clear()
        self._holders.clear()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self._working is None:
            await self.initialize()
        key = sender_key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            # asyncio.Lock wakes waiters first come, first served, and PTB starts the tasks in the order
            # the updates arrived: so one person's updates run in their order.
            async with lock, self._working:
                await coroutine
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:  # forget idle people, or the dict grows with every user ever seen
                del self._holders[key]
                self._locks.pop(key, None)


_worker_pools: dict[int, object] = {}


def widen_worker_threads(loop: asyncio.AbstractEventLoop, workers: int) -> None:
    """Give the loop a default thread pool as wide as the updates worked on at once.

    Each turn runs in a worker thread (`asyncio.to_thread`) and may wait there for its batch of answers;
    with asyncio's default pool (a handful of threads on a small server) the batches would stay small and
    everyone else would queue behind them. Done once per loop.
    """
    from concurrent.futures import ThreadPoolExecutor

    if id(loop) in _worker_pools:
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="turn")
    loop.set_default_executor(pool)
    _worker_pools[id(loop)] = pool
