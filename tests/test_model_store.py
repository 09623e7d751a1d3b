"""The model store refuses models whose files do not match their manifest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ocr_core.errors import ModelError
from ocr_core.model_store import REPO_MODELS, ModelStore


@pytest.fixture()
def store_copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO_MODELS / "printed", tmp_path / "printed")
    return tmp_path


def test_shipped_models_load_and_match_their_manifests() -> None:
    store = ModelStore()
    for name in ("printed", "handwritten"):
        loaded = store.load(name)
        assert loaded.model.output_shape[-1] == len(loaded.alphabet) + 1
        assert store.load(name) is loaded  # cached: loaded once per process


def test_corrupted_model_file_is_refused(store_copy: Path) -> None:
    model = store_copy / "printed" / "model.keras"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        ModelStore(store_copy).load("printed")


def test_manifest_without_alphabet_is_refused(store_copy: Path) -> None:
    path = store_copy / "printed" / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["alphabet"]
    path.write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="alphabet"):
        ModelStore(store_copy).load("printed")


def test_missing_model_names_the_training_command(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="training.train"):
        ModelStore(tmp_path).load("handwritten")
