"""The model is shared by every thread: a message that may be about a child at risk waits for one chunk of a
busy batch, never the whole batch (knowledge/encoder.py Turnstile and Encoder.first_in_line)."""

from __future__ import annotations

import threading
import time

import numpy as np

from knowledge.encoder import Turnstile, chunks


def test_an_urgent_caller_goes_before_ordinary_waiters():
    turns, order = Turnstile(), []
    holding = threading.Event()
    release = threading.Event()

    def holder():
        with turns.turn():
            holding.set()
            release.wait(5)
        order.append("holder")

    def waiter(name, urgent):
        with turns.turn(urgent):
            order.append(name)

    first = threading.Thread(target=holder)
    first.start()
    holding.wait(5)
    ordinary = [threading.Thread(target=waiter, args=(f"ordinary{i}", False)) for i in range(3)]
    for t in ordinary:
        t.start()
    time.sleep(0.1)  # the ordinary ones are waiting before the urgent one arrives
    urgent = threading.Thread(target=waiter, args=("urgent", True))
    urgent.start()
    time.sleep(0.1)
    release.set()
    for t in [first, urgent, *ordinary]:
        t.join(5)
    assert order.index("urgent") < min(order.index(f"ordinary{i}") for i in range(3))


def test_chunked_encoding_gives_the_same_vectors_in_the_callers_order(engine):
    encoder = engine.encoder
    texts = ["Can I friend a parent?", "a much longer question about posting photographs of sports day on the school page",
             "hi", "Can a teacher follow my son on Instagram?", "What did I agree to when my daughter started?"]
    together = encoder.encode(texts)
    assert together.shape == (len(texts), encoder.dimensions)
    chunked = encoder.encode(texts, batch_size=2)
    one_by_one = np.vstack([encoder.encode([t]) for t in texts])
    assert np.allclose(chunked, one_by_one, atol=1e-5) and np.allclose(together, one_by_one, atol=1e-5)


def test_an_urgent_encode_during_a_long_batch_waits_for_one_chunk_only(engine):
    encoder = engine.encoder
    batch = [f"question number {i} about posting photos of pupils online" for i in range(8 * encoder.CHUNK)]
    started, timings = threading.Event(), {}

    def busy():
        started.set()
        t = time.perf_counter()
        encoder.encode(batch)
        timings["batch"] = time.perf_counter() - t

    worker = threading.Thread(target=busy)
    worker.start()
    started.wait(5)
    time.sleep(0.05)
    t = time.perf_counter()
    with encoder.first_in_line():
        encoder.encode(["A pupil told me an adult is asking her for photos"])
    urgent = time.perf_counter() - t
    worker.join(60)
    assert "batch" in timings and timings["batch"] > urgent
    assert urgent < timings["batch"] / 2  # it did not wait for the whole batch


def test_a_chunk_holds_a_bounded_amount_of_text_so_long_posts_go_in_small_chunks():
    sizes = [900, 800, 700, 50, 40, 30, 20, 10]  # longest first, as encode orders them
    runs = chunks(list(range(len(sizes))), sizes, most=4, chars=1000)
    assert runs == [[0], [1], [2, 3, 4, 5], [6, 7]]
    assert all(sum(sizes[i] for i in run) <= 1000 or len(run) == 1 for run in runs)
    assert chunks([0], [5000], most=4, chars=1000) == [[0]]  # a text longer than the budget goes alone
