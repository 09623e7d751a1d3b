"""Saying when unsure: which lines are flagged `low_confidence`, and the warnings a page carries.

The thresholds come from measured data (`python -m benchmarks.reliability`: confidence bucket ->
measured CER on validation sets, never on ../shared/dev-eval; the tables are in
benchmarks/reports/reliability.md and each model's MODEL_CARD.md). A line is flagged when its
confidence is under its model's threshold, the bucket edge where the measured CER jumps:
printed 0.85 (synthetic validation lines under it: CER 13% and up; above it: 9% and down),
handwritten 0.80 (under it: CER 20% and up on unseen synthetic hands, 25% and up on the htr-real val
split; above it 2-17%), Tesseract 0.60 (under it: 59%; above it: 13% and down).

A page's `warnings` are codes from WARNINGS (their one home, with what each means); the result's
`warnings` holds each code once, in page order.
"""

from __future__ import annotations

import numpy as np

LOW_CONFIDENCE = {"printed": 0.85, "handwritten": 0.80, "tesseract": 0.60}  # per model (Line.mode)
SMALL_TEXT_PX = 10  # median line height (ascender to descender) under which print reads badly (the shipped scan: 10-11 px lines read as well as 29 px, 7-8 px ones do not)
MOSTLY_UNREADABLE = 0.5  # share of a page's characters in low-confidence lines above which it is "mostly unreadable"

WARNINGS = {
    "rotated": "the page was sideways or upside down: it was turned (its rotation, degrees clockwise) to read it",
    "too_small": f"the text is very small (lines under {SMALL_TEXT_PX} px tall): scan at a higher resolution",
    "mostly_unreadable": "most of the page was read with low confidence: check the text, or try a cleaner scan",
}


def is_low_confidence(confidence: float, mode: str) -> bool:
    """Is a line read by `mode`'s model (printed | handwritten | tesseract) with this confidence doubtful?"""
    return confidence < LOW_CONFIDENCE.get(mode, LOW_CONFIDENCE["printed"])


def page_warnings(rotation: int, line_heights: list[float], line_lengths: list[int], low: list[bool]) -> list[str]:
    """The warning codes of one page, from its rotation and its lines (height in px, characters, flagged)."""
    codes = []
    if rotation:
        codes.append("rotated")
    if line_heights and float(np.median(line_heights)) < SMALL_TEXT_PX:
        codes.append("too_small")
    chars = sum(line_lengths)
    if chars and sum(n for n, flagged in zip(line_lengths, low) if flagged) > MOSTLY_UNREADABLE * chars:
        codes.append("mostly_unreadable")
    return codes
