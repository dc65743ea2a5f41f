"""Every labelled Clearwell set in one table: the README's quality table, measured as the bot answers.

  python bench/trust_eval.py [--threshold 0.7] [--failures N] [--hedged N] [--split dev|test] [--only NAME]

Development sets (tuned on) and test sets (never tuned on, bench/trust/README.md) are reported apart; a test
set's failures are never printed. Uncurated policies are measured by bench/unseen_eval.py.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PACK = ROOT / "knowledge" / "packs" / "clearwell"
SETS = [
    ("dev", "eval.yaml (earlier sessions)", PACK / "eval.yaml"),
    ("dev", "short phone questions", ROOT / "bench" / "trust" / "dev" / "short.yaml"),
    ("dev", "long real-style posts", ROOT / "bench" / "trust" / "dev" / "long.yaml"),
    ("dev", "long messages, second blind set", ROOT / "bench" / "trust" / "dev" / "long_2.yaml"),
    ("dev", "safeguarding, 17 languages", ROOT / "bench" / "trust" / "dev" / "safeguarding.yaml"),
    ("dev", "safeguarding, understated and look-alikes", ROOT / "bench" / "trust" / "dev" / "safeguarding_understated.yaml"),
    ("dev", "safeguarding, 33 languages, understated", ROOT / "bench" / "trust" / "dev" / "safeguarding_multilingual.yaml"),
    ("dev", "safeguarding, 16 languages, third-party and mixed", ROOT / "bench" / "trust" / "dev" / "safeguarding_multilingual_2.yaml"),
    ("test", "heldout.yaml (earlier sessions)", PACK / "heldout.yaml"),
    ("test", "short phone questions", ROOT / "bench" / "trust" / "test" / "short.yaml"),
    ("test", "long real-style messages", ROOT / "bench" / "trust" / "test" / "long.yaml"),
    ("test", "safeguarding, 24 languages", ROOT / "bench" / "trust" / "test" / "safeguarding.yaml"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threshold", type=float, default=None, help="ANSWER_THRESHOLD (default: the settings')")
    parser.add_argument("--failures", type=int, default=0, help="failures to list for development sets")
    parser.add_argument("--hedged", type=int, default=0, help="questions hedged though the first match was right, to list for development sets")
    parser.add_argument("--split", choices=("dev", "test"), default=None, help="measure one split only (tuning: --split dev)")
    parser.add_argument("--only", default=None, help="only the sets whose file or name contains this")
    args = parser.parse_args()

    from dataclasses import replace

    from bot.runtime import build_advisor
    from bot.settings import load_settings
    from intents.evaluate import evaluate, format_hedged_right, format_report

    settings = load_settings(ROOT / ".env")
    if args.threshold is not None:
        settings = replace(settings, answer_threshold=args.threshold)
    advisor = build_advisor(settings, office_answers=False)
    print(f"ANSWER_THRESHOLD {settings.answer_threshold}\n")
    print("| split | set | in scope (+out) | top-1 | top-3 | answered | right when answered | out of scope not answered | contradicted yes/no |")
    print("|---|---|---|---|---|---|---|---|---|")
    safeguarding = []
    for split, name, path in SETS:
        if (args.split and split != args.split) or (args.only and args.only not in f"{path} {name}"):
            continue
        report = evaluate(advisor, path)
        c = report.counts
        if c["messages"]:
            safeguarding.append((split, name, report))
            continue
        print(
            f"| {split} | {name} | {c['questions']} (+{c['out_of_scope']}) | {report.top1:.2f} | {report.top3:.2f} | "
            f"{report.answered_in_scope:.2f} | {report.answered_precision:.2f} | {report.abstention_recall:.2f} | "
            f"{report.contradictions:.3f} ({c['yes_no']}) |"
        )
        if split == "dev" and args.failures:
            print(format_report(report, args.failures))
        if split == "dev" and args.hedged:
            print(format_hedged_right(report, args.hedged))
    print()
    print("| split | set | messages | disclosures caught | English | other languages | false alarms | notice in their language |")
    print("|---|---|---|---|---|---|---|---|")
    for split, name, report in safeguarding:
        english = report.by_language.get("en", {})
        others = [n for lang, n in report.by_language.items() if lang != "en"]
        caught = sum(n.get("caught", 0) for n in others)
        at_risk = sum(n.get("at_risk", 0) for n in others)
        print(
            f"| {split} | {name} | {report.counts['messages']} | {report.safeguarding_recall:.3f} | "
            f"{english.get('caught', 0)}/{english.get('at_risk', 0)} | {caught}/{at_risk} | "
            f"{report.safeguarding_false_alarms:.3f} | {report.non_english_notice:.3f} |"
        )
    # Per language for the development sets (caught/at risk, false alarms/others); test sets only in total.
    for split, name, report in safeguarding:
        languages = [(lang, n) for lang, n in report.by_language.items() if lang != "en"]
        if split == "dev" and languages:
            print(f"\n{name}, per language (caught/at risk, false alarms/others):")
            print("  " + "  ".join(f"{lang} {n.get('caught', 0)}/{n.get('at_risk', 0)},{n.get('alarms', 0)}/{n.get('others', 0)}" for lang, n in languages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
