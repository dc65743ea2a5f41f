"""The parser on the Clearwell policy and on the numbering styles other schools use."""

from __future__ import annotations

import re
from pathlib import Path

from knowledge.parse import normalise, parse_document, parse_policy

CLEARWELL = Path(__file__).resolve().parents[1] / "knowledge" / "packs" / "clearwell" / "policy.txt"


def glyphless(text: str) -> list[str]:
    return re.sub(r"(^|\s)[•▪*\-–](?=\s)", " ", text).split()


def rebuilt(parsed) -> str:
    """The document put back together from its pieces: every clause's text in its place."""
    by_id = {c.id: c for c in parsed.clauses}
    return " ".join(by_id[v].text if k == "clause" else v for k, v in parsed.pieces)


def sentences_placed_once(source: str, parsed) -> None:
    """Every sentence of the body lands in exactly one clause (or is reported unplaced); none is invented."""
    assert glyphless(normalise(rebuilt(parsed))) == glyphless(normalise(source))
    seen = [c.text for c in parsed.clauses]
    for sentence in re.split(r"(?<=[.!?])\s+", normalise(source)):
        if len(sentence.split()) < 4 or not re.search(r"[a-z]{3}", sentence):
            continue
        core = re.sub(r"^[•▪*\-–]\s+", "", sentence)
        holders = sum(1 for text in seen if core in text)
        assert holders <= 1, f"sentence in {holders} clauses: {core!r}"


def test_clearwell_round_trip_and_ids():
    source = CLEARWELL.read_text(encoding="utf-8")
    parsed = parse_policy(source)
    assert normalise(rebuilt(parsed)).split() == normalise(source).split()
    assert len(parsed.clauses) == 84
    ids = [c.id for c in parsed.clauses]
    assert ids[:4] == ["1.1", "1.2", "1.3", "1.4"]
    assert "6.2-2" in ids and "6.3-2" in ids and "5.0" in ids and "10.5-agreement" in ids
    # Appendix A's opening paragraph says something of its own: it is a clause, so it can be quoted.
    assert "A.0" in ids
    assert [i for i in ids if i.startswith("A.4.")] == [f"A.4.{x}" for x in "abcdefghi"]
    assert set(parsed.problems) == {"6.2 is printed 2 times", "6.3 is printed 2 times", "6.7 is missing", "9.3 is missing"}
    by_id = {c.id: c for c in parsed.clauses}
    assert by_id["6.2-2"].text.startswith("Clearwell School does not expect")
    assert by_id["6.2-2"].label == "6.2 (second 6.2)"
    assert by_id["3.1"].items[1:] == ("the Human Rights Act 1998", "Common law duty of confidentiality, and", "the Data Protection Act 1998.")
    # The .txt is kept verbatim: its line-broken "anti-" stays as printed.
    assert "anti- harassment" in by_id["10.4"].text


DECIMAL = """\
Social Media Policy

1. PURPOSE
1.1 This policy explains how staff use social media.
1.2 It applies to all employees, including those on the Data Protection Act 1998 training scheme.

2. PERSONAL USE
2.1 Staff must not use social media between 8:30 and 3:30 on working days.
2.2 Staff must not accept friend requests from pupils. 2.3 Staff should not post about colleagues.
2.3 Staff may mention their job title on LinkedIn, as described in section 4.2 of the handbook.
2.5 Staff must keep passwords private.
    (a) change them every term;
    (b) never share them.

10. BREACHES
10.5 Breaches may lead to disciplinary action.

APPENDIX A Official accounts
A.2.3 Official accounts must have two administrators.
"""


def test_decimal_numbering_mid_line_numbers_twice_and_skipped():
    parsed, details = parse_document(DECIMAL)
    by_id = {c.id: c for c in parsed.clauses}
    assert list(by_id) == ["1.1", "1.2", "2.1", "2.2", "2.3", "2.3-2", "2.5", "10.5", "A.2.3"]
    # Numbers inside sentences are not clause numbers.
    assert by_id["1.2"].text.endswith("Data Protection Act 1998 training scheme.")
    assert by_id["2.1"].text == "Staff must not use social media between 8:30 and 3:30 on working days."
    assert "section 4.2 of the handbook" in by_id["2.3-2"].text
    # A clause number after a sentence's end, mid-line, starts a clause.
    assert by_id["2.2"].text == "Staff must not accept friend requests from pupils."
    assert by_id["2.3"].text == "Staff should not post about colleagues."
    assert by_id["2.3-2"].label == "2.3 (second 2.3)"
    assert "2.3 is printed 2 times" in parsed.problems and "2.4 is missing" in parsed.problems
    # Lettered items under a numbered clause stay in it, as list items.
    assert by_id["2.5"].items == ("Staff must keep passwords private.", "(a) change them every term;", "(b) never share them.")
    assert by_id["10.5"].part == "10" and by_id["10.5"].part_heading == "BREACHES"
    assert by_id["A.2.3"].part == "A"
    sentences_placed_once(DECIMAL, parsed)
    assert details.unplaced == ()


SECTIONS = """\
Section 1 — Who this applies to
This policy applies to every member of staff and every volunteer.

Section 2 — Personal accounts
2.1 Staff must set their accounts to private.
2.2 Staff must not use a school email address to register an account.

Section 3: Official accounts
a. Only the office may open an official account.
(b) Every official account needs two administrators.
i. Passwords are held by the office.
c. Official accounts are reviewed every year.
"""


def test_section_headings_and_lettered_items():
    parsed, _ = parse_document(SECTIONS)
    by_id = {c.id: c for c in parsed.clauses}
    assert list(by_id) == ["1.0", "2.1", "2.2", "3.a", "3.b", "3.c"]
    # "i." after "(b)" is a sub-item of (b), not the ninth letter.
    assert by_id["3.b"].items == ("Every official account needs two administrators.", "i. Passwords are held by the office.")
    assert by_id["1.0"].part_heading == "Who this applies to"
    assert by_id["2.2"].part_heading == "Personal accounts"
    assert by_id["3.b"].section == "3(b)"
    assert ("heading", "Section 2 — Personal accounts") in parsed.pieces
    sentences_placed_once(SECTIONS, parsed)


UNNUMBERED = """\
Social Media Guidance for Staff

Purpose

We want staff to enjoy social media safely. This guidance explains what we expect.

Personal accounts

Staff must keep their personal accounts private. Check the privacy settings
at least once a term.

Staff must not:
• accept friend requests from current pupils
- share photographs of pupils
* post about the school during working hours
▪ use a school email address to sign up

Monitoring

The school monitors use of its network.

Any concerns about a colleague's posts should be raised with the headteacher.
"""


def test_unnumbered_document_named_by_heading_and_position():
    parsed, details = parse_document(UNNUMBERED)
    sections = [c.section for c in parsed.clauses]
    assert sections == [
        "Purpose ¶1",
        "Personal accounts ¶1",
        "Personal accounts ¶2",
        "Personal accounts ¶3",
        "Personal accounts ¶4",
        "Personal accounts ¶5",
        "Personal accounts ¶6",
        "Monitoring ¶1",
        "Monitoring ¶2",
    ]
    by_section = {c.section: c for c in parsed.clauses}
    assert by_section["Monitoring ¶2"].id == "monitoring-2"
    assert by_section["Personal accounts ¶1"].text.endswith("at least once a term.")
    # Bullet glyphs are layout: the clause holds the words only, and knows its lead-in.
    assert by_section["Personal accounts ¶3"].text == "accept friend requests from current pupils"
    assert by_section["Personal accounts ¶6"].text == "use a school email address to sign up"
    lead = by_section["Personal accounts ¶2"]
    assert lead.text == "Staff must not:"
    assert all(details.leads[by_section[f"Personal accounts ¶{n}"].id] == lead.id for n in (3, 4, 5, 6))
    assert len({c.id for c in parsed.clauses}) == len(parsed.clauses)
    sentences_placed_once(UNNUMBERED, parsed)


def test_no_text_invented_and_bad_input_never_crashes():
    for text in ("", "\n\n", "1.1", "•", "Section", "APPENDIX A", "a.\n(b)\n", "x" * 5000, "1.1 \x00 odd"):
        parsed, _ = parse_document(text)
        for clause in parsed.clauses:
            assert all(word in text for word in clause.text.split())


def test_roman_sub_items_stay_with_their_letter_and_plain_documents_letter_siblings():
    text = """\
3. OFFICIAL ACCOUNTS
a. Official accounts must be approved by the head.
b. Official accounts must:
   (i) have two administrators;
   (ii) use the school logo.
c. Passwords are kept by the office.

Sharing photographs
a) Only use school devices.
b) Delete photographs once uploaded.
"""
    parsed, _ = parse_document(text)
    by_id = {c.id: c for c in parsed.clauses}
    assert list(by_id) == ["3.a", "3.b", "3.c", "sharing-photographs.a", "sharing-photographs.b"]
    assert by_id["3.b"].items == ("Official accounts must:", "(i) have two administrators;", "(ii) use the school logo.")
    assert by_id["sharing-photographs.b"].section == "Sharing photographs (b)"
    sentences_placed_once(text, parsed)
