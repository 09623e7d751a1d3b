"""How `auto` picks the model for a line: ocr_core.engine's AUTO_MARGIN and AUTO_SURE rules.

    python -m benchmarks.auto_margin [--lines 300] [--real-every 1]

Measured on synthetic lines from training's own renderer (held-out seed), on the lines of the
printed and handwritten pages in samples/ and tests/data/ (pages of one known kind: how many of
their lines go to the other model), and, when ../shared is beside the checkout, on real hands: the
htr-real val split (the split training picks checkpoints on; never dev-eval). Both models read
every line once; each candidate rule is then applied to the same confidences. As in the engine, a
line's kind is chosen from the printed model's reading and the handwriting model's glance (one
look, greedy) or, in a close call when its full read takes more looks, that full read; the chosen
model's full reading is what is scored. The engine's constants are chosen from this.
"""

from __future__ import annotations

import argparse
import io
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.eval_cer import HTR_REAL
from ocr_core.alphabet import normalize_text
from ocr_core.engine import AUTO_MARGIN, AUTO_SURE, AUTO_SURE_MARGIN, OcrEngine, _auto_kind, _close_call
from ocr_core.image_io import iter_pages
from ocr_core.lexicon import Lexicon, lexicon_languages
from ocr_core.metrics import cer
from ocr_core.recognize import LineReading
from training.synth import SAMPLERS

ROOT = Path(__file__).resolve().parents[1]
# (margin, sure, sure_margin): the handwriting model must be surer by `margin`, or by `sure_margin`
# when the printed model is at least `sure` confident (1.01: never)
RULES = [(m, 1.01, m) for m in (0.05, 0.02, 0.0, -0.02)] + [
    (0.02, sure, sure_margin) for sure in (0.9, 0.95) for sure_margin in (0.05, 0.1)]
# pages of one kind (as users send them: the letter also as a JPEG, like tests/test_batch.py uploads it)
PAGES = {"printed": ["samples/printed-letter.png", "samples/printed-letter.png@jpeg", "samples/receipt.png",
                     "tests/data/printed-scan.tif", "tests/data/huck-finn-p29.jpg", "tests/data/linn.png"],
         "handwritten": ["samples/handwritten-note.png", "tests/data/handwritten-line.png"]}


@dataclass
class Scored:
    """One line as both models read it: scores to choose by, CERs of each model's full reading."""
    printed: LineReading  # the printed model's reading
    glance: LineReading  # the handwriting model's glance
    full: LineReading  # the handwriting model's full reading
    cer: dict[str, float]


def synthetic_lines(kind: str, count: int) -> list[tuple[np.ndarray, str]]:
    """(gray line, text) from training's renderer, on seeds training never draws."""
    samples = [SAMPLERS[kind](random.Random(424_242 + i)) for i in range(count)]
    return [(img, normalize_text(text)) for img, text in samples]


def real_lines(every: int) -> list[tuple[np.ndarray, str]]:
    """Every `every`-th htr-real val line (real hands, mostly French), as training loads them."""
    from training.htr_real import load, read_split

    return [(load(line), line.text) for line in read_split(HTR_REAL, "val")[::every]]


def page_lines(engine: OcrEngine, kind: str) -> list[tuple[np.ndarray, str]]:
    """The line crops the engine's detector finds on the upright `kind` pages (no truth: '' is the text)."""
    crops = []
    for name in PAGES[kind]:
        path, _, fmt = name.partition("@")
        data = (ROOT / path).read_bytes()
        if fmt:
            buf = io.BytesIO()
            Image.open(io.BytesIO(data)).convert("RGB").save(buf, format=fmt, quality=92)
            data = buf.getvalue()
        for page in iter_pages(data):
            crops += [(region.crop, "") for region in engine.detector.detect(page)]
    return crops


def score_lines(engine: OcrEngine, lines: list[tuple[np.ndarray, str]]) -> list[Scored]:
    """Both models' readings of every line, read once, so each rule is judged on the same confidences."""
    crops, truths = [img for img, _ in lines], [text for _, text in lines]
    read = {k: engine.recognizer(k).read_lines(crops, engine.decoder, engine.lexicon) for k in ("printed", "handwritten")}
    glances = engine.recognizer("handwritten").glance(crops)
    return [Scored(read["printed"][i], glances[i], read["handwritten"][i],
                   {k: cer(t, read[k][i].text) for k in read}) for i, t in enumerate(truths)]


def kinds_by_rule(engine: OcrEngine, lines: list[Scored], rule: tuple[float, float, float]) -> list[str]:
    """Each line's kind as the engine would choose it under `rule`."""
    margin, sure, sure_margin = rule
    one_look = engine.recognizer("handwritten").glance_is_full_read

    def handwriting_side(s: Scored) -> LineReading:
        return s.glance if one_look or not _close_call(s.printed, s.glance, margin) else s.full
    return [_auto_kind(s.printed, handwriting_side(s), margin, sure, sure_margin) for s in lines]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.auto_margin")
    p.add_argument("--lines", type=int, default=300, help="synthetic lines per kind")
    p.add_argument("--real-every", type=int, default=1, help="every N-th htr-real val line (0: none)")
    a = p.parse_args(argv)
    engine = OcrEngine(detector="opencv")
    cer_sets = {f"synthetic {k}": score_lines(engine, synthetic_lines(k, a.lines)) for k in ("printed", "handwritten")}
    page_sets = {k: score_lines(engine, page_lines(engine, k)) for k in PAGES}
    if a.real_every and HTR_REAL.is_dir():
        engine.lexicon = Lexicon.load_languages(engine.store.local_dir("lexicon"), lexicon_languages("en+fr"))  # as eval_cer reads it
        real = real_lines(a.real_every)
        cer_sets[f"htr-real val ({len(real)} lines, en+fr)"] = score_lines(engine, real)
    heads = [f"auto CER, {name}" for name in cer_sets] + [
        f"{k} page lines given to the other model (of {len(page_sets[k])})" for k in page_sets]
    print("| margin | printed model sure at | margin then | " + " | ".join(heads) + " |")
    print("| --- | --- | --- |" + " --- |" * len(heads))
    for rule in RULES:
        mark = " (chosen)" if rule == (AUTO_MARGIN, AUTO_SURE, AUTO_SURE_MARGIN) else ""
        cells = [f"{np.mean([s.cer[k] for s, k in zip(lines, kinds_by_rule(engine, lines, rule))]):.2%}"
                 for lines in cer_sets.values()]
        cells += [str(sum(k != kind for k in kinds_by_rule(engine, lines, rule))) for kind, lines in page_sets.items()]
        sure = "-" if rule[1] > 1 else rule[1]
        print(f"| {rule[0]}{mark} | {sure} | {rule[2] if rule[1] <= 1 else '-'} | " + " | ".join(cells) + " |")
    for k in ("printed", "handwritten"):
        cells = [f"{np.mean([s.cer[k] for s in lines]):.2%}" for lines in cer_sets.values()]
        print(f"| every line by the {k} model | | | " + " | ".join(cells + [""] * len(page_sets)) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
