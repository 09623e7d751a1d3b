"""Speed and memory of our engine vs Tesseract vs keras-ocr's pipeline, measured in one run.

    python -m benchmarks.speed [--out benchmarks/reports/speed.md] [--repeats 3]

Each engine runs in its own fresh process on the same images, which reports: process start to
first result (cold), warm seconds per image (median of --repeats after a warm-up) and peak RSS.
Images: a rendered 300-dpi US-letter page (2550x3300, 40 lines of 11-pt serif), the real
`phototest.tif` scan and one handwritten line. keras-ocr runs with random weights (speed only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
DEV_EVAL = ROOT.parent / "shared" / "dev-eval"
WORDS = ("the quick brown fox jumps over a lazy dog while seven bright invoices arrive on "
         "monday and the committee reviews every report before noon").split()

WORKER = r'''
import json, resource, statistics, subprocess, sys, time
t0 = float(sys.argv[1]); engine_name = sys.argv[2]; repeats = int(sys.argv[3]); images = sys.argv[4:]
def rss_mb(): return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
if engine_name.startswith("ours"):
    from ocr_core.engine import OcrEngine
    engine = OcrEngine(detector="opencv"); mode = engine_name.split(":")[1]
    run = lambda p: engine.read(open(p, "rb").read(), mode=mode).text
elif engine_name == "tesseract":
    run = lambda p: subprocess.run(["tesseract", p, "stdout", "-l", "eng"], capture_output=True, text=True).stdout
else:
    import cv2
    from ocr_core import kerasocr_adapter
    pipe = kerasocr_adapter.pipeline(weights=False)  # CRAFT + kurapan, random weights: speed only
    quiet = {"verbose": 0}
    run = lambda p: pipe.recognize([cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB)], detection_kwargs=quiet, recognition_kwargs=quiet)
out = {"first_result_s": None, "warm_s": {}, "texts": {}}
for i, p in enumerate(images):
    text = run(p)
    if i == 0: out["first_result_s"] = time.time() - t0
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); text = run(p); times.append(time.perf_counter() - t)
    out["warm_s"][p] = statistics.median(times); out["texts"][p] = text if isinstance(text, str) else f"{len(text[0])} boxes"
out["peak_rss_mb"] = rss_mb()
print("RESULT " + json.dumps(out))
'''


def letter_page(path: Path) -> str:
    """A 300-dpi letter page of 40 lines of 11-pt serif text; returns its text."""
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", 46)
    img = Image.new("L", (2550, 3300), 255)
    draw = ImageDraw.Draw(img)
    lines = []
    for i in range(40):
        words = [WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(11)]
        line = " ".join(words).capitalize() + "."
        lines.append(line)
        draw.text((300, 300 + i * 70), line, fill=0, font=font)
    img.save(path)
    return "\n".join(lines)


def measure(engine: str, images: list[str], repeats: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-c", WORKER, str(t0), engine, str(repeats), *images],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:200]}


def main(argv: list[str] | None = None) -> int:
    from ocr_core.metrics import cer

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("benchmarks/reports/speed.md"))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--engines", nargs="+", default=["ours:printed", "ours:auto", "tesseract", "keras-ocr"])
    a = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp())
    page = tmp / "letter-300dpi.png"
    truth = letter_page(page)
    images = [str(page), str(DEV_EVAL / "printed" / "phototest.tif"), str(DEV_EVAL / "handwritten" / "hw000.png")]
    names = ["letter page 300 dpi", "phototest.tif", "handwritten line"]
    load = os.getloadavg()[0]  # the CPU may be shared (e.g. with a training job): say so in the report
    results = {}
    for engine in a.engines:
        print(f"measuring {engine} ...", file=sys.stderr)
        results[engine] = measure(engine, images, a.repeats)
    rows = []
    tess = results.get("tesseract", {})
    for engine, r in results.items():
        if "error" in r:
            rows.append(f"| {engine} | unavailable: {r['error']} | | | | | |")
            continue
        warm = [r["warm_s"][i] for i in images]
        ratio = f"{tess['warm_s'][images[0]] / warm[0]:.1f}x" if "warm_s" in tess else "-"
        page_cer = f"{cer(truth, r['texts'][images[0]]):.2%}" if engine != "keras-ocr" else f"random weights ({r['texts'][images[0]]} read)"
        rows.append(f"| {engine} | {warm[0]:.2f} | {ratio} | {warm[1]:.2f} | {warm[2]:.3f} | "
                    f"{r['first_result_s']:.1f} | {r['peak_rss_mb']:.0f} | {page_cer} |")
    report = "\n".join([
        f"# Speed and memory ({dt.date.today()}, {os.cpu_count()} cores)", "",
        f"Command: `python -m benchmarks.speed`; warm = median of {a.repeats} runs after a warm-up; each engine "
        "in its own fresh process; first result = process start to the first page's text.",
        f"1-minute load average when the run started: {load:.1f} on {os.cpu_count()} cores"
        + (" (other processes were using the CPU: absolute times are pessimistic, the engines were measured under the same load)." if load > 0.5 else "."),
        "keras-ocr = its own Pipeline (CRAFT detector + kurapan recognizer, scale 2, max size 2048) through "
        "`ocr_core.kerasocr_adapter`, random weights (no download here): its speed and memory, not its accuracy; "
        "its recognition time depends on how many boxes the random detector finds (last column).",
        "Targets for ours: letter page <= 4 s warm, first result <= 6 s, peak RSS <= 2 GB.", "",
        f"| engine | {names[0]} warm s | speed vs Tesseract | {names[1]} warm s | {names[2]} warm s | "
        "first result s | peak RSS MB | CER on the letter page |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |", *rows, "",
    ])
    print(report)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
