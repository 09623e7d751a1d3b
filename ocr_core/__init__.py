"""ocr_core: printed and handwritten OCR with our own Keras models (see engine.py)."""

__version__ = "0.1.0"
