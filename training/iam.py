"""Read the IAM handwriting database layout (`words.txt`/`lines.txt` + image folders).

IAM's ascii files list one sample per line:
  words.txt: `a01-000u-00-00 ok 154 408 768 27 51 AT A`  (id, segmentation, graylevel, box x y w h, tag, text)
  lines.txt: `a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to|stop|Mr.|Gaitskell|from`  (| = space)
Images live at `words/a01/a01-000u/a01-000u-00-00.png` and `lines/a01/a01-000u/a01-000u-00.png`.
The split is writer-independent: a writer never appears in two splits. When the files of IAM's
"large writer independent text line recognition task" are present (`trainset.txt`,
`validationset1.txt`, `validationset2.txt`, `testset.txt`: one line id such as `a01-000u-00` per
row; in the root, `task/`, `splits/` or `largeWriterIndependentTextLineRecognitionTask/`), that
standard split is used: train = trainset, val = validationset1 + validationset2, test = testset,
and samples the task does not list are left out. Without them, forms are assigned by a hash of
the form prefix (e.g. `a01`), which keeps each writer group on one side.
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


SPLIT_FILES = {"train": ("trainset.txt",), "val": ("validationset1.txt", "validationset2.txt"), "test": ("testset.txt",)}
SPLIT_DIRS = ("", "task", "splits", "largeWriterIndependentTextLineRecognitionTask")


def standard_split(root: Path) -> dict[str, set[str]] | None:
    """Line (or form) ids per split from IAM's official task files, or None when they are absent."""
    for sub in SPLIT_DIRS:
        folder = root / sub
        if (folder / "trainset.txt").exists() and (folder / "testset.txt").exists():
            out: dict[str, set[str]] = {}
            for split, names in SPLIT_FILES.items():
                ids: set[str] = set()
                for name in names:
                    if (folder / name).exists():
                        ids |= {r.strip() for r in (folder / name).read_text(encoding="utf-8").split() if r.strip()}
                out[split] = ids
            return out
    return None


def _standard_split_of(sample_id: str, split_ids: dict[str, set[str]]) -> str | None:
    """A word `a01-000u-00-03` belongs to line `a01-000u-00` and form `a01-000u`; None = not in the task."""
    parts = sample_id.split("-")
    keys = {sample_id, "-".join(parts[:3]), "-".join(parts[:2])}
    return next((split for split, ids in split_ids.items() if keys & ids), None)


def split_items(root: Path, items: list[tuple[Path, str]]) -> tuple[dict[str, list[tuple[Path, str]]], str]:
    """{'train','val','test'} -> items, and which split was used ('iam-standard' | 'form-hash')."""
    out: dict[str, list[tuple[Path, str]]] = {"train": [], "val": [], "test": []}
    split_ids = standard_split(root)
    for it in items:
        split = _standard_split_of(it[0].stem, split_ids) if split_ids else split_of(it[0])
        if split:
            out[split].append(it)
    return out, "iam-standard" if split_ids else "form-hash"


def data_hash(root: Path) -> str:
    """sha256 over the index and split files and every image's name and size: identifies the data cheaply."""
    h = hashlib.sha256()
    for name in ("lines.txt", "words.txt", *(n for names in SPLIT_FILES.values() for n in names)):
        for sub in ("", "ascii", *SPLIT_DIRS[1:]):
            if (root / sub / name).is_file():
                h.update(f"{sub}/{name}".encode())
                h.update((root / sub / name).read_bytes())
    for folder in ("lines", "words"):
        for p in sorted((root / folder).rglob("*.png")) if (root / folder).is_dir() else []:
            h.update(f"{p.name}:{p.stat().st_size}".encode())
    return h.hexdigest()


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


def splits(root: Path, seed: int) -> tuple[dict[str, list[tuple[Path, str]]], str]:
    """The train/val/test items of an IAM folder and the split's name; tiny sets get a sample split."""
    parts, how = split_items(root, read_index(root))
    if not parts["train"] or not parts["val"] or not parts["test"]:  # tiny datasets: fall back to a sample split
        rng = random.Random(seed)
        items = parts["train"] + parts["val"] + parts["test"] or read_index(root)
        rng.shuffle(items)
        cut = max(1, len(items) // 10)
        parts = {"val": items[:cut], "test": items[cut:2 * cut] or items[:cut], "train": items[2 * cut:] or items[:cut]}
        how = "sample"
    return parts, how


def train_val_batches(root: Path, batch_size: int, seed: int, train_seed: int | None = None):
    """(train batches, val batches, info): `seed` splits the writers, `train_seed` (default: seed) shuffles."""
    from training.data import batches

    parts, how = splits(root, seed)
    train, val = parts["train"], parts["val"]
    val_batches = list(batches(samples(val, seed, repeat=False), batch_size))
    info = {"source": "iam", "path": str(root), "split": how, "train_items": len(train), "val_items": len(val),
            "test_items": len(parts["test"])}
    train_seed = seed if train_seed is None else train_seed
    return batches(samples(train, train_seed, repeat=True), batch_size, seed=train_seed), val_batches, info


def test_batches(root: Path, batch_size: int, seed: int, limit: int = 0) -> tuple[list, dict]:
    """The test split (the first `limit` items in a fixed order when limit > 0) as batches."""
    from training.data import batches

    parts, how = splits(root, seed)
    items = sorted(parts["test"], key=lambda it: it[0].name)
    items = items[:limit] if limit else items
    return list(batches(samples(items, 0, repeat=False), batch_size)), {"split": how, "test_items": len(items)}
