"""Updates written down before Telegram is told they arrived, so a killed process loses none.

Polling tells Telegram a batch arrived with the next `getUpdates` offset, and PTB asks for it as soon as the
batch is in the update queue, long before the updates are handled; a webhook is answered once its update is
in the queue. So the queue itself journals: `JournallingQueue.put` writes the update to SQLite (synchronous,
durable) before it takes it, which is before the next offset and before the webhook's answer. Each update is
marked done when its handlers have finished (the body is blanked then: message text is not kept). After a
restart, what was journalled and not done is handled again; an update Telegram delivers twice is taken once.
A dialogue turn is recorded with its update id as well (`processed_updates`), so a turn that was committed
just before the kill is not taken twice either.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

from telegram import Update

from bot.storage import Storage, stamp, utc_now

log = logging.getLogger(__name__)

TABLE = "update_journal"


class UpdateJournal:
    """The `update_journal` table: one row per update received, with its body until it is done."""

    def __init__(self, storage: Storage):
        self.storage = storage

    def record(self, update_id: int, body: dict) -> bool:
        """Write an update down; False if it was already there (delivered again)."""
        with self.storage.transaction() as db:
            before = db.execute(f"SELECT count(*) FROM {TABLE} WHERE update_id = ?", [update_id]).fetchone()[0]
            if before:
                return False
            db[TABLE].insert({"update_id": update_id, "body": json.dumps(body), "received": stamp(), "done": ""})
        return True

    def done(self, update_id: int) -> None:
        with self.storage.transaction() as db:
            db.execute(f"UPDATE {TABLE} SET body = '', done = ? WHERE update_id = ?", [stamp(), update_id])

    def pending(self) -> list[dict]:
        """The bodies of updates journalled but not done, oldest first."""
        with self.storage.transaction() as db:
            rows = db.execute(f"SELECT body FROM {TABLE} WHERE done = '' ORDER BY update_id").fetchall()
        return [json.loads(body) for (body,) in rows]

    def forget_done(self, older_than: timedelta = timedelta(days=7)) -> int:
        """Done rows are kept a while (to recognise an update delivered again), then deleted."""
        with self.storage.transaction() as db:
            return db.execute(f"DELETE FROM {TABLE} WHERE done != '' AND done < ?", [stamp(utc_now() - older_than)]).rowcount


class JournallingQueue(asyncio.Queue):
    """The Application's update queue: an update is journalled before it is queued (see the module docstring)."""

    journal: UpdateJournal | None = None

    async def put(self, item) -> None:
        if isinstance(item, Update) and self.journal is not None:
            fresh = await asyncio.to_thread(self.journal.record, item.update_id, item.to_dict())
            if not fresh:
                log.info("update %s delivered again: already taken", item.update_id)
                return
        await super().put(item)

    async def replay(self, bot) -> int:
        """Queue again what was journalled and not done (a restart after a kill); returns how many."""
        if self.journal is None:
            return 0
        bodies = await asyncio.to_thread(self.journal.pending)
        for body in bodies:
            await super().put(Update.de_json(body, bot))
        if bodies:
            log.info("%d update(s) received before a restart are handled now", len(bodies))
        return len(bodies)
