"""Load versioned models from a local folder, an `s3://` URI or the model registry, checked against their manifest.

Two layouts, chosen explicitly:
- flat store (`ModelStore(root)`, env `OCR_MODEL_DIR`, default the repo's `models/`):
  `<root>/<name>/manifest.json` + the model file the manifest names;
- registry (`ModelStore(model_uri=...)`, env `MODEL_URI`, written by `python -m training.registry`):
  `<uri>/<kind>/latest.json` names the promoted version, `<uri>/<kind>/<version>/` holds it.
  `MODEL_VERSION_<KIND>` (e.g. `MODEL_VERSION_HANDWRITTEN=2026.11.25-0912`) pins a version
  instead of `latest`. The model is resolved once per process (a Lambda cold start), downloaded
  to `OCR_MODEL_CACHE` (default /tmp/ocr-models) and sha256-checked; if anything fails the
  model baked into the image (the flat store) is used instead and a warning says why. What
  is served is what results report (`models`) and /api/health names (ocr_http.model_versions,
  the same steps: vocabulary.wanted_version, runtime_file, the sha256).

The manifest's sha256, alphabet and input shape are verified before a model is used, and each
model is loaded once per process (Lambda containers reuse it across invocations). A model folder
holds `model.keras` (manifest `file`, `sha256`) and, once exported (`python -m training.export`),
`model.onnx` (manifest `runtimes.onnx.file`, `.sha256`); which one is loaded is the runtime's
choice (`ocr_core/runtime.py`, `OCR_RUNTIME`), and only that file is downloaded and checked.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocr_core import vocabulary
from ocr_core.alphabet import ALPHABET
from ocr_core.errors import ModelError
from ocr_core.preprocess import LINE_HEIGHT, PREPROCESS_STEPS
from ocr_core.runtime import LineModel, open_line_model
from ocr_core.storage import fetch_uri, is_s3, join_uri, read_uri, split_s3
from ocr_core.vocabulary import MODEL_KINDS, REGISTRY_POINTER, RUNTIME_ENV

REPO_MODELS = Path(__file__).resolve().parent.parent / "models"
PACKAGED_MODELS = Path(__file__).resolve().parent / "models"  # where a wheel install carries them (pyproject)
S3_CACHE = Path(os.environ.get("OCR_MODEL_CACHE", "/tmp/ocr-models"))
REGISTRY_KINDS = MODEL_KINDS  # what the registry serves; other names (lexicon) stay baked

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    name: str
    manifest: dict[str, Any]
    path: Path  # local folder holding manifest.json and the model file
    model: LineModel  # the network under the chosen runtime
    runtime: str = "keras"  # "onnx" | "keras"

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", "unknown"))

    @property
    def alphabet(self) -> str:
        return str(self.manifest["alphabet"])

    @property
    def preprocess(self) -> tuple[str, ...]:
        """Extra `ocr_core.preprocess` steps the model was trained with (e.g. ("isolate",))."""
        return tuple(self.manifest.get("preprocess", ()))

    @property
    def line_height(self) -> int:
        """The height of the lines the model reads (32, or 64 for the tall handwriting arch)."""
        return int(self.manifest["input_shape"][0])


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def runtime_file(manifest: dict[str, Any], runtime: str) -> tuple[str, str]:
    """(file name, sha256) of a runtime's model file as the manifest records it (vocabulary.runtime_file)."""
    try:
        return vocabulary.runtime_file(manifest, runtime)
    except ValueError as exc:
        raise ModelError(str(exc)) from None


def choose_runtime(manifest: dict[str, Any], wanted: str | None = None) -> str:
    """The runtime asked for (argument, else OCR_RUNTIME), else onnx when exported, else keras (vocabulary.choose_runtime)."""
    try:
        return vocabulary.choose_runtime(manifest, wanted)
    except ValueError as exc:
        raise ModelError(str(exc)) from None


def check_manifest(manifest: dict[str, Any], model_file: Path, sha256: str | None = None) -> None:
    """Raise ModelError unless the model file and manifest match what the engine expects.

    `sha256`: the digest the file must have (default: the manifest's, i.e. model.keras's).
    """
    missing = [k for k in ("version", "alphabet", "input_shape", "sha256", "file") if k not in manifest]
    if missing:
        raise ModelError(f"model manifest {model_file.parent / 'manifest.json'} lacks {', '.join(missing)}")
    height = list(manifest["input_shape"])[:1]
    if not height or not isinstance(height[0], int) or height[0] <= 0 or height[0] % LINE_HEIGHT:
        raise ModelError(f"model {model_file} expects input {manifest['input_shape']}, engine feeds lines a multiple "
                         f"of {LINE_HEIGHT} px high")
    if not set(manifest["alphabet"]) <= set(ALPHABET) | {""}:
        raise ModelError(f"model {model_file} has characters outside the engine's alphabet")
    steps = manifest.get("preprocess", [])
    if not isinstance(steps, list) or not set(steps) <= set(PREPROCESS_STEPS):
        raise ModelError(f"model {model_file} asks for preprocessing {steps!r}; this engine knows {list(PREPROCESS_STEPS)}")
    if not model_file.exists():
        raise ModelError(f"model file {model_file} is missing")
    expected = sha256 if sha256 is not None else str(manifest["sha256"])
    actual = sha256_of(model_file)
    if actual != expected:
        raise ModelError(f"model file {model_file} is corrupt: sha256 {actual[:12]}… != manifest {expected[:12]}…")


def cache_root() -> Path:
    return Path(os.environ.get("OCR_MODEL_CACHE") or S3_CACHE)


def default_model_dir() -> Path:
    """The shipped models: the repository's models/ in a checkout, ocr_core/models/ in an installed wheel."""
    return REPO_MODELS if REPO_MODELS.is_dir() or not PACKAGED_MODELS.is_dir() else PACKAGED_MODELS


class ModelStore:
    """Resolves model names under a flat root, or through the registry with the flat root as fallback."""

    def __init__(self, root: str | Path | None = None, *, model_uri: str | None = None,
                 versions: dict[str, str] | None = None, runtime: str | None = None) -> None:
        self.runtime = runtime  # None: OCR_RUNTIME, else per model (onnx when exported)
        self.root = str(root or os.environ.get("OCR_MODEL_DIR") or default_model_dir())
        # the registry is opt-in: an explicit argument, or MODEL_URI when no flat root was passed
        self.model_uri = model_uri if model_uri is not None else (None if root else os.environ.get("MODEL_URI") or None)
        self.versions = dict(versions or {})
        self._cache: dict[str, LoadedModel] = {}
        self._resolved: dict[str, Path] = {}
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ public API
    def local_dir(self, name: str) -> Path:
        """The local folder of a model, downloading it first when it comes from S3 or the registry."""
        if self.model_uri and name in REGISTRY_KINDS:
            return self._resolve(name)
        return self._flat_dir(name)

    def manifest(self, name: str) -> dict[str, Any]:
        path = self.local_dir(name) / "manifest.json"
        if not path.exists():
            raise ModelError(f"model '{name}' not found: {path} does not exist. Point OCR_MODEL_DIR at a folder holding "
                             f"{name}/manifest.json (the repository's models/), or train one: "
                             f"`python -m training.train --kind {name}`")
        return json.loads(path.read_text(encoding="utf-8"))

    def load(self, name: str) -> LoadedModel:
        with self._lock:
            if name not in self._cache:
                folder = self.local_dir(name)
                manifest = self.manifest(name)
                runtime = choose_runtime(manifest, self.runtime)
                file_name, sha256 = runtime_file(manifest, runtime)
                check_manifest(manifest, folder / file_name, sha256)
                try:
                    model = open_line_model(runtime, folder / file_name)
                except ImportError as exc:  # e.g. keras asked for in the lean image, which has no TensorFlow
                    raise ModelError(f"the {runtime} runtime is not installed here ({exc}); "
                                     f"use {RUNTIME_ENV}=onnx or install requirements/keras.txt") from exc
                self._cache[name] = LoadedModel(name, manifest, folder, model, runtime)
            return self._cache[name]

    # ------------------------------------------------------------------ flat store
    def _flat_dir(self, name: str) -> Path:
        if is_s3(self.root):
            return self._download_flat(name)
        return Path(self.root) / name

    def _download_flat(self, name: str) -> Path:
        base = join_uri(self.root, name)
        bucket, key_prefix = split_s3(base)
        target = cache_root() / bucket / key_prefix
        try:
            fetch_uri(join_uri(base, "manifest.json"), target / "manifest.json")
            manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
            if "alphabet" in manifest:  # a model (the lexicon is a plain file)
                file_name, _ = runtime_file(manifest, choose_runtime(manifest, self.runtime))
            else:
                file_name = Path(manifest.get("file", "model.keras")).name
            fetch_uri(join_uri(base, file_name), target / file_name)
        except Exception as exc:  # botocore errors carry no user-facing message worth leaking
            raise ModelError(f"cannot fetch model '{name}' from {base}: {exc}") from exc
        return target

    # ------------------------------------------------------------------ registry
    def _read_pointer(self, kind: str) -> dict[str, Any]:
        assert self.model_uri
        return dict(json.loads(read_uri(join_uri(self.model_uri, kind, REGISTRY_POINTER))))

    def _resolve(self, kind: str) -> Path:
        """Registry model (downloaded, verified) or, on any failure, the baked one; decided once."""
        with self._lock:
            if kind in self._resolved:
                return self._resolved[kind]
            assert self.model_uri
            try:
                folder = self._from_registry(kind)
            except Exception as exc:  # S3 down, no such version, corrupt upload: serve the baked model
                reason = str(exc) if isinstance(exc, ModelError) else f"{type(exc).__name__}: {exc}"
                folder = self._flat_dir(kind)
                try:
                    version = str(json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["version"])
                except (OSError, ValueError, KeyError):
                    version = "missing"
                log.warning("model %s: registry %s unusable (%s); using the baked model %s@%s",
                            kind, self.model_uri, reason, kind, version)
            self._resolved[kind] = folder
            return folder

    def _from_registry(self, kind: str) -> Path:
        """The registry's version of `kind` (the pin, else latest), downloaded and checked; raises when unusable."""
        assert self.model_uri
        version = vocabulary.wanted_version(kind, self._read_pointer, self.versions.get(kind))
        base = join_uri(self.model_uri, kind, version)
        if not is_s3(base):  # a local registry needs no copy
            target = Path(base)
            manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
        else:
            bucket, key = split_s3(base)
            target = cache_root() / bucket / key
            fetch_uri(join_uri(base, "manifest.json"), target / "manifest.json")
            manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
            file_name, sha256 = runtime_file(manifest, choose_runtime(manifest, self.runtime))
            model_file = target / file_name
            if not (model_file.exists() and sha256_of(model_file) == sha256):
                fetch_uri(join_uri(base, model_file.name), model_file)
        if str(manifest.get("version")) != version:
            raise ModelError(f"registry {base} holds manifest version {manifest.get('version')!r}, not {version!r}")
        file_name, sha256 = runtime_file(manifest, choose_runtime(manifest, self.runtime))
        check_manifest(manifest, target / file_name, sha256)
        return target
