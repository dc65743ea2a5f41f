"""What each web session has seen, kept in memory between a form's POST and the page's GET (POST-redirect-GET).

The dialogue's state (flows, role) is in the database and survives a restart; the transcript is only what the
page shows, so it lives in this process, capped per session and in number of sessions, and goes with a restart.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque

from bot.web.view import Entry

MAX_ENTRIES = 60  # per session: the page shows the latest
MAX_SESSIONS = 5000  # the least recently used are forgotten first


class Transcripts:
    def __init__(self, max_entries: int = MAX_ENTRIES, max_sessions: int = MAX_SESSIONS):
        self.max_entries = max_entries
        self.max_sessions = max_sessions
        self._by_session: OrderedDict[str, deque[Entry]] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, session_id: str, entries: list[Entry]) -> None:
        with self._lock:
            kept = self._by_session.pop(session_id, None) or deque(maxlen=self.max_entries)
            kept.extend(entries)
            self._by_session[session_id] = kept
            while len(self._by_session) > self.max_sessions:
                self._by_session.popitem(last=False)

    def entries(self, session_id: str) -> list[Entry]:
        with self._lock:
            return list(self._by_session.get(session_id, ()))

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._by_session.pop(session_id, None)
