"""ocr_core: printed and handwritten OCR with our own Keras models (see engine.py)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy, PIL and the engine load only when `read` is first called
    from ocr_core.reader import ReadSource
    from ocr_core.result import OcrResult

# TensorFlow's C++ start-up chatter (oneDNN, CPU features) is noise for CLI and Lambda logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.2.0"


def read(source: ReadSource, mode: str = "auto", *, engine: str = "crnn", dpi: int | None = None) -> OcrResult:
    """Read an image or PDF: a path, bytes, a PIL image or a numpy array -> `OcrResult` (see reader.py).

    Imported lazily so that `import ocr_core` stays light (the health function imports only the version).
    """
    from ocr_core.reader import read as _read

    return _read(source, mode, engine=engine, dpi=dpi)
