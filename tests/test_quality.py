"""The `blurred` page warning: the blur measure recovers the blur applied to real images, a page
blurred by a fraction of its line height is flagged through the real engine, and the sharp images
we ship (and the dev-eval ones, where present) never are: a false alarm costs more than a miss."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import DEV_EVAL, REPO, TEST_DATA, needs_dev_eval

from ocr_core import quality
from ocr_core.engine import OcrEngine
from ocr_core.segment import segment_lines

DOCUMENTS = [REPO / "samples" / "printed-letter.png", TEST_DATA / "printed-scan.tif"]  # 33 and 28 px lines
SHIPPED = [*DOCUMENTS, REPO / "samples" / "receipt.png", TEST_DATA / "two-pages.pdf", REPO / "samples" / "handwritten-note.png",
           REPO / "samples" / "handwritten-word.png", TEST_DATA / "handwritten-line.png"]


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    return OcrEngine(detector="opencv")


def png(gray: np.ndarray) -> bytes:
    return cv2.imencode(".png", gray)[1].tobytes()


def test_edge_sigma_recovers_the_blur_applied_to_a_scanned_line() -> None:
    """On the shipped scan's lines, the measured sigma follows the Gaussian applied (the scan's own
    softness adds in quadrature), and grows with it."""
    gray = cv2.imread(str(TEST_DATA / "printed-scan.tif"), cv2.IMREAD_GRAYSCALE)
    own = np.median([quality.edge_sigma(r.crop) for r in segment_lines(gray)])
    for sigma in (2.0, 3.0, 4.0):
        measured = np.median([quality.edge_sigma(r.crop) for r in segment_lines(cv2.GaussianBlur(gray, (0, 0), sigma))])
        assert abs(measured - np.hypot(sigma, own)) < 0.2 * sigma, (sigma, measured, own)


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_a_page_blurred_by_a_share_of_its_line_height_is_flagged_and_the_sharp_one_is_not(engine: OcrEngine, path: Path) -> None:
    """Scale-free: the same blur relative to the text's line height is flagged on pages of different print sizes
    (a blur 1.2x the threshold: stronger ones can make the orientation check read a page turned)."""
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    sharp = engine.read(png(gray), mode="printed")
    assert "blurred" not in sharp.warnings
    line_height = float(np.median([ln.height for ln in sharp.pages[0].lines]))
    blurred = engine.read(png(cv2.GaussianBlur(gray, (0, 0), 1.2 * quality.BLURRED * line_height)), mode="printed")
    assert "blurred" in blurred.warnings and "blurred" in blurred.to_dict()["pages"][0]["warnings"]
    assert blurred.pages[0].rotation == 0 and blurred.pages[0].blur > quality.BLURRED > sharp.pages[0].blur


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_the_sharp_images_we_ship_are_never_flagged_blurred(engine: OcrEngine, path: Path) -> None:
    result = engine.read(path.read_bytes(), mode="handwritten" if "handwritten" in path.name else "printed")
    assert result.pages and result.text
    assert "blurred" not in result.warnings, [p.blur for p in result.pages]


@needs_dev_eval
def test_the_dev_eval_images_are_never_flagged_blurred(engine: OcrEngine) -> None:
    """Measuring only: the printed pages as pages, the handwritten lines as line crops (as eval_cer reads them)."""
    for folder, mode, layout in (("printed", "printed", "auto"), ("handwritten", "handwritten", "line"),
                                 ("handwritten-warped", "handwritten", "line")):
        for f in sorted((DEV_EVAL / folder).glob("*.*")):
            if f.suffix in (".png", ".tif"):
                result = engine.read(f.read_bytes(), mode=mode, layout=layout)
                assert "blurred" not in result.warnings, (f, result.pages[0].blur)
