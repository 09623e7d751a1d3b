"""How far a line's confidence can be trusted: confidence bucket -> measured CER, per model.

    python -m benchmarks.reliability [--lines 600] [--tesseract-lines 200] [--no-cards]

Validation sets only (never ../shared/dev-eval, which is for final numbers): the printed model on
synthetic validation lines (training's validation seed, 999_999), the handwriting model on the
htr-real val split (real lines; skipped with a note when ../shared is absent) and on synthetic
validation lines in hands never trained on, Tesseract (--psm 7) on the printed lines. Each line is
read as the engine reads a line crop (its decoder and lexicon). The table shows, per confidence
bucket, the lines, their CER (edit distance over reference characters) and the share of lines
with CER over 10%; then the lines `ocr_core.quality.LOW_CONFIDENCE` flags against those it keeps.

Writes benchmarks/reports/reliability.md and, unless --no-cards, the "Reliability" section of
models/<kind>/MODEL_CARD.md (between the reliability markers; the rest of the card is left alone),
so rerun it after retraining a model.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from benchmarks.eval_cer import HTR_REAL
from benchmarks.reporting import publish
from ocr_core import quality
from ocr_core.alphabet import normalize_text
from ocr_core.engine import OcrEngine
from ocr_core.metrics import edit_distance
from ocr_core.recognize import READ_STRETCHES, WORD_LM_KINDS

ROOT = Path(__file__).resolve().parents[1]
VALIDATION_SEED = 999_999  # training's synthetic validation seed (training/train.py)
EDGES = (0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0001)  # confidence buckets
BAD_LINE = 0.10  # a line with CER above this counts as misread
START, END = "<!-- reliability:start -->", "<!-- reliability:end -->"


def synthetic_lines(kind: str, count: int) -> list[tuple[np.ndarray, str]]:
    """Raw synthetic validation line crops (as training renders them for validation) and their text."""
    from training.synth import VALIDATION_SAMPLERS

    out = []
    for i in range(count):
        gray, text = VALIDATION_SAMPLERS[kind](random.Random(VALIDATION_SEED * 10_000_019 + i))
        out.append((gray, normalize_text(text)))
    return out


def htr_real_lines(count: int) -> list[tuple[np.ndarray, str]]:
    """The htr-real val split (every line when count is 0)."""
    from training.htr_real import load, read_split

    lines = read_split(HTR_REAL, "val")
    lines = lines[:count] if count else lines
    return [(load(line), line.text) for line in lines]


def measure(read, lines: list[tuple[np.ndarray, str]], desc: str) -> list[tuple[float, int, int]]:
    """(confidence, edit distance, reference length) per line."""
    out = []
    for start in tqdm(range(0, len(lines), 32), desc=desc, file=sys.stderr):
        chunk = lines[start:start + 32]
        for (text, conf), (_, truth) in zip(read([g for g, _ in chunk]), chunk):
            out.append((conf, edit_distance(" ".join(truth.split()), " ".join(text.split())), max(len(truth), 1)))
    return out


def tesseract_read(crops: list[np.ndarray]) -> list[tuple[str, float]]:
    """Tesseract 5 --psm 7 on each crop: its text and mean word confidence (0-1), as the tesseract engine reports."""
    out = []
    for crop in crops:
        ok, png = cv2.imencode(".png", crop)
        proc = subprocess.run(["tesseract", "stdin", "stdout", "-l", "eng", "--psm", "7", "tsv"], input=png.tobytes(),
                              capture_output=True, timeout=60)
        rows = [r.split("\t") for r in proc.stdout.decode("utf-8", "replace").splitlines()[1:]]
        words = [(r[11], max(float(r[10]), 0.0) / 100) for r in rows if len(r) >= 12 and r[0] == "5" and r[11].strip()]
        out.append((" ".join(w for w, _ in words), float(np.mean([c for _, c in words])) if words else 0.0))
    return out


def table(results: list[tuple[float, int, int]], model: str) -> list[str]:
    """Markdown rows: per bucket, then flagged vs kept at the model's LOW_CONFIDENCE."""
    conf = np.array([r[0] for r in results])
    errs = np.array([r[1] for r in results], float)
    refs = np.array([r[2] for r in results], float)
    rows = ["| confidence | lines | share of lines | CER | lines with CER > 10% |", "| --- | --- | --- | --- | --- |"]
    for lo, hi in zip(EDGES, EDGES[1:]):
        m = (conf >= lo) & (conf < hi)
        if m.any():
            rows.append(f"| {lo:.2f}-{min(hi, 1.0):.2f} | {m.sum()} | {m.mean():.1%} | {errs[m].sum() / refs[m].sum():.2%} | "
                        f"{(errs[m] / refs[m] > BAD_LINE).mean():.1%} |")
    threshold = quality.LOW_CONFIDENCE[model]
    flagged = conf < threshold
    for name, m in ((f"flagged `low_confidence` (< {threshold})", flagged), ("kept", ~flagged)):
        if m.any():
            rows.append(f"| **{name}** | {m.sum()} | {m.mean():.1%} | {errs[m].sum() / refs[m].sum():.2%} | "
                        f"{(errs[m] / refs[m] > BAD_LINE).mean():.1%} |")
    return rows


def write_card(kind: str, section: str) -> None:
    """Replace (or append) the card's reliability section; a missing card gets a stub holding only it."""
    card = ROOT / "models" / kind / "MODEL_CARD.md"
    text = card.read_text(encoding="utf-8") if card.exists() else f"# Model card: {kind} CRNN\n"
    block = f"{START}\n{section}\n{END}"
    if START in text and END in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    card.write_text(text, encoding="utf-8")


def _decoding(engine: OcrEngine) -> str:
    """How the engine decodes each model's lines, for the report's header."""
    if engine.lexicon is None:
        return f"decoder {engine.decoder}, no word lists"
    by_lm = ", ".join(f"{kind}: {len(READ_STRETCHES.get(kind, (1.0,)))} looks, word language model" for kind in WORD_LM_KINDS)
    return f"as served: decoder {engine.decoder} with unsure words respelled from the word lists; {by_lm}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lines", type=int, default=600, help="synthetic validation lines per model (and htr-real val lines, 0 = all)")
    p.add_argument("--tesseract-lines", type=int, default=200, help="printed lines Tesseract reads (0: skip it)")
    p.add_argument("--no-cards", action="store_true", help="do not write the models' MODEL_CARD.md sections")
    p.add_argument("--out", type=Path, default=Path("benchmarks/reports/reliability.md"))
    a = p.parse_args(argv)
    engine = OcrEngine(detector="opencv")

    def reader(kind: str):
        model = engine.recognizer(kind)
        return lambda crops: [(r.text, r.confidence) for r in model.read_lines(crops, engine.decoder, engine.lexicon)]

    printed = synthetic_lines("printed", a.lines)
    sets = {"printed": [("synthetic printed validation lines", measure(reader("printed"), printed, "printed"))]}
    hand = [("synthetic handwriting validation lines (unseen hands)",
             measure(reader("handwritten"), synthetic_lines("handwritten", a.lines), "handwritten synthetic"))]
    if HTR_REAL.is_dir():
        hand.insert(0, ("htr-real val split (real lines)", measure(reader("handwritten"), htr_real_lines(a.lines), "htr-real val")))
    sets["handwritten"] = hand
    if a.tesseract_lines:
        sets["tesseract"] = [("synthetic printed validation lines, Tesseract --psm 7",
                              measure(tesseract_read, printed[: a.tesseract_lines], "tesseract"))]
    versions = engine.model_versions()
    intro = (f"Measured {dt.date.today()} by `{' '.join(['python -m benchmarks.reliability', *(argv or sys.argv[1:])])}` "
             f"({_decoding(engine)}). CER = edit distance / reference "
             f"characters over the bucket's lines. `low_confidence` thresholds live in `ocr_core/quality.py`.")
    report = [f"# Reliability: line confidence vs measured CER ({dt.date.today()})", "", intro, ""]
    for model, parts in sets.items():
        version = versions.get(model, "") if model != "tesseract" else "Tesseract 5"
        section = [f"## Reliability ({model} {version})", "", intro, ""]
        if model == "handwritten" and not HTR_REAL.is_dir():
            section += ["(../shared/htr-real absent: real-line rows not measured.)", ""]
        for name, results in parts:
            section += [f"{name}:", "", *table(results, model), ""]
        report += section[:1] + section[3:]
        if model != "tesseract" and not a.no_cards:
            write_card(model, "\n".join(section).rstrip("\n"))
    return publish("\n".join(report), a.out)


if __name__ == "__main__":
    sys.exit(main())
