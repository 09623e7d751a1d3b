"""Export a trained model with the manifest the engine's model store checks."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

from ocr_core.alphabet import ALPHABET
from ocr_core.model_store import sha256_of
from ocr_core.preprocess import LINE_HEIGHT

MODEL_FILE = "model.keras"


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
    now = dt.datetime.now(dt.UTC)
    manifest = {
        "name": f"{kind}-crnn",
        "kind": kind,
        "version": version or now.strftime("%Y.%m.%d-%H%M"),
        "file": MODEL_FILE,
        "sha256": sha256_of(out / MODEL_FILE),
        "alphabet": ALPHABET,
        "input_shape": [LINE_HEIGHT, None, 1],
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
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return out
