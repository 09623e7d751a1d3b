"""What finding the way up costs an upright page: CPU seconds with the orientation check and without.

    python -m benchmarks.orientation_cost [--repeats 9] [--out benchmarks/reports/orientation_cost.md]

Issue 11's budget: an upright page may not slow by more than 10%. The same engine reads the same
upright images (benchmarks.speed's dense and letter 300-dpi pages, the real phototest.tif scan, one
handwritten line) alternately with `ocr_core.orientation.orient` and with plain detection in its
place, in one process, so both see the same machine load (a shared machine: CPU seconds, medians).
Then the cost of a turned page: the same pages turned 90 and 180 degrees, read with the check.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

import ocr_core.engine as engine_module
from benchmarks.reporting import publish
from benchmarks.speed import DEV_EVAL, dense_page, letter_page
from ocr_core.orientation import Oriented, orient

BUDGET = 1.10  # with / without, on an upright page


def cpu_seconds() -> float:
    """CPU seconds of this process, all threads, at nanosecond resolution (os.times ticks 10 ms: too coarse for a line)."""
    return time.process_time()


def without_check(page, detect, read, check_time=None) -> Oriented:  # noqa: ANN001 - orient's signature
    return Oriented(0, detect(page))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--out", type=Path, default=Path("benchmarks/reports/orientation_cost.md"))
    a = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp())
    dense_page(tmp / "dense-300dpi.png")
    letter_page(tmp / "letter-300dpi.png")
    images = {"dense page 300 dpi": tmp / "dense-300dpi.png", "letter page 300 dpi": tmp / "letter-300dpi.png",
              "phototest.tif": DEV_EVAL / "printed" / "phototest.tif", "handwritten line": DEV_EVAL / "handwritten" / "hw000.png"}
    engine = engine_module.OcrEngine(detector="opencv")
    load = os.getloadavg()[0]
    rows, turned_rows = [], []
    for mode in ("printed", "auto"):
        for name, path in images.items():
            data = path.read_bytes()
            engine.read(data, mode=mode)  # warm-up
            cpu: dict[str, list[float]] = {"with": [], "without": []}
            for _ in range(a.repeats):
                for key, fn in (("without", without_check), ("with", orient)):
                    engine_module.orient = fn
                    t = cpu_seconds()
                    engine.read(data, mode=mode)
                    cpu[key].append(cpu_seconds() - t)
            engine_module.orient = orient
            with_s, without_s = statistics.median(cpu["with"]), statistics.median(cpu["without"])
            ratio = sum(cpu["with"]) / max(sum(cpu["without"]), 1e-9)
            page = name != "handwritten line"
            rows.append(f"| {name} | {mode} | {without_s:.3f} | {with_s:.3f} | {ratio:.3f} | "
                        f"{('yes' if ratio <= BUDGET else '**no**') if page else 'n/a (a line, not a page)'} |")
    for name in ("dense page 300 dpi", "phototest.tif"):
        gray = cv2.imread(str(images[name]), cv2.IMREAD_GRAYSCALE)
        for turn, code in ((90, cv2.ROTATE_90_CLOCKWISE), (180, cv2.ROTATE_180)):
            data = cv2.imencode(".png", cv2.rotate(gray, code))[1].tobytes()
            times = []
            for _ in range(max(1, a.repeats // 3)):
                t = cpu_seconds()
                result = engine.read(data, mode="printed")
                times.append(cpu_seconds() - t)
            turned_rows.append(f"| {name} | {turn} | {result.pages[0].rotation} | {statistics.median(times):.3f} |")
    report = "\n".join([
        f"# Orientation check: cost on upright pages ({dt.date.today()}, {os.cpu_count()} cores)", "",
        f"Command: `python -m benchmarks.orientation_cost {' '.join(argv or sys.argv[1:])}`; 1-minute load average at "
        f"the start: {load:.1f} (a shared machine: CPU seconds of the process, all threads; medians of "
        f"{a.repeats}, with and without the check alternating). Budget: an upright page at most "
        f"{BUDGET - 1:.0%} slower (ratio = total CPU with / without).", "",
        "| image | mode | CPU s without the check | CPU s with | ratio | within budget |",
        "| --- | --- | --- | --- | --- | --- |", *rows, "",
        "A single line whose ascender cue is unsure (handwriting) is read both ways up before it is read (in auto by "
        "both models): that costs two to four more line reads; pages with several lines are judged by the cheap cues "
        "alone.", "",
        "Turned pages (printed mode; the check finds the turn, then the lines are found on the turned page):", "",
        "| image | turned by (clockwise) | rotation applied | CPU s |", "| --- | --- | --- | --- |", *turned_rows, "",
    ])
    return publish(report, a.out)


if __name__ == "__main__":
    sys.exit(main())
