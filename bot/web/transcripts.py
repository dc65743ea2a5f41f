"""What each web session has seen, kept in memory between a form's POST and the page's GET (POST-redirect-GET).

The dialogue's state (flows, role) is in the database and survives a restart; the transcript is only what the
page shows, so it lives in this process, capped per session and in number of sessions, and goes with a restart.
Each entry is numbered in its session, so the page's script can ask for only what is new.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import replace

from bot.web.view import Entry

MAX_ENTRIES = 60  # per session: the page shows the latest
MAX_SESSIONS = 5000  # the least recently used are forgotten first


class Transcripts:
    def __init__(self, max_entries: int = MAX_ENTRIES, max_sessions: int = MAX_SESSIONS):
        self.max_entries = max_entries
        self.max_sessions = max_sessions
        self._by_session: OrderedDict[str, deque[Entry]] = OrderedDict()
        self._counted: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, session_id: str, entries: list[Entry]) -> None:
        with self._lock:
            kept = self._by_session.pop(session_id, None) or deque(maxlen=self.max_entries)
            count = self._counted.get(session_id, 0)
            for item in entries:
                count += 1
                kept.append(replace(item, number=count))
            self._counted[session_id] = count
            self._by_session[session_id] = kept
            while len(self._by_session) > self.max_sessions:
                gone, _ = self._by_session.popitem(last=False)
                self._counted.pop(gone, None)

    def entries(self, session_id: str, after: int = 0) -> list[Entry]:
        """The session's entries, oldest first; only those numbered above `after`, if given."""
        with self._lock:
            return [e for e in self._by_session.get(session_id, ()) if e.number > after]

    def last_number(self, session_id: str) -> int:
        """The number of the session's newest entry (0 before any)."""
        with self._lock:
            return self._counted.get(session_id, 0)

    def latest_buttons(self, session_id: str) -> dict[str, str]:
        """The buttons of the newest replies, by their data (what the page offered last): their labels."""
        with self._lock:
            labels: dict[str, str] = {}
            for item in reversed(self._by_session.get(session_id, ())):
                for row in item.buttons:
                    for label, data in row:
                        labels.setdefault(data, label)
            return labels

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._by_session.pop(session_id, None)
