"""Build the held-out Word document from its plain source (the output is committed).

Run from the project root: `python bench/unseen_heldout/build.py`. meadowbank.docx is a parents' code of
conduct typed the way a school office types one: a Title, headings in CAPITALS as bold Normal paragraphs
(no Heading style), and lettered items "a) ..." as plain paragraphs (no list style).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def build_docx(source: Path, target: Path) -> None:
    import docx

    document = docx.Document()
    for line in source.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        if line.startswith("= "):
            document.add_paragraph(line[2:], style="Title")
        elif line.startswith("# "):
            paragraph = document.add_paragraph()
            paragraph.add_run(line[2:]).bold = True
        else:
            document.add_paragraph(line)
    document.save(str(target))


if __name__ == "__main__":
    build_docx(HERE / "meadowbank.source.txt", HERE / "meadowbank.docx")
    print("built meadowbank.docx")
