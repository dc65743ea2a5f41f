"""The update journal on its own: written before Telegram is told, taken once, blanked when done."""

from datetime import timedelta

from bot.store import Store
from bot.telegram.journal import UpdateJournal


def body(update_id: int, text: str = "hello") -> dict:
    return {"update_id": update_id, "message": {"message_id": update_id, "date": 0, "chat": {"id": 5, "type": "private"},
                                                "from": {"id": 5, "is_bot": False, "first_name": "A"}, "text": text}}


def test_updates_are_taken_once_replayed_until_done_and_keep_no_text_after(tmp_path):
    storage = Store(tmp_path / "policybot.db")
    try:
        journal = UpdateJournal(storage)
        assert journal.record_batch([body(1), body(2, "a pupil is at risk")]) == [1, 2]
        assert journal.record_batch([body(2), body(3)]) == [3]  # 2 delivered again: not taken twice
        assert journal.record(4, body(4)) and not journal.record(4, body(4))
        journal.done([1, 3])
        assert [b["update_id"] for b in journal.pending()] == [2, 4]  # what a restart handles
        journal.done([2, 4])
        assert journal.pending() == []
        with storage.transaction() as db:
            assert db.execute("SELECT count(*) FROM update_journal WHERE body != ''").fetchone()[0] == 0
        # An update that never finishes is given up after a while rather than replayed for ever.
        journal.record(5, body(5))
        assert journal.pending(within=timedelta(seconds=-1)) == [] and journal.pending() == []
        assert journal.forget_done(older_than=timedelta(seconds=-1)) == 5
    finally:
        storage.close()
