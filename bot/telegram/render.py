"""Replies as Telegram HTML: answers with the verdict line, section and heading, the quote in a blockquote and
related sections; the office's own answers with who answered and when, their words in a blockquote; everything
else as escaped text. Every message stays within Telegram's 4096 characters,
split at line breaks (never inside a tag), with the buttons on the last part.
"""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.dialogue import Outgoing, layout
from intents.flows import Button

TELEGRAM_LIMIT = 4096
# A little room under the limit: entity parsing and the closing tag of a split block.
CHUNK_LIMIT = 4000

Block = tuple[str, str]  # (tag or "", plain text); the tag wraps the escaped text


def keyboard(rows) -> InlineKeyboardMarkup | None:
    """Rows of Buttons, or of (label, action) pairs, as an inline keyboard."""
    built = []
    for row in rows or ():
        buttons = []
        for button in row:
            label, action = (button.label, button.action) if isinstance(button, Button) else (button[0], button[1])
            buttons.append(InlineKeyboardButton(str(label)[:64], callback_data=str(action)))
        if buttons:
            built.append(buttons)
    return InlineKeyboardMarkup(built) if built else None


# How each part of a reply's layout (bot.dialogue.layout) is marked up on Telegram; the rest is plain text.
TAGS = {layout.VERDICT: "b", layout.SECTION: "i", layout.QUOTE: "blockquote", layout.HEADING: "b", layout.ATTRIBUTION: "i", layout.TITLE: "b"}


def blocks_of(outgoing: Outgoing) -> list[Block]:
    """A reply as (tag, text) blocks, in the layout every channel shares."""
    return [(TAGS.get(part.style, ""), part.text) for part in layout.parts_of(outgoing)]


def size(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), an upper bound on the parsed text's length."""
    return len(text.encode("utf-16-le")) // 2


def _html(tag: str, text: str) -> str:
    body = escape(text, quote=False)
    return f"<{tag}>{body}</{tag}>" if tag else body


def _longest_prefix(line: str, limit: int) -> int:
    """How many characters of `line` fit in `limit` once escaped (binary search; at least one)."""
    low, high = 1, len(line)
    while low < high:
        middle = (low + high + 1) // 2
        if size(escape(line[:middle], quote=False)) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def _split_text(text: str, limit: int) -> list[str]:
    """Plain text in pieces of at most `limit` escaped characters, at line breaks, then spaces."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if size(escape(candidate, quote=False)) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = ""
        while size(escape(line, quote=False)) > limit:
            cut = _longest_prefix(line, limit)
            space = line.rfind(" ", 0, cut)
            cut = space if space > limit // 2 else cut
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ")
        current = line
    if current or not pieces:
        pieces.append(current)
    return pieces


def to_html_chunks(blocks: list[Block], limit: int = CHUNK_LIMIT) -> list[str]:
    """Pack blocks into messages of at most `limit` characters; a block too long for one is split."""
    parts: list[str] = []
    for tag, text in blocks:
        if not text.strip():
            continue
        room = limit - (len(tag) * 2 + 5 if tag else 0)
        for piece in _split_text(text.strip("\n"), room):
            parts.append(_html(tag, piece))
    chunks: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}\n{part}" if current else part
        if size(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = part
    if current:
        chunks.append(current)
    return chunks or [" "]


def render(outgoing: Outgoing) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """One reply as Telegram messages: (html, keyboard) pairs, the keyboard on the last."""
    chunks = to_html_chunks(blocks_of(outgoing))
    markup = keyboard(outgoing.buttons)
    return [(chunk, markup if i == len(chunks) - 1 else None) for i, chunk in enumerate(chunks)]


def render_plain_text(text: str, rows=None) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """Plain text (e.g. an office notice from the outbox) as escaped, split messages."""
    return render(Outgoing(text, tuple(tuple(Button(l, a) for l, a in row) for row in rows or ())))
