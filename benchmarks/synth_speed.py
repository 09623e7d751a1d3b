"""How fast the synthetic line renderer is: lines per second of `SAMPLERS[kind]` in one process.

    python -m benchmarks.synth_speed [--kind handwritten] [--lines 400] [--rounds 3]
        [--baseline DIR] [--out benchmarks/reports/synth_speed.md]

The training loop renders lines on the fly in a worker process, so a slower renderer starves the
model. Each round renders `--lines` lines (after 100 warm-up lines that load fonts and word lists)
in a fresh process for this tree and, with --baseline, for another checkout of the project (e.g.
`git archive main | tar -x -C /tmp/base`), alternately, so both see the same machine load. Speed is
counted in CPU seconds of that process (robust when other jobs share the cores) and in wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WARMUP = 100  # lines that load fonts and word lists before timing
CHILD = f"""
import json, random, sys, time
from training.synth import SAMPLERS
sample = SAMPLERS[sys.argv[1]]
rng = random.Random(12345)
for _ in range({WARMUP}):
    sample(rng)
n, chars = int(sys.argv[2]), 0
cpu, wall = time.process_time(), time.perf_counter()
for _ in range(n):
    chars += len(sample(rng)[1])
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
print(json.dumps({{"cpu": n / cpu, "wall": n / wall, "chars_cpu": chars / cpu}}))
"""


def measure(tree: Path, kind: str, lines: int) -> dict[str, float]:
    """Lines per second (CPU and wall) of the renderer in `tree`, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", CHILD, kind, str(lines)], env=env, cwd=tree,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.synth_speed")
    p.add_argument("--kind", default="handwritten", choices=["handwritten", "printed"])
    p.add_argument("--lines", type=int, default=400)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--baseline", type=Path, default=None, help="another checkout to compare with")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/reports/synth_speed.md")
    a = p.parse_args(argv)
    trees = {"this tree": ROOT} | ({f"baseline ({a.baseline})": a.baseline.resolve()} if a.baseline else {})
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for _ in range(a.rounds):
        for name, tree in trees.items():
            runs[name].append(measure(tree, a.kind, a.lines))
    rows = [
        f"| {name} | {statistics.median(r['cpu'] for r in rs):.1f} | {statistics.median(r['wall'] for r in rs):.1f} "
        f"| {statistics.median(r['chars_cpu'] for r in rs):.0f} | {', '.join(format(r['cpu'], '.0f') for r in rs)} |"
        for name, rs in runs.items()
    ]
    if a.baseline:
        this, base = runs.values()
        ratios = [t["cpu"] / b["cpu"] for t, b in zip(this, base)]
        rows.append(f"| this / baseline, same round (median) | {statistics.median(ratios):.2f} | "
                    f"{statistics.median(t['wall'] / b['wall'] for t, b in zip(this, base)):.2f} | "
                    f"{statistics.median(t['chars_cpu'] / b['chars_cpu'] for t, b in zip(this, base)):.2f} | "
                    f"{', '.join(format(r, '.2f') for r in ratios)} |")
    load = os.getloadavg()[0]
    report = "\n".join([
        f"# Synthetic renderer speed: `SAMPLERS['{a.kind}']`",
        "",
        f"`python -m benchmarks.synth_speed --kind {a.kind} --lines {a.lines} --rounds {a.rounds}"
        + (" --baseline DIR`" if a.baseline else "`"),
        "",
        f"{a.lines} lines per round after {WARMUP} warm-up lines, {a.rounds} rounds alternating, one process each; "
        f"{os.cpu_count()} cores, 1-minute load average at the end {load:.1f} (other jobs share the cores, so "
        "CPU-time speed is the comparable number).",
        "",
        "| renderer | lines/s (CPU time, median) | lines/s (wall, median) | characters/s (CPU, median) | lines/s (CPU) per round |",
        "| --- | ---: | ---: | ---: | --- |",
        *rows,
        "",
    ])
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
