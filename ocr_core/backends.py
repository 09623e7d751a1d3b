"""Recognition backends: what turns detected lines (or whole pages) into text, behind one protocol.

`OcrEngine.read(..., engine=NAME)` picks one by name from BACKENDS, the way `detect.make_detector`
picks a line detector:

- `crnn` (default): our printed and handwritten CRNNs on the detected lines (modes printed,
  handwritten, auto; the engine's own `_recognize`, which also drives `auto` and the deadlines);
- `kerasocr`: keras-ocr's kurapan CRNN on the words of our detected lines (printed digits and
  lowercase only; needs `crnn_kurapan.h5`, never downloaded);
- `tesseract`: the Tesseract binary on whole pages (its own layout analysis, no detector).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from ocr_core import __version__, kerasocr_adapter, tesseract
from ocr_core.detect import find_kerasocr_weights
from ocr_core.errors import BadRequestError, ModelError
from ocr_core.model_store import sha256_of
from ocr_core.page import PageImage
from ocr_core.recognize import word_spans
from ocr_core.result import Line, Word
from ocr_core.vocabulary import MODEL_KINDS


class RecognitionBackend(Protocol):
    name: str
    reads_pages: bool  # True: reads whole pages itself (`read_page`); False: the engine's detected lines (`read_lines`)

    def check(self, mode: str) -> None:
        """Refuse a mode it cannot read and load what it needs, before any page is decoded (raises OcrError)."""

    def read_lines(self, regions: list, mode: str, deadline: float | None) -> list[Line]: ...

    def read_page(self, page: PageImage) -> list[Line]: ...

    def describe(self, mode: str) -> tuple[str, dict[str, str]]:
        """(engine label, {model: version}) for the result."""
        ...


class CrnnBackend:
    """Our CRNNs; the reading itself is the engine's (`_recognize`: auto sampling, deadline checks)."""

    name = "crnn"
    reads_pages = False

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def check(self, mode: str) -> None:
        return None

    def read_lines(self, regions: list, mode: str, deadline: float | None) -> list[Line]:
        return list(self.engine._recognize(regions, mode, deadline))

    def read_page(self, page: PageImage) -> list[Line]:
        raise NotImplementedError("crnn reads detected lines")

    def describe(self, mode: str) -> tuple[str, dict[str, str]]:
        kinds = list(MODEL_KINDS) if mode == "auto" else [mode]
        return f"ocr_core {__version__} (crnn)", {k: self.engine.recognizer(k).version for k in kinds}


class KerasOcrBackend:
    """keras-ocr's kurapan recognizer, which reads words: each line crop is cut at its blank gaps."""

    name = "kerasocr"
    reads_pages = False

    def __init__(self, engine: Any) -> None:
        self.store = engine.store
        self._kurapan: kerasocr_adapter.KurapanRecognizer | None = None  # loaded on first use
        self._version = ""

    def kurapan(self) -> kerasocr_adapter.KurapanRecognizer:
        """keras-ocr's kurapan recognizer, when `crnn_kurapan.h5` is in the store or KERAS_OCR_CACHE_DIR."""
        if self._kurapan is None:
            path = find_kerasocr_weights(self.store, kerasocr_adapter.KURAPAN_WEIGHTS)
            if path is None:
                raise ModelError(f"the kerasocr engine needs keras-ocr's {kerasocr_adapter.KURAPAN_WEIGHTS} in the model store's "
                                 "keras-ocr/ folder or in KERAS_OCR_CACHE_DIR (it is never downloaded)")
            self._kurapan = kerasocr_adapter.KurapanRecognizer(path)
            self._version = f"{path.name} sha256:{sha256_of(path)[:12]}"
        return self._kurapan

    def check(self, mode: str) -> None:
        if mode == "handwritten":
            raise BadRequestError("the kerasocr engine reads printed text only (mode printed or auto)", "bad_mode")
        self.kurapan()  # raises ModelError when its weights are absent

    def read_lines(self, regions: list, mode: str, deadline: float | None) -> list[Line]:
        spans = [word_spans(r.crop, r.band[1] - r.band[0]) for r in regions]
        crops = [r.crop[:, x0:x1] for r, line_spans in zip(regions, spans) for x0, x1 in line_spans]
        readings = iter(self.kurapan().recognize(crops))
        lines = []
        for region, line_spans in zip(regions, spans):
            words = []
            for x0, x1 in line_spans:
                text, conf = next(readings)
                if text:
                    words.append(Word(text, conf, region.crop_x_to_box(x0, x1)))
            if words:
                lines.append(Line(" ".join(w.text for w in words), float(np.mean([w.confidence for w in words])),
                                  region.box, words, "printed"))
        return lines

    def read_page(self, page: PageImage) -> list[Line]:
        raise NotImplementedError("kerasocr reads detected lines")

    def describe(self, mode: str) -> tuple[str, dict[str, str]]:
        return f"keras-ocr {kerasocr_adapter.version()} (kurapan)", {"kurapan": self._version}


class TesseractBackend:
    """The Tesseract binary, when installed: whole pages, its own line finding."""

    name = "tesseract"
    reads_pages = True

    def __init__(self, engine: Any) -> None:
        return None

    def check(self, mode: str) -> None:
        if not tesseract.available():
            raise ModelError("the tesseract engine was requested but the tesseract binary is not installed")

    def read_lines(self, regions: list, mode: str, deadline: float | None) -> list[Line]:
        raise NotImplementedError("tesseract reads whole pages")

    def read_page(self, page: PageImage) -> list[Line]:
        return list(tesseract.read_page(page.gray()))

    def describe(self, mode: str) -> tuple[str, dict[str, str]]:
        return tesseract.version(), {}


BACKENDS: dict[str, type[CrnnBackend] | type[KerasOcrBackend] | type[TesseractBackend]] = {
    "crnn": CrnnBackend, "tesseract": TesseractBackend, "kerasocr": KerasOcrBackend}
