"""The engine's result: document -> pages -> lines -> words, each with text, confidence, box.

Boxes are polygons `[[x, y], ...]` (TL, TR, BR, BL of the text) in pixels of the original image,
after EXIF orientation; on a page read turned (`Page.rotation`) the first point is the text's own
top-left corner, wherever that lies in the image. `to_dict()` is the JSON the API and batch job return (README "Result");
`ocr_core.export` turns the same result into text, hOCR, ALTO, TSV, JSONL or a searchable PDF.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ocr_core import quality

SCHEMA_VERSION = "2.0"  # 2.0: each line once, in `lines` (with its `page`); `pages` holds page metadata and text


def _poly(box: np.ndarray) -> list[list[float]]:
    return [[round(float(x), 1), round(float(y), 1)] for x, y in np.asarray(box).reshape(-1, 2)]


@dataclass
class Word:
    text: str
    confidence: float
    box: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "confidence": round(self.confidence, 4), "box": _poly(self.box)}


@dataclass
class Line:
    text: str
    confidence: float
    box: np.ndarray
    words: list[Word]
    mode: str  # which recognizer read it: printed | handwritten | tesseract

    @property
    def low_confidence(self) -> bool:
        """Read with a confidence under its model's threshold (ocr_core.quality): check this line."""
        return quality.is_low_confidence(self.confidence, self.mode)

    @property
    def height(self) -> float:
        """Ascender-to-descender height in pixels (left edge: first to last point; any rotation)."""
        box = np.asarray(self.box, np.float64).reshape(-1, 2)
        return float(np.hypot(*(box[3] - box[0])))

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "confidence": round(self.confidence, 4), "low_confidence": self.low_confidence,
                "box": _poly(self.box), "mode": self.mode, "words": [w.to_dict() for w in self.words]}


@dataclass
class Page:
    page: int
    width: int
    height: int
    lines: list[Line]
    rotation: int = 0  # clockwise degrees the image was turned to read it (0, 90, 180, 270); boxes stay in its pixels
    blur: float | None = None  # edge blur in line heights (quality.page_blur); None: not measured

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines if line.text)

    @property
    def warnings(self) -> list[str]:
        """Codes of what may make this page's text unreliable (ocr_core.quality.WARNINGS)."""
        lines = [ln for ln in self.lines if ln.text]
        return quality.page_warnings(self.rotation, [ln.height for ln in lines], [len(ln.text) for ln in lines],
                                     [ln.low_confidence for ln in lines], self.blur)

    def to_dict(self) -> dict[str, Any]:
        """Page metadata and text; its lines are in the result's top-level `lines` (with `page`)."""
        return {"page": self.page, "width": self.width, "height": self.height, "rotation": self.rotation,
                "text": self.text, "line_count": len(self.lines), "warnings": self.warnings}


@dataclass
class OcrResult:
    pages: list[Page]
    mode: str  # what was asked: printed | handwritten | auto
    mode_used: str  # what was used: printed | handwritten | mixed | tesseract
    engine: str  # which engine produced the text
    models: dict[str, str]  # model name -> version
    detector: str
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.pages if p.text)

    @property
    def confidence(self) -> float:
        lines = [ln for p in self.pages for ln in p.lines if ln.text]
        if not lines:
            return 0.0
        weights = np.array([len(ln.text) for ln in lines], float)
        return float(np.average([ln.confidence for ln in lines], weights=weights))

    @property
    def warnings(self) -> list[str]:
        """Every page's warning codes, each once, in page order."""
        return list(dict.fromkeys(code for p in self.pages for code in p.warnings))

    def to_dict(self) -> dict[str, Any]:
        first = self.pages[0] if self.pages else None
        return {
            "schema_version": SCHEMA_VERSION,
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "mode": self.mode,
            "mode_used": self.mode_used,
            "engine": self.engine,
            "detector": self.detector,
            "models": self.models,
            "width": first.width if first else 0,
            "height": first.height if first else 0,
            "page_count": len(self.pages),
            "lines": [dict(ln.to_dict(), page=p.page) for p in self.pages for ln in p.lines],
            "pages": [p.to_dict() for p in self.pages],
            "warnings": self.warnings,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }
