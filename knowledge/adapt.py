"""A per-pack adapter: the embedding model fine-tuned on the pack's own questions, built once and cached.

A curated pack holds a few thousand questions people ask, each labelled with the clause that answers it
(alternates, and the example messages of each ruling). One short pass of sentence-transformers'
MultipleNegativesRankingLoss over (question, "heading: clause") pairs teaches the small model this policy's
distinctions — the school's page against a personal account, pupils against parents — and lifts both the
first answer and the gap between an answer and a message the policy does not cover (README, measured).

Reproducible: the pairs come only from the pack's files, in a fixed order, with a fixed seed; the result is
cached under a key made of the digest of those files, the shorthand table, the base model and these
settings (never committed). A pack with fewer than MIN_QUESTIONS curated questions (a freshly ingested
policy, a test's throw-away pack) gets no adapter and costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from knowledge.pack import Pack
from knowledge.shorthand import DEFAULTS as SHORTHAND_FILE, expander, load_shorthand

log = logging.getLogger(__name__)

ADAPT_VERSION = 1
MIN_QUESTIONS = 300
SETTINGS = {"epochs": 1, "batch": 32, "lr": 3e-5, "scale": 20.0, "doc_words": 40, "max_seq_length": 64, "seed": 0}
PACK_FILES = ("pack.yaml", "enrichment.yaml", "clauses.json")


def training_pairs(pack: Pack) -> list[tuple[str, str, str]]:
    """(question, the clause as "heading: text", clause id) for every curated question, in pack order."""
    expand = expander(load_shorthand(pack.shorthand))
    pairs, seen = [], set()
    for clause in pack.clauses:
        words = f"{clause.heading}: {clause.text}" if clause.heading else clause.text
        doc = " ".join(words.split()[: SETTINGS["doc_words"]])
        for question in (*clause.alternates, *clause.ruling_questions()):
            text = expand(" ".join(question.split()))
            if text and (text.lower(), clause.id) not in seen:
                seen.add((text.lower(), clause.id))
                pairs.append((text, doc, clause.id))
    return pairs


def qualifies(pack: Pack) -> bool:
    return len(training_pairs(pack)) >= MIN_QUESTIONS


def adapter_key(pack: Pack, base_fingerprint: str) -> str:
    """A digest of everything the adapter is built from."""
    digest = hashlib.sha256(f"v{ADAPT_VERSION}|{base_fingerprint}|{json.dumps(SETTINGS, sort_keys=True)}".encode())
    files = [pack.folder / name for name in PACK_FILES] + [pack.source_path, SHORTHAND_FILE]
    for path in files:
        if path.is_file():
            digest.update(b"\x00" + path.name.encode() + b"\x00" + path.read_bytes())
    return digest.hexdigest()[:20]


def adapter_folder(cache_dir: Path, pack: Pack, base_fingerprint: str) -> Path:
    return Path(cache_dir) / "adapters" / f"{pack.name}-{adapter_key(pack, base_fingerprint)}"


def ensure_adapter(pack: Pack, base_model: str, base_fingerprint: str, cache_dir: Path | str, announce=None) -> str | None:
    """The folder of this pack's adapted model, built now if it is not cached; None when the pack has too few
    curated questions or the build fails (the base model then serves, as before)."""
    if not qualifies(pack):
        return None
    folder = adapter_folder(Path(cache_dir), pack, base_fingerprint)
    if (folder / "adapter.json").is_file():
        return str(folder)
    try:
        if announce is not None:
            announce(f"Adapting the language model to the {pack.name} policy (once; a few minutes)…")
        stats = train(training_pairs(pack), base_model, folder)
        log.info("adapter for pack %s built in %.0f s from %d questions", pack.name, stats["seconds"], stats["pairs"])
        return str(folder)
    except Exception:  # an adapter is an improvement, never a requirement
        log.exception("could not build the adapter for pack %s; answering with the base model", pack.name)
        return None


def train(pairs: list[tuple[str, str, str]], base_model: str, folder: Path) -> dict:
    """One pass of MultipleNegativesRankingLoss over the pairs; the model is written to `folder` atomically."""
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer, losses

    started = time.perf_counter()
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    seed = SETTINGS["seed"]
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    model = SentenceTransformer(base_model, device="cpu")
    model.max_seq_length = SETTINGS["max_seq_length"]
    loss = losses.MultipleNegativesRankingLoss(model, scale=SETTINGS["scale"])
    optimiser = torch.optim.AdamW(model.parameters(), lr=SETTINGS["lr"])
    order = list(pairs)
    rng = random.Random(seed)
    steps = 0
    model.train()
    for _epoch in range(SETTINGS["epochs"]):
        rng.shuffle(order)
        for batch in _batches(order, SETTINGS["batch"]):
            prepare = getattr(model, "preprocess", None) or model.tokenize
            anchors = prepare([q for q, _d, _c in batch])
            positives = prepare([d for _q, d, _c in batch])
            value = loss([anchors, positives], None)
            optimiser.zero_grad()
            value.backward()
            optimiser.step()
            steps += 1
    model.eval()
    model.max_seq_length = 256
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
    try:
        model.save(str(staging))
        stats = {"pairs": len(pairs), "steps": steps, "seconds": round(time.perf_counter() - started, 1), "settings": SETTINGS, "version": ADAPT_VERSION}
        (staging / "adapter.json").write_text(json.dumps(stats, indent=1), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return stats


def _batches(pairs: list[tuple[str, str, str]], size: int):
    """Batches in which no clause appears twice (another question of the same clause is no negative)."""
    batch: list[tuple[str, str, str]] = []
    held: list[tuple[str, str, str]] = []
    for pair in pairs:
        if any(pair[2] == other[2] for other in batch):
            held.append(pair)
            continue
        batch.append(pair)
        if len(batch) == size:
            yield batch
            batch, held = _refill(held, size)
    while batch:
        yield batch
        batch, held = _refill(held, size)


def _refill(held: list[tuple[str, str, str]], size: int) -> tuple[list, list]:
    batch, rest = [], []
    for pair in held:
        if len(batch) < size and all(pair[2] != other[2] for other in batch):
            batch.append(pair)
        else:
            rest.append(pair)
    return batch, rest
