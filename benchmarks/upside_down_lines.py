"""Single handwritten lines sent upside down: how many are turned and read, and how many upright ones are turned.

    python -m benchmarks.upside_down_lines [--sets htr-real-val synthetic] [--every K] [--limit N]
                                           [--modes handwritten auto] [--out FILE] [--json FILE] [--before FILE]

Each line image is read as it is and turned 180 degrees (in memory: a one-line image sent upside
down), end to end through `OcrEngine.read` (the line finder, then `ocr_core.orientation.orient`,
then the recognizer), in `handwritten` and in `auto` mode. Counted: upside-down lines turned
(pages[].rotation 180), upright lines turned at all (any rotation: a false turn is worse than a
miss), and the CER of both readings against the truth.

Sets: `htr-real-val`, the val split of ../shared/htr-real (real French lines, 64 px crops; the data
the strip thresholds of ocr_core.orientation were set on, with `synthetic`); `synthetic`, handwriting
lines rendered in the validation hands training never sees (`training.synth.handwritten_validation_sample`,
fixed seed); and, for the record only (never for setting thresholds), the dev-eval folders
`handwritten`, `handwritten-warped`, `handwritten-real-en`.
`--every K` takes every K-th line of a set (an even sample when the machine is busy), `--limit N` at most N.
`--json` saves the counts and which lines were missed or wrongly turned; `--before FILE` (such a JSON from an
earlier commit, on the same or a larger sample) adds the counts of the same lines as "before".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from benchmarks.eval_cer import DEV_EVAL, HTR_REAL
from benchmarks.reporting import publish
from ocr_core.engine import OcrEngine
from ocr_core.metrics import cer

SYNTHETIC_SEED = 20_261_203  # fixed: the same lines on every run and machine
SYNTHETIC_LINES = 300
DEV_SETS = ("handwritten", "handwritten-warped", "handwritten-real-en")
MODES = ("handwritten", "auto")


def lines(name: str, every: int, limit: int | None) -> Iterator[tuple[str, np.ndarray, str]]:
    """(name, gray line image, truth) of a set: every `every`-th line, at most `limit`."""
    if name == "htr-real-val":
        from training.htr_real import load, read_split

        for line in read_split(HTR_REAL, "val")[::every][:limit]:
            yield f"{line.source}/{line.path.name}", load(line), line.text
    elif name == "synthetic":
        from training.synth import handwritten_validation_sample

        rng = random.Random(SYNTHETIC_SEED)
        for i in range(SYNTHETIC_LINES):
            gray, text = handwritten_validation_sample(rng)  # every line drawn: the sample does not move the seed
            if i % every == 0 and (limit is None or i // every < limit):
                yield f"synthetic-{i:03d}", gray, text
    elif name in DEV_SETS:
        for f in sorted((DEV_EVAL / name).glob("*.png"))[::every][:limit]:
            yield f.name, cv2.imread(str(f), cv2.IMREAD_GRAYSCALE), f.with_suffix(".txt").read_text(encoding="utf-8")
    else:
        raise SystemExit(f"unknown set {name!r}")


def measure(engine: OcrEngine, name: str, modes: list[str], every: int, limit: int | None) -> dict[str, dict]:
    """Per mode: the lines, upside-down ones turned, upright ones turned and missed ones (by name), mean CERs."""
    out = {m: {"names": [], "turned_down": 0, "turned_up": [], "missed": [], "cer_up": {}, "cer_down": {}} for m in modes}
    for key, gray, truth in tqdm(list(lines(name, every, limit)), desc=name, file=sys.stderr):
        for mode in modes:
            row = out[mode]
            up = engine.read(cv2.imencode(".png", gray)[1].tobytes(), mode=mode)
            down = engine.read(cv2.imencode(".png", cv2.rotate(gray, cv2.ROTATE_180))[1].tobytes(), mode=mode)
            row["names"].append(key)
            row["turned_down"] += down.pages[0].rotation == 180
            if down.pages[0].rotation != 180:
                row["missed"].append(key)
            if up.pages[0].rotation:
                row["turned_up"].append(f"{key} ({up.pages[0].rotation})")
            row["cer_up"][key], row["cer_down"][key] = cer(truth, up.text), cer(truth, down.text)
    return out


def _cells(r: dict, names: list[str]) -> list[str]:
    """upside down turned, upright turned, CER upright, CER upside down: over `names` (the lines of this run)."""
    chosen = set(names)
    down = len(chosen) - len(chosen.intersection(r["missed"]))
    up = sum(entry.rsplit(" (", 1)[0] in chosen for entry in r["turned_up"])
    cers = [f"{np.mean([c[k] for k in names]):.1%}" if isinstance(c, dict) and all(k in c for k in names) else "n/a"
            for c in (r["cer_up"], r["cer_down"])]
    return [f"{down} ({down / max(len(chosen), 1):.0%})", str(up), *cers]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sets", nargs="+", default=["htr-real-val", "synthetic"])
    p.add_argument("--every", type=int, default=1, help="every K-th line of each set")
    p.add_argument("--limit", type=int, default=None, help="at most N lines per set")
    p.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    p.add_argument("--out", type=Path, default=Path("benchmarks/reports/upside_down_lines.md"))
    p.add_argument("--json", type=Path, help="also save the counts here")
    p.add_argument("--before", type=Path, help="counts saved by --json from an earlier commit, shown beside these")
    a = p.parse_args(argv)
    engine = OcrEngine(detector="opencv")
    results = {name: measure(engine, name, a.modes, a.every, a.limit) for name in a.sets}
    before = json.loads(a.before.read_text()) if a.before else {}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip() or "unknown"
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))
    head = "| set | mode | lines | upside down turned | upright turned | CER upright read | CER upside-down read |"
    rows = []
    for name, by_mode in results.items():
        for mode, r in by_mode.items():
            cells = _cells(r, r["names"])
            if before.get(name, {}).get(mode):
                cells = [f"{now} (before: {then})" for now, then in zip(cells, _cells(before[name][mode], r["names"]))]
            rows.append(f"| {name} | {mode} | {len(r['names'])} | {' | '.join(cells)} |")
    wrong = [f"- {name}, {mode}: {', '.join(r['turned_up'])}" for name, by_mode in results.items()
             for mode, r in by_mode.items() if r["turned_up"]]
    report = "\n".join([
        f"# Upside-down handwritten lines ({dt.date.today()}, commit {commit})", "",
        f"Command: `python -m benchmarks.upside_down_lines {' '.join(argv if argv is not None else sys.argv[1:])}`. "
        "Every line read as it is and turned 180 degrees, end to end (`OcrEngine.read`, layout auto: the line finder, "
        "the orientation check, the recognizer; as served: greedy decoding, the default word list). "
        "'upright turned' counts upright lines given any rotation (a false turn is worse than a miss).", "",
        head, "| --- | --- | --- | --- | --- | --- | --- |", *rows, "",
        "Upright lines turned:" if wrong else "No upright line was turned.", *wrong, "",
    ])
    return publish(report, a.out)


if __name__ == "__main__":
    sys.exit(main())
