"""Training batches: synthetic lines rendered on the fly by worker processes, real lines, or a mix.

Every batch is (images (N,height,W,1), labels (N,L) padded with -1, label_lengths, input steps),
built with `ocr_core.preprocess`, the same code the engine runs at inference (with the model's
`preprocess` steps, e.g. ("isolate",) for handwriting, and its input height).
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ocr_core.alphabet import encode, normalize_text
from ocr_core.preprocess import LINE_HEIGHT, WIDTH_STEP, pad_batch, prepare_line

CHUNK = 16  # samples a worker renders per task
CHUNKS_AHEAD = 2  # tasks queued per worker beyond the one being consumed: keeps workers busy, memory bounded


def lookahead(workers: int) -> int:
    """At most this many samples are rendered and not yet taken by the consumer (with `workers` processes)."""
    return (CHUNKS_AHEAD * workers + 1) * CHUNK


@dataclass
class Batch:
    images: np.ndarray
    labels: np.ndarray
    label_lengths: np.ndarray
    steps: np.ndarray
    texts: list[str]


def make_batch(samples: list[tuple[np.ndarray, str]]) -> Batch:
    images, steps = pad_batch([x for x, _ in samples])
    texts = [t for _, t in samples]
    codes = [encode(t) for t in texts]
    lengths = np.array([len(c) for c in codes], np.int32)
    labels = np.full((len(codes), max(1, lengths.max())), -1, np.int32)
    for i, c in enumerate(codes):
        labels[i, : len(c)] = c
    return Batch(images, labels, lengths, steps, texts)


def _fits_ctc(x: np.ndarray, text: str) -> bool:
    """CTC needs at least one step per label, plus one per doubled letter."""
    doubles = sum(a == b for a, b in zip(text, text[1:]))
    return 0 < len(encode(text)) and (x.shape[1] // WIDTH_STEP) >= len(text) + doubles


def prepared(gray: np.ndarray, text: str, steps: tuple[str, ...] = (),
             height: int = LINE_HEIGHT) -> tuple[np.ndarray, str] | None:
    """(model input, text), or None when the line cannot be a CTC target."""
    x = prepare_line(gray, steps, height=height)
    return (x, text) if _fits_ctc(x, text) else None


def _synthetic(args: tuple[str, int, tuple[str, ...], bool, int]) -> tuple[np.ndarray, str] | None:
    from training.synth import SAMPLERS, VALIDATION_SAMPLERS

    kind, seed, steps, held_out, height = args
    rng = random.Random(seed)
    gray, text = (VALIDATION_SAMPLERS if held_out else SAMPLERS)[kind](rng)
    return prepared(gray, normalize_text(text), steps, height)


def synthetic_samples(kind: str, seed: int, count: int | None, workers: int, steps: tuple[str, ...] = (),
                      held_out: bool = False, height: int = LINE_HEIGHT) -> Iterator[tuple[np.ndarray, str]]:
    """Deterministic for a given seed: sample i is always the same image, whatever `workers`. `held_out`:
    drawn in the fonts kept out of training (validation and test sets).

    With workers, rendering runs at most `lookahead(workers)` samples ahead of the consumer: chunks
    are submitted only as earlier ones are taken (`Pool.imap` over an endless stream renders ahead
    without bound, 7.9 GB after 35 minutes of a printed run), and taken in submission order.
    """
    seeds = ((kind, seed * 10_000_019 + i, steps, held_out, height) for i in (range(count) if count else _count()))
    if workers <= 0:
        yield from (s for s in map(_synthetic, seeds) if s is not None)
        return
    chunks = iter(lambda: list(itertools.islice(seeds, CHUNK)), [])
    with mp.get_context("fork").Pool(workers) as pool:
        pending = deque(pool.apply_async(_synthetic_chunk, (c,)) for c in itertools.islice(chunks, CHUNKS_AHEAD * workers + 1))
        while pending:
            yield from (s for s in pending.popleft().get() if s is not None)
            pending.extend(pool.apply_async(_synthetic_chunk, (c,)) for c in itertools.islice(chunks, 1))


def _synthetic_chunk(chunk: list[tuple[str, int, tuple[str, ...], bool, int]]) -> list[tuple[np.ndarray, str] | None]:
    return [_synthetic(args) for args in chunk]


def mixed(streams: list[Iterator[tuple[np.ndarray, str]]], weights: list[float],
          seed: int) -> Iterator[tuple[np.ndarray, str]]:
    """Draw each sample from one of the endless streams, with the given probabilities."""
    rng = random.Random(seed)
    while True:
        yield next(rng.choices(streams, weights)[0])


def _count() -> Iterator[int]:
    i = 0
    while True:
        yield i
        i += 1


def batches(samples: Iterator[tuple[np.ndarray, str]], batch_size: int, bucket: int = 8, seed: int = 0) -> Iterator[Batch]:
    """Group samples of similar width (less padding), `bucket` batches at a time, in an order `seed` fixes."""
    rng = random.Random(seed)
    pool: list[tuple[np.ndarray, str]] = []
    for s in samples:
        pool.append(s)
        if len(pool) == batch_size * bucket:
            pool.sort(key=lambda s: s[0].shape[1])
            chunks = [pool[i: i + batch_size] for i in range(0, len(pool), batch_size)]
            rng.shuffle(chunks)
            yield from (make_batch(c) for c in chunks)
            pool = []
    if pool:
        yield make_batch(pool)
