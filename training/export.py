"""Export a trained model with the manifest the engine's model store checks, plus its lean ONNX copy.

    python -m training.export models/handwritten [models/printed ...]   # (re)export model.onnx

`model.keras` is the source of truth. `export_onnx` converts it with tf2onnx (any CRNN of this
repo: input (32, W, 1) grayscale, any batch and width) and keeps the ONNX file only if it passes
the parity gate: on every line of the parity set (the repo's samples/ and, when present,
up to 24 images of each ../shared/dev-eval set, cut into lines by the engine's segmenter) the ONNX model must give the same
greedy CTC text as Keras (a difference is tolerated only at an exact tie of Keras's own top two
classes) and no probability may differ by more than PARITY_TOLERANCE. The file's sha256 and the
parity numbers go into the manifest (`runtimes.onnx`), which the model store and registry check.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ocr_core.alphabet import ALPHABET
from ocr_core.model_store import sha256_of
from ocr_core.preprocess import LINE_HEIGHT

MODEL_FILE = "model.keras"
ONNX_FILE = "model.onnx"
ONNX_OPSET = 17
PARITY_TOLERANCE = 1e-3  # max |p_onnx - p_keras| over every class, step and line
REPO = Path(__file__).resolve().parents[1]
PARITY_SOURCES = [REPO / "samples", REPO.parent / "shared" / "dev-eval"]
PARITY_IMAGES_PER_SET = 24  # images per folder (dev set): enough lines of every kind, a few seconds
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}


class ExportError(RuntimeError):
    """The lean export failed or did not match the Keras model (parity gate)."""


def _code_version() -> str:
    """The git sha of the training code; in the job image (no .git) the CODE_VERSION build arg."""
    if os.environ.get("CODE_VERSION"):
        return os.environ["CODE_VERSION"]
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return "unknown"


def export_model(src: Path, out: Path, *, kind: str, version: str = "", training: dict, metrics: dict,
                 history: list | None = None, data: dict | None = None, preprocess: tuple[str, ...] = (),
                 arch: str = "base") -> Path:
    """Copy the model to `out` and write its manifest; `data` = {'source', 'hash'} of the training data,
    `preprocess` the extra `ocr_core.preprocess` steps the model was trained with (the engine applies them)."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, out / MODEL_FILE)
    from training.model import input_height

    now = dt.datetime.now(dt.UTC)
    manifest = {
        "name": f"{kind}-crnn",
        "kind": kind,
        "version": version or now.strftime("%Y.%m.%d-%H%M"),
        "file": MODEL_FILE,
        "sha256": sha256_of(out / MODEL_FILE),
        "alphabet": ALPHABET,
        "input_shape": [input_height(arch), None, 1],
        "time_step_width": 4,
        "preprocess": list(preprocess),
        "architecture": arch,
        "created": now.isoformat(timespec="seconds"),
        "code_version": _code_version(),
        "data": data or {"source": str(training.get("data", {}).get("source", "unknown"))},
        "training": training,
        "metrics": metrics,
        "history": history or [],
    }
    _write_manifest(out, manifest)
    try:  # the ONNX copy the services run; a failed gate leaves the Keras model served, never a wrong ONNX
        export_onnx(out)
    except ExportError as exc:
        print(f"warning: no ONNX export for {out}: {exc}", file=sys.stderr)
    return out


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")


def parity_lines(sources: list[Path] | None = None) -> tuple[list[np.ndarray], list[str]]:
    """Line crops of every image below the parity sources (segmented like the engine does), and the sets used."""
    from ocr_core.image_io import decode_image
    from ocr_core.segment import segment_lines

    crops: list[np.ndarray] = []
    used: list[str] = []
    for source in sources if sources is not None else PARITY_SOURCES:
        if not source.is_dir():
            continue
        images = []
        for folder in sorted({p.parent for p in source.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES}):
            in_folder = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            step = max(1, -(-len(in_folder) // PARITY_IMAGES_PER_SET))  # evenly spread, at most the cap
            images += in_folder[::step]
        for path in images:
            for page in decode_image(path.read_bytes()):
                crops += [r.crop for r in segment_lines(page.gray())]
        if images:
            label = source.relative_to(REPO) if source.is_relative_to(REPO) else f"../{source.relative_to(REPO.parent)}"
            used.append(f"{label} ({len(images)} images)")
    return crops, used


def parity(reference: Any, candidate: Any, crops: list[np.ndarray], alphabet: str,
           preprocess: tuple[str, ...] = (), height: int = LINE_HEIGHT) -> dict[str, Any]:
    """Compare two LineModels line by line: greedy text and the largest probability difference."""
    from ocr_core.ctc import greedy_decode
    from ocr_core.recognize import line_probabilities

    ref_probs = line_probabilities(reference, crops, preprocess, height=height)
    cand_probs = line_probabilities(candidate, crops, preprocess, height=height)
    same = ties = 0
    differing: list[dict[str, str]] = []
    max_diff = 0.0
    for ref, cand in zip(ref_probs, cand_probs):
        max_diff = max(max_diff, float(np.abs(ref - cand).max()) if ref.size else 0.0)
        ref_text, cand_text = greedy_decode(ref, alphabet).text, greedy_decode(cand, alphabet).text
        if ref_text == cand_text:
            same += 1
            continue
        # a different argmax is a conversion error unless Keras itself could not tell the two classes apart
        steps = np.flatnonzero(ref.argmax(-1) != cand.argmax(-1))
        margins = ref[steps, ref.argmax(-1)[steps]] - ref[steps, cand.argmax(-1)[steps]]
        if margins.size and float(margins.max()) <= PARITY_TOLERANCE:
            ties += 1
        else:
            differing.append({"keras": ref_text, "onnx": cand_text})
    return {"lines": len(crops), "same_text": same, "tie_lines": ties, "different_text": len(differing),
            "examples": differing[:3], "max_prob_diff": max_diff, "tolerance": PARITY_TOLERANCE}


def convert_to_onnx(keras_file: Path, onnx_file: Path) -> None:
    """tf2onnx conversion with a dynamic batch and width: input `image` (N, height, W, 1), output (N, W/4, classes)."""
    import keras
    import tensorflow as tf
    import tf2onnx

    logging.getLogger("tf2onnx").setLevel(logging.ERROR)  # its freezing notes are not problems
    model = keras.models.load_model(keras_file, compile=False)
    spec = (tf.TensorSpec([None, model.input_shape[1], None, 1], tf.float32, name="image"),)
    forward = tf.function(lambda image: model(image, training=False), input_signature=spec)
    tf2onnx.convert.from_function(forward, input_signature=spec, opset=ONNX_OPSET, output_path=str(onnx_file))


def export_onnx(folder: Path, sources: list[Path] | None = None) -> dict[str, Any]:
    """Convert `folder`'s model.keras to model.onnx, gate it on parity, record it in the manifest.

    On failure the folder keeps no ONNX file and its manifest no `runtimes.onnx` (the store then
    serves Keras), and ExportError says why.
    """
    import onnxruntime
    import tf2onnx

    from ocr_core.model_store import check_manifest
    from ocr_core.runtime import KerasLineModel, OnnxLineModel

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    keras_file = folder / Path(manifest.get("file", MODEL_FILE)).name
    check_manifest(manifest, keras_file)  # export only the model the manifest vouches for
    onnx_file = folder / ONNX_FILE
    manifest.get("runtimes", {}).pop("onnx", None)  # until the new file passes, no stale entry
    _write_manifest(folder, manifest)
    onnx_file.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        candidate = Path(tmp) / ONNX_FILE
        try:
            convert_to_onnx(keras_file, candidate)
        except Exception as exc:  # tf2onnx raises many types; the caller needs one
            raise ExportError(f"tf2onnx could not convert {keras_file}: {type(exc).__name__}: {exc}") from exc
        crops, sets = parity_lines(sources)
        if not crops:
            raise ExportError("no parity lines: samples/ has no images")
        try:
            report = parity(KerasLineModel(keras_file), OnnxLineModel(candidate), crops, str(manifest["alphabet"]),
                            tuple(manifest.get("preprocess", ())), int(manifest["input_shape"][0]))
        except Exception as exc:  # e.g. a network that takes another input height than the manifest's
            raise ExportError(f"parity gate failed on {folder}: the ONNX model does not run on the manifest's "
                              f"lines: {type(exc).__name__}: {exc}") from exc
        report["sets"] = sets
        if report["different_text"] or report["max_prob_diff"] > PARITY_TOLERANCE:
            raise ExportError(f"parity gate failed on {folder}: {json.dumps(report, ensure_ascii=False)}")
        shutil.copyfile(candidate, onnx_file)
    entry = {"file": ONNX_FILE, "sha256": sha256_of(onnx_file), "opset": ONNX_OPSET,
             "converter": f"tf2onnx {tf2onnx.__version__}", "checked_with": f"onnxruntime {onnxruntime.__version__}",
             "exported": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "parity": report}
    manifest.setdefault("runtimes", {})["onnx"] = entry
    _write_manifest(folder, manifest)
    return entry


def has_current_onnx(folder: Path) -> bool:
    """True when the manifest lists an ONNX export whose file is present with the recorded sha256."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest.get("runtimes", {}).get("onnx")
    path = folder / Path(entry["file"]).name if entry else None
    return bool(path and path.exists() and sha256_of(path) == entry["sha256"])


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m training.export",
                                description="(Re)export model folders (model.keras + manifest.json) to ONNX, parity-gated.")
    p.add_argument("folders", nargs="+", type=Path, help="model folders, e.g. models/handwritten")
    a = p.parse_args(argv)
    failed = 0
    for folder in a.folders:
        try:
            entry = export_onnx(folder)
        except (ExportError, OSError, ValueError) as exc:
            failed += 1
            print(f"{folder}: not exported: {exc}", file=sys.stderr)
            continue
        par = entry["parity"]
        print(f"{folder}: {entry['file']} sha256 {entry['sha256'][:12]}…; parity on {par['lines']} lines: "
              f"{par['same_text']} same text, {par['tie_lines']} ties, max prob diff {par['max_prob_diff']:.2e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
