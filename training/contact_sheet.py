"""Real handwritten line crops beside rendered ones, to see whether the renderer looks real.

    python -m training.contact_sheet [--real ../shared/htr-real] [--rows 16] [--seed 0]
        [--out models/handwritten/reports/contact_sheet.png]

Left column: random crops of ../shared/htr-real (never dev-eval); right column: lines from
`training.synth.SAMPLERS['handwritten']`. Both are 64 px high; each column is cut at WIDTH px.
Beside the image, a .md file compares simple statistics of STAT_LINES real and rendered crops
(how often strokes touch the top/bottom edge, how much of the height has ink, paper and ink levels).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import cv2
import numpy as np

from training.synth import OUT_HEIGHT, SAMPLERS

WIDTH = 640
GAP = 6
GUTTER_GRAY = 96
STAT_LINES = 300


def real_crops(root: Path, count: int, rng: random.Random) -> list[np.ndarray]:
    """`count` crops drawn evenly over the sources of an htr-real folder."""
    sources = sorted(p for p in root.iterdir() if (p / "labels.tsv").exists())
    if not sources:
        raise SystemExit(f"no htr-real sources under {root}")
    crops = []
    for i in range(count):
        files = sorted((sources[i % len(sources)]).glob("*.jpg"))
        crops.append(cv2.imread(str(rng.choice(files)), cv2.IMREAD_GRAYSCALE))
    return crops


def _cell(img: np.ndarray) -> np.ndarray:
    if img.shape[0] != OUT_HEIGHT:
        img = cv2.resize(img, (max(1, round(img.shape[1] * OUT_HEIGHT / img.shape[0])), OUT_HEIGHT))
    img = img[:, :WIDTH]
    return np.pad(img, ((0, 0), (0, WIDTH - img.shape[1])), constant_values=GUTTER_GRAY)


def contact_sheet(real: list[np.ndarray], rendered: list[np.ndarray]) -> np.ndarray:
    rows = []
    for left, right in zip(real, rendered):
        gap = np.full((OUT_HEIGHT, GAP * 3), GUTTER_GRAY, np.uint8)
        rows.append(np.hstack([_cell(left), gap, _cell(right)]))
        rows.append(np.full((GAP, rows[-1].shape[1]), GUTTER_GRAY, np.uint8))
    return np.vstack(rows[:-1])


def crop_stats(crops: list[np.ndarray]) -> dict[str, float]:
    """Look-alike measures of a set of line crops; ink is anything 60 levels darker than the paper."""
    edge, rows, aspect, paper_levels, ink_levels = [], [], [], [], []
    for g in crops:
        paper = np.percentile(g, 90)
        ink = g < paper - 60
        edge.append(np.concatenate([ink[:3], ink[-3:]]).mean() > 0.005)
        rows.append((ink.mean(axis=1) > 0.01).mean())
        aspect.append(g.shape[1] / g.shape[0])
        paper_levels.append(paper)
        ink_levels.append(np.percentile(g, 2))
    return {
        "strokes at the top/bottom edge (share of crops)": float(np.mean(edge)),
        "rows with ink (mean share of height)": float(np.mean(rows)),
        "width / height (median)": float(np.median(aspect)),
        "paper level, 90th percentile (median)": float(np.median(paper_levels)),
        "ink level, 2nd percentile (median)": float(np.median(ink_levels)),
    }


def stats_table(real: dict[str, float], rendered: dict[str, float], real_root: Path) -> str:
    lines = [
        "# Real vs rendered handwriting crops",
        "",
        f"`python -m training.contact_sheet`: {STAT_LINES} random crops of `{real_root}` (evenly over its sources) and "
        f"{STAT_LINES} lines of `SAMPLERS['handwritten']`. The image `contact_sheet.png` shows real (left) beside rendered (right).",
        "",
        "| measure | real | rendered |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {k} | {real[k]:.2f} | {rendered[k]:.2f} |" for k in real]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> Path:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--real", type=Path, default=Path("../shared/htr-real"))
    p.add_argument("--rows", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("models/handwritten/reports/contact_sheet.png"))
    args = p.parse_args(argv)
    rng = random.Random(args.seed)
    real = real_crops(args.real, args.rows, rng)
    rendered = [SAMPLERS["handwritten"](rng)[0] for _ in range(args.rows)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), contact_sheet(real, rendered))
    stats = stats_table(crop_stats(real_crops(args.real, STAT_LINES, rng)),
                        crop_stats([SAMPLERS["handwritten"](rng)[0] for _ in range(STAT_LINES)]), args.real)
    args.out.with_suffix(".md").write_text(stats)
    print(f"wrote {args.out} (left real, right rendered) and {args.out.with_suffix('.md')}:\n{stats}")
    return args.out


if __name__ == "__main__":
    main()
