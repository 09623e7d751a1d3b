"""Turn a grayscale line crop into the recognizer's input tensor.

Training and inference both call `prepare_line` and `pad_batch`, so a model always sees at
serving time exactly the kind of input it was trained on.
"""

from __future__ import annotations

import cv2
import numpy as np

LINE_HEIGHT = 32  # model input height in pixels
WIDTH_STEP = 4  # the CRNN downsamples width by 4: one CTC time step per 4 input columns
MAX_LINE_WIDTH = 1600  # wider lines are squeezed (about 100+ characters at 32 px height)
MIN_LINE_WIDTH = 16


def prepare_line(gray: np.ndarray) -> np.ndarray:
    """uint8 gray crop (dark ink on light paper) -> float32 (32, W, 1), ink ~1, paper ~0.

    Contrast is stretched between robust paper and ink levels so faint pencil, grey scans
    and dark photos look alike to the model.
    """
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    new_w = int(round(w * LINE_HEIGHT / max(h, 1)))
    new_w = int(np.clip(new_w, MIN_LINE_WIDTH, MAX_LINE_WIDTH))
    interp = cv2.INTER_AREA if h > LINE_HEIGHT else cv2.INTER_CUBIC
    img = cv2.resize(gray, (new_w, LINE_HEIGHT), interpolation=interp).astype(np.float32)
    paper = np.percentile(img, 90)
    ink = min(np.percentile(img, 2), paper - 30.0)
    img = (paper - img) / max(paper - ink, 1.0)
    return np.clip(img, 0.0, 1.0)[:, :, None]


def pad_batch(lines: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Pad prepared lines to one width (a multiple of WIDTH_STEP) with paper (0).

    Returns the batch (N, 32, W, 1) and each line's number of valid CTC time steps.
    """
    widths = np.array([x.shape[1] for x in lines])
    max_w = int(np.ceil(widths.max() / WIDTH_STEP) * WIDTH_STEP)
    batch = np.zeros((len(lines), LINE_HEIGHT, max_w, 1), np.float32)
    for i, x in enumerate(lines):
        batch[i, :, : x.shape[1]] = x
    steps = np.ceil(widths / WIDTH_STEP).astype(np.int32)
    return batch, steps
