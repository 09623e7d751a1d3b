"""Read the IAM handwriting database layout (`words.txt`/`lines.txt` + image folders).

IAM's ascii files list one sample per line:
  words.txt: `a01-000u-00-00 ok 154 408 768 27 51 AT A`  (id, segmentation, graylevel, box x y w h, tag, text)
  lines.txt: `a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to|stop|Mr.|Gaitskell|from`  (| = space)
Images live at `words/a01/a01-000u/a01-000u-00-00.png` and `lines/a01/a01-000u/a01-000u-00.png`.
The split is writer-independent: a form's writer never appears in two splits. Without IAM's
official split files, forms are assigned by a hash of the form prefix (e.g. `a01`), which
keeps each writer group on one side.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from pathlib import Path

import cv2

from ocr_core.alphabet import normalize_text


def read_index(root: Path) -> list[tuple[Path, str]]:
    """(image path, text) for every line (or word) marked `ok` that exists on disk."""
    out: list[tuple[Path, str]] = []
    for name, folder in (("lines.txt", "lines"), ("words.txt", "words")):
        index = root / name
        if not index.exists():
            index = root / "ascii" / name
        if not index.exists():
            continue
        for row in index.read_text(encoding="utf-8", errors="ignore").splitlines():
            if not row or row.startswith("#"):
                continue
            parts = row.split(" ")
            if len(parts) < 9 or parts[1] != "ok":
                continue
            sample_id = parts[0]
            text = normalize_text(" ".join(parts[8:]).replace("|", " ")).strip()
            a, b = sample_id.split("-")[:2]
            path = root / folder / a / f"{a}-{b}" / f"{sample_id}.png"
            if text and path.exists():
                out.append((path, text))
        if out:
            break  # prefer lines; fall back to words
    if not out:
        raise FileNotFoundError(f"no IAM lines.txt/words.txt with existing images under {root}")
    return out


def split_of(path: Path, val_fraction: float = 0.1, test_fraction: float = 0.1) -> str:
    """'train' | 'val' | 'test', stable and writer-independent (by form group, e.g. a01)."""
    group = path.name.split("-")[0]
    x = int(hashlib.sha1(group.encode()).hexdigest(), 16) % 1000 / 1000
    return "test" if x < test_fraction else "val" if x < test_fraction + val_fraction else "train"


def samples(items: list[tuple[Path, str]], seed: int, repeat: bool) -> Iterator[tuple]:
    from ocr_core.preprocess import prepare_line
    from training.data import _fits_ctc

    rng = random.Random(seed)
    while True:
        order = items[:]
        rng.shuffle(order)
        for path, text in order:
            gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if gray is None:
                continue
            x = prepare_line(gray)
            if _fits_ctc(x, text):
                yield x, text
        if not repeat:
            return


def train_val_batches(root: Path, batch_size: int, seed: int):
    from training.data import batches

    items = read_index(root)
    train = [it for it in items if split_of(it[0]) == "train"]
    val = [it for it in items if split_of(it[0]) == "val"]
    if not train or not val:  # tiny datasets: fall back to a sample split
        rng = random.Random(seed)
        items = items[:]
        rng.shuffle(items)
        cut = max(1, len(items) // 10)
        val, train = items[:cut], items[cut:] or items[:cut]
    val_batches = list(batches(samples(val, seed, repeat=False), batch_size))
    info = {"source": "iam", "path": str(root), "train_items": len(train), "val_items": len(val)}
    return batches(samples(train, seed, repeat=True), batch_size), val_batches, info
