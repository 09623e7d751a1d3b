"""Which way up a page is (turned 0, 90, 180 or 270 degrees), and its lines found the right way up.

Scans arrive sideways or upside down without an EXIF tag. The line detector already removes small
skew (segment.py, up to 12 degrees); this module handles quarter turns, cheaply on upright pages:

1. Cheap cues on what the detector found anyway. Lines of an upright (or upside-down) page are wide
   strips, and the page's ink profile is sharper across rows than across columns; on a page turned
   90 or 270 degrees the detector returns short fragments and the columns are the sharp profile.
   Within the lines of an upright Latin page more ink sits above the x-height band (capitals, b d
   f h k l t) than below it (g j p q y); upside down, the balance flips.
2. Only when a cue says "maybe turned": a sample of lines is read in each candidate orientation
   (each crop as it is and turned 180; the page turned 90 once for the other two) and the
   orientation read most confidently wins, by a margin over upright and with a few characters read.
3. A strip of one or two wide lines, or a wide image whose ink lies in rows (a line crop), surely
   runs across: only upright or upside down.
   Its lines are read both ways unless the ascender balance is clear, and the two cues decide
   together (`strip_is_upside_down`): the handwriting model reads some upside-down cursive about as
   confidently as upright (an upside-down "n" is a "u"), and the balance alone misleads on lines
   with more descenders than ascenders ("way many").

The lines of a turned page are found on the turned image and their boxes mapped back, so every box
stays in the original image's pixels. `rotation` is the clockwise turn (degrees) that was applied
to the image to read it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ocr_core.image_io import PageImage
from ocr_core.segment import LineRegion

_CV2_TURN = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
WIDE_LINES = 3.0  # area-weighted width/height of the found lines above which they look like text lines
FEW_LINES = 2  # a strip of this many lines or fewer (a line crop) skips the profile cue (one band has no row gaps)
LINE_CROP_ASPECT = 4.0  # an image this many times wider than tall, its ink in rows (row profile cue), is a line crop
# Cue thresholds, from the shipped samples, the dev printed pages and benchmarks.speed's pages: upright pages
# of several lines gave a profile cue of +0.33 to +1.24 and turned ones -0.33 to -1.24; upright print gave a
# page ascender balance of +0.22 to +0.59 and upside-down print -0.20 to -0.59 (handwriting: -0.06 to +0.52).
ROW_PROFILE = 0.2  # log(row-profile / column-profile sharpness) above which lines run across the page
UPRIGHT_ASCENDERS = 0.15  # (ascender - descender ink) / both, above which horizontal lines are taken as upright
OUTSIDE_BAND = 0.05  # share of ink outside the x-height band under which the ascender cue has no opinion
# Strips (one or two lines, or a line crop): set on the readings and balances of the htr-real val lines
# (958) and 400 synthetic lines in the validation hands, each upright and turned 180, in both modes: on the
# images where the line finder found one or two lines (1,780 upright and 1,790 upside-down cases, the two
# modes counted apart), replaying the recorded readings, no upright one turned and 1,594 upside-down ones did
# (before: 19 and 1,482); the next looser settings turned upright ones.
# benchmarks.upside_down_lines measures the result end to end (benchmarks/reports/upside_down_lines.md).
STRIP_UPRIGHT = 0.7  # ascender balance above which a strip is taken as upright without reading it
FLIP_GAIN = 0.15  # confidence the flipped reading must gain, plus BALANCE_WEIGHT * balance, to turn a strip ...
BALANCE_WEIGHT = 0.2
DOWN_BALANCE = -0.3  # ... or, with a balance at most this (descenders outweigh ascenders: upside down),
DOWN_GAIN = 0.02  # the gain the flipped reading needs
SAMPLE = 6  # lines read in each candidate orientation when a cue is unsure
TURN_MARGIN = 0.05  # how much more confidently a turned page must read than upright to be turned
MIN_CHARS = 4  # characters a turned reading must hold to overturn upright (a scrap of ink proves nothing)
MIN_TURNED_CONFIDENCE = 0.7  # mean confidence a turned reading needs to overturn upright: under it every model
# reads at 35% CER and worse (benchmarks/reports/reliability.md), i.e. noise, not evidence of text

Detect = Callable[[PageImage], list[LineRegion]]
Confidences = Callable[[list[np.ndarray]], list[tuple[str, float]]]  # crops -> (text, confidence) each
CheckTime = Callable[[str], None]  # raises when the step named is not to be started (the caller's deadline)


def _no_deadline(_step: str) -> None:
    return None


@dataclass
class Oriented:
    rotation: int  # clockwise degrees applied to the image to read it
    regions: list[LineRegion]  # boxes in the original image's pixels, crops upright


def orient(page: PageImage, detect: Detect, read: Confidences, check_time: CheckTime = _no_deadline) -> Oriented:
    """The page's lines read the right way up, and the quarter turn that took.

    `check_time(step)` is called before each extra detection (on a turned copy: as dear as the first),
    so a caller out of time stops there rather than after it."""
    regions = detect(page)
    if not regions:
        return Oriented(0, regions)
    horizontal = lines_look_horizontal(page, regions)
    if horizontal and len(regions) <= FEW_LINES or looks_like_a_line_crop(page):  # surely runs across
        return _orient_strip(page, regions, ascender_balance(regions), detect, read, check_time)
    if horizontal and page_ascender_balance(regions) >= UPRIGHT_ASCENDERS:
        return Oriented(0, regions)  # both cheap cues say upright: no extra work
    candidates = {0: regions}  # a page's profile can be fooled (a shadow, a photo): try sideways too
    check_time("finding the lines of the page turned 90 degrees")
    candidates[90] = detect(turn_page(page, 90))
    scores: dict[int, float] = {}
    chars: dict[int, int] = {}
    for turn, found in candidates.items():
        crops = [r.crop for r in _sample(found)]
        for t, readings in ((turn, read(crops)), ((turn + 180) % 360, read([np.ascontiguousarray(c[::-1, ::-1]) for c in crops]))):
            scores[t] = _mean_confidence(readings)
            chars[t] = sum(len(text.replace(" ", "")) for text, _ in readings)
    best = max(scores, key=lambda t: scores[t])
    if best == 0 or scores[best] < max(scores[0] + TURN_MARGIN, MIN_TURNED_CONFIDENCE) or chars[best] < MIN_CHARS:
        return Oriented(0, regions)
    if best != 90:
        check_time(f"finding the lines of the page turned {best} degrees")
    found = candidates[90] if best == 90 else detect(turn_page(page, best))
    return Oriented(best, [to_original(r, best, page.width, page.height) for r in found])


def _orient_strip(page: PageImage, regions: list[LineRegion], balance: float, detect: Detect, read: Confidences,
                  check_time: CheckTime) -> Oriented:
    """A strip of one or two lines: upright, or turned 180 when both cues say so (`strip_is_upside_down`)."""
    if balance >= STRIP_UPRIGHT:
        return Oriented(0, regions)
    crops = [r.crop for r in _sample(regions)]
    as_found, flipped = read(crops), read([np.ascontiguousarray(c[::-1, ::-1]) for c in crops])
    gain = _mean_confidence(flipped) - _mean_confidence(as_found)
    if sum(len(text.replace(" ", "")) for text, _ in flipped) < MIN_CHARS or not strip_is_upside_down(balance, gain):
        return Oriented(0, regions)
    check_time("finding the lines of the page turned 180 degrees")
    return Oriented(180, [to_original(r, 180, page.width, page.height) for r in detect(turn_page(page, 180))])


def strip_is_upside_down(balance: float, gain: float) -> bool:
    """Do the ascender balance and the confidence gained by reading the lines flipped say upside down?

    Reading confidence alone is weak on handwriting (some upside-down cursive reads as surely as
    upright; a scrap of an upright line can read surer flipped), so a small gain counts only when
    descenders clearly outweigh ascenders, and a positive balance raises the gain needed."""
    return gain - BALANCE_WEIGHT * balance > FLIP_GAIN or (balance <= DOWN_BALANCE and gain > DOWN_GAIN)


def turn_page(page: PageImage, turn: int) -> PageImage:
    """The page image turned clockwise by `turn` degrees (a multiple of 90)."""
    return page if turn == 0 else PageImage(np.ascontiguousarray(cv2.rotate(page.rgb, _CV2_TURN[turn])), page.page)


def turned_to_original(turn: int, width: int, height: int) -> np.ndarray:
    """2x3 affine: pixel coordinates in the image turned clockwise by `turn` -> the original's
    (`width` x `height`, before turning)."""
    w, h = width - 1, height - 1
    return np.array({0: [[1, 0, 0], [0, 1, 0]], 90: [[0, 1, 0], [-1, 0, h]],
                     180: [[-1, 0, w], [0, -1, h]], 270: [[0, -1, w], [1, 0, 0]]}[turn], np.float64)


def to_original(region: LineRegion, turn: int, width: int, height: int) -> LineRegion:
    """A line found on the turned page, with its box (and its words' boxes) in original pixels.

    The polygon keeps its order relative to the text (first point: the text's top-left corner)."""
    back = turned_to_original(turn, width, height)
    to_orig = np.hstack([back[:, :2] @ region.to_orig[:, :2], (back[:, :2] @ region.to_orig[:, 2] + back[:, 2])[:, None]])
    box = (region.box.astype(np.float64) @ back[:, :2].T + back[:, 2]).astype(np.float32)
    return replace(region, box=box, to_orig=to_orig, image_size=(width, height))


def lines_look_horizontal(page: PageImage, regions: list[LineRegion]) -> bool:
    """Do the found lines run across the page (upright or upside down) rather than down it?"""
    w = np.array([np.ptp(r.box[:, 0]) for r in regions]) + 1
    h = np.array([np.ptp(r.box[:, 1]) for r in regions]) + 1
    if np.average(w / h, weights=w * h) < WIDE_LINES:
        return False
    return len(regions) <= FEW_LINES or row_profile_cue(page.rgb) >= ROW_PROFILE


def looks_like_a_line_crop(page: PageImage) -> bool:
    """A wide image whose ink lies in rows: a line crop, even when the detector returns it in pieces
    (small real crops, 64 px high, often come back as a dozen fragments that look like a page's lines)."""
    return page.width >= LINE_CROP_ASPECT * page.height and row_profile_cue(page.rgb) >= ROW_PROFILE


def row_profile_cue(rgb: np.ndarray, side: int = 1024) -> float:
    """log(sharpness of the ink's row profile / its column profile), on a thumbnail of the inked area.

    Rows of text separated by blank leading give a row profile that swings from full to empty;
    across a column the profile is flat (word gaps do not line up). Negative: lines run down the page.
    The thumbnail takes every n-th pixel (no pass over the whole page: this runs on every page).
    """
    step = max(1, -(-max(rgb.shape[:2]) // side))
    small = cv2.cvtColor(np.ascontiguousarray(rgb[::step, ::step]), cv2.COLOR_RGB2GRAY)
    _, ink = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    ys, xs = np.nonzero(ink)
    if len(ys) < 20:
        return 0.0
    inked = ink[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1].astype(np.float32)
    rows, cols = inked.sum(axis=1), inked.sum(axis=0)
    return float(np.log(max(rows.std() / rows.mean(), 1e-6) / max(cols.std() / cols.mean(), 1e-6)))


def ascender_balance(regions: list[LineRegion]) -> float:
    """(ink above the lines' x-height band - ink below it) / both, over every line crop (of a strip).

    Upright Latin text: positive (capitals and ascenders outweigh descenders); upside down: negative.
    0 (no opinion) when little ink is outside the band: upper case and digits (a receipt) have no
    ascenders, and their few marks below the line (commas, slashes) would point the wrong way.
    Only ink attached to the band counts: line crops carry fragments of the neighbouring lines
    (descenders of the line above, capitals of the line below), which would outweigh the line's own.
    """
    above = below = total = 0.0
    for r in regions:
        _, ink = cv2.threshold(r.crop, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)  # faint handwriting too
        profile = ink.sum(axis=1).astype(np.float64)
        if profile.max() <= 0:
            continue
        top, bottom = x_height_band(profile)
        n, labels = cv2.connectedComponents(ink, connectivity=8)  # (with stats: 5x dearer on a page's lines)
        attached = np.zeros(n, bool)
        attached[labels[top: bottom + 1]] = True  # a component with ink in the band's rows
        attached[0] = False  # the background
        line_above = np.bincount(labels[:top].ravel(), minlength=n)[attached].sum()  # ink pixels per component
        line_below = np.bincount(labels[bottom + 1:].ravel(), minlength=n)[attached].sum()
        above, below = above + line_above, below + line_below
        total += line_above + line_below + profile[top: bottom + 1].sum()
    if above + below <= OUTSIDE_BAND * total:  # also: no dark ink at all (a faint or blurred page)
        return 0.0
    return (above - below) / (above + below)


def page_ascender_balance(regions: list[LineRegion]) -> float:
    """The ascender balance as a page's cheap cue: every row above half the peak ink (dark pixels) counts
    as the band, all ink counts. Cruder than `ascender_balance` (a neighbour's fragment at a crop's edge
    stretches the band) but set on pages, where the strip measure read the noise of a photo's fragments
    as ascenders (skimage's page photo turned 270: +0.32, as much as the upright page's +0.31)."""
    above = below = total = 0.0
    for r in regions:
        profile = (r.crop < 128).sum(axis=1).astype(np.float64)
        if profile.max() <= 0:
            continue
        core = np.flatnonzero(profile >= 0.5 * profile.max())  # the x-height band
        above += profile[: core[0]].sum()
        below += profile[core[-1] + 1:].sum()
        total += profile.sum()
    if above + below <= OUTSIDE_BAND * total:  # also: no dark ink at all (a faint or blurred page)
        return 0.0
    return (above - below) / (above + below)


def x_height_band(profile: np.ndarray) -> tuple[int, int]:
    """First and last row of the x-height band: the run of rows holding at least half the peak ink
    (smoothed over 3 rows) around the peak; not every such row, which would take in a neighbour's
    fragment at the crop's edge."""
    smooth = np.convolve(profile, np.ones(3) / 3, mode="same")
    peak = int(smooth.argmax())
    low = np.flatnonzero(smooth < 0.5 * smooth[peak])
    top = int(low[low < peak].max()) + 1 if (low < peak).any() else 0
    bottom = int(low[low > peak].min()) - 1 if (low > peak).any() else len(profile) - 1
    return top, bottom


def _sample(regions: list[LineRegion]) -> list[LineRegion]:
    """The SAMPLE largest lines (most text to judge by; on a turned page, its largest fragments)."""
    area = [r.crop.shape[0] * r.crop.shape[1] for r in regions]
    return [regions[i] for i in np.argsort(area)[::-1][:SAMPLE]]


def _mean_confidence(readings: list[tuple[str, float]]) -> float:
    """Confidence averaged over characters (an empty reading counts as one unsure character)."""
    weights = [max(len(text.strip()), 1) for text, _ in readings]
    confs = [conf if text.strip() else 0.0 for text, conf in readings]
    return float(np.average(confs, weights=weights)) if readings else 0.0
