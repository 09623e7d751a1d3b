"""Pages turned 90/180/270 degrees are read the right way up, reported, and boxed in the original
image's pixels; doubtful reads are flagged (low_confidence lines, page and result warnings) in the
result, the CLI and the batch job's JSON. Real images through the shipped models."""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from conftest import DEV_EVAL, HTR_REAL, TEST_DATA, alto_schema, needs_dev_eval, needs_htr_real
from PIL import Image, ImageDraw, ImageFont

from ocr_core import cli
from ocr_core.engine import OcrEngine
from ocr_core.errors import DeadlineExceeded
from ocr_core.export import export
from ocr_core.metrics import cer
from ocr_core.page import PageImage
from ocr_core.pdf import PDF_DPI
from ocr_core.result import OcrResult

SCAN = TEST_DATA / "printed-scan.tif"
TRUTH = SCAN.with_suffix(".txt").read_text(encoding="utf-8")
CV2_TURN = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    return OcrEngine(detector="opencv")


@pytest.fixture(scope="module")
def upright(engine: OcrEngine) -> OcrResult:
    return engine.read(SCAN.read_bytes(), mode="printed")


def scan_turned(turn: int) -> np.ndarray:
    """The shipped scan as it would arrive turned clockwise by `turn` degrees (no EXIF tag)."""
    gray = cv2.imread(str(SCAN), cv2.IMREAD_GRAYSCALE)
    return gray if turn == 0 else cv2.rotate(gray, CV2_TURN[turn])


def png(gray: np.ndarray) -> bytes:
    return cv2.imencode(".png", gray)[1].tobytes()


def turned_clockwise(points: np.ndarray, turn: int, width: int, height: int) -> np.ndarray:
    """Pixel (x, y) of a width x height image -> the same pixel once the image is turned clockwise by `turn`."""
    x, y = points[:, 0], points[:, 1]
    return {90: np.c_[height - 1 - y, x], 180: np.c_[width - 1 - x, height - 1 - y], 270: np.c_[y, width - 1 - x]}[turn]


def centres(boxes: list[np.ndarray]) -> np.ndarray:
    return np.array([np.asarray(b, float).reshape(-1, 2).mean(axis=0) for b in boxes])


def test_upright_page_is_not_turned(upright: OcrResult) -> None:
    page = upright.to_dict()["pages"][0]
    assert page["rotation"] == 0 and "rotated" not in page["warnings"]
    assert cer(TRUTH, upright.text) < 0.03


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_turned_page_is_read_and_boxed_in_the_original_pixels(engine: OcrEngine, upright: OcrResult, turn: int) -> None:
    image = scan_turned(turn)
    result = engine.read(png(image), mode="printed")
    page = result.pages[0]
    assert page.rotation == (360 - turn) % 360  # the turn that undoes the scan's
    assert (page.width, page.height) == (image.shape[1], image.shape[0])
    assert cer(TRUTH, result.text) <= cer(TRUTH, upright.text) + 0.005, result.text
    assert result.to_dict()["warnings"] == ["rotated"] and result.to_dict()["pages"][0]["rotation"] == page.rotation
    # Every box is where that text is in the turned image: the upright read's boxes, turned the same way.
    for got, want in ((page.lines, upright.pages[0].lines),
                      ([wd for ln in page.lines for wd in ln.words], [wd for ln in upright.pages[0].lines for wd in ln.words])):
        assert len(got) == len(want)
        moved = centres([turned_clockwise(np.asarray(x.box, float), turn, upright.pages[0].width, upright.pages[0].height)
                         for x in want])
        assert np.abs(centres([x.box for x in got]) - moved).max() < 4.0
    for line in page.lines:
        pts = np.asarray(line.box)
        assert pts.min() >= 0 and (pts[:, 0] <= image.shape[1] - 1).all() and (pts[:, 1] <= image.shape[0] - 1).all()


@needs_dev_eval
def test_upright_handwritten_lines_are_never_turned_in_auto(engine: OcrEngine) -> None:
    """The default mode on handwriting: the printed model's confidences there are noise, and a scrap of a
    line (real-en hw038, 110x64 px) once read more surely sideways; neither may turn an upright line."""
    files = [*sorted((DEV_EVAL / "handwritten").glob("*.png")), *sorted((DEV_EVAL / "handwritten-warped").glob("*.png")),
             DEV_EVAL / "handwritten-real-en" / "hw038.png", DEV_EVAL / "handwritten-real-en" / "hw052.png"]
    turned = {f"{f.parent.name}/{f.name}": r.pages[0].rotation for f in files
              if (r := engine.read(f.read_bytes(), mode="auto")).pages[0].rotation}
    assert not turned, turned


def real_line(name: str) -> tuple[np.ndarray, str]:
    """A real handwritten line of ../shared/htr-real's val split (64 px high, neighbours' fragments included), and its text."""
    folder, file = name.split("/")
    labels = dict(row.split("\t", 1) for row in (HTR_REAL / folder / "labels.tsv").read_text(encoding="utf-8").splitlines() if row)
    return cv2.imread(str(HTR_REAL / name), cv2.IMREAD_GRAYSCALE), labels[file]


@needs_htr_real
@pytest.mark.parametrize("mode", ["handwritten", "auto"])
@pytest.mark.parametrize("name", [
    "copiste-d-un-jour/004013.jpg",  # the handwriting model reads it flipped about as surely as upright; its descenders say upside down
    "copiste-d-un-jour/000239.jpg",  # its ascender balance said upright, so it was never read both ways
])
def test_upside_down_real_handwritten_line_is_turned_and_read(engine: OcrEngine, mode: str, name: str) -> None:
    """A one-line image sent upside down: both left upside down before the ascender cue and reading confidence decided together."""
    gray, text = real_line(name)
    upright = engine.read(png(gray), mode=mode)
    result = engine.read(png(cv2.rotate(gray, cv2.ROTATE_180)), mode=mode)
    assert upright.pages[0].rotation == 0 and result.pages[0].rotation == 180
    assert cer(text, result.text) <= cer(text, upright.text) + 0.02, (result.text, upright.text)
    assert "rotated" in result.to_dict()["warnings"]


@needs_htr_real
@pytest.mark.parametrize("mode", ["handwritten", "auto"])
@pytest.mark.parametrize("name", ["cremma-mss-19/000333.jpg", "cremma-an-testamentdepoilus/000585.jpg"])
def test_upright_real_handwritten_line_is_not_turned(engine: OcrEngine, mode: str, name: str) -> None:
    """Upright lines that read a little more surely flipped (by about 0.05): both were turned upside down before."""
    gray, _ = real_line(name)
    assert engine.read(png(gray), mode=mode).pages[0].rotation == 0


@pytest.mark.parametrize("mode", ["handwritten", "auto"])
def test_upside_down_handwritten_line_is_turned_on_a_plain_clone(engine: OcrEngine, mode: str) -> None:
    """The same without ../shared: tests/data's handwritten line, upright and upside down."""
    gray = cv2.imread(str(TEST_DATA / "handwritten-line.png"), cv2.IMREAD_GRAYSCALE)
    text = (TEST_DATA / "handwritten-line.txt").read_text(encoding="utf-8")
    upright = engine.read(png(gray), mode=mode)
    result = engine.read(png(cv2.rotate(gray, cv2.ROTATE_180)), mode=mode)
    assert upright.pages[0].rotation == 0 and result.pages[0].rotation == 180
    assert cer(text, result.text) < 0.1, result.text


def receipt() -> np.ndarray:
    """A till receipt: upper case and digits in a monospace face, no ascenders to tell up from down."""
    lines = ["CORNER MARKET", "DATE 03/11/2024 14:22", "MILK 2L 3.49", "BREAD 2.10", "COFFEE BEANS 12.90",
             "TOTAL INCL. OF GST 18.49", "THANK YOU"]
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 22)
    img = Image.new("L", (380, 40 + 34 * len(lines)), 255)
    draw = ImageDraw.Draw(img)
    for i, text in enumerate(lines):
        draw.text((20, 20 + 34 * i), text, fill=0, font=font)
    return np.asarray(img)


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_turned_receipt_is_read_as_upright(engine: OcrEngine, turn: int) -> None:
    upright = engine.read(png(receipt()), mode="printed")
    result = engine.read(png(cv2.rotate(receipt(), CV2_TURN[turn])), mode="printed")
    assert upright.pages[0].rotation == 0 and result.pages[0].rotation == (360 - turn) % 360
    assert result.text == upright.text and "TOTAL" in result.text


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_turned_photo_of_a_page_with_uneven_light(engine: OcrEngine, turn: int) -> None:
    """scikit-image's photo of a textbook page (dark on one side): its shadow fooled the row-profile cue."""
    data = pytest.importorskip("skimage.data")
    gray = data.page()
    upright = engine.read(png(gray))
    result = engine.read(png(cv2.rotate(gray, CV2_TURN[turn])))
    assert upright.pages[0].rotation == 0 and result.pages[0].rotation == (360 - turn) % 360
    assert cer(upright.text, result.text) < 0.02 and "Region-based segmentation" in result.text


def test_turned_page_carries_its_angle_in_hocr_and_alto(engine: OcrEngine, tmp_path: Path) -> None:
    """hOCR `textangle` and ALTO TextBlock ROTATION, both still valid (the spec's validator, the official XSD)."""
    from hocr_spec import HocrValidator
    from lxml import etree

    result = engine.read(png(scan_turned(90)), mode="printed")
    hocr = tmp_path / "turned.hocr"
    hocr.write_bytes(export(result, "hocr", source="turned.png"))
    assert "textangle 270" in hocr.read_text()
    report = HocrValidator("standard").validate(str(hocr), parse_strict=True)
    assert report.is_valid(), report.format("text")
    alto = etree.fromstring(export(result, "alto", source="turned.png"))
    schema = alto_schema()
    assert schema.validate(alto), schema.error_log
    assert alto.find(".//{http://www.loc.gov/standards/alto/ns-v4#}TextBlock").get("ROTATION") == "270"


@pytest.mark.parametrize("turn", [90, 270])
def test_searchable_pdf_of_a_turned_page_runs_its_text_along_the_words(engine: OcrEngine, turn: int) -> None:
    """The invisible text of a sideways page runs along each word in the image as it is (not upright
    text squeezed into the word's sideways box): selecting it in a viewer selects the word."""
    image = scan_turned(turn)
    result = engine.read(png(image), mode="printed")
    page = result.pages[0]
    assert page.rotation == (360 - turn) % 360
    doc = pdfium.PdfDocument(export(result, "pdf", pages=[PageImage(np.dstack([image] * 3), 1)]))
    textpage = doc[0].get_textpage()
    text = textpage.get_text_range()
    _, height_pt = doc[0].get_size()
    scale = 72 / PDF_DPI
    pos, checked = 0, 0
    for word in (wd for ln in page.lines for wd in ln.words):
        start = text.find(word.text, pos)
        assert start >= 0, (word.text, text[pos:pos + 80])
        pos = start + len(word.text)
        if len(word.text) < 3:
            continue
        boxes = np.array([textpage.get_charbox(i) for i in range(start, pos)])  # left, bottom, right, top
        pts = np.asarray(word.box, float).reshape(4, 2) * scale
        left, top, right, bottom = pts[:, 0].min(), height_pt - pts[:, 1].min(), pts[:, 0].max(), height_pt - pts[:, 1].max()
        assert boxes[:, 0].min() >= left - 2 and boxes[:, 2].max() <= right + 2, (word.text, boxes, pts)
        assert boxes[:, 1].min() >= bottom - 2 and boxes[:, 3].max() <= top + 2, (word.text, boxes, pts)
        reading = (pts[1] - pts[0]) * [1, -1]  # top-left -> top-right of the word, in PDF axes (y up)
        along = (np.c_[boxes[:, 0] + boxes[:, 2], boxes[:, 1] + boxes[:, 3]] / 2) @ reading
        assert (np.diff(along) > 0).all(), (word.text, boxes)
        assert np.ptp(along) / np.linalg.norm(reading) > 0.5 * np.linalg.norm(reading) * (len(word.text) - 1) / len(word.text)
        checked += 1
    assert checked >= 20  # the scan holds 25 words of three letters or more


def test_searchable_pdf_of_an_upside_down_page_holds_every_word(engine: OcrEngine) -> None:
    """Upside down, the text runs along the words too; PDFium extracts such a line's words right to left
    (by position, as it did with upright text over the boxes), but every word reads forwards."""
    image = scan_turned(180)
    result = engine.read(png(image), mode="printed")
    assert result.pages[0].rotation == 180
    doc = pdfium.PdfDocument(export(result, "pdf", pages=[PageImage(np.dstack([image] * 3), 1)]))
    text = doc[0].get_textpage().get_text_range()
    words = [wd.text for ln in result.pages[0].lines for wd in ln.words]
    assert len(words) >= 25 and all(w in text for w in words), (words, text)


def test_deadline_is_checked_before_finding_the_lines_of_a_turned_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding a turned copy's lines costs as much as the first detection: out of time after the first,
    the engine stops (504 `timeout`) instead of detecting again."""
    engine = OcrEngine(detector="opencv")
    deadline = time.monotonic() + 2.0
    found, calls = engine.detector.detect, []

    def detect_then_run_out(page: PageImage) -> list:
        calls.append(page.width)
        regions = found(page)
        time.sleep(max(0.0, deadline - time.monotonic()) + 0.01)  # this detection used up the time left
        return regions

    monkeypatch.setattr(engine.detector, "detect", detect_then_run_out)
    with pytest.raises(DeadlineExceeded, match="turned"):
        engine.read(png(scan_turned(90)), mode="printed", deadline=deadline)
    assert len(calls) == 1


def test_deadline_is_checked_before_reading_sample_lines_both_ways_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """An upside-down line's image is read both ways up to find its way up: out of time after
    finding its line, the engine stops before that reading, not only later, before the page's own read."""
    engine = OcrEngine(detector="opencv")
    line = cv2.rotate(cv2.imread(str(TEST_DATA / "handwritten-line.png"), cv2.IMREAD_GRAYSCALE), cv2.ROTATE_180)
    deadline = time.monotonic() + 2.0
    found = engine.detector.detect

    def detect_then_run_out(page: PageImage) -> list:
        regions = found(page)
        time.sleep(max(0.0, deadline - time.monotonic()) + 0.01)  # this detection used up the time left
        return regions

    monkeypatch.setattr(engine.detector, "detect", detect_then_run_out)
    with pytest.raises(DeadlineExceeded, match="sample lines"):
        engine.read(png(line), mode="handwritten", deadline=deadline)


def test_blurred_scan_is_flagged_and_the_clean_one_is_not(engine: OcrEngine, upright: OcrResult) -> None:
    blurred = engine.read(png(cv2.GaussianBlur(scan_turned(0), (0, 0), 3)), mode="printed").to_dict()
    assert blurred["lines"] and all(line["low_confidence"] for line in blurred["lines"])
    assert blurred["warnings"] == ["blurred", "mostly_unreadable"] == blurred["pages"][0]["warnings"]
    clean = upright.to_dict()
    assert not any(line["low_confidence"] for line in clean["lines"]) and clean["warnings"] == []


def test_tiny_print_is_flagged_too_small(engine: OcrEngine) -> None:
    tiny = cv2.resize(scan_turned(0), None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    assert "too_small" in engine.read(png(tiny), mode="printed").to_dict()["warnings"]


def test_cli_says_warnings_on_stderr_and_keeps_stdout_the_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sideways.png"
    path.write_bytes(png(scan_turned(270)))
    assert cli.main([str(path), "--mode", "printed"]) == 0
    out, err = capsys.readouterr()
    assert cer(TRUTH, out) < 0.03
    assert "page 1: rotated 90:" in err and "rotated" not in out


def test_batch_job_json_carries_rotation_and_warnings(tmp_path: Path) -> None:
    """`ocr batch` runs the S3 drop-folder job's code over a local folder (printed/: the printed mode)."""
    (tmp_path / "in" / "printed").mkdir(parents=True)
    (tmp_path / "in" / "printed" / "upside-down.png").write_bytes(png(scan_turned(180)))
    (tmp_path / "in" / "printed" / "blurred.png").write_bytes(png(cv2.GaussianBlur(scan_turned(0), (0, 0), 3)))
    assert cli.main(["batch", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    turned = json.loads((tmp_path / "out" / "printed" / "upside-down.png.json").read_text())
    blurred = json.loads((tmp_path / "out" / "printed" / "blurred.png.json").read_text())
    assert turned["pages"][0]["rotation"] == 180 and turned["warnings"] == ["rotated"]
    assert cer(TRUTH, turned["text"]) < 0.03
    assert blurred["warnings"] == ["blurred", "mostly_unreadable"] and all(ln["low_confidence"] for ln in blurred["lines"])
