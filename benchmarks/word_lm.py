"""Does a word language model in the CTC beam search read lines better than greedy + lexicon respelling?

    python -m benchmarks.word_lm [--sets htr-real-val synthetic-handwritten synthetic-printed]
                                 [--limit N] [--tune] [--out FILE]

Validation sets only (never ../shared/dev-eval, which is for final numbers): the htr-real val split
(real handwritten lines, mostly French: word lists `en+fr`, as benchmarks.eval_cer gives ours
there), and synthetic validation lines (training's validation seed; hands and faces never trained
on; word lists `en`). Each line is read as the engine reads a line crop (`layout="line"`): its
per-time-step probabilities are computed once, kept in memory, and every decoder reads the same
ones, so the table compares decoders only:

- `greedy`: best path, no word lists;
- `greedy+lexicon`: best path, then `ocr_core.lexicon.correct_line` (the engine's decoding before this benchmark);
- `beam`: plain CTC prefix beam search (`ctc.beam_decode`);
- `beam+LM`: prefix beam search ranked with the unigram word model (`ctc.word_beam_decode` with
  `lexicon.WordModel`, the settings of `lexicon.WORD_LM`);
- `beam+LM+lexicon`: that, then `correct_line` on its reading.

CER and WER are means over lines (as eval_cer); digit errors: edit distance between the digits of the
truth and of the reading, over the truth's digits (codes and amounts must survive); ms/line is the decoder's CPU time per line (the
model run is the same for all and not counted). The respelling step caches each word's candidates,
cold at the start of each set, so its ms/line there is a first read's (in the tuning table the
`greedy+lexicon` row runs on warm caches and costs far less). `--tune` adds the grid over the word model's
settings on every third line of htr-real val that picked `lexicon.WORD_LM`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchmarks.eval_cer import HTR_REAL
from benchmarks.reporting import publish
from ocr_core.alphabet import normalize_text
from ocr_core.ctc import Decoded, beam_decode, greedy_decode, word_beam_decode
from ocr_core.image_io import iter_pages
from ocr_core.lexicon import WORD_LM, Lexicon, WordLMSettings, WordModel, correct_line, lexicon_languages
from ocr_core.metrics import cer, edit_distance, wer
from ocr_core.model_store import ModelStore
from ocr_core.recognize import CrnnRecognizer
from ocr_core.segment import whole_line

VALIDATION_SEED = 999_999  # training's synthetic validation seed (training/train.py), as benchmarks.reliability
SETS = {"htr-real-val": ("handwritten", "en+fr"), "synthetic-handwritten": ("handwritten", "en"),
        "synthetic-printed": ("printed", "en")}


@dataclass
class Line:
    probs: np.ndarray
    truth: str


def line_images(name: str, limit: int) -> list[tuple[np.ndarray, str]]:
    """(gray line crop, ground truth) of a set, as the engine gets a line crop."""
    if name == "htr-real-val":
        from training.htr_real import read_split

        lines = read_split(HTR_REAL, "val")
        lines = lines[:limit] if limit else lines
        return [(next(iter_pages(line.path.read_bytes())).gray(), line.text) for line in lines]
    from training.synth import VALIDATION_SAMPLERS

    count = limit or 300
    out = []
    for i in range(count):
        gray, text = VALIDATION_SAMPLERS[SETS[name][0]](random.Random(VALIDATION_SEED * 10_000_019 + i))
        out.append((gray, normalize_text(text)))
    return out


def probabilities(recognizer: CrnnRecognizer, images: list[tuple[np.ndarray, str]], desc: str) -> list[Line]:
    """Each crop's probabilities, one line per model run, as `OcrEngine.read(..., layout="line")` runs it."""
    return [Line(recognizer.probabilities([whole_line(gray).crop])[0], truth)
            for gray, truth in tqdm(images, desc=desc, unit="line", file=sys.stderr)]


def decoders(alphabet: str, lexicon: Lexicon, settings: WordLMSettings) -> dict[str, Callable[[np.ndarray], str]]:
    model = WordModel(lexicon, settings)

    def greedy(probs: np.ndarray) -> Decoded:
        return greedy_decode(probs, alphabet)

    def word_beam(probs: np.ndarray) -> Decoded:
        return word_beam_decode(probs, alphabet, model, settings.beam_width, settings.prune)

    def text(decode: Callable[[np.ndarray], Decoded]) -> Callable[[np.ndarray], str]:
        return lambda probs: decode(probs).text

    def corrected(decode: Callable[[np.ndarray], Decoded]) -> Callable[[np.ndarray], str]:
        def read(probs: np.ndarray) -> str:
            d = decode(probs)
            return correct_line(d.text, d.char_steps, probs, alphabet, lexicon)
        return read

    return {"greedy": text(greedy), "greedy+lexicon": corrected(greedy),
            "beam": text(lambda p: beam_decode(p, alphabet, settings.beam_width)),
            "beam+LM": text(word_beam), "beam+LM+lexicon": corrected(word_beam)}


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def score(decode: Callable[[np.ndarray], str], lines: list[Line]) -> tuple[float, float, float, float]:
    """(mean CER, mean WER, CPU ms per line, digit error rate) of one decoder. The digit error rate is the
    edit distance between the digits of truth and reading over the truth's digits: do numbers survive?"""
    cers, wers, digit_edits = [], [], 0
    t = time.process_time()
    texts = [decode(line.probs) for line in lines]
    ms = (time.process_time() - t) * 1000 / max(len(lines), 1)
    for text, line in zip(texts, lines):
        cers.append(cer(line.truth, text))
        wers.append(wer(line.truth, text))
        digit_edits += edit_distance(digits(line.truth), digits(text))
    return float(np.mean(cers)), float(np.mean(wers)), ms, digit_edits / max(sum(len(digits(ln.truth)) for ln in lines), 1)


def tune(alphabet: str, lexicon: Lexicon, lines: list[Line]) -> list[str]:
    """One setting changed at a time around WORD_LM, on every third htr-real val line."""
    subset = lines[::3]
    grid = [WORD_LM]
    for field, values in {"weight": (0.1, 0.15, 0.2, 0.3, 0.5), "bonus": (0.0, 0.5, 1.0, 2.0),
                          "oov_zipf": (-1.0, 0.0, 1.0, 2.0), "other_zipf": (3.0, 4.0, 5.0),
                          "prefix_penalty": (0.0, -2.0, -5.0, -8.0), "beam_width": (8, 16, 32),
                          "prune": (0.001, 0.01, 0.03)}.items():
        grid += [replace(WORD_LM, **{field: v}) for v in values if getattr(WORD_LM, field) != v]
    rows = [f"Every third htr-real val line ({len(subset)} lines), `en+fr`; the first row is `lexicon.WORD_LM`.", "",
            "Decoder: `beam+LM+lexicon`; CER and WER means over lines; ms/line: decoder CPU time.", "",
            "| weight | bonus | oov_zipf | other_zipf | prefix_penalty | beam | prune | CER | WER | ms/line |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    base = score(decoders(alphabet, lexicon, WORD_LM)["greedy+lexicon"], subset)[:3]
    for s in tqdm(grid, desc="tune", file=sys.stderr):
        c, w, ms, _ = score(decoders(alphabet, lexicon, s)["beam+LM+lexicon"], subset)
        rows.append(f"| {s.weight} | {s.bonus} | {s.oov_zipf} | {s.other_zipf} | {s.prefix_penalty} | {s.beam_width} | "
                    f"{s.prune} | {100 * c:.2f}% | {100 * w:.2f}% | {ms:.1f} |")
    rows.append(f"| greedy+lexicon | | | | | | | {100 * base[0]:.2f}% | {100 * base[1]:.2f}% | {base[2]:.1f} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    p.add_argument("--limit", type=int, default=0, help="at most N lines per set (synthetic sets: 300 by default)")
    p.add_argument("--tune", action="store_true", help="add the settings grid on htr-real val")
    p.add_argument("--out", type=Path, default=Path("benchmarks/reports/word_lm.md"))
    a = p.parse_args(argv)
    store = ModelStore(runtime="onnx")
    folder = store.local_dir("lexicon")
    rows, tuning = [], []
    for name in a.sets:
        if name == "htr-real-val" and not HTR_REAL.is_dir():
            rows.append(f"| {name} | skipped: {HTR_REAL} is absent | | | | |")
            continue
        kind, languages = SETS[name]
        recognizer = CrnnRecognizer(store.load(kind))
        lexicon = Lexicon.load_languages(folder, lexicon_languages(languages))
        lines = probabilities(recognizer, line_images(name, a.limit), name)
        for decoder, decode in decoders(recognizer.alphabet, lexicon, WORD_LM).items():
            c, w, ms, d = score(decode, lines)
            rows.append(f"| {name} ({len(lines)} lines, {kind}@{recognizer.loaded.version}, `{languages}`) | {decoder} | "
                        f"{100 * c:.2f}% | {100 * w:.2f}% | {100 * d:.2f}% | {ms:.1f} |")
            print(rows[-1], file=sys.stderr)
        if a.tune and name == "htr-real-val":
            tuning = tune(recognizer.alphabet, lexicon, lines)
    cmd = "python -m benchmarks.word_lm " + " ".join(argv if argv is not None else sys.argv[1:])
    report = "\n".join([
        f"# Word language model in CTC decoding ({dt.date.today()})", "",
        f"Command: `{cmd.strip()}`; 2 cores (decoder CPU time per line, the model run not counted).", "",
        f"Word model settings (`ocr_core.lexicon.WORD_LM`): `{WORD_LM}`.", "",
        "| set | decoder | CER | WER | digit errors | ms/line |", "| --- | --- | --- | --- | --- | --- |", *rows,
        *(["", "## Tuning (htr-real val only)", "", *tuning] if tuning else []), ""])
    return publish(report, a.out)


if __name__ == "__main__":
    raise SystemExit(main())
