"""Runtimes: the ONNX export is served by default, Keras on request, and serving never imports TensorFlow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ocr_core.engine import OcrEngine
from ocr_core.errors import ModelError
from ocr_core.metrics import cer
from ocr_core.model_store import REPO_MODELS, ModelStore
from training import export

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"


def _copy_models(tmp_path: Path, names: tuple[str, ...] = ("printed", "handwritten")) -> Path:
    for name in names:
        shutil.copytree(REPO_MODELS / name, tmp_path / name)
    return tmp_path


def _without_onnx(folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.pop("runtimes", None)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "model.onnx").unlink()


def test_shipped_models_are_exported_and_served_with_onnx_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OCR_RUNTIME", raising=False)
    store = ModelStore()
    for name in ("printed", "handwritten"):
        loaded = store.load(name)
        assert loaded.runtime == "onnx" and loaded.model.num_classes == len(loaded.alphabet) + 1
        parity = loaded.manifest["runtimes"]["onnx"]["parity"]
        assert parity["lines"] > 0 and parity["different_text"] == 0 and parity["max_prob_diff"] <= export.PARITY_TOLERANCE


def test_keras_runtime_reads_the_same_text_as_onnx() -> None:
    """OCR_RUNTIME=keras (TensorFlow) stays a working runtime, with the same readings."""
    data = (SAMPLES / "handwritten-note.png").read_bytes()
    texts = {}
    for runtime in ("onnx", "keras"):
        engine = OcrEngine(ModelStore(runtime=runtime), detector="opencv")
        result = engine.read(data, mode="auto")
        assert {engine.store.load(k).runtime for k in ("printed", "handwritten")} == {runtime}
        texts[runtime] = result.text
    assert texts["onnx"] == texts["keras"]
    assert cer((SAMPLES / "handwritten-note.txt").read_text(), texts["onnx"]) < 0.15


def test_a_model_without_export_is_served_by_keras_and_onnx_on_request_names_the_command(tmp_path: Path) -> None:
    root = _copy_models(tmp_path, ("printed",))
    _without_onnx(root / "printed")
    assert ModelStore(root).load("printed").runtime == "keras"
    with pytest.raises(ModelError, match="training.export"):
        ModelStore(root, runtime="onnx").load("printed")
    with pytest.raises(ModelError, match="runtimes are"):
        ModelStore(root, runtime="tflite").load("printed")


def test_export_command_reexports_a_model_folder_with_a_parity_report(tmp_path: Path) -> None:
    folder = _copy_models(tmp_path, ("handwritten",)) / "handwritten"
    _without_onnx(folder)
    entry = export.export_onnx(folder, sources=[SAMPLES])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["runtimes"]["onnx"] == entry and export.has_current_onnx(folder)
    assert entry["parity"]["lines"] >= 5 and entry["parity"]["same_text"] + entry["parity"]["tie_lines"] == entry["parity"]["lines"]
    loaded = ModelStore(tmp_path).load("handwritten")
    assert loaded.runtime == "onnx"


def test_parity_gate_refuses_an_onnx_file_of_another_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A conversion that produced the wrong network (here: the printed model's real ONNX) is not exported."""
    folder = _copy_models(tmp_path, ("handwritten",)) / "handwritten"
    monkeypatch.setattr(export, "convert_to_onnx", lambda _src, dest: shutil.copyfile(REPO_MODELS / "printed" / "model.onnx", dest))
    with pytest.raises(export.ExportError, match="parity gate failed"):
        export.export_onnx(folder, sources=[SAMPLES])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "onnx" not in manifest.get("runtimes", {}) and not (folder / "model.onnx").exists()
    assert ModelStore(tmp_path).load("handwritten").runtime == "keras"  # still served, by the source of truth


NO_TF = "import sys; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, sorted(m for m in sys.modules if 'tensorflow' in m or m == 'keras')[:5]"


@pytest.mark.parametrize("command", ["read", "batch"])
def test_cli_and_batch_read_without_importing_tensorflow(tmp_path: Path, command: str) -> None:
    if command == "read":
        args = [str(SAMPLES / "handwritten-note.png"), "--mode", "auto", "--json"]
    else:
        (tmp_path / "in").mkdir()
        shutil.copy(SAMPLES / "printed-letter.png", tmp_path / "in")
        args = ["batch", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--quiet"]
    code = ("import sys\n"
            "from ocr_core.cli import main\n"
            f"rc = main({args!r})\n"
            f"{NO_TF}\n"
            "sys.exit(rc)\n")
    env = {k: v for k, v in os.environ.items() if k != "OCR_RUNTIME"} | {"PYTHONPATH": str(REPO)}
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    if command == "read":
        assert cer((SAMPLES / "handwritten-note.txt").read_text(), json.loads(run.stdout)["text"]) < 0.15
    else:
        answer = json.loads((tmp_path / "out" / "printed-letter.png.json").read_text())
        assert cer((SAMPLES / "printed-letter.txt").read_text(), answer["text"]) < 0.1


def test_model_runs_side_by_side_read_what_one_thread_reads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """OCR_THREADS model runs at once (batches from worker threads) give the same result as one at a time."""
    from benchmarks.speed import letter_page

    letter_page(tmp_path / "page.png")  # 40 lines: 5 batches of 8, up to OCR_THREADS of them at a time
    data = (tmp_path / "page.png").read_bytes()
    results, most_at_once = {}, {}
    for threads in ("1", "3"):
        monkeypatch.setenv("OCR_THREADS", threads)
        engine = OcrEngine(ModelStore(runtime="onnx"), detector="opencv")
        in_flight, lock = [0, 0], threading.Lock()  # runs now, most runs at once
        for kind in ("printed", "handwritten"):
            model = engine.store.load(kind).model
            assert model.parallel == int(threads)
            monkeypatch.setattr(model, "predict", _counting(model.predict, in_flight, lock))
        result = engine.read(data, mode="auto")
        assert sum(len(p.lines) for p in result.pages) == 40
        results[threads] = result.to_dict()
        results[threads].pop("timings_ms")
        most_at_once[threads] = in_flight[1]
    assert results["1"] == results["3"]
    assert most_at_once == {"1": 1, "3": 3}


def _counting(predict: Callable[[np.ndarray], np.ndarray], in_flight: list[int], lock: threading.Lock) -> Callable:
    """`predict`, keeping in_flight = [runs now, most runs at once]; each run lingers 50 ms so runs
    started together overlap even on a busy machine."""
    def run(batch: np.ndarray) -> np.ndarray:
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
        try:
            time.sleep(0.05)
            return predict(batch)
        finally:
            with lock:
                in_flight[0] -= 1
    return run
