"""How much surer the handwriting model must be before `auto` lets it read a line.

    python -m benchmarks.auto_margin [--lines 300]

Measured on synthetic lines from training's own renderer (held-out seed), never on dev-eval:
both models read every line, and for each candidate margin we report the CER of what `auto`
would return on printed lines and on handwritten lines. ocr_core.engine.AUTO_HANDWRITING_MARGIN
is chosen from this table.
"""

from __future__ import annotations

import argparse
import random

import numpy as np

from ocr_core.alphabet import normalize_text
from ocr_core.engine import OcrEngine, _score
from ocr_core.metrics import cer
from training.synth import SAMPLERS

MARGINS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.auto_margin")
    p.add_argument("--lines", type=int, default=300)
    a = p.parse_args(argv)
    engine = OcrEngine(detector="opencv")
    rows = {}
    for kind in ("printed", "handwritten"):
        samples = [SAMPLERS[kind](random.Random(424_242 + i)) for i in range(a.lines)]  # (gray line, text)
        samples = [(img, normalize_text(text)) for img, text in samples]
        crops = [img for img, _ in samples]
        readings = {k: engine.recognizer(k).read_lines(crops, engine.decoder, engine.lexicon) for k in ("printed", "handwritten")}
        for m in MARGINS:
            errs = []
            for i, (_, truth) in enumerate(samples):
                pick = "handwritten" if _score(readings["handwritten"][i]) > _score(readings["printed"][i]) + m else "printed"
                errs.append(cer(truth, readings[pick][i].text))
            rows.setdefault(m, {})[kind] = float(np.mean(errs))
        rows.setdefault("own model", {})[kind] = float(np.mean([cer(t, readings[kind][i].text) for i, (_, t) in enumerate(samples)]))
    print("| margin | auto CER on printed lines | auto CER on handwritten lines | mean |")
    print("| --- | --- | --- | --- |")
    for m, r in rows.items():
        print(f"| {m} | {r['printed']:.2%} | {r['handwritten']:.2%} | {(r['printed'] + r['handwritten']) / 2:.2%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
