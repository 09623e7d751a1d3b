"""The `synthetic-receipts` sets of `benchmarks.eval_cer`: till receipts rendered by the benchmark.

Made on every run from fixed seeds, in the till faces training never sees (training.fonts
PRINTED_HELD_OUT), so they need the fonts that `./dev.sh setup` installs but nothing from
../shared and no committed images:

- `synthetic-receipts`: LINES (120) receipt lines (`training.synth.receipt_validation_sample`: small,
  faded, dot-matrix, low-contrast, blurred, JPEG), read as single lines;
- `synthetic-receipt-pages`: PAGES (8) whole slips (`training.synth.receipt_page`), read as pages.

The images are written to a temporary folder (Tesseract reads files), removed when the process ends.
"""

from __future__ import annotations

import atexit
import random
import shutil
import tempfile
from functools import cache
from pathlib import Path

import cv2

LINES, PAGES = 120, 8
LINE_SEED, PAGE_SEED = 20_261_201, 20_261_202  # fixed: the same images on every run and machine


@cache
def _folder() -> Path:
    path = Path(tempfile.mkdtemp(prefix="ocr-synthetic-receipts-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _check_fonts() -> None:
    from training import fonts

    if not fonts.receipt_fonts("validation"):
        raise SystemExit(f"the held-out receipt fonts are not in {fonts.FONT_CACHE}: run ./dev.sh setup "
                         "(training/install-fonts.sh)")


def _rendered(kind: str, count: int, seed: int, sample) -> list[tuple[Path, str]]:
    """`count` images drawn by `sample(rng) -> (gray, text)` with fixed seeds, written to one temp folder."""
    _check_fonts()
    folder = _folder()
    out = []
    for i in range(count):
        gray, text = sample(random.Random(seed * 1000 + i))
        path = folder / f"{kind}-{i:04d}.png"
        cv2.imwrite(str(path), gray)
        out.append((path, text))
    return out


def lines(count: int = LINES) -> list[tuple[Path, str]]:
    """(PNG of one receipt line, its text), deterministic."""
    from training.synth import receipt_validation_sample

    return _rendered("line", count, LINE_SEED, receipt_validation_sample)


def pages(count: int = PAGES) -> list[tuple[Path, str]]:
    """(PNG of a whole slip, its lines joined by newlines), deterministic."""
    from training.synth import receipt_page

    def slip(rng: random.Random) -> tuple:
        gray, texts = receipt_page(rng)
        return gray, "\n".join(texts)

    return _rendered("page", count, PAGE_SEED, slip)
