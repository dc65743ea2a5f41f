"""The same policy read from .txt, .docx and .pdf gives the same clauses; PDF and Word quirks are handled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from knowledge.parse import parse_document
from knowledge.readers import ReadError, drop_running_lines, join_wrapped_hyphens, read_document

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CLEARWELL = ROOT / "knowledge" / "packs" / "clearwell" / "policy.txt"


def text_key(text: str) -> str:
    """Clause text modulo whitespace and bullet glyphs."""
    return re.sub(r"[\s•]+", "", text)


@pytest.fixture(scope="module")
def clearwell_txt():
    return parse_document(read_document(CLEARWELL).text)[0]


@pytest.mark.parametrize("name", ["clearwell.docx", "clearwell.pdf"])
def test_clearwell_same_clauses_from_docx_and_pdf(clearwell_txt, name):
    document = read_document(FIXTURES / name)
    parsed, details = parse_document(document.text)
    assert len(parsed.clauses) == len(clearwell_txt.clauses) == 84
    assert [c.id for c in parsed.clauses] == [c.id for c in clearwell_txt.clauses]
    for ours, theirs in zip(parsed.clauses, clearwell_txt.clauses):
        assert text_key(ours.text) == text_key(theirs.text), ours.id
        assert ours.section == theirs.section and ours.part_heading == theirs.part_heading
    assert parsed.problems == clearwell_txt.problems


def test_clearwell_pdf_drops_running_header_footer_and_splits_mid_line_numbers():
    document = read_document(FIXTURES / "clearwell.pdf")
    assert document.kind == "pdf" and document.pages >= 5
    assert "Clearwell School – Social Media Policy" in document.dropped
    assert any(re.fullmatch(r"Page \d+ of \d+", line) for line in document.dropped)
    assert "Page 2 of" not in document.text and "Social Media Policy\n" not in document.text
    # In this PDF 6.2 (second) runs on straight after 6.3's last sentence, on the same line.
    assert re.search(r"family\s+members\.\s+6\.2\s+Clearwell", document.text)
    parsed = parse_document(document.text)[0]
    second = {c.id: c for c in parsed.clauses}["6.2-2"]
    assert second.text.startswith("Clearwell School does not expect")


def _pdf(tmp_path: Path, pages: list[list[str]], header: str = "", footer: bool = True) -> Path:
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF(format="A4")
    pdf.set_auto_page_break(False)
    for number, lines in enumerate(pages, 1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=8)
        if header:
            pdf.set_xy(10, 8)
            pdf.cell(0, 5, header)
        pdf.set_font("Helvetica", size=11)
        pdf.set_xy(10, 20)
        for line in lines:
            pdf.set_x(10)
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        if footer:
            pdf.set_xy(10, 280)
            pdf.set_font("Helvetica", size=8)
            pdf.cell(0, 5, str(number), align="C")
    path = tmp_path / "policy.pdf"
    pdf.output(str(path))
    return path


def test_pdf_headers_page_numbers_and_hyphenated_wraps(tmp_path):
    pages = [
        [
            "1 GENERAL",
            "1.1 Staff must follow the school's anti-",
            "harassment policy online at all times.",
            "1.2 Staff must behave in a pro-",
            "fessional way. Being professional matters.",
        ],
        ["1.3 Staff may use LinkedIn for their own career.", "1.4 Staff must not post photos of pupils."],
        ["2 BREACHES", "2.1 Breaches may lead to disciplinary action."],
    ]
    path = _pdf(tmp_path, pages, header="Hilltop Academy Social Media Policy v3")
    document = read_document(path)
    assert "Hilltop Academy" not in document.text
    assert not re.search(r"^\s*\d\s*$", document.text, re.M)  # page numbers gone
    parsed = parse_document(document.text)[0]
    by_id = {c.id: c for c in parsed.clauses}
    assert list(by_id) == ["1.1", "1.2", "1.3", "1.4", "2.1"]
    # A real hyphen that wrapped is kept and joined; a printer's word-break loses its hyphen.
    assert by_id["1.1"].text == "Staff must follow the school's anti-harassment policy online at all times."
    assert by_id["1.2"].text == "Staff must behave in a professional way. Being professional matters."


def test_running_lines_need_repetition():
    pages = [["Policy v2", "Body one.", "3"], ["Policy v2", "Body two.", "4"], ["Policy v2", "Body three.", "5"]]
    kept, dropped = drop_running_lines(pages)
    assert [k for k in kept if k] == ["Body one.", "Body two.", "Body three."]
    assert dropped.count("Policy v2") == 3
    single, none_dropped = drop_running_lines([["Policy v2", "Body one."]])
    assert "Policy v2" in single and none_dropped == []


def test_hyphen_join_keeps_text_otherwise():
    assert join_wrapped_hyphens(["a self-", "assessment form"]) == ["a self-assessment", "form"]
    assert join_wrapped_hyphens(["ends with a dash -", "Next"]) == ["ends with a dash -", "Next"]


def test_docx_with_word_numbering_and_bullets(tmp_path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_paragraph("Social Media Policy", style="Title")
    document.add_paragraph("Personal use", style="Heading 1")
    document.add_paragraph("Staff must keep personal accounts private.", style="List Number")
    document.add_paragraph("Staff must not accept friend requests from pupils.", style="List Number")
    document.add_paragraph("Staff should avoid:", style="List Number")
    document.add_paragraph("posting during lessons", style="List Bullet")
    document.add_paragraph("sharing gossip about colleagues", style="List Bullet")
    table = document.add_table(rows=1, cols=1)
    table.cell(0, 0).text = "Staff may use LinkedIn."
    path = tmp_path / "policy.docx"
    document.save(str(path))
    text = read_document(path).text
    assert "1. Staff must keep personal accounts private." in text
    assert "2. Staff must not accept friend requests from pupils." in text
    assert "• posting during lessons" in text and "Staff may use LinkedIn." in text
    parsed = parse_document(text)[0]
    texts = [c.text for c in parsed.clauses]
    assert "Staff must not accept friend requests from pupils." in texts
    assert any(t.startswith("Staff should avoid: posting during lessons") for t in texts)


def test_markdown(tmp_path):
    path = tmp_path / "policy.md"
    path.write_text("# Policy\n\n## Monitoring\n\nThe school **monitors** its network.\n\n- Staff must not share passwords.\n", encoding="utf-8")
    parsed = parse_document(read_document(path).text)[0]
    assert [(c.section, c.text) for c in parsed.clauses] == [
        ("Monitoring ¶1", "The school monitors its network."),
        ("Monitoring ¶2", "Staff must not share passwords."),
    ]


def test_unreadable_files_raise_one_clear_error(tmp_path):
    bad = tmp_path / "policy.pdf"
    bad.write_bytes(b"not a pdf at all")
    with pytest.raises(ReadError, match="policy.pdf"):
        read_document(bad)
    with pytest.raises(ReadError, match="cannot read .rtf"):
        (tmp_path / "p.rtf").write_text("x")
        read_document(tmp_path / "p.rtf")
    with pytest.raises(ReadError, match="no such file"):
        read_document(tmp_path / "missing.txt")


def test_unnumbered_pdf_paragraphs_from_line_gaps(tmp_path):
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF(format="A4")
    pdf.add_page()
    body = [
        ("heading", "Staff Guidance on Social Media"),
        ("heading", "Personal accounts"),
        ("text", "Keep your personal accounts private and check the privacy settings every term, because "
                 "settings change without warning and old posts can become public again."),
        ("text", "Do not accept friend requests from pupils or from former pupils who are still under eighteen."),
        ("heading", "Monitoring"),
        ("text", "The school monitors all use of its network and devices, including social media sites visited "
                 "on school laptops and tablets during and outside the school day."),
    ]
    for kind, text in body:
        pdf.set_font("Helvetica", "B" if kind == "heading" else "", 13 if kind == "heading" else 11)
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    path = tmp_path / "guidance.pdf"
    pdf.output(str(path))
    parsed = parse_document(read_document(path).text)[0]
    assert [c.section for c in parsed.clauses] == ["Personal accounts ¶1", "Personal accounts ¶2", "Monitoring ¶1"]
    assert parsed.clauses[0].text.startswith("Keep your personal") and parsed.clauses[0].text.endswith("public again.")
