"""Saying when unsure: which lines are flagged `low_confidence`, and the warnings a page carries.

The thresholds come from measured data (`python -m benchmarks.reliability`: confidence bucket ->
measured CER on validation sets, never on ../shared/dev-eval; the tables are in
benchmarks/reports/reliability.md and each model's MODEL_CARD.md). A line is flagged when its
confidence is under its model's threshold, the bucket edge where the measured CER jumps:
printed 0.85 (synthetic validation lines under it: CER 13% and up; above it: 9% and down),
handwritten 0.80 (under it: CER 20% and up on unseen synthetic hands, 25% and up on the htr-real val
split; above it 2-18%), Tesseract 0.60 (under it: 59%; above it: 13% and down).

A page is `blurred` when its blur (`page_blur`: the Gaussian sigma of its ink edges over the line
height, median over its lines) is over BLURRED = 0.09, where our CER climbs: `python -m
benchmarks.blur` (benchmarks/reports/blur.md) renders pages in held-out book and till faces and two
document faces at x-heights of 8-22 px, plus the repository's own images, blurs them by 0-0.5
x-heights and reads them: pages measuring under 0.09 read at 2-6% CER per bucket, from 0.09 on at 13%
and up (sigma 0.2 x-heights measures about 0.10). No unblurred page measured over 0.05, and none of
1,357 real images (shipped, dev-eval, htr-real val, checked after choosing) was flagged.

A page's `warnings` are codes from WARNINGS (their one home, with what each means); the result's
`warnings` holds each code once, in page order.
"""

from __future__ import annotations

import cv2
import numpy as np

LOW_CONFIDENCE = {"printed": 0.85, "handwritten": 0.80, "tesseract": 0.60}  # per model (Line.mode)
SMALL_TEXT_PX = 10  # median line height (ascender to descender) under which print reads badly (the shipped scan: 10-11 px lines read as well as 29 px, 7-8 px ones do not)
MOSTLY_UNREADABLE = 0.5  # share of a page's characters in low-confidence lines above which it is "mostly unreadable"
BLURRED = 0.09  # page blur (`page_blur`: its edges' Gaussian sigma in line heights) above which the text is "too blurred"
BLUR_LINES = 12  # lines sampled per page to measure its blur (spread over the page)
EDGE_LEVELS = (0.25, 0.75)  # the part of the ink-to-paper range whose width is measured
SOBEL_WIDTH_PX = 1.0  # the edge width a perfectly sharp step measures (Sobel's own spread), taken off
STEP_WIDTH_SIGMAS = 1.349  # a Gaussian-blurred step's 25-75% width, in sigmas (2 x 0.6745)
MIN_CONTRAST = 24  # paper minus ink (gray levels) under which a crop's edges are not measured
MIN_EDGE_PIXELS = 20  # fewer pixels between the two levels: no edge to measure (e.g. a bilevel scan: sharp)

WARNINGS = {
    "rotated": "the page was sideways or upside down: it was turned (its rotation, degrees clockwise) to read it",
    "too_small": f"the text is very small (lines under {SMALL_TEXT_PX} px tall): scan at a higher resolution",
    "blurred": "the text is blurred (out of focus or moved): take a sharper photo or scan",
    "mostly_unreadable": "most of the page was read with low confidence: check the text, or try a cleaner scan",
}


def is_low_confidence(confidence: float, mode: str) -> bool:
    """Is a line read by `mode`'s model (printed | handwritten | tesseract) with this confidence doubtful?"""
    return confidence < LOW_CONFIDENCE.get(mode, LOW_CONFIDENCE["printed"])


def edge_sigma(crop: np.ndarray) -> float | None:
    """How blurred a line crop's ink edges are: the Gaussian sigma (px) that would make them this wide.

    The edge width is the distance the gray level takes to go from 25% to 75% of the way from ink
    to paper: that level range divided by the mean gradient of the pixels between the two levels
    (by the coarea formula every edge counts in proportion to its length, so no edge has to be
    found). A Gaussian-blurred step is STEP_WIDTH_SIGMAS wide; a sharp one measures SOBEL_WIDTH_PX, taken
    off in quadrature. Levels are the crop's own (ink: 2nd percentile, paper: median), so faint or
    thin strokes that blur lightens are measured as well. None: too little contrast or no grey
    levels between ink and paper (a bilevel scan).
    """
    hist = np.cumsum(cv2.calcHist([crop], [0], None, [256], [0, 256]).ravel())
    ink, paper = (float(np.searchsorted(hist, q * hist[-1])) for q in (0.02, 0.5))
    contrast = paper - ink
    if contrast < MIN_CONTRAST:
        return None
    g = crop.astype(np.float32)
    lo, hi = (ink + f * contrast for f in EDGE_LEVELS)
    between = (g > lo) & (g < hi)
    if np.count_nonzero(between) < MIN_EDGE_PIXELS:
        return None
    gradient = cv2.magnitude(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3, scale=0.125),
                             cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3, scale=0.125))
    width = (hi - lo) / max(float(gradient[between].mean()), 1e-6)
    return float(np.sqrt(max(width**2 - SOBEL_WIDTH_PX**2, 0.0)) / STEP_WIDTH_SIGMAS)


def page_blur(crops: list[np.ndarray], line_heights: list[float]) -> float | None:
    """A page's blur, scale-free: the median over up to BLUR_LINES lines of edge sigma / line height
    (a sigma of 2 px ruins 6 px letters and hardly touches 30 px ones). None: nothing to measure."""
    pick = np.unique(np.linspace(0, len(crops) - 1, min(len(crops), BLUR_LINES)).round().astype(int)) if crops else []
    blurs = [s / h for s, h in ((edge_sigma(crops[i]), line_heights[i]) for i in pick) if s is not None and h > 0]
    return float(np.median(blurs)) if blurs else None


def page_warnings(rotation: int, line_heights: list[float], line_lengths: list[int], low: list[bool],
                  blur: float | None = None) -> list[str]:
    """The warning codes of one page, from its rotation, its lines (height in px, characters, flagged)
    and its blur (`page_blur`; None: not measured)."""
    codes = []
    if rotation:
        codes.append("rotated")
    if line_heights and float(np.median(line_heights)) < SMALL_TEXT_PX:
        codes.append("too_small")
    if blur is not None and blur > BLURRED:
        codes.append("blurred")
    chars = sum(line_lengths)
    if chars and sum(n for n, flagged in zip(line_lengths, low) if flagged) > MOSTLY_UNREADABLE * chars:
        codes.append("mostly_unreadable")
    return codes
