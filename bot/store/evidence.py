"""Screenshots sent through the web chat with a breach report: files beside the database, readable by the owner
only, named by a random token. A report keeps its evidence as a list of ids (Telegram's file ids, or
`web:<file name>` for these); the files go with the report (retention), and files no report or conversation
holds any more (a report cancelled half-way, a person who asked to be forgotten) are swept after a day.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path

WEB_PREFIX = "web:"
NAME = re.compile(r"[A-Za-z0-9_-]{20,64}\.(png|jpg|gif|webp)")
ORPHAN_SECONDS = 24 * 3600

# What an image's first bytes say it is (its name and its declared type are not believed).
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)


def image_type(head: bytes) -> str | None:
    """png | jpg | gif | webp from a file's first bytes, or None for anything else."""
    for magic, kind in SIGNATURES:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def web_ids(text: str) -> list[str]:
    """The web evidence ids written anywhere in `text` (a stored list, a conversation's JSON state)."""
    return [WEB_PREFIX + m.group(0) for m in NAME.finditer(text or "")]


class EvidenceFiles:
    """The folder of web evidence (mode 0700), its files 0600."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)

    def save(self, data: bytes, kind: str) -> str:
        """Store one image; returns its evidence id (`web:<token>.<kind>`)."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        name = f"{secrets.token_urlsafe(24)}.{kind}"
        fd = os.open(self.folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return WEB_PREFIX + name

    def path(self, evidence_id: str) -> Path | None:
        """The file of a web evidence id (None for a Telegram file id, or a name that is not ours)."""
        name = evidence_id.removeprefix(WEB_PREFIX) if evidence_id.startswith(WEB_PREFIX) else ""
        if not NAME.fullmatch(name):
            return None
        return self.folder / name

    def delete(self, evidence_ids) -> int:
        """Delete the files of these ids (Telegram's are skipped); returns how many went."""
        gone = 0
        for evidence_id in evidence_ids:
            path = self.path(str(evidence_id))
            if path is not None and path.exists():
                path.unlink()
                gone += 1
        return gone

    def sweep(self, held: set[str], older_than: float = ORPHAN_SECONDS, now: float | None = None) -> int:
        """Delete files no report or conversation holds (`held`: evidence ids) and older than `older_than` seconds."""
        if not self.folder.is_dir():
            return 0
        now = time.time() if now is None else now
        gone = 0
        for path in self.folder.iterdir():
            if WEB_PREFIX + path.name in held or now - path.stat().st_mtime < older_than:
                continue
            path.unlink()
            gone += 1
        return gone
