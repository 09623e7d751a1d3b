"""keras-ocr (CRAFT word detector, `kurapan` CRNN recognizer) behind a small API.

This is the ONLY module of the repo that imports `keras_ocr`. Importing this module is cheap:
keras-ocr, TensorFlow and tf-keras are imported on first use, by the constructors.

keras-ocr 0.9.3 is installed with --no-deps (requirements/kerasocr.txt, docs/dependencies.md),
and two things must happen when `keras_ocr` is imported, both undone right after:

* Keras 2. Its modules do `from tensorflow import keras` at import time, its recognizer needs
  Keras 2 (it passes `weights=` to `Dense`, which Keras 3 refuses) and its CTC decoder calls
  `tf.keras.backend.*` at run time. Our own models use Keras 3 (`import keras`) in the same
  process, and `TF_USE_LEGACY_KERAS=1` only works if set before TensorFlow is first imported.
  So `tf.keras` is pointed at the `tf_keras` package while `keras_ocr` is imported, then
  restored, and `keras_ocr.recognition`'s `tf` becomes a view of TensorFlow whose `.keras` is
  tf_keras. The process-wide `tf.keras` is left as it was.
* Stand-ins. Its package `__init__` imports its training, augmentation, plotting and evaluation
  helpers, whose module-level imports (imgaug, matplotlib, efficientnet, validators, fontTools,
  essential_generators, editdistance, pyclipper) inference never calls; imgaug 0.4.0 does not
  even import on numpy 2. Those not already imported are stand-ins in `sys.modules` while
  `keras_ocr` is imported; calling anything from them raises ImportError.

Nothing downloads: weights are loaded from files we are given (FileNotFoundError when missing),
and keras-ocr's `tools.download_and_verify` is replaced by a function that raises.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import types
from pathlib import Path
from typing import Any

import numpy as np

from ocr_core.ctc import greedy_decode

CRAFT_WEIGHTS = "craft_mlt_25k.h5"
KURAPAN_WEIGHTS = "crnn_kurapan.h5"

# Imported by keras_ocr at module level, used only by code paths we never call.
_IMPORT_ONLY_MODULES = (
    "imgaug",
    "matplotlib",
    "matplotlib.pyplot",
    "validators",
    "essential_generators",
    "fontTools",
    "fontTools.ttLib",
    "editdistance",
    "pyclipper",
    "efficientnet",
    "efficientnet.tfkeras",
)

_lock = threading.Lock()
_keras_ocr_module: types.ModuleType | None = None


# ---------------------------------------------------------------- weights


def weights_dir() -> Path:
    """Where keras-ocr's pretrained weights are looked for: $KERAS_OCR_CACHE_DIR or ~/.keras-ocr."""
    env = os.environ.get("KERAS_OCR_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".keras-ocr"


def craft_weights_path(directory: str | Path | None = None) -> Path:
    """The expected CRAFT weights file in `directory` (default: `weights_dir()`)."""
    return Path(directory or weights_dir()) / CRAFT_WEIGHTS


def kurapan_weights_path(directory: str | Path | None = None) -> Path:
    """The expected kurapan CRNN weights file in `directory` (default: `weights_dir()`)."""
    return Path(directory or weights_dir()) / KURAPAN_WEIGHTS


def _existing_weights(path: str | Path, what: str, expected_name: str) -> str:
    p = Path(path).expanduser()
    if p.is_dir():  # a folder holding the file under keras-ocr's name
        p = p / expected_name
    if not p.is_file():
        raise FileNotFoundError(
            f"keras-ocr {what} weights not found: expected the file {p} ({expected_name}). "
            "They are never downloaded at run time: put the file there, or in "
            "KERAS_OCR_CACHE_DIR / ~/.keras-ocr, or in the model store's keras-ocr/ folder."
        )
    return str(p)


def version() -> str:
    """The installed keras-ocr version, without importing it."""
    from importlib.metadata import version as dist_version

    return dist_version("keras-ocr")


# ---------------------------------------------------------------- importing keras_ocr


class _StandIn(types.ModuleType):
    """A module keras-ocr imports but inference never uses: any attribute is another stand-in
    (so module-level annotations like `imgaug.augmenters.meta.Augmenter` evaluate); calling one
    raises ImportError."""

    def __getattr__(self, item: str) -> Any:
        if item.startswith("__"):
            raise AttributeError(item)
        return _StandIn(f"{self.__name__}.{item}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise ImportError(
            f"{self.__name__} is not available: ocr_core.kerasocr_adapter supports keras-ocr "
            "inference only (its training, augmentation, plotting and evaluation helpers need "
            "packages that are not installed)"
        )


class _TensorflowWithLegacyKeras(types.ModuleType):
    """TensorFlow as keras-ocr must see it: everything from `tensorflow`, but `.keras` is tf_keras."""

    def __init__(self, tf: types.ModuleType, keras: types.ModuleType) -> None:
        super().__init__(tf.__name__)
        self._tf = tf
        self.keras = keras

    def __getattr__(self, item: str) -> Any:
        return getattr(self._tf, item)


def _downloads_disabled(url: str, *args: Any, **kwargs: Any) -> str:
    raise RuntimeError(f"keras-ocr tried to download {url}: downloads are disabled in ocr_core")


def _keras_ocr() -> types.ModuleType:
    """`keras_ocr`, imported once, bound to tf_keras; see the module docstring."""
    global _keras_ocr_module
    with _lock:
        if _keras_ocr_module is None:
            _keras_ocr_module = _import_keras_ocr()
        return _keras_ocr_module


def _import_keras_ocr() -> types.ModuleType:
    import tensorflow as tf

    try:
        import tf_keras
    except ImportError as e:
        raise ImportError(
            "keras-ocr needs tf-keras (Keras 2): install it with "
            "`bash requirements/install.sh PIP runtime kerasocr` (see docs/dependencies.md)"
        ) from e
    if "keras_ocr" in sys.modules:
        raise RuntimeError("keras_ocr was imported outside ocr_core.kerasocr_adapter, bound to Keras 3")

    added = [name for name in _IMPORT_ONLY_MODULES if name not in sys.modules]
    sys.modules.update({name: _StandIn(name) for name in added})
    saved_keras = tf.__dict__["keras"]  # TensorFlow's lazy loader of Keras 3
    tf.keras = tf_keras
    try:
        ko = importlib.import_module("keras_ocr")
    except BaseException:
        for name in [n for n in sys.modules if n == "keras_ocr" or n.startswith("keras_ocr.")]:
            del sys.modules[name]
        raise
    finally:
        tf.keras = saved_keras
        for name in added:
            del sys.modules[name]
    ko.recognition.tf = _TensorflowWithLegacyKeras(tf, tf_keras)  # its CTC decoder calls tf.keras.*
    ko.tools.download_and_verify = _downloads_disabled
    return ko


# ---------------------------------------------------------------- images


def _as_uint8(image: np.ndarray) -> np.ndarray:
    a = np.asarray(image)
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    return a


def _as_rgb(image: np.ndarray) -> np.ndarray:
    import cv2

    a = _as_uint8(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 2:
        return cv2.cvtColor(a, cv2.COLOR_GRAY2RGB)
    if a.ndim == 3 and a.shape[2] == 4:
        return cv2.cvtColor(a, cv2.COLOR_RGBA2RGB)
    if a.ndim == 3 and a.shape[2] == 3:
        return np.ascontiguousarray(a)
    raise ValueError(f"expected an RGB, RGBA or grayscale image, got an array of shape {a.shape}")


def _as_gray(image: np.ndarray) -> np.ndarray:
    import cv2

    a = _as_uint8(image)
    if a.ndim == 3 and a.shape[2] == 1:
        return a[:, :, 0]
    if a.ndim == 2:
        return a
    if a.ndim == 3 and a.shape[2] == 3:
        return cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)
    if a.ndim == 3 and a.shape[2] == 4:
        return cv2.cvtColor(a, cv2.COLOR_RGBA2GRAY)
    raise ValueError(f"expected an RGB, RGBA or grayscale crop, got an array of shape {a.shape}")


def _letterbox(gray: np.ndarray, width: int, height: int, cval: int = 0) -> np.ndarray:
    """keras_ocr.tools.fit(mode="letterbox"): scale to fit, top-left aligned, pad with `cval`."""
    import cv2

    h, w = gray.shape
    scale = min(width / w, height / h)
    rw, rh = max(1, min(width, int(w * scale))), max(1, min(height, int(h * scale)))
    out = np.full((height, width), cval, dtype=np.uint8)
    out[:rh, :rw] = cv2.resize(gray, (rw, rh))
    return out


# ---------------------------------------------------------------- detector


class CraftDetector:
    """keras-ocr's CRAFT word detector: word polygons in original-image pixels.

    Like keras-ocr's Pipeline, the image is scaled by `max_scale` (2: small text is found more
    reliably) unless its longer side would exceed `max_size`, then padded to a multiple of 32.
    `weights_path=None` builds random weights: for speed benchmarks and tests only.
    """

    name = "craft"

    def __init__(
        self,
        weights_path: str | Path | None,
        *,
        max_scale: float = 2.0,
        max_size: int = 2048,
        detection_threshold: float = 0.7,
        text_threshold: float = 0.4,
        link_threshold: float = 0.4,
        size_threshold: int = 10,
    ) -> None:
        path = _existing_weights(weights_path, "CRAFT", CRAFT_WEIGHTS) if weights_path is not None else None
        self._ko = _keras_ocr()
        # Detector(weights=None) builds the model and never downloads; the weights are ours to load.
        self.detector = self._ko.detection.Detector(weights=None)
        if path is not None:
            self.detector.model.load_weights(path)
        self.weights_path = path
        self.max_scale, self.max_size = max_scale, max_size
        self.thresholds = {
            "detection_threshold": detection_threshold,
            "text_threshold": text_threshold,
            "link_threshold": link_threshold,
            "size_threshold": size_threshold,
        }

    def score_maps(self, batch: np.ndarray) -> np.ndarray:
        """The network: (N, H, W, 3) normalized input -> (N, H/2, W/2, 2) text and link scores."""
        return np.asarray(self.detector.model(batch, training=False))

    def detect(self, rgb: np.ndarray) -> list[np.ndarray]:
        """Word boxes of one image: (4, 2) float32 polygons (TL, TR, BR, BL) in its pixels."""
        import cv2

        image = _as_rgb(rgb)
        h, w = image.shape[:2]
        if h == 0 or w == 0:
            raise ValueError("empty image")
        scale = self.max_scale if max(h, w) * self.max_scale <= self.max_size else self.max_size / max(h, w)
        sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
        resized = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA)
        ph, pw = -(-sh // 32) * 32, -(-sw // 32) * 32
        padded = np.full((ph, pw, 3), 255, dtype=np.uint8)
        padded[:sh, :sw] = resized
        x = self._ko.detection.compute_input(padded)[np.newaxis]
        boxes = self._ko.detection.getBoxes(self.score_maps(x), **self.thresholds)[0]
        # Back to original pixels: undo the scale per axis (rounding made them differ slightly).
        factors = np.array([w / sw, h / sh], dtype=np.float64)
        out = []
        for box in boxes:
            b = np.asarray(box, dtype=np.float64).reshape(4, 2) * factors
            b[:, 0] = np.clip(b[:, 0], 0, w - 1)
            b[:, 1] = np.clip(b[:, 1], 0, h - 1)
            if np.ptp(b[:, 0]) >= 1 and np.ptp(b[:, 1]) >= 1:  # not all in the padding
                out.append(b.astype(np.float32))
        return out


# ---------------------------------------------------------------- recognizer


class KurapanRecognizer:
    """keras-ocr's `kurapan` CRNN (digits + lowercase a-z) on word crops.

    Crops are letterboxed to 200x31 gray on black, as keras-ocr does. Text comes from greedy CTC
    decoding of the softmax (the same best path keras-ocr's own decoder takes); the confidence
    is the geometric mean of the emitted characters' probabilities (`ocr_core.ctc`), or for an
    empty reading the mean best-path probability. `weights_path=None`: random weights.
    """

    name = "kurapan"

    def __init__(self, weights_path: str | Path | None, *, batch_size: int = 64) -> None:
        path = _existing_weights(weights_path, "kurapan recognizer", KURAPAN_WEIGHTS) if weights_path is not None else None
        rec = _keras_ocr().recognition
        # weights=None: build only (weights="kurapan" would download); kurapan's alphabet and shape.
        self.recognizer = rec.Recognizer(weights=None, alphabet=rec.DEFAULT_ALPHABET, build_params=rec.DEFAULT_BUILD_PARAMS)
        if path is not None:
            self.recognizer.model.load_weights(path)
        self.weights_path = path
        self.alphabet: str = self.recognizer.alphabet
        _, self.height, self.width, _ = self.recognizer.model.input_shape
        self.batch_size = batch_size

    def prepare(self, crop: np.ndarray) -> np.ndarray:
        """One crop as the model's (31, 200, 1) float input in 0..1."""
        gray = _letterbox(_as_gray(crop), self.width, self.height, cval=0)
        return (gray.astype(np.float32) / 255.0)[:, :, np.newaxis]

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """(N, 31, 200, 1) -> (N, steps, len(alphabet) + 1) softmax; the blank is the last class."""
        return np.asarray(self.recognizer.model(batch, training=False))

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """(text, confidence 0..1) for each crop (RGB, RGBA or gray), in order; ("", 0.0) for empty crops."""
        results: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        todo = [i for i, c in enumerate(crops) if np.asarray(c).ndim >= 2 and min(np.asarray(c).shape[:2]) > 0]
        for start in range(0, len(todo), self.batch_size):
            idx = todo[start : start + self.batch_size]
            probs = self.probabilities(np.stack([self.prepare(crops[i]) for i in idx]))
            for i, p in zip(idx, probs):
                d = greedy_decode(p, self.alphabet)
                results[i] = (d.text, d.confidence)
        return results


# ---------------------------------------------------------------- keras-ocr's own pipeline


def pipeline(weights: bool, *, directory: str | Path | None = None, scale: float = 2, max_size: int = 2048) -> Any:
    """keras-ocr's own `Pipeline` (detector + recognizer), for the speed benchmark.

    `weights=False`: random weights. `weights=True`: the pretrained files from `directory`
    (default `weights_dir()`); FileNotFoundError when one is missing. Never downloads.
    `.recognize([rgb, ...])` returns, per image, a list of (text, (4, 2) box) in its pixels;
    pass `detection_kwargs={"verbose": 0}, recognition_kwargs={"verbose": 0}` for no progress bars.
    """
    craft = CraftDetector(craft_weights_path(directory) if weights else None)
    kurapan = KurapanRecognizer(kurapan_weights_path(directory) if weights else None)
    return _keras_ocr().pipeline.Pipeline(detector=craft.detector, recognizer=kurapan.recognizer, scale=scale, max_size=max_size)
