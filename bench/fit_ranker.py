"""Fit the engine's ranking weights and its answer/hedge model on the development sets; write data/ranker.yaml.

  python bench/fit_ranker.py [--write] [--folds 5]

Development sets only (never the test sets): the Clearwell pack's eval.yaml, bench/trust/dev/short.yaml,
bench/trust/dev/long.yaml and long_2.yaml, and the uncurated policies in bench/unseen/ (ingested with no notes, as a school's
own policy would be). For every message the engine describes its candidate clauses (knowledge/engine.py,
FEATURES); the ranking weights maximise the probability of an acceptable clause under a softmax over the
candidates (listwise, L2 towards the hand-set defaults), each set weighted alike. The answer/hedge model is a
logistic regression on the first candidate's DECISION signals, labelled "the first clause is acceptable"
(out-of-scope messages are never right), with its regularisation chosen by cross-validation.

The cross-validated numbers printed (by fold, never seen while fitting that fold) are what to expect on new
messages like these; the held-out test sets are measured separately with `policybot eval` and
bench/unseen_eval.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

from knowledge.engine import DECISION, DEFAULT_WEIGHTS, FEATURES, RANKER, PolicyEngine, Ranker, agreement_of, kin_signals  # noqa: E402
from knowledge.pack import load_pack, read_yaml  # noqa: E402

CLEARWELL_SETS = [
    ROOT / "knowledge" / "packs" / "clearwell" / "eval.yaml",
    ROOT / "bench" / "trust" / "dev" / "short.yaml",
    ROOT / "bench" / "trust" / "dev" / "long.yaml",
    ROOT / "bench" / "trust" / "dev" / "long_2.yaml",
]
UNCURATED_DIR = ROOT / "bench" / "unseen"
L2 = float(os.environ.get("FIT_L2", "2.0"))


class Sample:
    """One message: its candidates' signals, which of them are acceptable, and where it came from."""

    def __init__(self, group: str, features: np.ndarray, good: np.ndarray, decision_extra: dict, in_scope: bool,
                 kin: list[set[int]] | None = None, winners: tuple[int, ...] = ()):
        self.kin = kin if kin is not None else [set() for _ in features]  # per candidate: its kin among the candidates
        self.winners = winners  # a long message: each sentence's best candidate (an index)
        self.group = group
        self.features = features
        self.good = good
        self.extra = decision_extra
        self.in_scope = in_scope


def _key(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("‘", "'").lower().split())


def describe(engine: PolicyEngine, items: list[tuple[str, str, set[str] | None]], group: str) -> list[Sample]:
    out = []
    by_role: dict[str, list[int]] = {}
    for i, (_q, role, _e) in enumerate(items):
        by_role.setdefault(role, []).append(i)
    described: dict[int, object] = {}
    for role, idx in by_role.items():
        for i, d in zip(idx, engine.describe_many([items[i][0] for i in idx], role)):
            described[i] = d
    for i, (q, role, expect) in enumerate(items):
        d = described[i]
        if not d.positions:
            continue
        ids = [engine.index.clauses[p].id for p in d.positions]
        good = np.array([expect is not None and cid in expect for cid in ids], dtype=bool)
        extra = {"long": float(d.long), "words": float(np.log1p(d.words)), "vague": float(d.vague), "outsider": float(d.subject.outsider)}
        kin = [{j for j, o in enumerate(d.positions) if o in engine.kin[p]} for p in d.positions]
        winners = tuple(d.positions.index(w) for w in d.part_winners)
        out.append(Sample(group, d.features, good, extra, expect is not None, kin, winners))
    return out


def clearwell_samples(cache: Path) -> list[Sample]:
    """The Clearwell pack answered as the bot answers it: with its adapter (knowledge/adapt.py)."""
    from bot.runtime import model_for
    from bot.settings import Settings
    from knowledge.encoder import load_encoder

    pack = load_pack()
    encoder = load_encoder(model_for(Settings(cache_dir=cache), pack))
    engine = PolicyEngine(pack, encoder, cache_dir=cache)
    samples = []
    for path in CLEARWELL_SETS:
        data = read_yaml(path)
        items = [(q["q"], q.get("role", "staff"), set(q["expect"])) for q in data.get("questions") or []]
        items += [((o if isinstance(o, str) else o["q"]), ("staff" if isinstance(o, str) else o.get("role", "staff")), None) for o in data.get("out_of_scope") or []]
        samples += describe(engine, items, f"clearwell:{path.stem}")
    return samples


def uncurated_samples(encoder, cache: Path, folder: Path) -> list[Sample]:
    from knowledge.ingest import ingest_document

    samples = []
    with tempfile.TemporaryDirectory() as tmp:
        packs = Path(tmp) / "packs"
        for spec_path in sorted(folder.glob("*.yaml")):
            spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
            if "document" not in spec:
                continue
            name = spec_path.stem
            ingest_document(folder / spec["document"], name, packs, school=spec.get("school", ""))
            pack = load_pack(name, packs)
            engine = PolicyEngine(pack, encoder, cache_dir=cache)
            role = spec.get("role", "staff")
            items = []
            for q in spec["questions"]:
                ids = {c.id for c in pack.clauses if _key(q["expect"]) in _key(c.text)}
                items.append((q["q"], role, ids))
            items += [(str(o), role, None) for o in spec.get("out_of_scope") or []]
            samples += describe(engine, items, f"uncurated:{name}")
    return samples


def set_weights(samples: list[Sample]) -> np.ndarray:
    groups = [s.group.split(":")[0] + ":" + ("long" if "long" in s.group else "short") for s in samples]
    counts = {g: groups.count(g) for g in set(groups)}
    mean = len(samples) / len(counts)
    return np.array([mean / counts[g] for g in groups])


def fit_weights(samples: list[Sample], weights: np.ndarray, l2: float = L2) -> np.ndarray:
    prior = np.array([DEFAULT_WEIGHTS.get(f, 0.0) for f in FEATURES])
    usable = [(s, w) for s, w in zip(samples, weights) if s.in_scope and s.good.any()]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.0, np.zeros_like(theta)
        for s, w in usable:
            z = s.features @ theta * 20.0  # a temperature that puts weights near 1 on cosine-scale signals
            z -= z.max()
            p = np.exp(z)
            p /= p.sum()
            good = p[s.good].sum()
            total -= w * np.log(good + 1e-12)
            # d(-log good)/dθ = 20 * (E_p[f] - E_{p|good}[f])
            pg = np.where(s.good, p, 0.0) / (good + 1e-12)
            grad -= w * 20.0 * (pg @ s.features - p @ s.features)
        total += l2 * np.sum((theta - prior) ** 2)
        grad += 2 * l2 * (theta - prior)
        return total, grad

    result = minimize(loss, prior, jac=True, method="L-BFGS-B", options={"maxiter": 400})
    return result.x


def decision_rows(samples: list[Sample], theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, labels = [], []
    index = {f: i for i, f in enumerate(FEATURES)}
    for s in samples:
        scores = s.features @ theta
        order = np.argsort(-scores, kind="stable")
        top = s.features[order[0]]
        second = scores[order[1]] if len(order) > 1 else 0.0
        values = {
            "score": scores[order[0]],
            "margin": scores[order[0]] - second,
            "best": top[index["best"]],
            "asked": top[index["asked"]],
            "worded": top[index["worded"]],
            "part_best": top[index["part_best"]],
            "focus_best": top[index["focus_best"]],
            "curated": top[index["curated"]],
            "clash": top[index["actor_clash"]] + top[index["target_clash"]] + top[index["channel_clash"]],
            **s.extra,
            **agreement_of(s.features, int(order[0])),
            **kin_signals(s.kin, list(range(len(s.features))), s.winners, scores, order),
        }
        rows.append([values[k] for k in DECISION])
        labels.append(bool(s.in_scope and s.good[order[0]]))
    return np.array(rows), np.array(labels)


def fit_decision(rows: np.ndarray, labels: np.ndarray, weights: np.ndarray, c: float):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000)
    model.fit(rows, labels, sample_weight=weights)
    return model


LONG = DECISION.index("long")
CURATED = DECISION.index("curated")
# A long message is judged on few signals, learnt from every curated message (a long one marked so): the
# first clause's score, how far it is ahead (of the second, and of any candidate that is not its kin), whether
# it is about other people or accounts than the message, and whether the message names an outsider. Signals
# that describe the style of the writing (its length, how closely it resembles the pack's own example messages
# or clause sentences) are left out: fitted on ~140 posts by one writer they did not carry over to other writers.
LONG_SIGNALS = ("score", "margin", "margin_kin", "clash", "outsider", "long")
LONG_COLUMNS = [DECISION.index(k) for k in LONG_SIGNALS]


def regimes(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which answer/hedge model judges each message: a policy nobody curated, else a long or a short message."""
    uncurated = rows[:, CURATED] == 0
    long = (rows[:, LONG] > 0) & ~uncurated
    return ~uncurated & ~long, long, uncurated


def fit_decisions(rows: np.ndarray, labels: np.ndarray, weights: np.ndarray, c: float):
    """One answer/hedge model per regime (a paragraph, or an uncurated policy, is judged differently); the long
    messages' model learns from every curated message, on LONG_SIGNALS only."""
    short, _long, uncurated = regimes(rows)
    curated = ~uncurated
    return (
        fit_decision(rows[short], labels[short], weights[short], c),
        fit_decision(rows[curated][:, LONG_COLUMNS], labels[curated], weights[curated], c),
        fit_decision(rows[uncurated], labels[uncurated], weights[uncurated], c),
    )


def predict(models, rows: np.ndarray) -> np.ndarray:
    out = np.zeros(len(rows))
    for k, (model, mask) in enumerate(zip(models, regimes(rows))):
        if mask.any():
            out[mask] = model.predict_proba(rows[mask][:, LONG_COLUMNS] if k == 1 else rows[mask])[:, 1]
    return out


def coefficients(model, names) -> dict[str, float]:
    """A fitted model as data/ranker.yaml holds it (every DECISION signal named; those it did not use are 0)."""
    found = dict(zip(names, model.coef_[0]))
    return {"intercept": round(float(model.intercept_[0]), 4)} | {k: round(float(found.get(k, 0.0)), 4) for k in DECISION}


def is_curated(sample: Sample) -> bool:
    return sample.group.startswith("clearwell:")


def fit_both(samples: list[Sample], weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ranking weights for curated packs and for packs nobody curated (their signals are not alike)."""
    curated = np.array([is_curated(s) for s in samples])
    return (
        fit_weights([s for s, c in zip(samples, curated) if c], weights[curated]),
        fit_weights([s for s, c in zip(samples, curated) if not c], weights[~curated]),
    )


def decision_rows_both(samples: list[Sample], thetas) -> tuple[np.ndarray, np.ndarray]:
    rows, labels = [], []
    for s in samples:
        r, l = decision_rows([s], thetas[0] if is_curated(s) else thetas[1])
        rows.append(r[0])
        labels.append(l[0])
    return np.array(rows), np.array(labels)


def evaluate_fold(samples, weights, train, test, c) -> list[tuple[str, bool, bool, float]]:
    """(group, in scope, top-1 right, probability) for each held-out sample."""
    thetas = fit_both([samples[i] for i in train], weights[train])
    rows, labels = decision_rows_both([samples[i] for i in train], thetas)
    models = fit_decisions(rows, labels, weights[train], c)
    test_rows, test_labels = decision_rows_both([samples[i] for i in test], thetas)
    probs = predict(models, test_rows)
    return [(samples[i].group, samples[i].in_scope, bool(ok), float(p)) for i, ok, p in zip(test, test_labels, probs)]


def report(results, threshold=0.5) -> list[str]:
    lines = []
    groups = sorted({g for g, *_ in results})
    for g in groups + ["ALL"]:
        rs = [r for r in results if g == "ALL" or r[0] == g]
        inscope = [r for r in rs if r[1]]
        oos = [r for r in rs if not r[1]]
        top1 = sum(r[2] for r in inscope) / max(len(inscope), 1)
        answered = [r for r in inscope if r[3] >= threshold]
        precision = sum(r[2] for r in answered) / max(len(answered), 1)
        oos_held = sum(r[3] < threshold for r in oos) / max(len(oos), 1)
        lines.append(
            f"  {g:34} n={len(inscope):3d}+{len(oos):2d}  top-1 {top1:.3f}  answered {len(answered) / max(len(inscope), 1):.3f}"
            f"  precision {precision:.3f}  out-of-scope held {oos_held:.3f}"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write knowledge/data/ranker.yaml")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()

    from knowledge.encoder import load_encoder

    encoder = load_encoder()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        samples = clearwell_samples(ROOT / "data" / "cache") + uncurated_samples(encoder, cache, UNCURATED_DIR)
    weights = set_weights(samples)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(samples))
    folds = np.array_split(order, args.folds)
    print(f"{len(samples)} messages from {len({s.group for s in samples})} sets")
    best_c, best_loss = None, None
    for c in (0.1, 0.3, 1.0, 3.0):
        results = []
        for k in range(args.folds):
            test = folds[k]
            train = np.concatenate([folds[j] for j in range(args.folds) if j != k])
            results += evaluate_fold(samples, weights, train, test, c)
        probs = np.array([r[3] for r in results])
        labels = np.array([r[2] for r in results])
        log_loss = -np.mean(labels * np.log(probs + 1e-9) + (~labels) * np.log(1 - probs + 1e-9))
        print(f"C={c}: cross-validated log loss {log_loss:.4f}")
        for line in report(results):
            print(line)
        if best_loss is None or log_loss < best_loss:
            best_c, best_loss, best_results = c, log_loss, results
    print(f"C={best_c}: answered rate / precision / out-of-scope held, by threshold (cross-validated)")
    for threshold in (0.5, 0.6, 0.7, 0.8):
        print(f" threshold {threshold}")
        for line in report(best_results, threshold):
            if "clearwell" in line or "ALL" in line:
                print(line)
    theta, theta_uncurated = fit_both(samples, weights)
    rows, labels = decision_rows_both(samples, (theta, theta_uncurated))
    model, long_model, uncurated_model = fit_decisions(rows, labels, weights, best_c)
    print("weights:", {f: round(float(w), 3) for f, w in zip(FEATURES, theta)})
    print("decision:", {k: round(float(v), 3) for k, v in zip(DECISION, model.coef_[0])}, "intercept", round(float(model.intercept_[0]), 3))
    if args.write:
        data = {
            "version": 1,
            "fitted": f"{date.today().isoformat()} by bench/fit_ranker.py on {len(samples)} development messages "
            f"({', '.join(sorted({s.group for s in samples}))}); decision C={best_c}",
            "cross_validated": report(best_results),
            "weights": {f: round(float(w), 4) for f, w in zip(FEATURES, theta)},
            "weights_uncurated": {f: round(float(w), 4) for f, w in zip(FEATURES, theta_uncurated)},
            "decision": coefficients(model, DECISION),
            "decision_long": coefficients(long_model, LONG_SIGNALS),
            "decision_uncurated": coefficients(uncurated_model, DECISION),
        }
        header = "# Fitted by `python bench/fit_ranker.py --write` (knowledge/engine.py reads it). Do not edit by hand.\n"
        RANKER.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
        print(f"wrote {RANKER}")
        Ranker.load()  # it must load
    return 0


if __name__ == "__main__":
    sys.exit(main())
