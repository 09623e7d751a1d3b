"""Real pages with hard layouts, through the line finder and the shipped printed model (issue 11 item 4).

Both come from OCRmyPDF's test resources (tests/data/README.md has their sources and licences): images
nobody here made. `linn.png` is a 300-dpi scan of a 1985 product sheet: a full-width block, then two
justified columns with indented paragraphs and headings, then full-width bullets; `linn.txt` is its
transcription as OCRmyPDF ships it. `huck-finn-p29.jpg` is a 1884 book page at ~100 dpi: an
illustration with its caption beside eleven text lines, bleed-through from the other side, then
full-width lines; `huck-finn-p29.txt` is our transcription of its text (the caption last). The last
test is a rendered page (print in two columns, a photo, a handwritten note), read in auto mode.
"""

from __future__ import annotations

import io

import pytest
from conftest import TEST_DATA
from PIL import Image
from test_segment import _page_with_photo_and_note

from ocr_core.engine import OcrEngine
from ocr_core.metrics import cer


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    return OcrEngine(detector="opencv")


def test_two_column_sheet_is_read_column_by_column(engine: OcrEngine) -> None:
    """Each column whole, left then right: a justified column's indented first line is no table cell
    to join to the left column's line beside it (when it was, rows were read across: CER 38%)."""
    text = engine.read((TEST_DATA / "linn.png").read_bytes(), mode="printed").text
    truth = (TEST_DATA / "linn.txt").read_text(encoding="utf-8")
    assert cer(truth, text) <= 0.04, text  # 2.4% (Tesseract 5: 1.0%)
    lines = text.splitlines()

    def at(words: str) -> int:
        return next(i for i, line in enumerate(lines) if words in line)

    assert (at("Optional remote") < at("Recording a") < at("sustain pedal") < at("Editing") < at("tion. To overdub")
            < at("simply use LOCATE") < at("Creating a Song") < at("Composition Without") < at("Additional Features"))


def test_book_page_with_an_engraving(engine: OcrEngine) -> None:
    """The engraving beside the text gives no lines of its own (its hatching is strokes, not letters:
    before, 24 garbage lines such as "M1I T" came first), and every text line is whole and in order
    (before, "says to myself," and ", if a body can ..." were two lines, read the wrong way round)."""
    result = engine.read((TEST_DATA / "huck-finn-p29.jpg").read_bytes(), mode="printed")
    truth = (TEST_DATA / "huck-finn-p29.txt").read_text(encoding="utf-8")
    lines = result.text.splitlines()
    assert len(lines) <= len(truth.splitlines()) + 3, lines  # 30 for 28; before: 55
    assert cer(truth, result.text) <= 0.065, result.text  # 5.7% (before 13.4%; Tesseract 5: 5.5%)
    assert any(line.startswith("says to myself, if a body can get") for line in lines), lines


def test_print_and_handwriting_on_one_page(engine: OcrEngine) -> None:
    """Auto mode on a page with both: the printed lines by the printed model, the handwritten note (last
    in reading order) by the handwriting model, and nothing read from the photo."""
    gray, _photo = _page_with_photo_and_note(1.5)
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="PNG")
    lines = engine.read(buf.getvalue(), mode="auto").pages[0].lines
    assert len(lines) == 44
    assert cer("A Title Across Both Columns", lines[0].text) <= 0.05
    assert [line.mode for line in lines[:-1]] == ["printed"] * 43
    note = (TEST_DATA / "handwritten-line.txt").read_text(encoding="utf-8").strip()
    assert lines[-1].mode == "handwritten" and cer(note, lines[-1].text) <= 0.1, lines[-1].text
