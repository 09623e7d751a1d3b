"""Run a CRNN's forward pass behind one protocol, with the runtime chosen by name.

    (N, 32, W, 1) float32 lines -> (N, W/4, classes) probabilities

- `onnx`: the exported `model.onnx` under onnxruntime, the serving default: about 0.2 s to
  import and open, no TensorFlow (docs/lean-runtime.md has the measurements behind the choice);
- `keras`: `model.keras` under TensorFlow, the source of truth (training, parity checks, and
  `OCR_RUNTIME=keras` for anyone who wants the original graph).

`OCR_RUNTIME` picks one; unset, a model is served with onnx when its manifest lists an ONNX export,
else with keras. `OCR_THREADS` sets how many forward passes run at once (default: every CPU this
process may run on); under onnx each pass is single-threaded, so the cores share the batches of a
page instead of splitting every pass (docs/lean-runtime.md: 10-20 % less CPU per page).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from ocr_core.vocabulary import RUNTIMES


class LineModel(Protocol):
    """A loaded recognizer network: what `recognize.py` needs from any runtime."""

    runtime: str
    num_classes: int
    parallel: int  # forward passes that may run at once (from different threads)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """(N, 32, W, 1) float32 -> (N, W/4, num_classes) float32 probabilities."""
        ...


def cpu_threads() -> int:
    """Forward passes at once: OCR_THREADS, else the CPUs this process may use (Lambda: its vCPUs)."""
    if os.environ.get("OCR_THREADS"):
        return max(1, int(os.environ["OCR_THREADS"]))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class OnnxLineModel:
    """onnxruntime on the CPU: each forward pass on one thread, `parallel` passes at once from the caller's threads.

    Splitting one pass over two cores (intra-op threads) cost 10-20 % more CPU than two passes side
    by side, each on its own core (onnxruntime sessions are safe to run from several threads)."""

    runtime = "onnx"

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        self.parallel = threads or cpu_threads()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1  # the graph is a chain
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3  # warnings about unused initializers are noise here
        # no pool threads spinning while they wait for work (they burnt CPU and slow shared cores)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self.num_classes = int(self._session.get_outputs()[0].shape[-1])

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return self._session.run(None, {self._input: np.ascontiguousarray(batch, np.float32)})[0]


class KerasLineModel:
    """TensorFlow/Keras: one traced graph for every batch shape (no retracing per line width)."""

    runtime = "keras"
    parallel = 1  # TensorFlow spreads one pass over the cores itself

    def __init__(self, path: Path) -> None:
        import keras  # heavy: only when this runtime is chosen
        import tensorflow as tf

        self.model = keras.models.load_model(path, compile=False)
        model = self.model
        self._predict = tf.function(
            lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec([None, model.input_shape[1], None, 1], tf.float32)],
            reduce_retracing=True,
        )
        self.num_classes = int(model.output_shape[-1])

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return self._predict(batch).numpy()


def open_line_model(runtime: str, path: Path) -> LineModel:
    if runtime == "onnx":
        return OnnxLineModel(path)
    if runtime == "keras":
        return KerasLineModel(path)
    raise ValueError(f"unknown runtime {runtime!r}: one of {', '.join(RUNTIMES)}")
