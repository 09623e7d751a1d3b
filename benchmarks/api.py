"""Latency of the HTTP API through the local API (functions under the Lambda RIE), one run.

    python -m benchmarks.api [--repeats 20] [--out benchmarks/reports/api.md]

Cold start: from starting the emulators to the first answer of each OCR route (the function's
init — TensorFlow import, model load, graph tracing — happens on that first request, as in
Lambda). Warm: p50/p95 over --repeats requests per case after the cold one. Cases: one
handwritten word, a printed paragraph (the sample letter), a 300-dpi letter page. The peer
column is Tesseract reading the same image from the command line (process per image).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from benchmarks.speed import letter_page
from functions.local_api import LocalApi
from ocr_core.metrics import cer

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def process_tree(root_pid: int) -> list[int]:
    """A process and all its descendants, read from /proc (the function emulator and its runtime)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    tree, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def peak_rss_mb(root_pid: int) -> float:
    """Largest peak RSS (VmHWM) among a process and its descendants: the function's runtime process."""
    peak = 0.0
    for pid in process_tree(root_pid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return peak


def tesseract_seconds(path: Path, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(["tesseract", str(path), "stdout", "-l", "eng"], capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.api", description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--page-repeats", type=int, default=5, help="repeats for the full page (slow)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "reports" / "api.md")
    a = p.parse_args(argv)

    tmp = Path(tempfile.mkdtemp())
    page_text = letter_page(tmp / "letter-300dpi.png")
    cases = [  # name, route, file, form fields, expected text, repeats
        ("handwritten word", "/api/ocr/handwritten", SAMPLES / "handwritten-word.png", {}, "Tuesday", a.repeats),
        ("printed paragraph", "/api/ocr", SAMPLES / "printed-letter.png", {"mode": "printed"},
         (SAMPLES / "printed-letter.txt").read_text(), a.repeats),
        ("handwritten note, auto", "/api/ocr", SAMPLES / "handwritten-note.png", {"mode": "auto"},
         (SAMPLES / "handwritten-note.txt").read_text(), a.repeats),
        ("300-dpi letter page, printed", "/api/ocr", tmp / "letter-300dpi.png", {"mode": "printed"}, page_text, a.page_repeats),
        ("batch: word + paragraph", "/api/ocr/batch", None, {"mode": "auto"}, None, a.repeats),
    ]
    rows, cold = [], {}
    word = [("image", ("handwritten-word.png", (SAMPLES / "handwritten-word.png").read_bytes()))]
    with LocalApi(port=0) as api:
        for what, route, files in [("GET /api/health (HealthFunction, zip)", "/api/health", None),
                                   ("POST /api/ocr/handwritten (OcrFunction)", "/api/ocr/handwritten", word),
                                   ("POST /api/ocr/batch (OcrBatchFunction)", "/api/ocr/batch",
                                    [("images", f[1]) for f in word])]:
            t = time.perf_counter()  # the runtime process starts with the first invocation, as in Lambda
            res = requests.get(api.url + route, timeout=60) if files is None else \
                requests.post(api.url + route, files=files, timeout=300)
            res.raise_for_status()
            cold[what] = time.perf_counter() - t
        for name, route, path, fields, truth, repeats in cases:
            if path is None:
                files = [("images", ("w.png", (SAMPLES / "handwritten-word.png").read_bytes())),
                         ("images", ("p.png", (SAMPLES / "printed-letter.png").read_bytes()))]
            else:
                files = [("image", (path.name, path.read_bytes()))]
            times, body = [], {}
            for i in range(repeats + 1):
                t = time.perf_counter()
                res = requests.post(api.url + route, files=files, data=fields, timeout=300)
                res.raise_for_status()
                body = res.json()
                if i:  # the first request of a case warms its code path
                    times.append(time.perf_counter() - t)
            quality = f"{cer(truth, body['text']):.1%}" if truth else f"{body['failed']} failed"
            tess = f"{tesseract_seconds(path, 3) * 1000:.0f}" if path is not None else "-"
            rows.append((name, route, statistics.median(times) * 1000, percentile(times, 0.95) * 1000, len(times), quality, tess))
            print(rows[-1], flush=True)
        memory = {fn.name: peak_rss_mb(fn.proc.pid) for fn in api.functions if fn.proc is not None}

    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# HTTP API latency (local API: functions under the Lambda Runtime Interface Emulator)", "",
        f"Measured {now} with `python -m benchmarks.api --repeats {a.repeats} --page-repeats {a.page_repeats}` on this",
        "machine (2 cores; other work may share them: compare within one run). Requests are multipart",
        "uploads through the local HTTP front, so latency includes event building, base64, the RIE hop",
        "and JSON. Tesseract (CLI, one process per image) reads the same image in the same run.", "",
        "## Warm latency", "",
        "| case | route | p50 ms | p95 ms | n | CER of the answer | Tesseract p50 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        *[f"| {n} | `{r}` | {p50:.0f} | {p95:.0f} | {k} | {q} | {t} |" for n, r, p50, p95, k, q, t in rows],
        "", "## Cold start (runtime process start to first answer: init + first invocation)", "",
        "| what | seconds |", "| --- | ---: |",
        *[f"| {k} | {v:.2f} |" for k, v in cold.items()],
        "", "## Peak memory of each function's runtime process (sets MemorySize in template.yaml)", "",
        "| function | peak RSS MB |", "| --- | ---: |",
        *[f"| {k} | {v:.0f} |" if any(k in c for c in cold) else f"| {k} | not invoked in this run |"
          for k, v in memory.items()],
        "", "Targets (issue 3): cold start < 6 s, warm handwritten word < 300 ms.", "",
    ]
    a.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
