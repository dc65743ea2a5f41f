"""What a running bot does on a timer, whatever its channels: delete what is past its retention period, and
learn what the office taught in another process (`policybot office answer`/`unlearn`, the desk of another
process). The Telegram bot runs these from its JobQueue; a web-only process from `run_upkeep` in its lifespan.

  purge_expired(store, settings)       rows deleted, by table (RETENTION_DAYS, REPORT_RETENTION_DAYS, signatures)
  Learning(store, advisor).catch_up()  the office's answers and taught questions, as the database holds them now
  run_upkeep(store, advisor, settings) the web-only loop: learn every few seconds, purge daily
"""

from __future__ import annotations

import asyncio
import logging

from bot.office import load_office_answers

log = logging.getLogger(__name__)

RELEARN_SECONDS = 10.0
PURGE_SECONDS = 24 * 3600.0
FIRST_PURGE_SECONDS = 60.0


def purge_expired(store, settings) -> dict[str, int]:
    """Delete personal data past its retention period; how many rows went from each table."""
    counts = dict(store.privacy.purge(settings.retention_days, settings.report_retention_days))
    for table, n in store.signatures.purge(settings.signature_retention_days, settings.retention_days).items():
        counts[table] = counts.get(table, 0) + n
    return counts


class Learning:
    """Remembers how far it has learned the questions the office answered with a section (they only grow)."""

    def __init__(self, store, advisor):
        self.store = store
        self.advisor = advisor
        self.known = 0

    def catch_up(self) -> None:
        pairs = self.store.answers.taught_questions()
        if len(pairs) > self.known:
            self.advisor.engine.add_alternates(pairs[self.known:])
            self.known = len(pairs)
        load_office_answers(self.advisor, self.store)


async def run_upkeep(store, advisor, settings, relearn_seconds: float = RELEARN_SECONDS,
                     purge_seconds: float = PURGE_SECONDS, first_purge: float = FIRST_PURGE_SECONDS) -> None:
    """Until cancelled: learn what the office taught elsewhere, and purge once a day (first soon after start)."""
    learning = Learning(store, advisor)
    loop = asyncio.get_running_loop()
    next_purge = loop.time() + first_purge
    while True:
        try:
            await asyncio.to_thread(learning.catch_up)
            if loop.time() >= next_purge:
                counts = await asyncio.to_thread(purge_expired, store, settings)
                log.info("retention: deleted %s rows", sum(counts.values()))
                next_purge = loop.time() + purge_seconds
        except Exception:  # upkeep tries again on its next round; the chat goes on
            log.exception("upkeep failed")
        await asyncio.sleep(relearn_seconds)
