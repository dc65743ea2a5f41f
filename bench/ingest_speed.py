"""Time `ingest` on a 20-page PDF (target: at most 2 s; ingest never loads the model).

Builds a realistic 20-page policy PDF with fpdf2 (running header, "Page n of N" footer, numbered
clauses, bullet lists, (a)(b) items, clauses that run on mid-line), then ingests it into a temporary
packs folder. Prints the cold time (first ingest in this process, including importing pypdf and
python-docx) and the warm time. `--engine` also times building the engine's index for the new pack
after the model has loaded (the one-off encoding a first `ask`/`serve` does; cached afterwards).

    python bench/ingest_speed.py [--pages 20] [--engine]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

TOPICS = ["personal accounts", "official accounts", "photographs of pupils", "messaging apps", "live streaming",
          "contact with parents", "online safety", "data protection", "monitoring", "breaches"]
SUBJECTS = ["Staff", "Employees", "Volunteers", "Governors", "Members of staff"]
RULES = ["must not accept friend requests from pupils on any personal account",
         "should review their privacy settings at least once a term",
         "may use professional networking sites in a personal capacity",
         "must obtain the approval of the headteacher before creating an account for a class or club",
         "must not share photographs of pupils on personal devices or accounts",
         "should not discuss colleagues, pupils or parents in online groups",
         "must report any concern about a child's safety to the Designated Safeguarding Lead the same day",
         "must keep passwords for official accounts with the school office"]


def build_pdf(path: Path, pages: int, seed: int = 7) -> int:
    from fpdf import FPDF

    rng = random.Random(seed)
    unicode_font = FONT.exists()

    class Policy(FPDF):
        def header(self):
            self.set_font("body" if unicode_font else "Helvetica", size=8)
            self.cell(0, 5, "Example Academy - Social Media Policy - v5", align="C", new_x="LMARGIN", new_y="NEXT")
            self.ln(3)

        def footer(self):
            self.set_y(-15)
            self.set_font("body" if unicode_font else "Helvetica", size=8)
            self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = Policy(format="A4")
    if unicode_font:
        pdf.add_font("body", "", str(FONT))
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    bullet = "•" if unicode_font else "-"
    section = 0
    while pdf.page_no() <= pages:
        section += 1
        pdf.set_font("body" if unicode_font else "Helvetica", size=12)
        pdf.multi_cell(0, 7, f"{section}. {rng.choice(TOPICS).upper()}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("body" if unicode_font else "Helvetica", size=10.5)
        for number in range(1, rng.randint(5, 9)):
            text = " ".join(f"{rng.choice(SUBJECTS)} {rng.choice(RULES)}." for _ in range(rng.randint(1, 4)))
            if number % 4 == 0:
                text += " They must:"
            pdf.multi_cell(0, 5.2, f"{section}.{number} {text}", new_x="LMARGIN", new_y="NEXT", align="J")
            if number % 4 == 0:
                for letter in "abc":
                    pdf.set_x(pdf.l_margin + 8)
                    pdf.multi_cell(0, 5.2, f"({letter}) {rng.choice(RULES)};", new_x="LMARGIN", new_y="NEXT")
            if number % 3 == 0:
                for _ in range(3):
                    pdf.set_x(pdf.l_margin + 6)
                    pdf.multi_cell(0, 5.2, f"{bullet} {rng.choice(RULES)}", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
            if pdf.page_no() > pages:
                break
    # Trim: stop at the page count asked for (the last page may be partly filled).
    pdf.output(str(path))
    import pypdf

    return len(pypdf.PdfReader(str(path)).pages)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--engine", action="store_true", help="also time the engine's first index build")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pdf = tmp / "policy.pdf"
        pages = build_pdf(pdf, args.pages - 1)
        started = time.perf_counter()
        from knowledge.ingest import ingest_document

        cold = ingest_document(pdf, "speed", tmp / "packs")
        cold_s = time.perf_counter() - started
        started = time.perf_counter()
        warm = ingest_document(pdf, "speed2", tmp / "packs")
        warm_s = time.perf_counter() - started
        print(f"{pages}-page PDF: {len(cold.clauses)} clauses, {len(set(cold.dropped))} running lines dropped, "
              f"problems: {len(cold.problems)}")
        print(f"ingest cold (imports included): {cold_s:.2f} s; warm: {warm_s:.2f} s; target <= 2 s")
        print(f"model loaded during ingest: {'sentence_transformers' in sys.modules}")
        if args.engine:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from knowledge.encoder import load_encoder
            from knowledge.engine import PolicyEngine
            from knowledge.pack import load_pack

            t0 = time.perf_counter()
            encoder = load_encoder()
            load_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            PolicyEngine(load_pack("speed", tmp / "packs"), encoder, cache_dir=tmp / "cache")
            build_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            PolicyEngine(load_pack("speed", tmp / "packs"), encoder, cache_dir=tmp / "cache")
            cached_s = time.perf_counter() - t0
            print(f"model load {load_s:.1f} s; first index build {build_s:.1f} s; from cache {cached_s:.2f} s "
                  f"({len(warm.clauses)} clauses)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
