"""Where a warm dense page's time goes: CPU and wall seconds per pipeline stage, in one process.

    python -m benchmarks.page_profile [--modes printed auto] [--repeats 3] [--cprofile N] [--out FILE]

The page is `benchmarks.speed`'s dense 300-dpi letter page (57 lines of 10-pt serif). Per mode, an
engine is warmed up on it once, then reads it `--repeats` times (medians reported):
- per stage, with the model runs in the calling thread (OCR_THREADS=1), so that every stage's time
  is its own: exclusive (a stage called inside another is charged to itself only);
- in total, as served (the model runs spread over the cores: OCR_THREADS unset).
CPU = user + system seconds of the whole process (every thread), the honest number when other work
shares the cores. `--cprofile N` also prints the N costliest functions of one read.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from benchmarks.reporting import publish

# (stage, module, attribute): every place a stage is entered, as the pipeline looks it up
STAGES = (
    ("decode", "ocr_core.engine", "iter_pages"),
    ("decode", "ocr_core.image_io", "_to_rgb"),
    ("detect", "ocr_core.detect", "segment_lines"),
    ("preprocess", "ocr_core.recognize", "prepare_line"),
    ("preprocess", "ocr_core.recognize", "pad_batch"),
    ("recognition (onnxruntime)", "ocr_core.runtime", "OnnxLineModel.predict"),
    ("ctc decode", "ocr_core.recognize", "greedy_decode"),
    ("word boxes", "ocr_core.recognize", "_tighten"),
    ("word boxes", "ocr_core.recognize", "_words"),
    ("lexicon", "ocr_core.recognize", "correct_line"),
)
OTHER = "other (auto choice, assembly)"


class StageClock:
    """Exclusive CPU and wall time per stage: time is charged to the innermost running stage."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.wall: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack = [OTHER]
        self._mark = (time.process_time(), time.perf_counter())
        self.enabled = True

    def _charge(self) -> None:
        c, w = time.process_time(), time.perf_counter()
        self.cpu[self._stack[-1]] += c - self._mark[0]
        self.wall[self._stack[-1]] += w - self._mark[1]
        self._mark = (c, w)

    def wrap(self, stage: str, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            if not self.enabled:
                return fn(*args, **kwargs)
            self._charge()
            self._stack.append(stage)
            self.calls[stage] += 1
            try:
                return fn(*args, **kwargs)
            finally:
                self._charge()
                self._stack.pop()
        return timed

    def reset(self) -> None:
        self.cpu.clear(), self.wall.clear(), self.calls.clear()
        self._mark = (time.process_time(), time.perf_counter())

    def stop(self) -> None:
        self._charge()


def instrument(clock: StageClock) -> None:
    import importlib

    for stage, module, attr in STAGES:
        owner = importlib.import_module(module)
        *path, name = attr.split(".")
        for part in path:
            owner = getattr(owner, part)
        setattr(owner, name, clock.wrap(stage, getattr(owner, name)))
    # iter_pages only opens the file and checks limits; each page is decoded lazily (_to_rgb)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--modes", nargs="+", default=["printed", "auto"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--cprofile", type=int, default=0, help="also print the N costliest functions of one read")
    p.add_argument("--out", type=Path, default=None, help="write the report there too")
    a = p.parse_args(argv)

    from benchmarks.speed import dense_page
    from ocr_core.engine import OcrEngine

    page = Path(tempfile.mkdtemp()) / "dense-300dpi.png"
    dense_page(page)
    data = page.read_bytes()
    clock = StageClock()
    instrument(clock)
    load = os.getloadavg()[0]
    lines = [f"# Dense page, per stage ({dt.date.today()}, {os.cpu_count()} cores, load {load:.1f} at start)", "",
             f"Command: `python -m benchmarks.page_profile {' '.join(argv if argv is not None else sys.argv[1:])}`; "
             f"median of {a.repeats} warm reads; CPU = all threads of the process. Stages: model runs in the "
             "calling thread (OCR_THREADS=1), exclusive time per stage. Total as served: OCR_THREADS "
             f"{os.environ.get('OCR_THREADS', 'unset')}.", ""]
    served_threads = os.environ.get("OCR_THREADS")
    os.environ["OCR_THREADS"] = "1"
    sequential = OcrEngine(detector="opencv")
    sequential.warm_up()  # the models open now, while OCR_THREADS=1 holds
    if served_threads is None:
        os.environ.pop("OCR_THREADS")
    else:
        os.environ["OCR_THREADS"] = served_threads
    served = OcrEngine(detector="opencv")
    served.warm_up()
    for mode in a.modes:
        clock.enabled = True
        result = sequential.read(data, mode=mode)  # warm-up (models, lexicon, caches)
        runs: dict[str, list[tuple[float, float]]] = defaultdict(list)
        totals = []
        for _ in range(a.repeats):
            clock.reset()
            c, w = time.process_time(), time.perf_counter()
            result = sequential.read(data, mode=mode)
            clock.stop()
            totals.append((time.process_time() - c, time.perf_counter() - w))
            for stage in {s for s, *_ in STAGES} | {OTHER}:
                runs[stage].append((clock.cpu.get(stage, 0.0), clock.wall.get(stage, 0.0)))
        calls = dict(clock.calls)
        clock.enabled = False
        served.read(data, mode=mode)
        served_totals = []
        for _ in range(a.repeats):
            c, w = time.process_time(), time.perf_counter()
            served_result = served.read(data, mode=mode)
            served_totals.append((time.process_time() - c, time.perf_counter() - w))
        assert served_result.text == result.text, "the served threads read differently from one thread"
        kinds = {ln.mode for pg in result.pages for ln in pg.lines}
        n_lines = sum(len(pg.lines) for pg in result.pages)
        lines += [f"## {mode} ({n_lines} lines read as {', '.join(sorted(kinds))})", "",
                  f"As served: **{statistics.median(t[0] for t in served_totals):.3f} s CPU, "
                  f"{statistics.median(t[1] for t in served_totals):.3f} s wall**; one thread: "
                  f"{statistics.median(t[0] for t in totals):.3f} s CPU, {statistics.median(t[1] for t in totals):.3f} s wall.", "",
                  "| stage (one thread) | CPU s | wall s | calls per read |", "| --- | --- | --- | --- |"]
        order = [s for s, *_ in STAGES]
        for stage in dict.fromkeys([*order, OTHER]):
            cpu = statistics.median(r[0] for r in runs[stage])
            wall = statistics.median(r[1] for r in runs[stage])
            lines.append(f"| {stage} | {cpu:.3f} | {wall:.3f} | {calls.get(stage, '-')} |")
        lines.append("")
        if a.cprofile:
            prof = cProfile.Profile()
            prof.enable()
            sequential.read(data, mode=mode)
            prof.disable()
            s = io.StringIO()
            pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(a.cprofile)
            print(f"--- cProfile, {mode}, one thread (tottime) ---\n{s.getvalue()}", file=sys.stderr)
    report = "\n".join(lines)
    if a.out:
        return publish(report, a.out)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
