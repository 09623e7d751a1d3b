"""How `auto` picks the model for a line: ocr_core.engine's AUTO_MARGIN and AUTO_CLOSE.

    python -m benchmarks.auto_margin [--lines 300] [--real-every 1]

Measured on synthetic lines from training's own renderer (held-out seed) and, when ../shared is
beside the checkout, on real hands: the htr-real val split (the split training picks checkpoints
on; never dev-eval). Both models read every line, and for each candidate rule we report the CER
of what `auto` would return on each set. As in the engine, a line's kind is chosen from the
printed model's reading and the handwriting model's glance (one look, greedy), or, in a close
call, its full read; the chosen model's full reading is what is scored. The engine's constants
are chosen from this.
"""

from __future__ import annotations

import argparse
import random

import numpy as np

from benchmarks.eval_cer import HTR_REAL
from ocr_core.alphabet import normalize_text
from ocr_core.engine import AUTO_CLOSE, AUTO_CLOSE_UNDER, AUTO_MARGIN, OcrEngine, _auto_kind, _close_call
from ocr_core.lexicon import Lexicon, lexicon_languages
from ocr_core.metrics import cer
from training.synth import SAMPLERS

# (margin, close, under): the handwriting model must be surer by `margin`; a glance less than `close`
# below the printed model's confidence, when that is under `under`, is a close call decided by the
# handwriting model's full read (close 0: the glance always decides)
RULES = [(m, 0.0, 0.0) for m in (0.05, 0.02, 0.0, -0.02, -0.05, -0.1)] + [
    (0.02, close, under) for close in (0.05, 0.1, 0.2) for under in (0.85, 0.9, 0.95, 1.01)]


def synthetic_lines(kind: str, count: int) -> list[tuple[np.ndarray, str]]:
    """(gray line, text) from training's renderer, on seeds training never draws."""
    samples = [SAMPLERS[kind](random.Random(424_242 + i)) for i in range(count)]
    return [(img, normalize_text(text)) for img, text in samples]


def real_lines(every: int) -> list[tuple[np.ndarray, str]]:
    """Every `every`-th htr-real val line (real hands, mostly French), as training loads them."""
    from training.htr_real import load, read_split

    return [(load(line), line.text) for line in read_split(HTR_REAL, "val")[::every]]


def auto_cers(engine: OcrEngine, lines: list[tuple[np.ndarray, str]]) -> tuple[dict[tuple[float, ...], str], dict[str, float]]:
    """(auto's CER and share of close calls (full reads) by rule, each model's own CER) on the lines."""
    crops, truths = [img for img, _ in lines], [text for _, text in lines]
    read = {k: engine.recognizer(k).read_lines(crops, engine.decoder, engine.lexicon) for k in ("printed", "handwritten")}
    glances = engine.recognizer("handwritten").glance(crops)

    def mean_cer(kinds: list[str]) -> float:
        return float(np.mean([cer(t, read[k][i].text) for i, (t, k) in enumerate(zip(truths, kinds))]))

    by_rule = {}
    for margin, close, under in RULES:
        calls = [_close_call(read["printed"][i], glances[i], margin, close, under) for i in range(len(truths))]
        kinds = [_auto_kind(read["printed"][i], read["handwritten"][i] if call else glances[i], margin)
                 for i, call in enumerate(calls)]
        by_rule[margin, close, under] = f"{mean_cer(kinds):.2%} ({np.mean(calls):.0%})"
    return by_rule, {k: mean_cer([k] * len(truths)) for k in read}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.auto_margin")
    p.add_argument("--lines", type=int, default=300, help="synthetic lines per kind")
    p.add_argument("--real-every", type=int, default=1, help="every N-th htr-real val line (0: none)")
    a = p.parse_args(argv)
    engine = OcrEngine(detector="opencv")
    sets = {"synthetic printed": synthetic_lines("printed", a.lines), "synthetic handwritten": synthetic_lines("handwritten", a.lines)}
    results = {name: auto_cers(engine, lines) for name, lines in sets.items()}
    if a.real_every and HTR_REAL.is_dir():
        engine.lexicon = Lexicon.load_languages(engine.store.local_dir("lexicon"), lexicon_languages("en+fr"))  # as eval_cer reads it
        lines = real_lines(a.real_every)
        results[f"htr-real val ({len(lines)} lines, en+fr)"] = auto_cers(engine, lines)
    print("Auto's CER on each set (in brackets: the lines that were close calls, which cost a full handwriting read).\n")
    print("| margin | close call within | printed model under | " + " | ".join(results) + " |")
    print("| --- | --- | --- |" + " --- |" * len(results))
    for rule in RULES:
        margin, close, under = rule
        mark = " (chosen)" if rule == (AUTO_MARGIN, AUTO_CLOSE, AUTO_CLOSE_UNDER) else ""
        print(f"| {margin}{mark} | {close or '-'} | {under if close else '-'} | " + " | ".join(r[rule] for r, _ in results.values()) + " |")
    for k in ("printed", "handwritten"):
        print(f"| every line by the {k} model | | | " + " | ".join(f"{own[k]:.2%}" for _, own in results.values()) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
