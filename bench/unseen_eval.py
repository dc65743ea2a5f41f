"""How well a freshly ingested, uncurated pack answers plain staff questions: top-1 / top-3 by quoted clause.

For each policy in bench/unseen/ (its questions in <name>.yaml), ingest the document into a temporary
packs folder exactly as `policybot ingest` would, build the engine, and check whether the clause it
quotes contains the labelled snippet. `--baseline` also scores plain MiniLM over the clause texts (no
engine), for reference. `--advisor` measures through the full Advisor (intent routing included).

A policy's yaml may name the asker's `role` (staff by default) and list `out_of_scope` questions the policy
does not cover: those must not be answered, and the "out-of-scope abstain" rate says how many were not (a
higher answer rate bought by answering everything would show up there). `--dir bench/unseen_heldout` runs
the held-out set, which is only measured, never tuned on.

    python bench/unseen_eval.py [--dir DIR] [--baseline] [--advisor] [--misses]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from knowledge.ingest import ingest_document  # noqa: E402
from knowledge.pack import load_pack  # noqa: E402

UNSEEN = ROOT / "bench" / "unseen"


def key(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").lower()
    return " ".join(text.split())


def hits(expect: str, clauses) -> list[bool]:
    wanted = key(expect)
    return [wanted in key(c.text) for c in clauses]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", action="store_true", help="also score plain MiniLM over clause texts")
    parser.add_argument("--advisor", action="store_true", help="score through intents.advisor.Advisor")
    parser.add_argument("--misses", action="store_true", help="list the questions missed at top-1")
    parser.add_argument("--dir", type=Path, default=UNSEEN, help="folder of policies and their <name>.yaml questions")
    parser.add_argument("--only", default="", help="run one policy (its name, e.g. riverside)")
    parser.add_argument("--confidence", action="store_true", help="answered rate and precision at several thresholds")
    parser.add_argument("--no-headings", action="store_true", help="drop the guessed headings (ablation)")
    parser.add_argument(
        "--ablate", action="append", default=[], choices=["derived", "sentences", "lead-items"],
        help="measure without the engine's derived questions or sentence entries (patched here, not in the engine)",
    )
    args = parser.parse_args()

    from knowledge.encoder import load_encoder
    from knowledge.engine import PolicyEngine

    if args.ablate:
        import knowledge.index as index_module

        if "derived" in args.ablate:
            index_module.questions_from_clause = lambda clause: []
        if "sentences" in args.ablate:
            index_module.sentences = lambda text: []
        if "lead-items" in args.ablate:
            # Experiment (not an ablation): each list item also stands as "lead-in + item", so
            # "(c) not enter into debates..." is matched as "Officers ... must: not enter into debates...".
            plain_sentences = index_module.sentences

            def with_lead_items(text: str) -> list[str]:
                out = list(plain_sentences(text))
                m = re.match(r"(.*?:)\s+(?=\(?[a-z]\)|[•▪])", text)
                if m:
                    lead = m.group(1).split(". ")[-1]
                    items = re.split(r"\s+(?=\([a-z]\)\s|[•▪]\s)", text[m.end():])
                    marker = re.compile(r"^(\([a-z]\)|[•▪])\s*")
                    out += [lead + " " + marker.sub("", i).rstrip(";.") for i in items if i.strip()]
                return out

            index_module.sentences = with_lead_items

    started = time.perf_counter()
    encoder = load_encoder()
    print(f"model loaded in {time.perf_counter() - started:.1f} s")
    totals = {"n": 0, "top1": 0, "top3": 0, "base1": 0, "base3": 0, "oos": 0, "oos_abstained": 0}
    folder = args.dir if args.dir.is_absolute() else (Path.cwd() / args.dir)
    confidences: list[tuple[float, bool]] = []
    oos_confidences: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        packs = Path(tmp) / "packs"
        for spec_path in sorted(folder.glob(f"{args.only or '*'}.yaml")):
            spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
            name = spec_path.stem
            t0 = time.perf_counter()
            result = ingest_document(folder / spec["document"], name, packs, school=spec.get("school", ""))
            ingest_s = time.perf_counter() - t0
            pack = load_pack(name, packs)
            if args.no_headings:
                from dataclasses import replace

                pack = replace(pack, clauses=tuple(replace(c, heading="") for c in pack.clauses))
            t0 = time.perf_counter()
            engine = PolicyEngine(pack, encoder, cache_dir=Path(tmp) / "cache")
            build_s = time.perf_counter() - t0
            questions = spec["questions"]
            for q in questions:
                labelled = [c for c in pack.clauses if key(q["expect"]) in key(c.text)]
                if len(labelled) != 1:
                    raise SystemExit(f"{name}: label {q['expect']!r} matches {len(labelled)} clauses")
            role = spec.get("role", "staff")
            out_of_scope = [str(q) for q in spec.get("out_of_scope") or []]
            texts = [q["q"] for q in questions]
            if args.advisor:
                from intents.advisor import Advisor
                from intents.classify import IntentClassifier

                classifier = IntentClassifier(encoder, cache_dir=Path(tmp) / "cache")
                advisor = Advisor(engine, classifier)
                replies = advisor.respond_many(texts, role)
                oos_answered = [(r.question, r.matches[0].clause.id) for r in advisor.respond_many(out_of_scope, role) if r.answer is not None]
                # Ranked as the reply shows them (matches are offered whether or not the bot commits to the first).
                ranked = [[m.clause for m in r.matches] for r in replies]
                committed = [(r.answer is not None, bool(r.matches) and hits(q["expect"], [r.matches[0].clause])[0]) for q, r in zip(questions, replies)]
                totals["answered"] = totals.get("answered", 0) + sum(a for a, _ in committed)
                totals["answered_right"] = totals.get("answered_right", 0) + sum(a and ok for a, ok in committed)
                withheld = sum(
                    1 for q, r in zip(questions, replies)
                    if r.answer is None and r.matches and hits(q["expect"], [r.matches[0].clause])[0]
                )
                intents = sorted({r.intent for r in replies if r.intent != "question"})
                print(f"{name}: answered {sum(r.answer is not None for r in replies)}/{len(replies)}; "
                      f"right clause on top but no answer shown (below threshold or routed to another intent): {withheld}; other intents: {intents}")
            else:
                searches = engine.search_many(texts, role)
                oos_searches = engine.search_many(out_of_scope, role)
                oos_answered = [(s.question, s.matches[0].clause.id) for s in oos_searches if s.answered]
                oos_confidences.extend(s.confidence for s in oos_searches)
                ranked = [[m.clause for m in s.matches] for s in searches]
                confidences.extend(
                    (s.confidence, bool(s.matches) and hits(q["expect"], [s.matches[0].clause])[0])
                    for q, s in zip(questions, searches)
                )
            top1 = top3 = 0
            missed = []
            for number, (q, clauses) in enumerate(zip(questions, ranked)):
                got = hits(q["expect"], clauses[:3])
                top1 += bool(got[:1] and got[0])
                top3 += any(got)
                if not (got[:1] and got[0]):
                    top = " ".join(f"[{c.id}|{c.audience}]" for c in clauses[:3])
                    how = "top-3 hit" if any(got) else "NOT in top 3"
                    if args.advisor and not clauses:
                        r = replies[number]
                        how += f" (intent {r.intent}, confidence {r.confidence:.2f}, top {r.matches[0].clause.id if r.matches else '-'})"
                    missed.append((q["q"], q["expect"], top, how))
            n = len(questions)
            line = (f"{name:12s} {result.kind:4s} {len(pack.clauses):3d} clauses  top-1 {top1 / n:.2f}  top-3 {top3 / n:.2f}"
                    f"  (n={n}; ingest {ingest_s:.2f} s, engine build {build_s:.2f} s)")
            if out_of_scope:
                line += f"  out-of-scope abstain {1 - len(oos_answered) / len(out_of_scope):.2f} (n={len(out_of_scope)})"
            if args.baseline:
                import numpy as np

                vectors = np.asarray(encoder.encode([c.text for c in pack.clauses]))
                queries = np.asarray(encoder.encode(texts))
                scores = queries @ vectors.T
                b1 = b3 = 0
                for q, row in zip(questions, scores):
                    order = [pack.clauses[i] for i in np.argsort(-row)[:3]]
                    got = hits(q["expect"], order)
                    b1 += got[0]
                    b3 += any(got)
                totals["base1"] += b1
                totals["base3"] += b3
                line += f"   baseline top-1 {b1 / n:.2f} top-3 {b3 / n:.2f}"
            print(line)
            if args.misses:
                for question, expect, cid, text in missed:
                    print(f"   miss: {question!r} wanted {expect!r}; quoted [{cid}] {text}")
                for question, cid in oos_answered:
                    print(f"   out-of-scope answered: {question!r} with [{cid}]")
            totals["n"] += n
            totals["top1"] += top1
            totals["top3"] += top3
            totals["oos"] += len(out_of_scope)
            totals["oos_abstained"] += len(out_of_scope) - len(oos_answered)
    n = totals["n"]
    summary = f"ALL          {n} questions  top-1 {totals['top1'] / n:.2f}  top-3 {totals['top3'] / n:.2f}"
    if args.baseline:
        summary += f"   baseline top-1 {totals['base1'] / n:.2f} top-3 {totals['base3'] / n:.2f}"
    if totals["oos"]:
        summary += f"   out-of-scope abstain {totals['oos_abstained'] / totals['oos']:.2f} (n={totals['oos']})"
    if "answered" in totals:
        answered = totals["answered"]
        summary += f"   answered {answered / n:.2f}, right when answered {totals['answered_right'] / max(answered, 1):.2f}"
    print(summary)
    if args.confidence and confidences:
        print("threshold  answered  right-when-answered  right-but-withheld  out-of-scope answered")
        for threshold in (0.2, 0.3, 0.4, 0.5, 0.6):
            shown = [ok for c, ok in confidences if c >= threshold]
            withheld = sum(ok for c, ok in confidences if c < threshold)
            precision = sum(shown) / len(shown) if shown else 0.0
            oos = sum(c >= threshold for c in oos_confidences)
            print(f"  {threshold:.1f}      {len(shown):3d}/{len(confidences)}   {precision:.2f}                 {withheld:3d}"
                  f"                 {oos}/{len(oos_confidences)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
