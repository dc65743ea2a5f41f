"""Updates written down before Telegram is told they arrived, so a killed process loses none.

Polling tells Telegram a batch arrived with the next `getUpdates` offset, and PTB asks for it as soon as the
batch is in the update queue, long before the updates are handled; a webhook is answered once its update is
in the queue. So a batch from `getUpdates` is journalled as it arrives, in one transaction, by the request
object PTB fetches it with (`JournallingRequest`), before PTB can ask for the next; and an update that reaches
the queue any other way (the webhook) is journalled by `JournallingQueue.put` before the queue takes it, so
before the webhook is answered. Each update is marked done when its handlers have finished (the body is
blanked then: message text is not kept). After a restart, what was journalled and not done is handled again;
an update Telegram delivers twice is taken once.
A dialogue turn is recorded with its update id as well (`processed_updates`), so a turn that was committed
just before the kill is not taken twice either.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

from telegram import Update
from telegram.request import HTTPXRequest

from bot.store import Store, stamp, utc_now

log = logging.getLogger(__name__)

TABLE = "update_journal"
REPLAY_WITHIN = timedelta(hours=6)  # after a restart, what arrived this long ago or less is handled


class UpdateJournal:
    """The `update_journal` table: one row per update received, with its body until it is done."""

    def __init__(self, store: Store):
        self.store = store

    def record(self, update_id: int, body: dict) -> bool:
        """Write an update down; False if it was already there (delivered again)."""
        with self.store.transaction() as db:
            before = db.execute(f"SELECT count(*) FROM {TABLE} WHERE update_id = ?", [update_id]).fetchone()[0]
            if before:
                return False
            db[TABLE].insert({"update_id": update_id, "body": json.dumps(body), "received": stamp(), "done": ""})
        return True

    def record_batch(self, bodies: list[dict]) -> list[int]:
        """Write a batch down in one transaction; returns the ids that were new (not delivered before)."""
        fresh = []
        with self.store.transaction() as db:
            for body in bodies:
                inserted = db.execute(
                    f"INSERT OR IGNORE INTO {TABLE} (update_id, body, received, done) VALUES (?, ?, ?, '')",
                    [int(body["update_id"]), json.dumps(body), stamp()],
                ).rowcount
                if inserted:
                    fresh.append(int(body["update_id"]))
        return fresh

    def done(self, update_ids: list[int]) -> None:
        with self.store.transaction() as db:
            db.conn.executemany(f"UPDATE {TABLE} SET body = '', done = ? WHERE update_id = ?", [(stamp(), i) for i in update_ids])

    def pending(self, within: timedelta = REPLAY_WITHIN) -> list[dict]:
        """The bodies of updates journalled but not done, oldest first. One older than `within` is given up
        (marked done unhandled): an update that killed the process every time must not do so for ever."""
        with self.store.transaction() as db:
            cutoff = stamp(utc_now() - within)
            stale = db.execute(f"UPDATE {TABLE} SET body = '', done = ? WHERE done = '' AND received < ?", [stamp(), cutoff])
            if stale.rowcount:
                log.warning("%d update(s) older than %s given up", stale.rowcount, within)
            rows = db.execute(f"SELECT body FROM {TABLE} WHERE done = '' ORDER BY update_id").fetchall()
        return [json.loads(body) for (body,) in rows]

    def forget_done(self, older_than: timedelta = timedelta(days=7)) -> int:
        """Done rows are kept a while (to recognise an update delivered again), then deleted."""
        with self.store.transaction() as db:
            return db.execute(f"DELETE FROM {TABLE} WHERE done != '' AND done < ?", [stamp(utc_now() - older_than)]).rowcount


class JournallingQueue(asyncio.Queue):
    """The Application's update queue: an update is journalled before it is queued (see the module docstring)."""

    def __init__(self, journal: UpdateJournal):
        super().__init__()
        self.journal = journal
        self.journalled: set[int] = set()  # fetched and journalled by JournallingRequest, not yet queued
        self._done: list[int] = []
        self._marking: asyncio.Task | None = None

    def take_batch(self, bodies: list[dict]) -> None:
        """A batch from getUpdates, journalled at once (called in a worker thread)."""
        self.journalled.update(self.journal.record_batch(bodies))

    async def put(self, item) -> None:
        if isinstance(item, Update):
            if item.update_id in self.journalled:
                self.journalled.discard(item.update_id)
            elif not await asyncio.to_thread(self.journal.record, item.update_id, item.to_dict()):
                log.info("update %s delivered again: already taken", item.update_id)
                return
        await super().put(item)

    def mark_done(self, update_id: int) -> None:
        """Handled: noted in the journal soon after, several at once (the handlers' work is already stored)."""
        self._done.append(update_id)
        if self._marking is None or self._marking.done():
            self._marking = asyncio.get_running_loop().create_task(self._mark())

    async def _mark(self) -> None:
        while self._done:
            ids, self._done = self._done, []
            await asyncio.to_thread(self.journal.done, ids)

    async def replay(self, bot) -> int:
        """Queue again what was journalled and not done (a restart after a kill); returns how many."""
        bodies = await asyncio.to_thread(self.journal.pending)
        for body in bodies:
            await super().put(Update.de_json(body, bot))
        if bodies:
            log.info("%d update(s) received before a restart are handled now", len(bodies))
        return len(bodies)


class JournallingRequest(HTTPXRequest):
    """The request object PTB fetches updates with: a batch from getUpdates is journalled as it arrives."""

    def __init__(self, queue: JournallingQueue, **options):
        super().__init__(**options)
        self.queue = queue

    async def do_request(self, url: str, method: str, *args, **kwargs) -> tuple[int, bytes]:
        code, payload = await super().do_request(url, method, *args, **kwargs)
        if code == 200 and url.endswith("/getUpdates"):
            try:
                bodies = json.loads(payload).get("result") or []
            except (ValueError, AttributeError):
                bodies = []
            if bodies:
                await asyncio.to_thread(self.queue.take_batch, bodies)
        return code, payload
