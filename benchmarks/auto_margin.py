"""How `auto` picks the model for a line: the margins of ocr_core.engine._auto_kind.

    python -m benchmarks.auto_margin [--lines 300]

Measured on synthetic lines from training's own renderer (held-out seed), never on dev-eval:
both models read every line, and for each candidate rule we report the CER of what `auto` would
return on printed lines and on handwritten lines. As in the engine, a line's kind is chosen from
the printed model's reading and the handwriting model's glance (one look, greedy), and the chosen
model's full reading is what is scored. The engine's constants are chosen from this.
"""

from __future__ import annotations

import argparse
import random

import numpy as np

from ocr_core.alphabet import normalize_text
from ocr_core.engine import AUTO_MARGIN, OcrEngine, _auto_kind, _score
from ocr_core.metrics import cer
from ocr_core.recognize import LineReading
from training.synth import SAMPLERS

# (margin, printed model sure at, margin when it is): flat margins, and the two-margin rule used
# until printed 1.2.0 (0.02, or 0.05 when the printed model is at least 0.8 sure)
RULES = [(m, 1.01, m) for m in (0.0, 0.02, 0.05, 0.1)] + [
    (0.02, sure, big) for sure in (0.8, 0.85, 0.9) for big in (0.05, 0.1)]


def _pick(printed: LineReading, handwritten: LineReading, rule: tuple[float, float, float]) -> str:
    margin, sure, margin_sure = rule
    return _auto_kind(printed, handwritten, margin_sure if _score(printed) >= sure else margin)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.auto_margin")
    p.add_argument("--lines", type=int, default=300)
    a = p.parse_args(argv)
    engine = OcrEngine(detector="opencv")
    results: dict[tuple[float, float, float], dict[str, float]] = {}
    own = {}
    for kind in ("printed", "handwritten"):
        samples = [SAMPLERS[kind](random.Random(424_242 + i)) for i in range(a.lines)]  # (gray line, text)
        truths = [normalize_text(text) for _, text in samples]
        crops = [img for img, _ in samples]
        read = {k: engine.recognizer(k).read_lines(crops, engine.decoder, engine.lexicon) for k in ("printed", "handwritten")}
        glances = engine.recognizer("handwritten").glance(crops)
        own[kind] = float(np.mean([cer(t, read[kind][i].text) for i, t in enumerate(truths)]))
        for rule in RULES:
            picks = [_pick(read["printed"][i], glances[i], rule) for i in range(len(truths))]
            results.setdefault(rule, {})[kind] = float(np.mean([cer(t, read[k][i].text) for i, (t, k) in enumerate(zip(truths, picks))]))
    chosen = (AUTO_MARGIN, 1.01, AUTO_MARGIN)
    print("| margin | printed model sure at | margin when sure | auto CER, printed lines | auto CER, handwritten lines | mean |")
    print("| --- | --- | --- | --- | --- | --- |")
    for rule, r in results.items():
        mark = " (chosen)" if rule == chosen else ""
        sure = "-" if rule[1] > 1 else rule[1]
        print(f"| {rule[0]}{mark} | {sure} | {rule[2]} | {r['printed']:.2%} | {r['handwritten']:.2%} | {(r['printed'] + r['handwritten']) / 2:.2%} |")
    print(f"| each line by the model of its kind | | | {own['printed']:.2%} | {own['handwritten']:.2%} | {(own['printed'] + own['handwritten']) / 2:.2%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
