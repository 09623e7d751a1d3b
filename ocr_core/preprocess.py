"""Turn a grayscale line crop into the recognizer's input tensor.

Training and inference both call `prepare_line` and `pad_batch`, so a model always sees at
serving time exactly the kind of input it was trained on. A model whose manifest says
`"preprocess": ["isolate"]` (the handwriting model) also gets `isolate_line` first: real line crops
carry bits of the neighbouring lines' ascenders and descenders, which would otherwise waste most of
the model's input height (32 px) and be read as stray characters.
"""

from __future__ import annotations

import cv2
import numpy as np

from ocr_core.vocabulary import LINE_HEIGHT, WIDTH_STEP  # noqa: F401 - the geometry preprocessing produces

MAX_LINE_WIDTH = 1600  # at 32 px high (scaled with a taller input): wider lines are squeezed (about 100+ characters)
MIN_LINE_WIDTH = 16
PREPROCESS_STEPS = ("isolate",)  # what a manifest's "preprocess" may name


def ink_levels(gray: np.ndarray, dtype: type[np.floating] = np.float64) -> tuple[float, float]:
    """Robust (paper, ink) levels of a crop: its 90th and 2nd percentiles, as np.percentile gives them
    for the crop as `dtype` (float64: as is; float32: the crop converted to float32).

    A uint8 crop's come from its 256-bin histogram, without sorting the pixels (that sort was a third
    of the per-line bookkeeping on a dense page); the interpolation rounds as numpy's does."""
    if gray.dtype != np.uint8 or gray.size == 0:
        values = gray.astype(dtype, copy=False)
        return float(np.percentile(values, 90)), float(np.percentile(values, 2))
    cum = np.cumsum(np.bincount(gray.ravel(), minlength=256))
    last = int(cum[-1]) - 1

    def level(q: float) -> float:
        pos = q / 100 * last
        lo = int(np.floor(pos))
        t = pos - lo
        a, b = (dtype(np.searchsorted(cum, k, side="right")) for k in (lo, min(lo + 1, last)))
        return float(b - (b - a) * dtype(1 - t) if t >= 0.5 else a + (b - a) * dtype(t))  # numpy's _lerp

    return level(90), level(2)


def even_paper(gray: np.ndarray) -> np.ndarray:
    """The uint8 crop on white paper: 255 minus how much darker each pixel is than the paper around it
    (a morphological black-hat).

    Ink is then measured against the local paper, not one level for the crop: a shadow or a dark scan
    edge across part of a crop becomes paper, not a band of ink that outweighs the written line.
    The window (a quarter of the crop's height) is wider than a pen stroke and narrower than a shadow.
    """
    k = max(3, (gray.shape[0] // 4) | 1)
    return 255 - cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))


def isolate_line(gray: np.ndarray) -> np.ndarray:
    """Keep the crop's main line: erase ink of the neighbouring lines, cut rows to what is left.

    The core band is where the row ink profile is dense (the main line's x-height zone) around
    its peak, the peak being weighted toward the middle rows, where a detector centres its line. Ink
    components far from it (further than 0.6 core heights: i-dots and accents are closer), or that
    hang in from the top/bottom edge and reach only a little way into it (a descender of the line
    above, an ascender of the line below), are painted over with paper. Ink is found against the
    local paper (`even_paper`), so a shadow band is not taken for the line. Returns the rows from the
    highest to the lowest remaining ink, plus a margin.
    """
    h, w = gray.shape
    if h < 12 or w < 12:
        return gray
    flat = even_paper(gray)
    flat_paper, ink = ink_levels(flat)
    if flat_paper - ink < 25:  # nothing written
        return gray
    mask = (flat < (flat_paper + ink) / 2).astype(np.uint8)
    rules = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * h, 1)))
    mask[cv2.dilate(rules, np.ones((3, 1), np.uint8)) > 0] = 0  # a ruled line or an underline is not writing
    paper = ink_levels(gray)[0]  # what erased ink is painted with
    rows = cv2.blur(mask.sum(axis=1).astype(np.float32)[:, None], (1, max(3, h // 8)))[:, 0]
    centred = 1.0 - 0.6 * np.abs(np.arange(h) - (h - 1) / 2) / (h / 2)  # crops are centred on their line
    peak = int(np.argmax(rows * centred))
    dense = rows >= 0.3 * rows[peak]
    c0 = peak
    while c0 > 0 and dense[c0 - 1]:
        c0 -= 1
    c1 = peak
    while c1 < h - 1 and dense[c1 + 1]:
        c1 += 1
    core = max(1, c1 - c0 + 1)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    top = stats[1:, cv2.CC_STAT_TOP]
    bottom = top + stats[1:, cv2.CC_STAT_HEIGHT] - 1
    gap = np.maximum(c0 - bottom, top - c1)  # rows between the component and the core band (<= 0: overlap)
    far = gap > 0.6 * core  # dots, accents and apostrophes sit closer than that
    hangs_from_top = (top == 0) & (bottom < c0 + 0.4 * core)
    rises_from_bottom = (bottom == h - 1) & (top > c1 - 0.4 * core)
    erase = np.concatenate([[False], far | hangs_from_top | rises_from_bottom])
    halo = cv2.dilate(erase[labels].astype(np.uint8), np.ones((3, 3), np.uint8)) > 0  # anti-aliased edges too
    kept_ink = (labels > 0) & ~erase[labels]
    out = np.where(halo & ~kept_ink, np.uint8(paper), gray)
    kept = ~erase[1:]
    if not kept.any():
        return gray
    keep_top, keep_bottom = int(top[kept].min()), int(bottom[kept].max())
    if keep_bottom <= keep_top:
        return gray
    margin = max(2, int(0.15 * (keep_bottom - keep_top + 1)))
    return out[max(0, keep_top - margin): min(h, keep_bottom + margin + 1)]


def prepare_line(gray: np.ndarray, steps: tuple[str, ...] = (), stretch: float = 1.0,
                 height: int = LINE_HEIGHT) -> np.ndarray:
    """uint8 gray crop (dark ink on light paper) -> float32 (height, W, 1), ink ~1, paper ~0.

    Contrast is stretched between robust paper and ink levels so faint pencil, grey scans
    and dark photos look alike to the model. `steps` are the model's extra steps ("isolate");
    `stretch` widens (> 1) or narrows the line beyond its own aspect (a second reading of a hand);
    `height` is the model's input height (its manifest's input_shape[0]).
    """
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_RGB2GRAY)
    if "isolate" in steps:
        gray = isolate_line(gray)
    h, w = gray.shape
    new_w = int(round(w * height / max(h, 1) * stretch))
    new_w = int(np.clip(new_w, MIN_LINE_WIDTH, MAX_LINE_WIDTH * height // LINE_HEIGHT))
    interp = cv2.INTER_AREA if h > height else cv2.INTER_CUBIC
    small = cv2.resize(gray, (new_w, height), interpolation=interp)
    paper, ink = (np.float32(v) for v in ink_levels(small, np.float32))  # = np.percentile of the float32 image
    ink = min(ink, paper - 30.0)
    img = (paper - small.astype(np.float32)) / max(paper - ink, 1.0)
    return np.clip(img, 0.0, 1.0)[:, :, None]


def pad_batch(lines: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Pad prepared lines to one width (a multiple of WIDTH_STEP) with paper (0).

    Returns the batch (N, height, W, 1) and each line's number of valid CTC time steps.
    """
    widths = np.array([x.shape[1] for x in lines])
    max_w = int(np.ceil(widths.max() / WIDTH_STEP) * WIDTH_STEP)
    batch = np.zeros((len(lines), lines[0].shape[0], max_w, 1), np.float32)
    for i, x in enumerate(lines):
        batch[i, :, : x.shape[1]] = x
    steps = np.ceil(widths / WIDTH_STEP).astype(np.int32)
    return batch, steps
