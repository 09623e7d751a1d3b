"""Warm latency of reading one line crop, and the size of each shipped model, against their budgets.

    python -m benchmarks.line_latency [--lines N] [--out FILE]

Reads real handwritten lines (../shared/dev-eval/handwritten-real-en, 64 px high; else the repo's
samples) one at a time through the engine's recognizer (preprocessing + model + CTC decoding +
lexicon), after a warm-up, and reports p50/p95 per line for each model kind, beside Tesseract
reading the same line (--psm 7, a whole process per line, as its CLI is used).
Budget (issue 10): a handwritten line <= 60 ms warm on 2 cores, a model file <= 30 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks.reporting import publish
from ocr_core.engine import OcrEngine

REAL_EN = Path(__file__).resolve().parents[2] / "shared" / "dev-eval" / "handwritten-real-en"
SAMPLES = Path(__file__).resolve().parents[1] / "samples"
BUDGET_MS, BUDGET_MB = 60.0, 30.0


def _lines(n: int) -> list[Path]:
    files = sorted(REAL_EN.glob("*.png")) if REAL_EN.is_dir() else sorted(SAMPLES.glob("handwritten-word*.png"))
    return files[:n]


def _ms(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50) * 1000), float(np.percentile(samples, 95) * 1000)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lines", type=int, default=60)
    p.add_argument("--out", type=Path, default=Path("benchmarks/reports/line_latency.md"))
    a = p.parse_args(argv)
    files = _lines(a.lines)
    crops = [cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in files]
    engine = OcrEngine(detector="opencv")
    rows = []
    for kind in ("handwritten", "printed"):
        rec = engine.recognizer(kind)
        for c in crops[:3]:  # warm-up: graph tracing, allocator
            rec.read_lines([c], lexicon=engine.lexicon)
        times = []
        for c in crops:
            t = time.perf_counter()
            rec.read_lines([c], lexicon=engine.lexicon)
            times.append(time.perf_counter() - t)
        p50, p95 = _ms(times)
        model_files = sorted(rec.loaded.path.glob("model.*"))  # model.keras (source) and model.onnx (served)
        size_mb = max(f.stat().st_size for f in model_files) / 1e6
        sizes = ", ".join(f"{f.name} {f.stat().st_size / 1e6:.1f} MB" for f in model_files)
        ok = "yes" if kind != "handwritten" or (p50 <= BUDGET_MS and size_mb <= BUDGET_MB) else "NO"
        rows.append(f"| ours, {rec.version} | {p50:.1f} | {p95:.1f} | {sizes} | {ok} |")
    tess = []
    for f in files[:20]:
        t = time.perf_counter()
        subprocess.run(["tesseract", str(f), "stdout", "-l", "eng", "--psm", "7"], capture_output=True, check=False)
        tess.append(time.perf_counter() - t)
    t50, t95 = _ms(tess)
    rows.append(f"| Tesseract 5 (`--psm 7`, one process per line) | {t50:.1f} | {t95:.1f} | – | – |")
    report = "\n".join([
        f"# Warm latency per line and model size ({dt.date.today()})", "",
        f"Command: `python -m benchmarks.line_latency {' '.join(argv or sys.argv[1:])}`; {os.cpu_count()} cores; "
        f"{len(files)} lines from `{files[0].parent.name}/` (one line per call, after 3 warm-up calls); "
        f"load average at the end {os.getloadavg()[0]:.1f}.", "",
        f"Budget for the handwriting model: <= {BUDGET_MS:.0f} ms per line warm, model file <= {BUDGET_MB:.0f} MB.", "",
        f"Runtime: `OCR_RUNTIME={os.environ.get('OCR_RUNTIME', '')}` (empty: ONNX when exported).", "",
        "| reader | p50 ms/line | p95 ms/line | model files | within budget |", "| --- | --- | --- | --- | --- |",
        *rows, "",
    ])
    return publish(report, a.out)


if __name__ == "__main__":
    sys.exit(main())
