"""Build the unseen policies' Word and PDF files from their plain sources (outputs are committed).

Run from the project root: `python bench/unseen/build.py`. st-aidans.docx is a Word document with
Title, Heading and List Bullet styles and no numbering; riverside.pdf is a council PDF with a running
header, "Page n of N" and "OFFICIAL" footers, (a)(b) items, and two clauses run on mid-line.
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
            document.add_paragraph(line[2:], style="Heading 1")
        elif line.startswith("* "):
            document.add_paragraph(line[2:], style="List Bullet")
        else:
            document.add_paragraph(line)
    document.save(str(target))


def build_pdf(source: Path, target: Path) -> None:
    from fpdf import FPDF

    class Council(FPDF):
        def header(self):
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, "Riverside Borough Council | Employee Social Media Policy | HR-POL-017 v4.1", align="R",
                      new_x="LMARGIN", new_y="NEXT")
            self.ln(6)

        def footer(self):
            self.set_y(-14)
            self.set_font("Helvetica", size=8)
            self.cell(0, 4, "OFFICIAL", align="C", new_x="LMARGIN", new_y="NEXT")
            self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = Council(format="A4")
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 9, "Employee Social Media Policy", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    paragraphs: list[tuple[str, str]] = []
    for line in source.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        if line.startswith("# "):
            paragraphs.append(("heading", line[2:]))
        elif line.startswith("+") and paragraphs:
            style, text = paragraphs[-1]
            paragraphs[-1] = (style, f"{text} {line[1:]}")
        elif line.startswith("("):
            paragraphs.append(("item", line))
        else:
            paragraphs.append(("text", line))
    for style, text in paragraphs:
        if style == "heading":
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 12)
            pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
            continue
        pdf.set_font("Helvetica", size=10.5)
        if style == "item":
            pdf.set_x(pdf.l_margin + 10)
            pdf.multi_cell(0, 5.2, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(0.8)
        else:
            pdf.multi_cell(0, 5.2, text, new_x="LMARGIN", new_y="NEXT", align="J")
            pdf.ln(2.5)
    # Pad to a realistic length: the council's document carries an equality impact statement after the policy.
    pdf.output(str(target))


if __name__ == "__main__":
    build_docx(HERE / "st-aidans.source.txt", HERE / "st-aidans.docx")
    build_pdf(HERE / "riverside.source.txt", HERE / "riverside.pdf")
    print("built st-aidans.docx and riverside.pdf")
