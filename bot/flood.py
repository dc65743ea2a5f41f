"""The per-person rate limit (Telegram and the web chat): at most RATE_LIMIT_PER_MINUTE messages (and as many button presses) a minute.

Over the limit, a message is not answered; the person is told to slow down once per window, not once per
message (a flood of "slow down" replies would itself hold up that chat's outgoing queue, and a safeguarding
reply behind it). What might be about a child at risk is never held back: the caller checks that first.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from enum import Enum

WINDOW_SECONDS = 60.0
PRUNE_ABOVE = 20_000  # keys remembered before those idle for a whole window are let go (web sessions come and go)


class Verdict(Enum):
    ALLOWED = "allowed"
    WARN = "warn"  # over the limit: tell them to slow down (once per window)
    QUIET = "quiet"  # over the limit, and already told


class FloodGate:
    """A sliding window of what each key (a person's messages, or their button presses) was allowed."""

    def __init__(self, per_minute: int, window: float = WINDOW_SECONDS):
        self.per_minute = per_minute
        self.window = window
        self.seen: dict[str, deque] = defaultdict(deque)
        self.warned: dict[str, float] = {}

    def check(self, key: str, now: float | None = None) -> Verdict:
        now = time.monotonic() if now is None else now
        if len(self.seen) > PRUNE_ABOVE:
            self.prune(now)
        seen = self.seen[key]
        while seen and now - seen[0] > self.window:
            seen.popleft()
        if len(seen) < self.per_minute:
            seen.append(now)
            return Verdict.ALLOWED
        if now - self.warned.get(key, -self.window - 1) > self.window:
            self.warned[key] = now
            return Verdict.WARN
        return Verdict.QUIET

    def prune(self, now: float) -> None:
        """Forget the keys with nothing in the window (and no recent warning): they are as good as new."""
        for key in [k for k, seen in self.seen.items() if not seen or now - seen[-1] > self.window]:
            del self.seen[key]
            if now - self.warned.get(key, -self.window - 1) > self.window:
                self.warned.pop(key, None)

    def allow(self, key: str, now: float | None = None) -> bool:
        return self.check(key, now) is Verdict.ALLOWED
