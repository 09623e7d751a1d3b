"""keras-ocr through ocr_core.kerasocr_adapter, with random or locally saved weights only.

Every test runs with the network cut (socket connect raises) and KERAS_OCR_CACHE_DIR pointed
at a folder that must still not exist afterwards: keras-ocr creates it before downloading.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr_core import kerasocr_adapter as adapter
from ocr_core.detect import find_craft_weights, find_kerasocr_weights
from ocr_core.model_store import ModelStore

REPO = Path(__file__).resolve().parents[1]
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _no_network(*args, **kwargs):
    raise OSError("network access attempted in a keras-ocr test")


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    cache = tmp_path / "keras-ocr-cache"
    monkeypatch.setenv("KERAS_OCR_CACHE_DIR", str(cache))
    monkeypatch.setattr(socket.socket, "connect", _no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", _no_network)
    yield
    assert not cache.exists(), "something tried to download keras-ocr weights"


@pytest.fixture(scope="module")
def detector() -> adapter.CraftDetector:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", _no_network)
        return adapter.CraftDetector(None)


@pytest.fixture(scope="module")
def recognizer() -> adapter.KurapanRecognizer:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", _no_network)
        return adapter.KurapanRecognizer(None)


def render(lines: list[str], size: int = 22) -> np.ndarray:
    font = ImageFont.truetype(FONT, size) if os.path.exists(FONT) else ImageFont.load_default()
    img = Image.new("RGB", (330, 40 + len(lines) * 2 * size), (250, 248, 240))
    d = ImageDraw.Draw(img)
    for i, t in enumerate(lines):
        d.text((12, 16 + i * 2 * size), t, fill=(20, 20, 30), font=font)
    return np.asarray(img)


def assert_boxes_inside(boxes: list[np.ndarray], shape: tuple[int, ...]) -> None:
    h, w = shape[:2]
    assert isinstance(boxes, list)
    for b in boxes:
        assert isinstance(b, np.ndarray) and b.shape == (4, 2) and np.issubdtype(b.dtype, np.floating)
        assert np.isfinite(b).all()
        assert (b[:, 0] >= 0).all() and (b[:, 0] <= w - 1).all(), b
        assert (b[:, 1] >= 0).all() and (b[:, 1] <= h - 1).all(), b


# ---------------------------------------------------------------- cheap parts


def test_importing_the_adapter_imports_neither_tensorflow_nor_keras_ocr() -> None:
    code = "import sys, ocr_core.kerasocr_adapter; print(sorted({'tensorflow', 'keras', 'keras_ocr', 'tf_keras'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_weights_dir_and_lookup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty, store = tmp_path / "empty", tmp_path / "store" / "keras-ocr"
    empty.mkdir()
    store.mkdir(parents=True)
    monkeypatch.setenv("KERAS_OCR_CACHE_DIR", str(empty))
    model_store = ModelStore(tmp_path / "store")
    assert find_craft_weights(model_store) is None and find_kerasocr_weights(model_store, adapter.KURAPAN_WEIGHTS) is None
    (store / "craft_mlt_25k.h5").write_bytes(b"x")
    assert find_craft_weights(model_store) == store / "craft_mlt_25k.h5"
    assert find_kerasocr_weights(model_store, adapter.KURAPAN_WEIGHTS) is None
    (store / "crnn_kurapan.h5").write_bytes(b"x")
    assert find_kerasocr_weights(model_store, adapter.KURAPAN_WEIGHTS) == store / "crnn_kurapan.h5"
    # The default folder comes from KERAS_OCR_CACHE_DIR, read at call time.
    monkeypatch.setenv("KERAS_OCR_CACHE_DIR", str(store))
    assert adapter.weights_dir() == store
    assert find_craft_weights(ModelStore(empty)) == store / "craft_mlt_25k.h5"
    monkeypatch.delenv("KERAS_OCR_CACHE_DIR")
    assert adapter.weights_dir() == Path.home() / ".keras-ocr"


def test_missing_weights_raise_file_not_found_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="craft_mlt_25k.h5"):
        adapter.CraftDetector(tmp_path)  # a folder without the file
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nope.h5")):
        adapter.CraftDetector(tmp_path / "nope.h5")
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "crnn_kurapan.h5")):
        adapter.KurapanRecognizer(tmp_path)
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "craft_mlt_25k.h5")):
        adapter.pipeline(True, directory=tmp_path)


# ---------------------------------------------------------------- detector


def test_detector_runs_on_a_rendered_page(detector: adapter.CraftDetector) -> None:
    page = render(["Invoice 2024-117", "total due: 42.50 EUR"])
    boxes = detector.detect(page)
    assert_boxes_inside(boxes, page.shape)
    # gray and RGBA inputs are accepted too
    assert_boxes_inside(detector.detect(page[:, :, 0]), page.shape)
    assert_boxes_inside(detector.detect(np.dstack([page, np.full(page.shape[:2], 255, np.uint8)])), page.shape)


@pytest.mark.parametrize(("max_scale", "max_size"), [(2.0, 2048), (1.0, 2048), (2.0, 200)])
def test_detector_maps_boxes_back_to_original_pixels(
    detector: adapter.CraftDetector, monkeypatch: pytest.MonkeyPatch, max_scale: float, max_size: int
) -> None:
    """A synthetic score map with one word at a known place: the box must come back there."""
    h, w = 160, 300
    word = (100, 40, 200, 52)  # x0, y0, x1, y1 in original pixels
    scale = min(max_scale, max_size / max(h, w))
    seen: dict[str, tuple[int, ...]] = {}

    def fake_scores(batch: np.ndarray) -> np.ndarray:
        seen["shape"] = batch.shape
        maps = np.zeros((1, batch.shape[1] // 2, batch.shape[2] // 2, 2), np.float32)
        x0, y0, x1, y1 = (round(v * scale / 2) for v in word)  # the map is at half resolution
        maps[0, y0:y1, x0:x1, 0] = 0.95
        return maps

    monkeypatch.setattr(detector, "max_scale", max_scale)
    monkeypatch.setattr(detector, "max_size", max_size)
    monkeypatch.setattr(detector, "score_maps", fake_scores)
    boxes = detector.detect(np.full((h, w, 3), 255, np.uint8))
    n, ph, pw, _ = seen["shape"]
    assert n == 1 and ph % 32 == 0 and pw % 32 == 0 and ph >= h * scale - 1 and pw >= w * scale - 1
    assert len(boxes) == 1
    assert_boxes_inside(boxes, (h, w))
    b = boxes[0]
    tol = 6 / scale + 2  # CRAFT dilates boxes by up to 3 map pixels; the map is at half resolution
    assert abs(b[:, 0].min() - word[0]) <= tol and abs(b[:, 0].max() - word[2]) <= tol, b
    assert abs(b[:, 1].min() - word[1]) <= tol and abs(b[:, 1].max() - word[3]) <= tol, b


def test_boxes_reaching_into_the_padding_are_clipped(detector: adapter.CraftDetector, monkeypatch: pytest.MonkeyPatch) -> None:
    h, w = 70, 90  # 140x180 at scale 2, padded to 160x192

    def fake_scores(batch: np.ndarray) -> np.ndarray:
        maps = np.zeros((1, batch.shape[1] // 2, batch.shape[2] // 2, 2), np.float32)
        maps[0, 20:78, 40:94, 0] = 0.95  # runs past the image (70x90 at half of scale 2 = 70x90)
        return maps

    monkeypatch.setattr(detector, "score_maps", fake_scores)
    boxes = detector.detect(np.full((h, w, 3), 255, np.uint8))
    assert len(boxes) == 1
    assert_boxes_inside(boxes, (h, w))
    assert boxes[0][:, 0].max() == w - 1 and boxes[0][:, 1].max() == h - 1


# ---------------------------------------------------------------- recognizer


def test_recognizer_reads_any_crop_layout(recognizer: adapter.KurapanRecognizer) -> None:
    page = render(["hello world"])
    crops = [
        page[10:45, 5:160],  # RGB
        page[10:45, 5:160, 0],  # gray
        page[10:45, 5:160, :1],  # (h, w, 1)
        np.dstack([page[10:45, 5:160], np.full((35, 155), 255, np.uint8)]),  # RGBA
        np.full((3, 700), 128, np.uint8),  # extremely wide
        np.zeros((0, 12), np.uint8),  # empty
    ]
    out = recognizer.recognize(crops)
    assert len(out) == len(crops)
    for text, conf in out:
        assert isinstance(text, str) and set(text) <= set(recognizer.alphabet)
        assert isinstance(conf, float) and 0.0 <= conf <= 1.0
    assert out[-1] == ("", 0.0)
    assert recognizer.recognize([]) == []


def test_recognizer_text_matches_keras_ocr_own_ctc_decoder(recognizer: adapter.KurapanRecognizer) -> None:
    rng = np.random.default_rng(7)
    page = render(["quick brown fox 1234"])
    crops = [page[8:48, x : x + 90] for x in range(0, 240, 30)] + [rng.integers(0, 255, (31, 120), np.uint8) for _ in range(4)]
    batch = np.stack([recognizer.prepare(c) for c in crops])
    assert batch.shape == (len(crops), 31, 200, 1) and batch.dtype == np.float32
    assert 0.0 <= batch.min() and batch.max() <= 1.0
    rec = recognizer.recognizer
    theirs = [
        "".join(rec.alphabet[i] for i in row if i not in (rec.blank_label_idx, -1))
        for row in rec.prediction_model.predict(batch, verbose=0)
    ]
    ours = [t for t, _ in recognizer.recognize(crops)]
    assert ours == theirs
    assert any(ours)  # random weights still emit characters: the comparison is not vacuous


# ---------------------------------------------------------------- weights files, pipeline


def test_saved_weights_load_back_identically(
    detector: adapter.CraftDetector, recognizer: adapter.KurapanRecognizer, tmp_path: Path
) -> None:
    store = tmp_path / "keras-ocr"
    store.mkdir()
    detector.detector.model.save_weights(str(store / "craft_mlt_25k.h5"))
    recognizer.recognizer.model.save_weights(str(store / "crnn_kurapan.h5"))
    assert (store / adapter.CRAFT_WEIGHTS).is_file() and (store / adapter.KURAPAN_WEIGHTS).is_file()

    det2 = adapter.CraftDetector(store / "craft_mlt_25k.h5")
    x = np.random.default_rng(1).normal(size=(1, 64, 96, 3)).astype(np.float32)
    np.testing.assert_allclose(det2.score_maps(x), detector.score_maps(x), rtol=1e-5, atol=1e-5)

    rec2 = adapter.KurapanRecognizer(store)  # the folder works as well as the file
    batch = np.stack([recognizer.prepare(render(["abc"])[5:45, 5:120])] * 2)
    np.testing.assert_allclose(rec2.probabilities(batch), recognizer.probabilities(batch), rtol=1e-5, atol=1e-6)


def test_pipeline_with_random_weights() -> None:
    page = render(["keras ocr pipeline"])
    p = adapter.pipeline(False, scale=1)
    [predictions] = p.recognize([page], detection_kwargs={"verbose": 0}, recognition_kwargs={"verbose": 0})
    assert isinstance(predictions, list)
    for text, box in predictions:
        assert isinstance(text, str)
        assert np.asarray(box).shape == (4, 2)


def test_keras_ocr_cannot_download_and_its_uninstalled_helpers_say_so() -> None:
    ko = adapter._keras_ocr()
    with pytest.raises(RuntimeError, match="downloads are disabled"):
        ko.tools.download_and_verify("https://example.invalid/craft_mlt_25k.h5", filename="craft_mlt_25k.h5")
    with pytest.raises(ImportError, match="matplotlib.pyplot.subplots is not available"):
        ko.tools.drawAnnotations(np.zeros((8, 8, 3), np.uint8), [])  # plotting: matplotlib is a stand-in


def test_installed_keras_ocr_files_are_unmodified() -> None:
    """The adapter works without editing site-packages: every keras_ocr file matches its wheel's RECORD."""
    import base64
    import hashlib
    from importlib.metadata import distribution

    files = [f for f in distribution("keras-ocr").files or [] if f.hash is not None and f.suffix == ".py"]
    assert len(files) >= 9
    for f in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(f.read_binary()).digest()).rstrip(b"=").decode()
        assert digest == f.hash.value, f"{f} differs from the installed wheel"


# ---------------------------------------------------------------- Keras 3 and tf_keras in one process


@pytest.mark.timeout(300)
def test_keras3_code_first_then_adapter_in_one_process() -> None:
    """Our Keras 3 code imported TensorFlow and touched tf.keras first; keras-ocr still gets
    Keras 2, and afterwards tf.keras and our Keras 3 model are as before."""
    code = textwrap.dedent(
        """
        import socket, sys
        def no_net(*a, **k):
            raise OSError("network")
        socket.socket.connect = no_net
        import numpy as np
        import keras
        import tensorflow as tf
        before = tf.keras.layers.Dense
        m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        y0 = m.predict(np.ones((1, 4)), verbose=0)
        from ocr_core.kerasocr_adapter import KurapanRecognizer
        out = KurapanRecognizer(None).recognize([np.full((20, 80), 200, np.uint8)])
        assert isinstance(out[0][0], str), out
        assert tf.keras.layers.Dense is before and before.__module__.startswith("keras.")
        assert np.allclose(m.predict(np.ones((1, 4)), verbose=0), y0)
        assert "imgaug" not in sys.modules and "matplotlib.pyplot" not in sys.modules
        print("OK")
        """
    )
    env = {**os.environ, "KERAS_OCR_CACHE_DIR": "/nonexistent/keras-ocr", "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=280)
    assert out.returncode == 0 and out.stdout.strip().endswith("OK"), out.stderr[-3000:]


# ---------------------------------------------------------------- detector choice (ocr_core.detect)


def test_detector_choice_follows_the_craft_weights_file(
    detector: adapter.CraftDetector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ocr_core.detect import CraftLineDetector, OpenCvLineDetector, make_detector
    from ocr_core.image_io import PageImage
    from ocr_core.model_store import ModelStore

    store = ModelStore(tmp_path / "models")
    assert isinstance(make_detector("auto", store), OpenCvLineDetector)  # no weights anywhere
    with pytest.raises(FileNotFoundError, match="craft_mlt_25k.h5"):
        make_detector("craft", store)

    weights = tmp_path / "models" / "keras-ocr" / "craft_mlt_25k.h5"
    weights.parent.mkdir(parents=True)
    detector.detector.model.save_weights(str(weights))
    assert isinstance(make_detector("opencv", store), OpenCvLineDetector)  # asked for explicitly
    chosen = make_detector("auto", store)
    assert isinstance(chosen, CraftLineDetector) and chosen.name == "craft"
    assert chosen._craft.weights_path == str(weights)
    page = PageImage(render(["craft reads this page"]), 1)
    for region in chosen.detect(page):  # random weights: any boxes, but inside the page
        assert_boxes_inside([region.box], page.rgb.shape)

    # The same file in KERAS_OCR_CACHE_DIR is found too (a store without a keras-ocr/ folder).
    cache = tmp_path / "cache"
    cache.mkdir()
    weights.rename(cache / "craft_mlt_25k.h5")
    assert isinstance(make_detector("auto", store), OpenCvLineDetector)
    monkeypatch.setenv("KERAS_OCR_CACHE_DIR", str(cache))
    chosen = make_detector("auto", store)
    assert isinstance(chosen, CraftLineDetector) and chosen._craft.weights_path == str(cache / "craft_mlt_25k.h5")


def test_craft_word_boxes_are_grouped_into_lines_in_reading_order(monkeypatch: pytest.MonkeyPatch) -> None:
    from ocr_core.detect import CraftLineDetector
    from ocr_core.image_io import PageImage

    def rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)

    words = [rect(200, 82, 260, 101), rect(20, 20, 90, 40), rect(100, 22, 180, 41), rect(20, 80, 120, 100)]
    line_detector = CraftLineDetector.__new__(CraftLineDetector)  # no model: the word boxes are given
    line_detector._craft = type("FakeCraft", (), {"detect": staticmethod(lambda rgb: words)})()
    regions = line_detector.detect(PageImage(np.full((130, 300, 3), 255, np.uint8), 1))
    assert len(regions) == 2
    np.testing.assert_allclose(regions[0].box, rect(20, 20, 180, 41), atol=1)
    np.testing.assert_allclose(regions[1].box, rect(20, 80, 260, 101), atol=1)


# ---------------------------------------------------------------- engine="kerasocr"


def render_words(lines: list[list[str]], size: int = 30) -> tuple[bytes, list[list[tuple[int, int, int, int]]]]:
    """A PNG of the lines and each word's ink box (x0, y0, x1, y1)."""
    import io

    font = ImageFont.truetype(FONT, size)
    img = Image.new("L", (900, 60 + len(lines) * 2 * size), 248)
    d = ImageDraw.Draw(img)
    boxes = []
    for i, words in enumerate(lines):
        x, y, line_boxes = 30.0, 30 + i * 2 * size, []
        for w in words:
            d.text((x, y), w, fill=15, font=font)
            line_boxes.append(d.textbbox((x, y), w, font=font))
            x += font.getlength(w + " ")
        boxes.append(line_boxes)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue(), boxes


@pytest.fixture(scope="module")
def x_store(recognizer: adapter.KurapanRecognizer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model store holding kurapan weights that read every word as "x" (random weights read
    noise): the engine's output then shows exactly which word crops it cut and read."""
    root = tmp_path_factory.mktemp("store")
    (root / "keras-ocr").mkdir()
    fc = recognizer.recognizer.model.get_layer("fc_12")
    saved = fc.get_weights()
    bias = np.full(saved[1].shape, -20.0, np.float32)
    bias[recognizer.alphabet.index("x")] = 20.0
    fc.set_weights([np.zeros_like(saved[0]), bias])
    try:
        recognizer.recognizer.model.save_weights(str(root / "keras-ocr" / "crnn_kurapan.h5"))
    finally:
        fc.set_weights(saved)
    return root


def test_kerasocr_engine_reads_each_word_with_kurapan(x_store: Path) -> None:
    from ocr_core.engine import OcrEngine
    from ocr_core.model_store import ModelStore

    lines = [["Invoice", "2024-117", "paid"], ["total", "due:", "42.50", "EUR"]]
    png, word_boxes = render_words(lines)
    engine = OcrEngine(ModelStore(x_store), detector="opencv")
    result = engine.read(png, mode="printed", engine="kerasocr")
    d = result.to_dict()
    assert d["engine"] == "keras-ocr 0.9.3 (kurapan)"
    assert d["models"]["kurapan"].startswith("crnn_kurapan.h5 sha256:") and d["detector"] == "opencv-lines"
    assert d["mode_used"] == "printed" and d["timings_ms"]["recognize"] > 0
    assert [ln["text"] for ln in d["lines"]] == [" ".join("x" for _ in ws) for ws in lines]
    for line, expected in zip(d["lines"], word_boxes):
        assert line["mode"] == "printed" and line["confidence"] > 0.99
        for word, (x0, y0, x1, y1) in zip(line["words"], expected):
            box = np.array(word["box"])
            assert abs(box[:, 0].min() - x0) <= 8 and abs(box[:, 0].max() - x1) <= 8, (box, (x0, x1))
            assert box[:, 1].min() <= y0 + 4 and box[:, 1].max() >= y1 - 4, (box, (y0, y1))
    assert engine.read(png, mode="auto", engine="kerasocr").text == result.text


def test_kerasocr_engine_refuses_without_weights_or_for_handwriting(x_store: Path, tmp_path: Path) -> None:
    from ocr_core.engine import OcrEngine
    from ocr_core.errors import BadRequestError, ModelError
    from ocr_core.model_store import ModelStore

    png, _ = render_words([["hello"]])
    with pytest.raises(ModelError, match="crnn_kurapan.h5"):
        OcrEngine(ModelStore(tmp_path), detector="opencv").read(png, mode="printed", engine="kerasocr")
    with pytest.raises(BadRequestError, match="printed text only"):
        OcrEngine(ModelStore(x_store), detector="opencv").read(png, mode="handwritten", engine="kerasocr")
