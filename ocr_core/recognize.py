"""Read line crops with a CRNN: batch, predict, CTC-decode, and place words on the crop.

A word's position comes from the time steps where CTC emitted its characters: each step
covers `WIDTH_STEP` columns of the model input (32 or 64 px high), which maps back to crop pixels.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ocr_core.ctc import Decoded, beam_decode, greedy_decode, word_beam_decode
from ocr_core.lexicon import WORD_LM, Lexicon, correct_line
from ocr_core.model_store import LoadedModel
from ocr_core.preprocess import LINE_HEIGHT, ink_levels, pad_batch, prepare_line
from ocr_core.runtime import LineModel

# lines per model run (`model.parallel` run side by side, one per core). Not smaller: a bidirectional LSTM sees a
# batch's padding, so batching decides a line's exact probabilities, and these are the batches the
# models were checked with (onnxruntime keeps its peak buffers: 16 cost 90 MB more for 2 % less CPU)
BATCH = 8
# models whose lines a word language model decodes when word lists are on (OCR_LEXICON): on real and
# synthetic handwriting it reads better than greedy decoding; on synthetic print it gains nothing
# measurable (benchmarks/reports/word_lm.md), so printed lines keep greedy decoding
WORD_LM_KINDS = ("handwritten",)
# widths (times the line's own aspect at the model's input height) each model reads every line at; the
# surest reading is kept. For the 32-px handwriting models a second, 1.25x-wider look saved ~1 CER point
# on real and synthetic hands (2.3.0) for about twice the model time; the 64-px `tall` model (4.0.0),
# with twice the time steps per character, reads as well with one look (htr-real val 15.83% vs 15.84%
# with two, synthetic hands 8.91% vs 8.88%) at 0.6x the CPU (`python -m benchmarks.read_widths`,
# reports/read_widths.md). Printed lines: one look.
READ_STRETCHES = {"handwritten": (1.0,)}


@dataclass
class WordReading:
    text: str
    confidence: float
    x0: float  # span in crop pixels
    x1: float


@dataclass
class LineReading:
    text: str
    confidence: float
    words: list[WordReading]


def line_probabilities(model: LineModel, crops: list[np.ndarray], preprocess: tuple[str, ...] = (),
                       batch_size: int = BATCH, stretch: float = 1.0, height: int = LINE_HEIGHT) -> list[np.ndarray]:
    """Per-line (steps, classes) probabilities: lines sorted by width, read in full batches of similar width.

    `preprocess` and `height`: the extra `ocr_core.preprocess` steps the model was trained with and its
    input height (its manifest's)."""
    out: list[np.ndarray] = [np.empty(0)] * len(crops)
    for j, probs in iter_line_probabilities(model, crops, preprocess, batch_size, stretch, height):
        out[j] = probs
    return out


def batch_order(crops: list[np.ndarray]) -> list[int]:
    """The crops' indices, longest line first as the model sees it (width / height: its input is 32 px
    high); batches are cut from this order. A caller that hands over lines in chunks of this order,
    each a whole number of batches, gets the same batches (so the same probabilities) whatever the
    chunk size."""
    return sorted(range(len(crops)), key=lambda i: -crops[i].shape[1] / max(crops[i].shape[0], 1))


def iter_line_probabilities(model: LineModel, crops: list[np.ndarray], preprocess: tuple[str, ...] = (),
                            batch_size: int = BATCH, stretch: float = 1.0,
                            height: int = LINE_HEIGHT) -> Iterator[tuple[int, np.ndarray]]:
    """(crop index, probabilities) of every line, a batch at a time, longest first (`batch_order`).

    Up to `model.parallel` batches run at once on worker threads (the runtime releases the GIL), so
    the caller decodes one batch while the next ones are being read."""
    prepared = [prepare_line(c, preprocess, stretch, height) for c in crops]
    order = batch_order(crops)
    batches = [order[i: i + batch_size] for i in range(0, len(order), batch_size)]

    def run(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        batch, steps = pad_batch([prepared[j] for j in idx])
        return model.predict(batch), steps

    results = _pool(model.parallel).map(run, batches) if model.parallel > 1 and len(batches) > 1 else map(run, batches)
    for idx, (probs, steps) in zip(batches, results):
        for j, p, n in zip(idx, probs, steps):
            yield int(j), p[:n]


_POOLS: dict[tuple[int, int], ThreadPoolExecutor] = {}  # (pid, workers) -> threads for model runs
_POOLS_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """The process's `workers` threads for model runs (made again after a fork: the child has no threads)."""
    with _POOLS_LOCK:
        key = (os.getpid(), workers)
        if key not in _POOLS:
            _POOLS[key] = ThreadPoolExecutor(workers, thread_name_prefix="ocr-model")
        return _POOLS[key]


class CrnnRecognizer:
    """One of our CRNNs (printed or handwritten), under any runtime, behind one `read_lines` call."""

    def __init__(self, loaded: LoadedModel, stretches: tuple[float, ...] | None = None) -> None:
        self.loaded = loaded
        self.alphabet = loaded.alphabet
        self.stretches = stretches or READ_STRETCHES.get(loaded.manifest.get("kind"), (1.0,))

    @property
    def version(self) -> str:
        return f"{self.loaded.name}@{self.loaded.version}"

    @property
    def lines_at_once(self) -> int:
        """Lines that keep every model run busy: a BATCH per run, `model.parallel` runs at once."""
        return BATCH * self.loaded.model.parallel

    @property
    def glance_is_full_read(self) -> bool:
        """One look at each line's own width: a glance sees what a full read does, so the full read's
        confidence (the model's own best path, whatever the word model makes of it) is the glance's."""
        return self.stretches == (1.0,)

    def probabilities(self, crops: list[np.ndarray]) -> list[np.ndarray]:
        """Per-line (steps, classes) probabilities, batched by similar width."""
        return line_probabilities(self.loaded.model, crops, self.loaded.preprocess, height=self.loaded.line_height)

    def read_lines(self, crops: list[np.ndarray], decoder: str = "greedy",
                   lexicon: Lexicon | None = None) -> list[LineReading]:
        """Each crop read at every one of `stretches`, the surest reading (the model's own best path)
        kept; `decoder` ('greedy' or 'beam') decodes it, or with a `lexicon`, for the models of
        WORD_LM_KINDS, the word language model; unsure words are then respelled."""
        decode = beam_decode if decoder == "beam" else greedy_decode
        if lexicon is not None and self.loaded.manifest.get("kind") in WORD_LM_KINDS:
            decode = self._word_decoder(lexicon)
        return self._read(crops, self.stretches, decode, lexicon)

    def glance(self, crops: list[np.ndarray]) -> list[LineReading]:
        """Each crop read once, at its own width, greedy, without word lists: the confidence that
        choosing a model (auto) or a page's orientation needs, at a fraction of a full read's cost.
        Those rules were calibrated on this one-look confidence."""
        return self._read(crops, (1.0,), greedy_decode, None)

    def _read(self, crops: list[np.ndarray], stretches: tuple[float, ...],
              decode: Callable[[np.ndarray, str], Decoded], lexicon: Lexicon | None) -> list[LineReading]:
        if not crops:
            return []
        surest: list[tuple[float, np.ndarray] | None] = [None] * len(crops)  # (confidence, probabilities)
        readings: list[LineReading] = [LineReading("", 0.0, [])] * len(crops)
        for k, stretch in enumerate(stretches):
            for i, probs in iter_line_probabilities(self.loaded.model, crops, self.loaded.preprocess, stretch=stretch,
                                                    height=self.loaded.line_height):
                # the model's own best path decides between looks; a single look has nothing to compare
                confidence = greedy_decode(probs, self.alphabet).confidence if len(stretches) > 1 else 0.0
                if surest[i] is None or confidence > surest[i][0]:
                    surest[i] = (confidence, probs)
                if k == len(stretches) - 1:  # the last look: this line's reading is chosen, decode it
                    readings[i] = self._reading(crops[i], surest[i][1], decode, lexicon)
        return readings

    def _reading(self, crop: np.ndarray, probs: np.ndarray, decode: Callable[[np.ndarray, str], Decoded],
                 lexicon: Lexicon | None) -> LineReading:
        d = decode(probs, self.alphabet)
        scale = crop.shape[1] / max(len(probs), 1)  # crop pixels per time step, at any stretch
        words = _tighten(_words(d, scale), crop)
        text = d.text
        if lexicon is not None:
            text = correct_line(d.text, d.char_steps, probs, self.alphabet, lexicon)
            for w, corrected in zip(words, text.split()):  # same tokens, maybe respelled
                w.text = corrected
        return LineReading(text, d.confidence, words)

    @staticmethod
    def _word_decoder(lexicon: Lexicon) -> Callable[[np.ndarray, str], Decoded]:
        """Word-LM beam search; the line keeps the confidence of the model's own best path, the number
        auto mode and the quality flags were calibrated on (the language model changes words, not that)."""
        model = lexicon.word_model()

        def decode(probs: np.ndarray, alphabet: str) -> Decoded:
            d = word_beam_decode(probs, alphabet, model, WORD_LM.beam_width, WORD_LM.prune)
            d.confidence = greedy_decode(probs, alphabet).confidence
            return d
        return decode


def _tighten(words: list[WordReading], crop: np.ndarray) -> list[WordReading]:
    """Shrink each word's span to the inked columns inside it (CTC steps are only approximate)."""
    gray = crop if crop.ndim == 2 else crop.mean(axis=2)
    paper, ink = ink_levels(gray)
    inked = np.flatnonzero((gray < (paper + ink) / 2).any(axis=0))
    # each word's first and last inked column inside its span (inked is sorted)
    first = np.searchsorted(inked, [w.x0 for w in words], side="left")
    end = np.searchsorted(inked, [w.x1 for w in words], side="right")
    for w, i, j in zip(words, first, end):
        if j > i:
            w.x0, w.x1 = float(inked[i]), float(inked[j - 1] + 1)
    return words


def _words(d: Decoded, px_per_step: float) -> list[WordReading]:
    """Split a decoded line at spaces; each word spans its characters' steps (+ half a char)."""
    words: list[WordReading] = []
    start = None
    for i, ch in enumerate(d.text + " "):
        if ch != " " and start is None:
            start = i
        elif ch == " " and start is not None:
            steps = d.char_steps[start:i]
            probs = d.char_probs[start:i]
            pad = px_per_step
            x0 = max(0.0, steps[0] * px_per_step - pad)
            x1 = (steps[-1] + 1) * px_per_step + pad
            conf = float(np.exp(np.mean(np.log(np.maximum(probs, 1e-9)))))
            words.append(WordReading(d.text[start:i], conf, x0, x1))
            start = None
    return words


def word_spans(crop: np.ndarray, line_height: float) -> list[tuple[int, int]]:
    """Column spans (x0, x1) of the words of a line crop (dark ink on light paper), left to right.

    Inked columns are grouped; a blank run of at least 0.3 line heights separates words: a space
    plus side bearings is about 0.35 em, gaps inside words (even between tabular digits) stay
    under 0.2 em, and the line height (ascender to descender) is about 1 em. Spans get a small
    margin. For word recognizers (keras-ocr's kurapan) reading lines that our detector found.
    """
    gray = crop if crop.ndim == 2 else crop.mean(axis=2)
    if gray.size == 0:
        return []
    paper, ink = ink_levels(gray)
    if paper - ink < 20:  # no contrast: nothing written
        return []
    inked = np.flatnonzero((gray < (paper + ink) / 2).any(axis=0))
    if not len(inked):
        return []
    min_gap = max(2.0, 0.3 * line_height)
    breaks = np.flatnonzero(np.diff(inked) - 1 >= min_gap)
    starts = np.concatenate([[inked[0]], inked[breaks + 1]])
    ends = np.concatenate([inked[breaks], [inked[-1]]]) + 1
    pad = max(1, round(0.1 * line_height))
    width = gray.shape[1]
    return [(max(0, int(s) - pad), min(width, int(e) + pad)) for s, e in zip(starts, ends) if e - s >= 2]
