"""The review as a PDF (fpdf2): a first page a governor can read alone, contents, sections with charts and
tables, page numbers. The font is DejaVu Sans from matplotlib's own files, so a name in any script prints
(fpdf2's built-in fonts are Latin-1 only)."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from bot.review import charts
from bot.review.wording import FilledTexts, change, cut, day_text, duration, share, who
from bot.review.gather import CaseSummary, Review

FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT = "DejaVu"
INK = (30, 30, 30)
MUTED = (100, 100, 100)
ACCENT = (31, 95, 139)
SHADE = (235, 241, 246)
CONTENTS_HEIGHT = 70  # mm: the heading and seven sections
CONTENTS_HEIGHT = 70  # mm: the heading and seven sections
MAX_SHOWN_THEMES = 10
MAX_SHOWN_ONCE = 8


class ReviewPDF(FPDF):
    def __init__(self, texts, footer_text: str):
        super().__init__(format="A4")
        self.texts = texts
        self.footer_text = footer_text
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(True, margin=18)
        self.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.add_font(FONT, "I", str(FONTS / "DejaVuSans-Oblique.ttf"))
        self.set_font(FONT, size=10)
        self.set_text_color(*INK)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=7.5)
        self.set_text_color(*MUTED)
        page = self.texts.get("page", page=str(self.page_no()), pages="{nb}")
        self.cell(self.epw - 30, 5, self.footer_text, align="L")
        self.cell(30, 5, page, align="R")
        self.set_text_color(*INK)

    # --- building blocks ----------------------------------------------------------------------------

    def heading(self, text: str, fresh_page: bool = True) -> None:
        """A numbered section, in the contents and the PDF outline: on a new page, or (a short section) after
        the last one when it fits."""
        if not fresh_page and not self.will_page_break(60):
            self.ln(8)
        elif self.page == 0 or self.get_y() > self.t_margin + 1:
            self.add_page()
        self.start_section(text)
        self.set_font(FONT, "B", 15)
        self.set_text_color(*ACCENT)
        self.multi_cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        self.set_text_color(*INK)
        self.ln(1)

    def subheading(self, text: str) -> None:
        if self.will_page_break(24):
            self.add_page()
        self.ln(2)
        self.set_font(FONT, "B", 11)
        self.multi_cell(0, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        self.set_font(FONT, size=10)

    def para(self, text: str, size: float = 10, muted: bool = False, style: str = "") -> None:
        self.set_font(FONT, style, size)
        if muted:
            self.set_text_color(*MUTED)
        self.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        self.set_text_color(*INK)
        self.set_font(FONT, size=10)
        self.ln(1.5)

    def bullet(self, text: str, size: float = 10) -> None:
        self.set_font(FONT, size=size)
        x = self.l_margin
        self.set_x(x)
        self.cell(5, size * 0.52, "•")
        self.multi_cell(0, size * 0.52, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        self.ln(0.8)

    def image_full(self, path: Path | None) -> None:
        if path is None:
            return
        width = self.epw
        from PIL import Image

        with Image.open(path) as picture:
            height = width * picture.height / picture.width
        if self.will_page_break(height):
            self.add_page()
        self.image(str(path), x=self.l_margin, w=width)
        self.ln(3)

    def grid(self, header: list[str], rows: list[list[str]], widths: tuple[float, ...], align: str = "LEFT") -> None:
        """A table with a shaded header row, repeated on each page."""
        if not rows:
            return
        self.set_font(FONT, size=8.5)
        with self.table(
            col_widths=widths,
            text_align=align,
            line_height=4.6,
            padding=(1, 1.5, 1, 1.5),
            borders_layout="HORIZONTAL_LINES",
            headings_style=_HeadingStyle(),
            cell_fill_color=SHADE,
            cell_fill_mode="ROWS",
            repeat_headings=1,
        ) as table:
            top = table.row()
            for cell in header:
                top.cell(cell)
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(str(value))
        self.set_font(FONT, size=10)
        self.ln(3)


def _HeadingStyle():
    from fpdf.fonts import FontFace

    return FontFace(family=FONT, emphasis="BOLD", color=ACCENT, fill_color=(255, 255, 255))


def render_review(review: Review, texts, path: Path | str, settings_values: dict | None = None) -> Path:
    """Write the review to `path` (a PDF) and return it."""
    values = {
        "start": day_text(review.start),
        "end": day_text(review.end),
        "policy_title": review.policy_title,
        "today": day_text(date.today()),
        **(settings_values or {}),
    }
    t = FilledTexts(texts, values)
    pdf = ReviewPDF(texts, t("footer"))
    pdf.set_title(t("title"))
    pdf.set_author(review.school)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        _front(pdf, review, t)
        # The contents close the first page when there is room for them, else open the second.
        if pdf.will_page_break(CONTENTS_HEIGHT):
            pdf.add_page()
        else:
            pdf.ln(4)
        pdf.insert_toc_placeholder(lambda p, outline: _contents(p, outline, t), pages=1)
        _asked(pdf, review, t, folder)
        _unanswered(pdf, review, t)
        _confusing(pdf, review, t)
        _cases(pdf, review, t, folder)
        _health(pdf, review, t)
        _signatures(pdf, review, t)
        pdf.heading(t("sections.about"), fresh_page=False)
        pdf.para(t("intro.about"))
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        pdf.output(str(tmp))
        os.replace(tmp, path)
    return path


# --- pages -------------------------------------------------------------------------------------------------


def _front(pdf: ReviewPDF, review: Review, t) -> None:
    pdf.add_page()
    pdf.set_font(FONT, "B", 20)
    pdf.set_text_color(*ACCENT)
    pdf.multi_cell(0, 9, t("title"), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, size=12)
    pdf.multi_cell(0, 7, t("subtitle"), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.para(t("generated"), size=8.5, muted=True)
    pdf.ln(3)
    pdf.set_font(FONT, "B", 13)
    pdf.cell(0, 8, t("in_brief"), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    for line in brief(review, t):
        pdf.bullet(line)
    actions = decisions(review)
    if actions:
        pdf.ln(3)
        pdf.set_font(FONT, "B", 13)
        pdf.cell(0, 8, t("to_decide"), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        for n, line in enumerate(actions, 1):
            pdf.set_font(FONT, size=10)
            pdf.cell(6, 5.2, f"{n}.")
            pdf.multi_cell(0, 5.2, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
            pdf.ln(0.8)


def brief(review: Review, t) -> list[str]:
    """The first page's findings, one line each."""
    staff = sum(review.questions_by_week.get("staff", []))
    parents = sum(review.questions_by_week.get("parent", []))
    lines = [
        t("brief.questions", questions=review.questions, staff=staff, parents=parents,
          answered_share=share(review.answered, review.questions)),
    ]
    if review.clauses:
        top = review.clauses[0]
        lines.append(t("brief.top_clause", clause=top.label, title=top.title, count=top.total))
    if review.unanswered and review.themes:
        largest = review.themes[0]
        shared = sum(1 for theme in review.themes if theme.size > 1)
        lines.append(t("brief.themes", unanswered=len(review.unanswered), themes=shared, once=len(review.themes) - shared,
                       largest=largest.title, size=largest.size))
    elif not review.outcomes.get("unanswered"):
        lines.append(t("brief.no_unanswered"))
    if review.confusing:
        lines.append(t("brief.confusing", clauses=", ".join(c.label for c in review.confusing[:4])))
    breaches, complaints = review.cases.get("breach"), review.cases.get("complaint")
    counted = [s for s in (breaches, complaints) if s]
    if sum(s.count for s in counted):
        closing = [h for s in counted for h in s.hours_to_close]
        lines.append(t("brief.cases", breaches=breaches.count if breaches else 0, complaints=complaints.count if complaints else 0,
                       close=duration(CaseSummary.middle(closing))))
    else:
        lines.append(t("brief.no_cases"))
    alerts = review.cases.get("safeguarding")
    if alerts and alerts.count:
        lines.append(t("brief.safeguarding", alerts=alerts.count, acknowledge=duration(alerts.middle(alerts.hours_to_acknowledge))))
    if review.health is not None:
        lines.append(t("brief.health", findings=review.health.findings))
    if review.coverage is None:
        lines.append(t("brief.signatures_none"))
    return lines


def decisions(review: Review, limit: int = 5) -> list[str]:
    """The suggested actions most worth a governor's attention: the largest unanswered themes first."""
    out = [f"“{theme.title}” ({theme.size}×): {theme.action}" for theme in review.themes[:3] if theme.size > 1]
    for clause in review.confusing[:2]:
        out.append(f"Reread clause {clause.label}, “{clause.title}”, for plain wording: people stumbled on it {clause.trouble} times.")
    return out[:limit]


def _contents(pdf: ReviewPDF, outline, t) -> None:
    pdf.set_x(pdf.l_margin)
    pdf.set_font(FONT, "B", 13)
    pdf.cell(0, 8, t("contents"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=10)
    for n, section in enumerate(outline, 1):
        link = pdf.add_link(page=section.page_number)
        pdf.cell(pdf.epw - 15, 6.5, f"{n}.  {section.name}", link=link)
        pdf.cell(15, 6.5, str(section.page_number), align="R", link=link, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _asked(pdf: ReviewPDF, review: Review, t, folder: Path) -> None:
    pdf.heading(t("sections.asked"))
    pdf.para(t("intro.asked"))
    if review.weeks:
        pdf.image_full(charts.weekly_questions(review, pdf.texts, folder / "weekly.png"))
    if review.clauses:
        pdf.image_full(charts.top_clauses(review, pdf.texts, folder / "top.png"))
    rows = [
        [c.label, cut(c.title, 40), c.by_role.get("staff", 0), c.by_role.get("parent", 0), c.total, c.halves[0], change(*c.halves)]
        for c in review.clauses[:10]
    ]
    h = "headers."
    pdf.grid([t(h + "clause"), t(h + "about"), t(h + "staff"), t(h + "parents"), t(h + "total"), t(h + "first_half"), t(h + "second_half")],
             rows, (24, 58, 14, 16, 14, 16, 22))


def _unanswered(pdf: ReviewPDF, review: Review, t) -> None:
    pdf.heading(t("sections.unanswered"))
    pdf.para(t("intro.unanswered"))
    if review.oldest_question and review.oldest_question[:10] > review.start.isoformat():
        pdf.para(t("intro.unanswered_gone", oldest=day_text(date.fromisoformat(review.oldest_question[:10]))), size=9, muted=True)
    if not review.themes:
        pdf.para(t("brief.no_unanswered"))
    shared = [theme for theme in review.themes if theme.size > 1][:MAX_SHOWN_THEMES]
    for n, theme in enumerate(shared, 1):
        if pdf.will_page_break(30):
            pdf.add_page()
        pdf.set_font(FONT, "B", 10.5)
        pdf.multi_cell(0, 5.4, f"{n}. “{theme.title}”", new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        roles = ", ".join(f"{count} {who(role, count)}" for role, count in sorted(theme.roles.items()))
        asked = t("theme.asked", size=theme.size, roles=roles) + (t("theme.office", answered=theme.office_answered) if theme.office_answered else "")
        pdf.para(asked, size=8.5, muted=True)
        if theme.examples:
            pdf.para(t("theme.examples"), size=9, style="I")
            for example in theme.examples:
                pdf.bullet(f"“{example}”", size=9)
        pdf.set_font(FONT, "B", 9.5)
        pdf.set_text_color(*ACCENT)
        pdf.multi_cell(0, 5, f"{t('theme.action')} {theme.action}", new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        pdf.set_text_color(*INK)
        pdf.ln(3)
    once = [theme for theme in review.themes if theme.size == 1]
    if once:
        pdf.subheading(t("theme.once"))
        for theme in once[:MAX_SHOWN_ONCE]:
            pdf.bullet(f"“{theme.title}” — {theme.short_action}", size=9)
        if len(once) > MAX_SHOWN_ONCE:
            pdf.para(t("theme.more", count=len(once) - MAX_SHOWN_ONCE), size=9, muted=True)


def _confusing(pdf: ReviewPDF, review: Review, t) -> None:
    pdf.heading(t("sections.confusing"))
    pdf.para(t("intro.confusing"))
    if not review.confusing:
        pdf.para(t("intro.no_confusing"))
        return
    h = "headers."
    rows = [[c.label, cut(c.title, 34), c.asked, c.hedged, c.thumbs_down, c.redirected] for c in review.confusing[:15]]
    pdf.grid([t(h + "clause"), t(h + "about"), t(h + "asked"), t(h + "unsure"), t(h + "thumbs_down"), t(h + "redirected")],
             rows, (24, 60, 14, 18, 20, 28))


def _cases(pdf: ReviewPDF, review: Review, t, folder: Path) -> None:
    pdf.heading(t("sections.cases"))
    pdf.para(t("intro.cases"))
    h = "headers."
    rows = [
        [t(f"kinds.{kind}"), s.count, s.open, duration(s.middle(s.hours_to_acknowledge)), duration(s.middle(s.hours_to_close))]
        for kind, s in review.cases.items()
    ]
    pdf.grid([t(h + "kind"), t(h + "cases"), t(h + "still_open"), t(h + "acknowledge"), t(h + "close")], rows, (50, 20, 25, 39, 40))
    pdf.image_full(charts.case_times(review, pdf.texts, folder / "cases.png"))
    for kind in ("breach", "complaint"):
        summary = review.cases.get(kind)
        if summary and summary.by_clause:
            pdf.subheading(f"{t(f'kinds.{kind}')} — {t(h + 'clause').lower()}")
            pdf.grid([t(h + "clause"), t(h + "cases")], [[label, n] for label, n in summary.by_clause], (60, 20))
    pdf.para(t("intro.safeguarding"), size=9, muted=True)


def _signatures(pdf: ReviewPDF, review: Review, t) -> None:
    pdf.heading(t("sections.signatures"), fresh_page=False)
    if review.coverage is None:
        pdf.para(t("intro.signatures_none"))
        return
    pdf.para(t("intro.signatures"))
    h = "headers."
    rows = [[c.version, "Parents" if c.kind == "parent" else "Staff", c.signed, c.declined, c.asked] for c in review.coverage]
    pdf.grid([t(h + "version"), t(h + "who"), t(h + "signed"), t(h + "declined"), t(h + "asked_first")], rows, (50, 30, 25, 25, 30))


def _health(pdf: ReviewPDF, review: Review, t) -> None:
    pdf.heading(t("sections.health"))
    pdf.para(t("intro.health"))
    health = review.health
    if health is None:
        return
    for key, items in (("duplicates", health.duplicates), ("missing", health.missing)):
        pdf.subheading(t(f"health.{key}"))
        pdf.para("; ".join(items) if items else t("health.nothing"))
    pdf.subheading(t("health.placeholders"))
    if health.placeholders:
        for found in health.placeholders:
            pdf.bullet(f"{found.clause}: “{found.found}”", size=9.5)
    else:
        pdf.para(t("health.nothing"))
    pdf.subheading(t("health.opposite"))
    if not health.opposite:
        pdf.para(t("health.nothing"))
        return
    pdf.para(t("health.opposite_intro"), size=9, muted=True)
    for pair in health.opposite:
        if pdf.will_page_break(32):
            pdf.add_page()
        verdict = lambda kind: t(f"health.verdicts.{kind}")  # noqa: E731
        pdf.set_font(FONT, "B", 9.5)
        pdf.multi_cell(0, 5, f"{pair.first} ({verdict(pair.first_verdict)})  ↔  {pair.second} ({verdict(pair.second_verdict)})",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        pdf.para(f"{pair.first}: {cut(pair.first_text, 180)}", size=8.5)
        pdf.para(f"{pair.second}: {cut(pair.second_text, 180)}", size=8.5)
        pdf.ln(1)


# --- formatting --------------------------------------------------------------------------------------------


