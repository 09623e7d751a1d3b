"""ocr_core: printed and handwritten OCR with our own Keras models (see engine.py)."""

import os

# TensorFlow's C++ start-up chatter (oneDNN, CPU features) is noise for CLI and Lambda logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
