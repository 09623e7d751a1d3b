"""Per-file and mean CER of our engine and Tesseract on ../shared/dev-eval, side by side.

    python -m benchmarks.eval_cer [--sets printed handwritten ...] [--limit N] [--out FILE]

Sets: the dev-eval folders (`printed`, `handwritten`, `handwritten-warped`, `handwritten-real-en`)
and `htr-real-val`, the val split of ../shared/htr-real (real French lines; that split picks the
handwriting model's checkpoints, so it is not a held-out test like dev-eval). Ours runs in the mode
that fits the set (printed / handwritten) and in `auto`; Tesseract 5 runs with --psm 3 on pages and
--psm 7 on single lines (ours with layout `line` there, the same instruction), `-l eng` (plus `fra` on htr-real-val when installed). CER = edit distance /
reference length after collapsing whitespace (ocr_core.metrics.cer).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ocr_core.engine import OcrEngine
from ocr_core.metrics import cer, wer

SHARED = Path(__file__).resolve().parents[2] / "shared"
DEV_EVAL = SHARED / "dev-eval"
HTR_REAL = SHARED / "htr-real"
SETS = {"printed": ("printed", 3), "handwritten": ("handwritten", 7), "handwritten-warped": ("handwritten", 7),
        "handwritten-real-en": ("handwritten", 7), "htr-real-val": ("handwritten", 7)}


def samples(name: str) -> list[tuple[Path, str]]:
    """(image, ground truth) of a set."""
    if name == "htr-real-val":
        from training.htr_real import read_split

        return [(line.path, line.text) for line in read_split(HTR_REAL, "val")]
    files = sorted(f for f in (DEV_EVAL / name).iterdir() if f.suffix in (".png", ".tif"))
    return [(f, f.with_suffix(".txt").read_text(encoding="utf-8")) for f in files]


def tesseract_text(path: Path, psm: int, lang: str = "eng") -> str:
    try:
        out = subprocess.run(["tesseract", str(path), "stdout", "-l", lang, "--psm", str(psm)],
                             capture_output=True, text=True, timeout=120)
        return out.stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _tesseract_lang(name: str) -> str:
    have = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout.split()
    return "eng+fra" if name == "htr-real-val" and "fra" in have else "eng"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    p.add_argument("--limit", type=int, default=0, help="at most N images per set (quick runs)")
    p.add_argument("--out", type=Path, default=Path("benchmarks/reports/eval_cer.md"))
    a = p.parse_args(argv)
    engine = OcrEngine(detector="opencv")
    rows, summary = [], []
    for name in a.sets:
        mode, psm = SETS[name]
        files = samples(name)
        files = files[: a.limit] if a.limit else files
        lang = _tesseract_lang(name)
        scores: dict[str, list[float]] = {"ours": [], "auto": [], "tesseract": [], "ours_wer": [], "tess_wer": []}
        for f, truth in tqdm(files, desc=name, unit="image", file=sys.stderr):
            data = f.read_bytes()
            layout = "line" if psm == 7 else "auto"  # line sets: a line crop, as Tesseract's --psm 7 is told
            ours = engine.read(data, mode=mode, layout=layout).text
            auto = engine.read(data, mode="auto", layout=layout).text
            tess = tesseract_text(f, psm, lang)
            c = (cer(truth, ours), cer(truth, auto), cer(truth, tess))
            for k, v in zip(("ours", "auto", "tesseract"), c):
                scores[k].append(v)
            scores["ours_wer"].append(wer(truth, ours))
            scores["tess_wer"].append(wer(truth, tess))
            rows.append(f"| {name} | {f.parent.name}/{f.name} | {c[0]:.3f} | {c[1]:.3f} | {c[2]:.3f} | `{' '.join(ours.split())[:70]}` |")
        means = {k: float(np.mean(v)) for k, v in scores.items()}
        summary.append(f"| {name} | {len(files)} | {mode} | **{means['ours']:.2%}** | {means['auto']:.2%} | "
                       f"{means['tesseract']:.2%} ({lang}) | {means['ours_wer']:.2%} | {means['tess_wer']:.2%} |")
    versions = engine.model_versions()
    report = "\n".join([
        f"# CER on ../shared/dev-eval ({dt.date.today()})", "",
        f"Command: `python -m benchmarks.eval_cer {' '.join(argv or sys.argv[1:])}`; {os.cpu_count()} cores; "
        f"models: printed {versions['printed']}, handwritten {versions['handwritten']}; detector {versions['detector']}; "
        f"lexicon correction {'on' if engine.lexicon else 'off'}; Tesseract 5 (its language per set in the table).", "",
        "| set | images | our mode | ours CER | ours (auto) CER | Tesseract CER | ours WER | Tesseract WER |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |", *summary, "",
        "| set | file | ours | auto | Tesseract | our text |", "| --- | --- | --- | --- | --- | --- |", *rows, "",
    ])
    print(report)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
