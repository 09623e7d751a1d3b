"""The test split and how a model scores on it: the final metrics of a run and the promotion gate.

An evaluation set is identified by the sha256 of its images and texts, so two models' metrics
are only compared directly when they were measured on exactly the same lines; otherwise the
gate measures both again on one set.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from ocr_core.alphabet import ALPHABET
from ocr_core.ctc import greedy_decode
from ocr_core.metrics import cer, wer
from ocr_core.preprocess import LINE_HEIGHT
from ocr_core.storage import local_copy

TEST_SEED = 999_998  # synthetic test lines; validation uses 999_999 and training seeds 1..n
DEFAULT_TEST_SAMPLES = 512


def test_set(kind: str, data: str, samples: int = 0, batch_size: int = 32,
             seed: int = 1, steps: tuple[str, ...] = (), height: int = LINE_HEIGHT) -> tuple[list, dict[str, Any]]:
    """(batches, info) of the test split: synthetic held-out lines, or an IAM folder/s3:// URI's test split.

    samples: synthetic lines to render (0: DEFAULT_TEST_SAMPLES); for IAM a cap (0: the whole split).
    An htr-real folder has no test split (its val split picks checkpoints): it is tested on synthetic lines.
    `steps`: the model's extra preprocessing steps; `height` its input height.
    """
    from training import data as data_mod
    from training.htr_real import is_htr_real

    if data == "synthetic" or is_htr_real(Path(data)):
        lines = data_mod.synthetic_samples(kind, TEST_SEED, samples or DEFAULT_TEST_SAMPLES, 0, steps, held_out=True,
                                           height=height)
        batches = list(data_mod.batches(lines, batch_size))
        info: dict[str, Any] = {"source": "synthetic", "split": f"synthetic seed {TEST_SEED}, held-out fonts"}
    else:
        from training import iam

        batches, info = iam.test_batches(local_copy(data), batch_size, seed, limit=samples)
        info = {"source": data, **info}
    info.update(id=set_id(batches), lines=sum(len(b.texts) for b in batches))
    if not info["lines"]:
        raise ValueError(f"the test split of {data} has no usable lines")
    return batches, info


def evaluate(model: Any, batches: list) -> dict[str, float]:
    """Greedy-decode every line of the batches with a Keras model; mean CER/WER and exact-line accuracy."""
    cers, wers, exact = [], [], []
    for b in batches:
        probs = model.predict_on_batch(b.images)
        for p, n, text in zip(probs, b.steps, b.texts):
            hyp = greedy_decode(np.asarray(p, np.float32)[:n], ALPHABET).text
            cers.append(cer(text, hyp))
            wers.append(wer(text, hyp))
            exact.append(hyp == text)
    return {"cer": float(np.mean(cers)), "wer": float(np.mean(wers)), "line_accuracy": float(np.mean(exact))}


def evaluate_file(model_file: Path, batches: list) -> dict[str, float]:
    """CER/WER/line accuracy of a saved .keras model on prepared batches."""
    import keras

    return evaluate(keras.models.load_model(model_file, compile=False), batches)


def set_id(batches: list) -> str:
    """Hash of the lines themselves (unpadded image + text), independent of batch size and order."""
    from ocr_core.preprocess import WIDTH_STEP

    digests = sorted(
        hashlib.sha256(text.encode() + b"\0" + np.ascontiguousarray(img[:, : n * WIDTH_STEP]).tobytes()).hexdigest()
        for b in batches for img, n, text in zip(b.images, b.steps, b.texts)
    )
    return hashlib.sha256("".join(digests).encode()).hexdigest()[:16]
