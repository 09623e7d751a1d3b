"""Load versioned models from a local folder or an `s3://` URI, checked against their manifest.

Layout (local or S3): `<root>/<name>/manifest.json` + the model file the manifest names.
The manifest's sha256, alphabet and input shape are verified before a model is used, and each
model is loaded once per process (Lambda containers reuse it across invocations).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocr_core.alphabet import ALPHABET
from ocr_core.errors import ModelError
from ocr_core.preprocess import LINE_HEIGHT

REPO_MODELS = Path(__file__).resolve().parent.parent / "models"
S3_CACHE = Path(os.environ.get("OCR_MODEL_CACHE", "/tmp/ocr-models"))


@dataclass
class LoadedModel:
    name: str
    manifest: dict[str, Any]
    path: Path  # local folder holding manifest.json and the model file
    model: Any  # keras.Model

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", "unknown"))

    @property
    def alphabet(self) -> str:
        return str(self.manifest["alphabet"])


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_manifest(manifest: dict[str, Any], model_file: Path) -> None:
    """Raise ModelError unless the model file and manifest match what the engine expects."""
    missing = [k for k in ("version", "alphabet", "input_shape", "sha256", "file") if k not in manifest]
    if missing:
        raise ModelError(f"model manifest {model_file.parent / 'manifest.json'} lacks {', '.join(missing)}")
    if list(manifest["input_shape"])[:1] != [LINE_HEIGHT]:
        raise ModelError(f"model {model_file} expects input {manifest['input_shape']}, engine feeds {LINE_HEIGHT}-px lines")
    if not set(manifest["alphabet"]) <= set(ALPHABET) | {""}:
        raise ModelError(f"model {model_file} has characters outside the engine's alphabet")
    if not model_file.exists():
        raise ModelError(f"model file {model_file} is missing")
    actual = sha256_of(model_file)
    if actual != manifest["sha256"]:
        raise ModelError(f"model file {model_file} is corrupt: sha256 {actual[:12]}… != manifest {manifest['sha256'][:12]}…")


class ModelStore:
    """Resolves model names under a root folder or S3 prefix; caches loaded models."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = str(root or os.environ.get("OCR_MODEL_DIR") or REPO_MODELS)
        self._cache: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()

    def local_dir(self, name: str) -> Path:
        """The local folder of a model, downloading it first when the root is on S3."""
        if self.root.startswith("s3://"):
            return self._download(name)
        return Path(self.root) / name

    def has(self, name: str) -> bool:
        if self.root.startswith("s3://"):
            return True
        return (Path(self.root) / name / "manifest.json").exists()

    def manifest(self, name: str) -> dict[str, Any]:
        path = self.local_dir(name) / "manifest.json"
        if not path.exists():
            raise ModelError(f"model '{name}' not found: {path} does not exist (run `python -m training.train --kind {name}`)")
        return json.loads(path.read_text(encoding="utf-8"))

    def load(self, name: str) -> LoadedModel:
        with self._lock:
            if name not in self._cache:
                folder = self.local_dir(name)
                manifest = self.manifest(name)
                model_file = folder / manifest.get("file", "model.keras")
                check_manifest(manifest, model_file)
                import keras  # heavy import, only when a model is really needed

                model = keras.models.load_model(model_file, compile=False)
                self._cache[name] = LoadedModel(name, manifest, folder, model)
            return self._cache[name]

    def _download(self, name: str) -> Path:
        import boto3  # only needed for s3:// stores

        bucket, _, prefix = self.root[len("s3://"):].partition("/")
        key_prefix = f"{prefix.rstrip('/')}/{name}".lstrip("/")
        target = S3_CACHE / bucket / key_prefix
        target.mkdir(parents=True, exist_ok=True)
        s3 = boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL_S3") or None)
        try:
            s3.download_file(bucket, f"{key_prefix}/manifest.json", str(target / "manifest.json"))
            manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
            model_file = target / manifest.get("file", "model.keras")
            s3.download_file(bucket, f"{key_prefix}/{model_file.name}", str(model_file))
        except Exception as exc:  # botocore errors carry no user-facing message worth leaking
            raise ModelError(f"cannot fetch model '{name}' from s3://{bucket}/{key_prefix}: {exc}") from exc
        return target
