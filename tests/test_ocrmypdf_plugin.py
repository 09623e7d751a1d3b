"""OCRmyPDF with our engine: `ocrmypdf --plugin ocr_core.ocrmypdf_plugin in.pdf out.pdf`, the real CLI.

The shipped two-page PDF of page images goes through OCRmyPDF (its own rasteriser, pypdfium2; no
Ghostscript with --output-type pdf) and our models; the output's text layer is read back with PDFium.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import cv2
import pikepdf
import pypdfium2 as pdfium
from conftest import REPO, TEST_DATA

import ocr_core
from ocr_core.metrics import cer


def test_ocrmypdf_plugin_writes_our_text_under_the_pages(tmp_path: Path) -> None:
    source, out = TEST_DATA / "two-pages.pdf", tmp_path / "searchable.pdf"
    truth = [t.strip() for t in (TEST_DATA / "two-pages.txt").read_text().split("\f")]
    run = subprocess.run([sys.executable, "-m", "ocrmypdf", "--plugin", "ocr_core.ocrmypdf_plugin", "--ocr-core-mode",
                          "printed", "--output-type", "pdf", "--jobs", "1", str(source), str(out)],
                         cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    doc = pdfium.PdfDocument(out)
    texts = [" ".join(doc[i].get_textpage().get_text_range().split()) for i in range(len(doc))]
    assert len(texts) == len(truth) and all(cer(t, text) < 0.05 for t, text in zip(truth, texts)), texts
    originals = pdfium.PdfDocument(source)
    assert [doc[i].get_size() for i in range(len(doc))] == [originals[i].get_size() for i in range(len(originals))]
    with pikepdf.open(out) as pdf:  # our engine read it, not OCRmyPDF's default Tesseract
        assert f"ocr_core {ocr_core.__version__} (printed)" in str(pdf.docinfo["/Creator"])


def test_plugin_gives_each_line_of_a_turned_page_its_angle(tmp_path: Path) -> None:
    """OCRmyPDF's renderer lays a line's text at its `textangle` (counter-clockwise, as in hOCR)."""
    from ocr_core.ocrmypdf_plugin import OcrCoreEngine

    image = tmp_path / "sideways.png"
    cv2.imwrite(str(image), cv2.rotate(cv2.imread(str(TEST_DATA / "printed-scan.tif"), cv2.IMREAD_GRAYSCALE),
                                       cv2.ROTATE_90_CLOCKWISE))
    page, text = OcrCoreEngine.generate_ocr(image, SimpleNamespace(ocr_core_mode="printed"))
    assert page.children and cer((TEST_DATA / "printed-scan.txt").read_text(), text) < 0.03
    assert {line.textangle for line in page.children} == {270.0}  # read turned 270 clockwise: text runs down
