"""Real pages with hard layouts, through the line finder and the shipped printed model (issue 11 item 4).

Both come from OCRmyPDF's test resources (tests/data/README.md has their sources and licences): images
nobody here made. `linn.png` is a 300-dpi scan of a 1985 product sheet: a full-width block, then two
justified columns with indented paragraphs and headings, then full-width bullets; `linn.txt` is its
transcription as OCRmyPDF ships it. `huck-finn-p29.jpg` is a 1884 book page at ~100 dpi: an
illustration with its caption beside eleven text lines, bleed-through from the other side, then
full-width lines; `huck-finn-p29.txt` is our transcription of its text (the caption last).
"""

from __future__ import annotations

import pytest
from conftest import TEST_DATA

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
    assert cer(truth, result.text) <= 0.06, result.text  # 5.0% (before 13.4%; Tesseract 5: 5.5%)
    assert any(line.startswith("says to myself, if a body can get") for line in lines), lines
