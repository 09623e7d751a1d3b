"""Real handwritten lines from an htr-real folder (`../shared/htr-real`): index, split, augment.

Layout (see that folder's README): `<source>/NNNNNN.jpg` 64-px-high grayscale line crops,
`<source>/labels.tsv` (`file<TAB>text`) and `<source>/split.tsv` (`file<TAB>train|val`, by page).
Lines whose text has characters outside our alphabet are left out (their labels would lie), as
are lines too short for CTC. Training lines get a light random augmentation (scale, shear,
stroke width, blur, contrast), because 18,000 lines from a few hundred hands are few for a CRNN.
The lines are French: the few that carry what English writes and French rarely does (w, k, th, wh,
sh) can be shown more often (`english_boost`), so real hands teach those shapes too.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ocr_core.alphabet import normalize_text

# letters and digraphs of English text that French text rarely has: w is 0.04% of the htr-real
# training letters (1.76% of the 1905 English letters'), k 0.1%, th and wh a few hundred lines in 19,000
ENGLISH_MARKS = re.compile(r"[wWkK]|[tTwWsS]h")


@dataclass(frozen=True)
class RealLine:
    path: Path
    text: str
    source: str


def is_htr_real(root: Path) -> bool:
    return any(root.glob("*/labels.tsv")) and any(root.glob("*/split.tsv"))


def read_split(root: Path, split: str) -> list[RealLine]:
    """Lines of one split ('train' | 'val'), in a stable order."""
    lines: list[RealLine] = []
    for labels in sorted(root.glob("*/labels.tsv")):
        folder = labels.parent
        sides = dict(row.split("\t", 1) for row in (folder / "split.tsv").read_text(encoding="utf-8").splitlines() if row)
        for row in labels.read_text(encoding="utf-8").splitlines():
            name, _, text = row.partition("\t")
            text = " ".join(text.split())
            if sides.get(name) != split or not text or normalize_text(text) != text:
                continue
            lines.append(RealLine(folder / name, text, folder.name))
    return lines


def data_hash(root: Path) -> str:
    """sha256 over every labels/split file (the images are named by them)."""
    h = hashlib.sha256()
    for f in sorted(root.glob("*/*.tsv")):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def load(line: RealLine) -> np.ndarray:
    gray = cv2.imread(str(line.path), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        raise OSError(f"cannot read {line.path}")
    return gray


def augment(gray: np.ndarray, rng: random.Random) -> np.ndarray:
    """A plausible other scan of the same line: size, slant, stroke width, blur, contrast."""
    h, w = gray.shape
    paper = int(np.percentile(gray, 90))
    if rng.random() < 0.7:  # width scale and shear (slant)
        sx = rng.uniform(0.8, 1.2)
        shear = rng.uniform(-0.3, 0.3)
        new_w = int(w * sx + abs(shear) * h) + 2
        m = np.float32([[sx, shear, (abs(shear) * h if shear < 0 else 0) + 1], [0, 1, 0]])
        gray = cv2.warpAffine(gray, m, (new_w, h), flags=cv2.INTER_LINEAR, borderValue=paper)
    if rng.random() < 0.3:  # thinner or thicker strokes (ink is dark: erode thickens it)
        k = np.ones((2, 2), np.uint8)
        gray = cv2.erode(gray, k) if rng.random() < 0.5 else cv2.dilate(gray, k)
    if rng.random() < 0.2:
        gray = cv2.GaussianBlur(gray, (3, 3), rng.uniform(0.4, 1.0))
    if rng.random() < 0.4:  # fainter ink or greyer paper
        alpha, beta = rng.uniform(0.5, 1.0), rng.uniform(0, 60)
        gray = np.clip(gray.astype(np.float32) * alpha + beta + (255 - beta) * (1 - alpha) * 0.5, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:  # crop a few rows off the top/bottom, as a tighter detector box would
        top, bottom = rng.randint(0, h // 8), rng.randint(0, h // 8)
        gray = gray[top: h - bottom]
    return gray


def samples(lines: list[RealLine], seed: int, augmented: bool, english_boost: int = 1) -> Iterator[tuple[np.ndarray, str]]:
    """Endless shuffled (gray crop, text) pairs, a new order each pass; lines with English marks
    come `english_boost` times a pass."""
    rng = random.Random(seed)
    order = [line for line in lines for _ in range(english_boost if ENGLISH_MARKS.search(line.text) else 1)]
    while True:
        rng.shuffle(order)
        for line in order:
            gray = load(line)
            yield (augment(gray, rng) if augmented else gray), line.text
