"""ocr_core: printed and handwritten OCR with our own Keras models (see engine.py)."""

import os

# TensorFlow's C++ start-up chatter (oneDNN, CPU features) is noise for CLI and Lambda logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"


def read(source, mode: str = "auto", *, engine: str = "crnn", dpi: int | None = None):  # noqa: ANN001, ANN201
    """Read an image or PDF: a path, bytes, a PIL image or a numpy array -> `OcrResult` (see reader.py).

    Imported lazily so that `import ocr_core` stays light (the health function imports only the version).
    """
    from ocr_core.reader import read as _read

    return _read(source, mode, engine=engine, dpi=dpi)
