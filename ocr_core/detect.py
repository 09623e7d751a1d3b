"""Text-line detection: our OpenCV line segmenter, or keras-ocr's CRAFT when its weights exist.

Both give `LineRegion`s (box polygon in original pixels + a deskewed grayscale line crop), which
is all the recognizers need: the OpenCV segmenter in reading order (columns too), CRAFT's lines
top to bottom by their mean height (no column analysis).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from ocr_core import kerasocr_adapter  # cheap: keras-ocr itself is imported by its constructors
from ocr_core.image_io import PageImage
from ocr_core.model_store import ModelStore
from ocr_core.segment import LineRegion, segment_lines


class LineDetector(Protocol):
    name: str

    def detect(self, page: PageImage) -> list[LineRegion]: ...


class OpenCvLineDetector:
    """Illumination-flattened binarization + connected components grouped into lines."""

    name = "opencv-lines"

    def detect(self, page: PageImage) -> list[LineRegion]:
        return segment_lines(page.gray())


class CraftLineDetector:
    """keras-ocr's CRAFT word boxes, grouped into lines for our line recognizers."""

    name = "craft"

    def __init__(self, weights_path: str | Path | None) -> None:
        self._craft = kerasocr_adapter.CraftDetector(weights_path)

    def detect(self, page: PageImage) -> list[LineRegion]:
        boxes = self._craft.detect(page.rgb)
        return lines_from_word_boxes(page.gray(), boxes)


def lines_from_word_boxes(gray: np.ndarray, boxes: list[np.ndarray]) -> list[LineRegion]:
    """Group word polygons whose vertical extents overlap into lines; crop each line."""
    rects = sorted((np.asarray(b).reshape(-1, 2) for b in boxes), key=lambda b: b[:, 1].mean())
    groups: list[list[np.ndarray]] = []
    for b in rects:
        y0, y1 = b[:, 1].min(), b[:, 1].max()
        for g in groups:
            gy0 = np.mean([w[:, 1].min() for w in g])
            gy1 = np.mean([w[:, 1].max() for w in g])
            overlap = min(y1, gy1) - max(y0, gy0)
            if overlap > 0.5 * min(y1 - y0, gy1 - gy0):
                g.append(b)
                break
        else:
            groups.append([b])
    h, w = gray.shape
    regions = []
    for g in groups:
        pts = np.concatenate(g)
        x0, y0 = np.floor(pts.min(axis=0)).astype(int)
        x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
        regions.append(LineRegion.from_rect(gray, max(0, x0), max(0, y0), min(w, x1), min(h, y1)))
    return regions


def find_kerasocr_weights(store: ModelStore, filename: str) -> Path | None:
    """A keras-ocr weights file (`craft_mlt_25k.h5`, `crnn_kurapan.h5`): in a local model store's
    `keras-ocr/` folder, else in KERAS_OCR_CACHE_DIR (default ~/.keras-ocr); None when absent."""
    candidates = [kerasocr_adapter.weights_dir() / filename]
    if not store.root.startswith("s3://"):
        candidates.insert(0, Path(store.root) / "keras-ocr" / filename)
    return next((p for p in candidates if p.is_file()), None)


def find_craft_weights(store: ModelStore) -> Path | None:
    """keras-ocr's pretrained CRAFT weights: in the model store (`keras-ocr/`) or KERAS_OCR_CACHE_DIR."""
    return find_kerasocr_weights(store, kerasocr_adapter.CRAFT_WEIGHTS)


def make_detector(kind: str, store: ModelStore) -> LineDetector:
    """'opencv', 'craft', or 'auto' (CRAFT when its pretrained weights are available)."""
    if kind in ("craft", "auto"):
        path = find_craft_weights(store)
        if path is not None:
            return CraftLineDetector(path)
        if kind == "craft":
            raise FileNotFoundError("CRAFT weights (craft_mlt_25k.h5) not found in the model store or KERAS_OCR_CACHE_DIR")
    return OpenCvLineDetector()
