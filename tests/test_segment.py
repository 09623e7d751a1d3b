"""The OpenCV line detector on real scans, the held-out handwriting lines and synthetic photos/pages."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import DEV_EVAL as DEV
from conftest import TEST_DATA
from conftest import needs_dev_eval as needs_dev
from PIL import Image, ImageDraw, ImageFont

from ocr_core.segment import LineRegion, segment_lines

SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SERIF = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
WORDS = "the quick brown fox jumps over a lazy dog while judges vex pygmy quartz sphinx of black jackdaws".split()


def _text(n: int, chars: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n):
        words = []
        while len(" ".join(words)) < chars:
            words.append(str(rng.choice(WORDS)))
        lines.append(" ".join(words).capitalize())
    return lines


def _render(lines: list[str], size: tuple[int, int], font: str, px: int, pitch: int, x: int, y: int) -> Image.Image:
    img = Image.new("L", size, 255)
    draw = ImageDraw.Draw(img)
    for i, t in enumerate(lines):
        draw.text((x, y + pitch * i), t, font=ImageFont.truetype(font, px), fill=20)
    return img


def _photo_paragraph(angle: float, n: int = 6) -> np.ndarray:
    """n lines rotated by angle (counter-clockwise), under a strong lighting gradient, with noise."""
    img = _render(_text(n, 48), (900, 60 + 44 * n), SANS, 28, 44, 40, 30)
    a = np.asarray(img.rotate(angle, expand=True, fillcolor=255, resample=Image.BICUBIC), np.float32)
    yy, xx = np.mgrid[0 : a.shape[0], 0 : a.shape[1]]
    light = 0.45 + 0.55 * (xx / a.shape[1]) * (0.6 + 0.4 * yy / a.shape[0])
    noise = np.random.default_rng(0).normal(0, 6, a.shape)
    return np.clip(a * light + noise, 0, 255).astype(np.uint8)


def _angle(box: np.ndarray) -> float:
    """Counter-clockwise angle of the box's top edge, in degrees."""
    dx, dy = box[1] - box[0]
    return float(np.degrees(np.arctan2(-dy, dx)))


def _check_regions(regions: list[LineRegion], gray: np.ndarray) -> None:
    """Contract every result must meet: float32 boxes inside the image, light uint8 crops."""
    h, w = gray.shape[:2]
    for r in regions:
        assert r.box.shape == (4, 2) and r.box.dtype == np.float32
        assert (r.box >= 0).all() and (r.box[:, 0] <= w - 1).all() and (r.box[:, 1] <= h - 1).all()
        assert r.crop.dtype == np.uint8 and r.crop.ndim == 2 and min(r.crop.shape) > 4
        assert np.median(r.crop) > 200, "crops are dark ink on light, flattened paper"


@needs_dev
@pytest.mark.parametrize("name", ["phototest", "eurotext"])
def test_printed_scans_line_count(name: str) -> None:
    gray = cv2.imread(str(DEV / "printed" / f"{name}.tif"), cv2.IMREAD_GRAYSCALE)
    truth = [t for t in (DEV / "printed" / f"{name}.txt").read_text().splitlines() if t.strip()]
    regions = segment_lines(gray)
    assert len(regions) == len(truth)
    _check_regions(regions, gray)
    tops = [r.box[:, 1].mean() for r in regions]
    assert tops == sorted(tops)


@pytest.mark.parametrize("name,suffix", [("printed-scan", "tif"), ("handwritten-line", "png")])
def test_shipped_scans_line_count(name: str, suffix: str) -> None:
    gray = np.asarray(Image.open(TEST_DATA / f"{name}.{suffix}").convert("L"))
    truth = [t for t in (TEST_DATA / f"{name}.txt").read_text().splitlines() if t.strip()]
    regions = segment_lines(gray)
    assert len(regions) == len(truth)
    _check_regions(regions, gray)


def _one_full_width_line(path: Path) -> bool:
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    regions = segment_lines(gray)
    if len(regions) != 1:
        return False
    _check_regions(regions, gray)
    ink_cols = np.flatnonzero((cv2.medianBlur(gray, 3) < 128).any(axis=0))
    box_x = regions[0].box[:, 0]
    return bool(box_x.max() - box_x.min() >= 0.9 * (ink_cols[-1] - ink_cols[0]))


@needs_dev
def test_handwritten_lines_are_one_full_width_line() -> None:
    paths = sorted(DEV.glob("handwritten/*.png")) + sorted(DEV.glob("handwritten-warped/*.png"))
    assert len(paths) >= 20
    for path in paths:
        assert _one_full_width_line(path), path


def test_a_strip_with_a_heading_and_a_caption_keeps_both_lines() -> None:
    """The one-row rule for line crops must not swallow a smaller line under a big one."""
    img = Image.new("L", (1400, 260), 255)
    draw = ImageDraw.Draw(img)
    draw.text((40, 20), "Annual Report 2026", font=ImageFont.truetype(SERIF, 90), fill=20)
    draw.text((40, 200), "Prepared by the accounts team for the board meeting in March", font=ImageFont.truetype(SANS, 22), fill=20)
    regions = segment_lines(np.asarray(img))
    assert len(regions) == 2
    assert regions[0].box[:, 1].max() < 190 < regions[1].box[:, 1].min()


@pytest.mark.parametrize("angle", [5.0, -8.0])
def test_rotated_photo_paragraph(angle: float) -> None:
    gray = _photo_paragraph(angle)
    regions = segment_lines(gray)
    assert len(regions) == 6
    _check_regions(regions, gray)
    for r in regions:
        assert abs(_angle(r.box) - angle) < 1.5
    centers = [r.box.mean(axis=0) for r in regions]
    assert all(b[1] > a[1] for a, b in zip(centers, centers[1:], strict=False)), "top to bottom"
    # a word box from the crop lies on the line, rotated like it
    r = regions[0]
    word = r.crop_x_to_box(r.crop.shape[1] * 0.3, r.crop.shape[1] * 0.5)
    assert abs(_angle(word) - angle) < 1.5
    assert r.box[:, 0].min() - 1 <= word[:, 0].min() < word[:, 0].max() <= r.box[:, 0].max() + 1


def test_inverted_text_is_found() -> None:
    gray = 255 - _photo_paragraph(5.0)
    regions = segment_lines(gray)
    assert len(regions) == 6
    _check_regions(regions, gray)


def test_blank_pages_give_nothing() -> None:
    assert segment_lines(np.full((300, 400), 255, np.uint8)) == []
    assert segment_lines(np.zeros((300, 400), np.uint8)) == []
    yy, xx = np.mgrid[0:600, 0:500]
    noisy = 120 + 100 * xx / 500 + np.random.default_rng(1).normal(0, 6, xx.shape)
    assert segment_lines(np.clip(noisy, 0, 255).astype(np.uint8)) == []


def test_skimage_photographed_page() -> None:
    data = pytest.importorskip("skimage.data")
    gray = data.page()  # 191x384 photo of a textbook page, dark on the left
    regions = segment_lines(gray)
    # heading, five body lines, one code line; the sliver of a line cut by the bottom edge is dropped
    assert len(regions) == 7
    _check_regions(regions, gray)
    heights = [r.band[1] - r.band[0] for r in regions]
    assert heights[0] == max(heights), "the heading comes first and is the largest"


def test_two_columns_read_column_by_column() -> None:
    img = _render(["A Title Across Both Columns"], (1100, 700), SERIF, 40, 0, 60, 40)
    left, right = _text(12, 34, 1), _text(12, 34, 2)  # lines end >= 32 px (1.5 em) before the right column
    draw, font = ImageDraw.Draw(img), ImageFont.truetype(SERIF, 22)
    for i, (a, b) in enumerate(zip(left, right, strict=True)):
        draw.text((60, 130 + 32 * i), a, font=font, fill=0)
        draw.text((590, 130 + 32 * i), b, font=font, fill=0)
    regions = segment_lines(np.asarray(img))
    assert len(regions) == 25
    x_left = [r.box[0, 0] for r in regions]
    assert max(x_left[:13]) < 200 and min(x_left[13:]) > 550, "title, left column, then right column"


def test_letter_page_at_300_dpi() -> None:
    """Speed is measured in benchmarks/speed.py; here only the result on a full-size page."""
    img = _render(_text(40, 80), (2550, 3300), SERIF, 46, 64, 300, 300)  # 11 pt at 300 dpi
    gray = np.asarray(img.rotate(2.0, fillcolor=255, resample=Image.BILINEAR))
    regions = segment_lines(gray)
    assert len(regions) == 40
    assert all(abs(_angle(r.box) - 2.0) < 0.5 for r in regions)


def test_from_rect_for_other_detectors() -> None:
    gray = np.asarray(_render(["Hello there"], (400, 100), SANS, 30, 0, 40, 30))
    region = LineRegion.from_rect(gray, 40, 30, 220, 70)
    assert np.allclose(region.box, [[40, 30], [220, 30], [220, 70], [40, 70]])
    assert region.crop.shape[0] > 40 and np.median(region.crop) > 200
    assert np.allclose(region.crop_x_to_box(0, 10)[:, 0].min(), region.box[0, 0] - 40)


def _slip(rows: list[str | tuple[str, str] | None]) -> tuple[np.ndarray, list[float]]:
    """A till slip in a monospace face, one printed row per entry: a text is centred, (item, price) an
    item at the left with its price right-aligned at the slip's edge (no price: the item alone), None
    a half-row feed. Returns the image and each printed row's middle y, top to bottom."""
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 22)
    img = Image.new("L", (460, 40 + 34 * len(rows)), 255)
    draw = ImageDraw.Draw(img)
    middles, y = [], 20
    for row in rows:
        if row is None:
            y += 17
            continue
        if isinstance(row, str):
            draw.text(((460 - font.getlength(row)) / 2, y), row, font=font, fill=0)
        else:
            draw.text((20, y), row[0], font=font, fill=0)
            draw.text((440 - font.getlength(row[1]), y), row[1], font=font, fill=0)
        middles.append(y + 11)
        y += 34
    return np.asarray(img), middles


ITEMS = [("MILK 2L", "3.49"), ("BREAD", "2.10"), ("APPLES 1.2KG", "$14.56"), ("COFFEE BEANS", "12.90"),
         ("ROUNDING", "-0.05"), ("TOTAL INCL. OF GST", "$123.00"), ("CASH", "150.00")]


@pytest.mark.parametrize("rows", [
    ["CORNER MARKET", *ITEMS],  # a clear channel before the prices: XY-cut sees two "columns"
    ["CORNER MARKET", "THANK YOU FOR SHOPPING AT US", *ITEMS, "PRICES INCLUDE GST AT NINE PCT"],  # lines across it
    [*ITEMS[:2], None, "TXN 0457", ("614 CUB RD", ""), None, *ITEMS[2:]],
], ids=["channel", "lines-across", "centred-between-left"])
def test_receipt_rows_are_lines_in_order(rows: list[str | tuple[str, str]]) -> None:
    """A till receipt's prices stand apart from their items (a wide gap, right-aligned, a column of their
    own): still one line per printed row, item and price together, rows top to bottom (also where
    centred lines and lines at the left alternate: a narrow channel between them is no column gutter)."""
    gray, middles = _slip(rows)
    regions = segment_lines(gray)
    _check_regions(regions, gray)
    assert len(regions) == len(middles), [r.box[0].tolist() for r in regions]
    found = [(r.band[0] + r.band[1]) / 2 for r in regions]
    assert all(abs(a - b) < 10 for a, b in zip(found, middles, strict=True)), f"rows in order: {found}"
    for region, row in zip(regions, [r for r in rows if r is not None], strict=True):
        if isinstance(row, tuple) and row[1]:  # an item's line reaches its price at the slip's edge
            assert region.box[:, 0].min() < 30 and region.box[:, 0].max() > 430


def test_faded_receipt_rows_are_found() -> None:
    """Thermal print fades: ink only ~25 levels darker than the paper (under the usual 35-level floor
    of the ink mask, once the paper is flattened) is still ink when nothing on the page is darker."""
    rows = ["CORNER MARKET", *ITEMS]
    gray, middles = _slip(rows)
    faded = (210 - (255 - gray.astype(np.float32)) * 25 / 255).astype(np.uint8)  # paper 210, ink 185
    regions = segment_lines(faded)
    assert len(regions) == len(middles), [r.box[0].tolist() for r in regions]
    found = [(r.band[0] + r.band[1]) / 2 for r in regions]
    assert all(abs(a - b) < 10 for a, b in zip(found, middles, strict=True)), f"rows in order: {found}"


def _page_with_photo_and_note(grain: float) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A title, two columns of print with a photo in the left one (a smooth random field of `grain`
    pixels under a shading gradient, with noise), and a handwritten note below (tests/data's line)."""
    img = _render(["A Title Across Both Columns"], (1240, 1500), SERIF, 40, 0, 60, 40)
    draw, font = ImageDraw.Draw(img), ImageFont.truetype(SERIF, 22)
    photo = (60, 430, 580, 760)  # x0, y0, x1, y1
    for i, line in enumerate(_text(21, 40, 3)):  # 9 lines above the photo, 12 below it
        draw.text((60, 130 + 32 * i if i < 9 else photo[3] + 30 + 32 * (i - 9)), line, font=font, fill=0)
    for i, line in enumerate(_text(21, 40, 4)):
        draw.text((660, 130 + 32 * i), line, font=font, fill=0)
    rng = np.random.default_rng(5)
    w, h = photo[2] - photo[0], photo[3] - photo[1]
    field = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), grain)
    field = (field - field.min()) / np.ptp(field) * np.linspace(0.3, 1.0, w)[None, :]
    img.paste(Image.fromarray(np.clip(30 + 200 * field + rng.normal(0, 8, (h, w)), 0, 255).astype(np.uint8)), photo[:2])
    img.paste(Image.open(TEST_DATA / "handwritten-line.png").convert("L"), (500, 1250))
    return np.asarray(img), photo


@pytest.mark.parametrize("grain", [6.0, 1.5])
def test_page_with_a_photo_and_a_handwritten_note(grain: float) -> None:
    """Lines and reading order survive a photo (no lines inside it: its grain is no text; before, 14 to
    35 garbage lines) and a handwritten note: title, left column, right column, then the note."""
    gray, (px0, py0, px1, py1) = _page_with_photo_and_note(grain)
    regions = segment_lines(gray)
    _check_regions(regions, gray)
    centres = [r.box.mean(axis=0) for r in regions]
    assert not [c for c in centres if px0 <= c[0] <= px1 and py0 <= c[1] <= py1], "lines inside the photo"
    assert len(regions) == 1 + 21 + 21 + 1
    x0 = [r.box[0, 0] for r in regions]
    assert max(x0[1:22]) < 100 and min(x0[22:43]) > 600, "title, the left column, then the right one"
    assert centres[-1][1] > 1250, "the handwritten note last"
    lefts = [c[1] for c in centres[1:22]]
    assert lefts == sorted(lefts), "the left column top to bottom, above and below the photo"


def test_numbered_lines_stay_whole() -> None:
    """A list's numbers line up, and so does the text after them: that is no column gutter (a gutter
    has a column of text lines left of it). At 300 dpi, lines 100-120 of benchmarks.formats' PDF
    came out as a number and a text line each."""
    lines = [f"{k}. " + " ".join(_text(1, 50, k)[0].split()[:8]) for k in range(95, 115)]
    img = _render(lines, (1600, 80 + 66 * len(lines)), SERIF, 46, 66, 80, 40)
    regions = segment_lines(np.asarray(img))
    assert len(regions) == len(lines), [r.box[0].tolist() for r in regions]
    assert all(r.box[0, 0] < 100 and r.box[1, 0] > 800 for r in regions)
