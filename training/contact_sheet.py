"""Real handwritten line crops beside rendered ones, to see whether the renderer looks real.

    python -m training.contact_sheet [--real ../shared/htr-real] [--rows 16] [--seed 0]
        [--out models/handwritten/reports/contact_sheet.png]

Left column: random crops of ../shared/htr-real (never dev-eval); right column: lines from
`training.synth.SAMPLERS['handwritten']`. Both are 64 px high; each column is cut at WIDTH px.
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
    print(f"wrote {args.out}: left real ({args.real}), right rendered")
    return args.out


if __name__ == "__main__":
    main()
