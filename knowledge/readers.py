"""Read a policy document (.txt, .md, .docx, .pdf) into plain text lines for the parser.

Text files are kept verbatim. Word documents become one line per paragraph (list paragraphs get
their number or a bullet, headings stand alone). PDFs lose what a printer adds: running headers
and footers, page numbers, and hyphens that only wrapped a word across two lines.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

READABLE = (".txt", ".md", ".markdown", ".text", ".docx", ".pdf")

PAGE_NUMBER = re.compile(
    r"^\s*(?:page\s*)?[-–—(]?\s*\d{1,4}\s*[-–—)]?\s*(?:(?:of|/)\s*\d{1,4})?\s*$", re.IGNORECASE
)
WRAPPED_HYPHEN = re.compile(r"([A-Za-z]{2,})-$")


class ReadError(Exception):
    """A document that cannot be read: names the file and why."""


@dataclass(frozen=True)
class DocumentText:
    """The text the parser reads, and what the reader left out on the way."""

    text: str
    kind: str  # "txt" | "md" | "docx" | "pdf"
    dropped: tuple[str, ...] = ()  # running headers, footers and page numbers removed
    pages: int = 0


def read_document(path: Path | str) -> DocumentText:
    """Read any supported document; unknown types and unreadable files raise `ReadError`."""
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".txt", ".text"):
            return DocumentText(_decode(path.read_bytes()), "txt")
        if suffix in (".md", ".markdown"):
            return DocumentText(markdown_to_text(_decode(path.read_bytes())), "md")
        if suffix == ".docx":
            return read_docx(path)
        if suffix == ".pdf":
            return read_pdf(path)
    except ReadError:
        raise
    except Exception as exc:  # a damaged file from a school should give one clear line, not a trace
        raise ReadError(f"{path.name}: could not read this {suffix} file ({type(exc).__name__}: {exc})") from exc
    raise ReadError(f"{path.name}: cannot read {suffix or 'files without an extension'}; use one of {', '.join(READABLE)}")


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


# -- Markdown ---------------------------------------------------------------------------------------
MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")


def markdown_to_text(text: str) -> str:
    """Headings lose their '#' and stand alone; '-'/'*' bullets become '•'; bold marks go."""
    out = []
    for line in text.replace("\r\n", "\n").split("\n"):
        m = MD_HEADING.match(line)
        if m:
            out.extend(["", MD_EMPHASIS.sub(r"\2", m.group(1)), ""])
            continue
        line = MD_EMPHASIS.sub(r"\2", line)
        line = re.sub(r"^(\s*)[-*+]\s+", r"\1• ", line)
        out.append(line)
    return "\n".join(out)


# -- Word -------------------------------------------------------------------------------------------
def read_docx(path: Path) -> DocumentText:
    import docx  # python-docx; imported here so reading text files never needs it
    from docx.oxml.ns import qn

    document = docx.Document(str(path))
    numbering = _Numbering(document)
    lines: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            lines.extend(_docx_paragraph(child, document, numbering))
        elif child.tag == qn("w:tbl"):
            for paragraph in child.iter(qn("w:p")):
                lines.extend(_docx_paragraph(paragraph, document, numbering))
    return DocumentText("\n".join(lines), "docx")


def _docx_paragraph(element, document, numbering: "_Numbering") -> list[str]:
    from docx.text.paragraph import Paragraph

    paragraph = Paragraph(element, document)
    text = paragraph.text.replace("\t", " ").replace("\u00a0", " ")
    if not text.strip():
        return [""]
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style.lower().startswith(("heading", "title")):
        return ["", text.strip(), ""]
    label = numbering.label(paragraph, style)
    if label:
        return [f"{label} {text.strip()}", ""]
    return [text, ""]


class _Numbering:
    """Word's automatic list numbers are not in the paragraph text: rebuild them ("1.2", "(b)", "•")."""

    def __init__(self, document) -> None:
        self.formats: dict[tuple[str, int], tuple[str, str]] = {}  # (numId, level) -> (numFmt, lvlText)
        self.counters: dict[str, list[int]] = {}
        try:
            part = document.part.numbering_part
        except Exception:  # no numbering part: lists can only be bullets by style
            return
        from docx.oxml.ns import qn

        root = part.element
        abstract = {}
        for node in root.findall(qn("w:abstractNum")):
            levels = {}
            for lvl in node.findall(qn("w:lvl")):
                fmt = lvl.find(qn("w:numFmt"))
                txt = lvl.find(qn("w:lvlText"))
                levels[int(lvl.get(qn("w:ilvl")))] = (
                    fmt.get(qn("w:val")) if fmt is not None else "decimal",
                    txt.get(qn("w:val")) if txt is not None else "",
                )
            abstract[node.get(qn("w:abstractNumId"))] = levels
        for num in root.findall(qn("w:num")):
            ref = num.find(qn("w:abstractNumId"))
            if ref is None:
                continue
            for level, spec in abstract.get(ref.get(qn("w:val")), {}).items():
                self.formats[(num.get(qn("w:numId")), level)] = spec

    def label(self, paragraph, style: str) -> str:
        from docx.oxml.ns import qn

        numpr = _find_numpr(paragraph._p.pPr)
        style_obj = paragraph.style
        while numpr is None and style_obj is not None:  # "List Number" carries its numbering in the style
            numpr = _find_numpr(style_obj.element.pPr)
            style_obj = style_obj.base_style
        if numpr is None:
            return "•" if "bullet" in style.lower() else ""
        num_id_node, level_node = numpr.find(qn("w:numId")), numpr.find(qn("w:ilvl"))
        num_id = num_id_node.get(qn("w:val")) if num_id_node is not None else ""
        level = int(level_node.get(qn("w:val"))) if level_node is not None else 0
        fmt, pattern = self.formats.get((num_id, level), ("bullet", ""))
        if fmt == "bullet" or not pattern:
            return "•"
        counts = self.counters.setdefault(num_id, [0] * 9)
        counts[level] += 1
        for deeper in range(level + 1, 9):
            counts[deeper] = 0

        def render(match: re.Match) -> str:
            lvl = int(match.group(1)) - 1
            lvl_fmt = self.formats.get((num_id, lvl), ("decimal", ""))[0]
            return _format_number(max(counts[lvl], 1), lvl_fmt)

        return re.sub(r"%(\d)", render, pattern)


def _find_numpr(ppr):
    from docx.oxml.ns import qn

    if ppr is None:
        return None
    numpr = ppr.find(qn("w:numPr"))
    if numpr is None or numpr.find(qn("w:numId")) is None and numpr.find(qn("w:ilvl")) is None:
        return None
    return numpr


def _format_number(n: int, fmt: str) -> str:
    if fmt == "lowerLetter":
        return chr(ord("a") + (n - 1) % 26)
    if fmt == "upperLetter":
        return chr(ord("A") + (n - 1) % 26)
    if fmt in ("lowerRoman", "upperRoman"):
        numerals = [(10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
        out = ""
        for value, numeral in numerals:
            while n >= value:
                out, n = out + numeral, n - value
        return out if fmt == "lowerRoman" else out.upper()
    return str(n)


# -- PDF --------------------------------------------------------------------------------------------
def read_pdf(path: Path) -> DocumentText:
    import pypdf

    reader = pypdf.PdfReader(str(path))
    if reader.is_encrypted:
        try:
            reader.decrypt("")
        except Exception as exc:
            raise ReadError(f"{path.name}: the PDF is password-protected") from exc
    pages = [_page_lines(page) for page in reader.pages]
    if not any(line.strip() for page in pages for line in page):
        raise ReadError(f"{path.name}: the PDF has no text layer (is it a scan?); save it as text or Word instead")
    kept, dropped = drop_running_lines(pages)
    lines = join_wrapped_hyphens(_dedent(kept))
    return DocumentText("\n".join(lines), "pdf", tuple(dropped), len(pages))


def _page_lines(page) -> list[str]:
    """One page's text lines, with a blank line where the gap above a line is wider than the usual line spacing.

    pypdf's plain extraction gives the words in order but no paragraph gaps; its layout mode keeps the
    gaps but is twice as slow, so the gaps are read from where each line sits on the page instead.
    """
    chunks: list[tuple[str, float, float, float]] = []  # text, y, x (page space), font size on the page

    def visit(text, cm, tm, font_dict, font_size):
        if text:
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            size = abs(font_size * (tm[3] or 1) * (cm[3] or 1))
            chunks.append((text, y, x, size))

    page.extract_text(visitor_text=visit)
    lines: list[list] = [["", None, None, 0.0]]  # text, y, x and size of the line's first visible chunk
    for text, y, x, size in chunks:
        parts = text.split("\n")
        for n, part in enumerate(parts):
            if n:
                lines.append(["", None, None, 0.0])
            if part.strip() and lines[-1][1] is None:
                lines[-1][1:] = [y, x, size]
            lines[-1][0] += part
    lines = [line for line in lines if line[0].strip()]
    placed = [line for line in lines if line[1] is not None]
    gaps = sorted(a[1] - b[1] for a, b in zip(placed, placed[1:]) if a[1] - b[1] > 0.5)
    median = gaps[len(gaps) // 2] if gaps else 0.0
    # The line pitch: the smallest ordinary gap (a page of one-line paragraphs has no wrapped lines to
    # measure, so the font size caps it).
    pitch = min((g for g in gaps if g >= 0.4 * median), default=0.0)
    margin = min((line[2] for line in placed), default=0.0)
    out: list[str] = []
    previous_y = None
    for text, y, x, size in lines:
        limit = 1.3 * min(pitch, 1.3 * size) if size else 1.3 * pitch
        if limit and previous_y is not None and y is not None and previous_y - y > limit:
            out.append("")
        indent = "    " if x is not None and x - margin > 12 else ""
        out.append(indent + text.strip())
        previous_y = y if y is not None else previous_y
    return out


def _dedent(lines: list[str]) -> list[str]:
    """Layout mode pads every line to its page position; keep only indentation beyond the margin."""
    margins = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    margin = min(margins) if margins else 0
    return [line[margin:] if line[:margin].isspace() else line.strip() for line in lines]


def _line_key(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.lower().split()))


def drop_running_lines(pages: list[list[str]], edge: int = 3) -> tuple[list[str], list[str]]:
    """Remove page numbers and lines repeated at the top or bottom of most pages."""
    edges: list[list[int]] = []
    for page in pages:
        filled = [i for i, line in enumerate(page) if line.strip()]
        edges.append(filled[:edge] + filled[-edge:])
    counts: Counter[str] = Counter()
    for page, idx in zip(pages, edges):
        counts.update({_line_key(page[i]) for i in idx})
    needed = max(2, (len(pages) + 1) // 2)
    repeated = {key for key, n in counts.items() if n >= needed} if len(pages) > 1 else set()
    kept, dropped = [], []
    for page, idx in zip(pages, edges):
        edge_set = set(idx)
        for i, line in enumerate(page):
            if i in edge_set and (_line_key(line) in repeated or PAGE_NUMBER.match(line)):
                dropped.append(line.strip())
                continue
            kept.append(line)
        kept.append("")
    return kept, dropped


def join_wrapped_hyphens(lines: list[str]) -> list[str]:
    """'anti-' at a line's end followed by 'harassment': pull the word's end back onto the first line.

    The hyphen stays unless the joined word appears unhyphenated elsewhere in the document
    (then it was only a printer's break, as in 'pro-' + 'fessional').
    """
    vocabulary = Counter(w.lower() for line in lines for w in re.findall(r"[A-Za-z]+", line))
    out = list(lines)
    for i, line in enumerate(out):
        m = WRAPPED_HYPHEN.search(line.rstrip())
        if not m:
            continue
        j = i + 1
        while j < len(out) and not out[j].strip():
            j += 1
        if j >= len(out):
            break
        nxt = out[j].lstrip()
        w = re.match(r"([a-z][A-Za-z]*)([,.;:)’']*)(\s+|$)", nxt)
        if not w:
            continue
        head = m.group(1)
        joined = head + w.group(1)
        # "pro" is counted once by this very line; more uses mean it is a word of its own.
        hyphen = "" if vocabulary[joined.lower()] and vocabulary[head.lower()] <= 1 else "-"
        out[i] = line.rstrip()[: -1] + hyphen + w.group(1) + w.group(2)
        out[j] = nxt[w.end():]
    return out
