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


def lines(count: int = LINES) -> list[tuple[Path, str]]:
    """(PNG of one receipt line, its text), deterministic."""
    from training.synth import receipt_validation_sample

    _check_fonts()
    out = []
    for i in range(count):
        gray, text = receipt_validation_sample(random.Random(LINE_SEED * 1000 + i))
        path = _folder() / f"line-{i:04d}.png"
        cv2.imwrite(str(path), gray)
        out.append((path, text))
    return out


def pages(count: int = PAGES) -> list[tuple[Path, str]]:
    """(PNG of a whole slip, its lines joined by newlines), deterministic."""
    from training.synth import receipt_page

    _check_fonts()
    out = []
    for i in range(count):
        gray, texts = receipt_page(random.Random(PAGE_SEED * 1000 + i))
        path = _folder() / f"page-{i:02d}.png"
        cv2.imwrite(str(path), gray)
        out.append((path, "\n".join(texts)))
    return out
