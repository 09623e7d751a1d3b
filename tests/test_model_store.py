"""The model store refuses models whose files do not match their manifest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import ocr_http
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
        assert loaded.model.num_classes == len(loaded.alphabet) + 1
        assert store.load(name) is loaded  # cached: loaded once per process


@pytest.mark.parametrize("runtime, file", [("onnx", "model.onnx"), ("keras", "model.keras")])
def test_corrupted_model_file_is_refused(store_copy: Path, runtime: str, file: str) -> None:
    model = store_copy / "printed" / file
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        ModelStore(store_copy, runtime=runtime).load("printed")


def test_manifest_without_alphabet_is_refused(store_copy: Path) -> None:
    path = store_copy / "printed" / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["alphabet"]
    path.write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="alphabet"):
        ModelStore(store_copy).load("printed")


@pytest.mark.parametrize("height", [48, 0])
def test_manifest_asking_for_lines_the_engine_cannot_make_is_refused(store_copy: Path, height: int) -> None:
    """Lines are made 32 px high or a multiple (the tall handwriting arch reads 64)."""
    path = store_copy / "printed" / "manifest.json"
    manifest = json.loads(path.read_text())
    assert ModelStore(store_copy).load("printed").line_height == manifest["input_shape"][0] == 32
    path.write_text(json.dumps({**manifest, "input_shape": [height, None, 1]}))
    with pytest.raises(ModelError, match="multiple of 32 px"):
        ModelStore(store_copy).load("printed")


def test_missing_model_names_the_training_command(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="training.train"):
        ModelStore(tmp_path).load("handwritten")


def _local_registry(tmp_path: Path, versions: list[str], latest: str | None) -> Path:
    """A registry folder: handwritten/<version>/ copies of the shipped model, latest.json naming one."""
    root = tmp_path / "registry"
    for v in versions:
        shutil.copytree(REPO_MODELS / "handwritten", root / "handwritten" / v)
        path = root / "handwritten" / v / "manifest.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), "version": v}))
    if latest:
        (root / "handwritten" / "latest.json").write_text(json.dumps({"version": latest}))
    return root


def test_registry_latest_and_pinned_versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _local_registry(tmp_path, ["v1", "v2"], latest="v2")
    monkeypatch.setenv("MODEL_URI", str(root))
    monkeypatch.delenv("MODEL_VERSION_HANDWRITTEN", raising=False)
    store = ModelStore()
    assert store.manifest("handwritten")["version"] == "v2"
    assert store.local_dir("lexicon") == REPO_MODELS / "lexicon"  # not a registry kind: baked
    assert ModelStore(model_uri=str(root), versions={"handwritten": "v1"}).load("handwritten").version == "v1"
    monkeypatch.setenv("MODEL_VERSION_HANDWRITTEN", "v1")
    assert ModelStore().manifest("handwritten")["version"] == "v1"
    assert ModelStore(REPO_MODELS).model_uri is None  # an explicit flat root ignores MODEL_URI


@pytest.mark.parametrize("breakage", ["no latest", "unknown version", "version mismatch"])
def test_registry_problems_fall_back_to_the_baked_model(tmp_path: Path, breakage: str, monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    root = _local_registry(tmp_path, ["v1"], latest=None if breakage == "no latest" else "v1")
    if breakage == "unknown version":
        (root / "handwritten" / "latest.json").write_text(json.dumps({"version": "v7"}))
    if breakage == "version mismatch":  # the folder says v1, its manifest something else
        path = root / "handwritten" / "v1" / "manifest.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), "version": "v0"}))
    store = ModelStore(model_uri=str(root))
    baked = json.loads((REPO_MODELS / "handwritten" / "manifest.json").read_text())["version"]
    assert store.manifest("handwritten")["version"] == baked
    assert store.local_dir("handwritten") == REPO_MODELS / "handwritten"
    assert "using the baked model" in caplog.text  # and the log says why
    monkeypatch.setenv("MODEL_URI", str(root))  # /api/health names what is served: the baked model, not the registry's
    monkeypatch.delenv("OCR_MODEL_DIR", raising=False)
    assert ocr_http.model_versions()["handwritten"] == baked
