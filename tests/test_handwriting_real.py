"""Real-hand reading: line crops with neighbours' fragments, the htr-real loader, and the shipped model on real lines."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import HTR_REAL, needs_htr_real
from PIL import Image, ImageDraw, ImageFont

from ocr_core.engine import OcrEngine
from ocr_core.metrics import cer
from ocr_core.model_store import ModelStore
from ocr_core.preprocess import isolate_line
from training import htr_real
from training.train import TrainConfig, train

HAND = "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf"
LINES = ["fully grown hedges along", "Meeting moved to Tuesday", "the garden wall by noon"]


def _stack(lines: list[str], px: int = 40, pitch: float = 1.5) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Lines set tightly (descenders of one line reach toward the next); returns the page and each line's ink rows."""
    font = ImageFont.truetype(HAND, px)
    size = (int(max(font.getlength(t) for t in lines)) + 2 * px, int(px * pitch * (len(lines) + 1)))
    page = np.full(size[::-1], 250, np.uint8)
    rows = []
    for i, t in enumerate(lines):
        img = Image.new("L", size, 250)
        ImageDraw.Draw(img).text((px, int(px * 0.5 + i * px * pitch)), t, fill=25, font=font)
        one = np.asarray(img)
        ink = np.flatnonzero((one < 128).any(axis=1))
        rows.append((int(ink[0]), int(ink[-1]) + 1))
        page = np.minimum(page, one)
    return page, rows


def _middle_crop_with_fragments() -> tuple[np.ndarray, np.ndarray]:
    """The middle line cut with a loose box (as a detector or a page's ALTO gives it), and the same line alone."""
    page, rows = _stack(LINES)
    (_, prev_bottom), (top, bottom), (next_top, _) = rows
    pad = int(0.3 * (bottom - top))
    crop = page[top - pad: bottom + pad]
    alone, (r,) = _stack([LINES[1]])[0], _stack([LINES[1]])[1]
    assert prev_bottom > top - pad and next_top < bottom + pad, "the crop must catch both neighbours"
    return crop, alone[r[0] - 2: r[1] + 2]


def _ink(gray: np.ndarray) -> int:
    return int((gray < 128).sum())


def test_isolate_line_erases_the_neighbours_fragments() -> None:
    crop, alone = _middle_crop_with_fragments()
    assert _ink(crop) > 1.1 * _ink(alone)  # the fragments are there
    isolated = isolate_line(crop)
    assert abs(_ink(isolated) - _ink(alone)) <= 0.15 * _ink(alone)  # deep descender loops from above may stay
    assert isolated.shape[0] < crop.shape[0]  # rows cut to the main line


def test_isolate_line_keeps_a_clean_line_whole() -> None:
    _, alone = _middle_crop_with_fragments()
    clean = np.pad(alone, ((10, 10), (0, 0)), constant_values=250)
    assert _ink(isolate_line(clean)) == _ink(clean)


def test_isolate_line_takes_a_shadow_for_paper_not_for_the_line() -> None:
    """A faint line whose crop's top rows lie in a shadow (a scan's dark edge, a phone's shade): the
    shadow is darker than the crop's mid level but lighter than the ink around it, and must neither be
    kept as the line nor make the line itself be erased."""
    _, alone = _middle_crop_with_fragments()
    pencil = (90 + (alone.astype(np.float32) - 25) * (250 - 90) / (250 - 25)).astype(np.uint8)  # ink 90 on 250
    crop = np.pad(pencil, ((alone.shape[0] // 2, 10), (0, 0)), constant_values=250)
    crop[: alone.shape[0] // 2 + 2] = np.minimum(crop[: alone.shape[0] // 2 + 2], 140)  # down to just above the line
    isolated = isolate_line(crop)
    written = int((pencil < 120).sum())
    assert abs(int((isolated < 120).sum()) - written) <= 0.05 * written  # the line's own ink is all kept
    assert isolated.shape[0] <= 1.4 * alone.shape[0]  # and the shadow's rows are not


def test_isolate_line_keeps_a_line_written_on_a_ruled_line() -> None:
    """Ruled paper: a short line on a rule that runs on across the page. The rule is the densest row of
    the crop, but the writing is the line (a rule taken for the line left only the rule: read as spaces)."""
    _, alone = _middle_crop_with_fragments()
    crop = np.pad(alone, ((12, 12), (0, 2 * alone.shape[1])), constant_values=250)
    baseline = 12 + int(0.75 * alone.shape[0])
    crop[baseline: baseline + 3] = 40  # the rule (a value the font's ink never has on its own)

    def writing(gray: np.ndarray) -> int:
        return int(((gray < 128) & (gray != 40)).sum())

    isolated = isolate_line(crop)
    assert writing(isolated) >= 0.95 * writing(crop)
    assert isolated.shape[0] >= 0.8 * alone.shape[0]  # the line's rows, not the rule's


def test_line_crop_with_fragments_reads_as_one_line(engine: OcrEngine) -> None:
    crop, _ = _middle_crop_with_fragments()
    ok, png = cv2.imencode(".png", crop)
    result = engine.read(png.tobytes(), mode="handwritten")
    lines = [line for page in result.pages for line in page.lines]
    assert len(lines) == 1, [line.text for line in lines]
    assert cer(LINES[1], lines[0].text) <= 0.25, lines[0].text


def test_shipped_handwriting_model_declares_its_preprocessing(engine: OcrEngine) -> None:
    rec = engine.recognizer("handwritten")
    assert rec.loaded.preprocess == ("isolate",)


def _fake_htr_real(root: Path) -> None:
    """Two sources in the htr-real layout; one label holds a character outside our alphabet."""
    texts = ["le jour dit", "the day said", "mil huit cent", "un deux trois", "Ĵ hors alphabet", "quatre cinq"]
    for s, source in enumerate(("source-a", "source-b")):
        folder = root / source
        folder.mkdir(parents=True)
        labels, split = [], []
        for i, text in enumerate(texts):
            name = f"{i:06d}.jpg"
            img = np.full((64, 420), 235, np.uint8)
            cv2.putText(img, text.replace("Ĵ", "J"), (8, 42), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 1.1, 30, 2)
            cv2.imwrite(str(folder / name), img)
            labels.append(f"{name}\t{text}")
            split.append(f"{name}\t{'val' if i == s else 'train'}")
        (folder / "labels.tsv").write_text("\n".join(labels) + "\n", encoding="utf-8")
        (folder / "split.tsv").write_text("\n".join(split) + "\n", encoding="utf-8")


def test_htr_real_folder_is_read_split_and_trained_on(tmp_path: Path) -> None:
    data = tmp_path / "htr-real"
    _fake_htr_real(data)
    train_lines, val_lines = htr_real.read_split(data, "train"), htr_real.read_split(data, "val")
    assert len(val_lines) == 2 and len(train_lines) == 8  # 12 lines, 2 with a foreign character left out
    assert {line.source for line in val_lines} == {"source-a", "source-b"}
    assert all("Ĵ" not in line.text for line in train_lines + val_lines)
    out = tmp_path / "models" / "handwritten"
    cfg = TrainConfig(kind="handwritten", data=str(data), epochs=1, steps_per_epoch=2, batch_size=4, val_samples=4,
                      workers=0, out=str(out), version="real-1", test_samples=4, arch="wide", preprocess="isolate")
    train(cfg)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["preprocess"] == ["isolate"] and manifest["architecture"] == "wide"
    assert manifest["data"]["hash"] and manifest["data"]["hash"] != htr_real.data_hash(data)  # real files + synthetic mix
    assert "val_htr_real" in manifest["metrics"] and "val_synthetic_cer" in manifest["history"][0]
    (out.parent / "printed").symlink_to(ModelStore().local_dir("printed"))
    rec = OcrEngine(ModelStore(out.parent), detector="opencv").recognizer("handwritten")
    assert rec.version == "handwritten@real-1" and rec.loaded.preprocess == ("isolate",)


def test_english_boost_shows_lines_with_english_marks_more_often(tmp_path: Path) -> None:
    """A pass over the (French) real lines shows the ones with w, k, th, wh or sh english_boost times."""
    data = tmp_path / "htr-real"
    _fake_htr_real(data)
    lines = htr_real.read_split(data, "train")
    english = sum(bool(htr_real.ENGLISH_MARKS.search(line.text)) for line in lines)
    assert english == 1 and len(lines) == 8  # "the day said" (source-b holds it out for val)
    one_pass = len(lines) + 2 * english
    texts = [text for _, text in itertools.islice(htr_real.samples(lines, 0, augmented=False, english_boost=3), one_pass)]
    assert texts.count("the day said") == 3 * english
    french = [line.text for line in lines if line.text != "the day said"]
    assert all(texts.count(text) == french.count(text) for text in french)


@needs_htr_real
def test_shipped_model_reads_real_french_lines(engine: OcrEngine) -> None:
    """Every 10th line of the htr-real val split (pages never trained on) through the whole engine, told
    that each image is a line crop (the val split picks checkpoints: 2.0.0 reads it at about 32% CER)."""
    lines = htr_real.read_split(HTR_REAL, "val")[::10]
    scores = [cer(line.text, engine.read(line.path.read_bytes(), mode="handwritten", layout="line").text) for line in lines]
    assert np.mean(scores) <= 0.40, np.mean(scores)


@pytest.mark.parametrize("steps", ["isolate", ["isolate", "deslant-v9"]])
def test_a_manifest_asking_for_unknown_preprocessing_is_refused(tmp_path: Path, steps: object) -> None:
    """A string (read as characters) or a step this engine lacks must not be skipped silently."""
    from ocr_core.errors import ModelError
    from ocr_core.model_store import check_manifest

    folder = ModelStore().local_dir("handwritten")
    manifest = {**json.loads((folder / "manifest.json").read_text()), "preprocess": steps}
    with pytest.raises(ModelError, match="preprocessing"):
        check_manifest(manifest, folder / manifest["file"])


def test_handwriting_read_at_two_widths_keeps_the_surer_reading() -> None:
    """A recognizer with two stretches (the shipped READ_STRETCHES up to handwritten 3.4.0; one look
    since 4.0.0's twice the time steps): each line read as it is and 1.25x wider; per line the
    higher confidence wins, with word boxes in the crop's own pixels whichever width won."""
    import random

    from ocr_core.recognize import READ_STRETCHES, CrnnRecognizer
    from training.synth import handwritten_validation_sample

    rng = random.Random(7)
    crops = [handwritten_validation_sample(rng)[0] for _ in range(24)]
    engine = OcrEngine(ModelStore(runtime="onnx"), detector="opencv")
    assert engine.recognizer("handwritten").stretches == READ_STRETCHES["handwritten"]
    assert engine.recognizer("printed").stretches == (1.0,)
    recognizer = CrnnRecognizer(engine.recognizer("handwritten").loaded, (1.0, 1.25))
    both = recognizer.read_lines(crops)
    alone = {s: CrnnRecognizer(recognizer.loaded, (s,)).read_lines(crops) for s in (1.0, 1.25)}
    for i, (reading, crop) in enumerate(zip(both, crops)):
        surer = max((alone[1.0][i], alone[1.25][i]), key=lambda r: r.confidence)
        assert (reading.text, reading.confidence) == (surer.text, surer.confidence)
        assert all(0 <= w.x0 < w.x1 <= crop.shape[1] for w in reading.words)
    wider = [i for i in range(len(crops)) if alone[1.25][i].confidence > alone[1.0][i].confidence]
    assert 0 < len(wider) < len(crops)  # both widths win some lines: the test sees both paths
    glances = recognizer.glance(crops)  # what auto and orientation choose by: the first look alone
    assert [(g.text, g.confidence) for g in glances] == [(r.text, r.confidence) for r in alone[1.0]]
    for i in wider:  # the wider reading's words sit where the narrow one's do (same crop pixels)
        narrow = alone[1.0][i].words
        if len(narrow) == len(both[i].words):
            for a, b in zip(narrow, both[i].words):
                assert abs((a.x0 + a.x1) / 2 - (b.x0 + b.x1) / 2) < 0.1 * crops[i].shape[1]


def test_eval_cer_lists_the_letters_read_wrong_most_often() -> None:
    """The real-hands letter table: a letter replaced or dropped counts against it, a right one does not."""
    from benchmarks.eval_cer import letter_errors

    rows = letter_errors("handwritten-real-en", [("would you", "mold you"), ("we were", "we mere")])
    wrong = {row.split(" | ")[1]: row.split(" | ")[2:4] for row in rows}
    assert wrong["`w`"] == ["3", "67%"]  # "mold" and "mere" lost two of the three w's
    assert "`y`" not in wrong and "`e`" not in wrong
