"""Bar charts as server-rendered SVG (no JavaScript): data in, markup out; the template escapes nothing here
because every string is escaped on the way in."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

ROW, LABEL_WIDTH, BAR_WIDTH = 26, 90, 260


def bar_chart(bars: list[tuple[str, int]], title: str) -> Markup:
    """Horizontal bars, one per (label, count), with the count written beside each (readable without colour)."""
    if not bars:
        bars = [("—", 0)]
    top = max(n for _, n in bars) or 1
    height = ROW * len(bars) + 8
    width = LABEL_WIDTH + BAR_WIDTH + 50
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" class="chart" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}"><title>{escape(title)}</title>'
    ]
    for i, (label, n) in enumerate(bars):
        y = 4 + i * ROW
        length = round(BAR_WIDTH * n / top)
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 16}" text-anchor="end">{escape(str(label))}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{max(length, 1)}" height="{ROW - 8}" class="bar"></rect>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 16}">{int(n)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
