"""Render the demo images in samples/ (committed; rerun to regenerate).

A short printed letter (Liberation Serif, slightly rotated, scanner noise) and a handwritten
note (DKG handwriting font, bent strokes, uneven baseline), both with known text.
"""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
from make_test_data import ink  # scripts/ is on the path when this runs as a script
from make_test_data import to_paper as scan

from training.synth import elastic

OUT = Path(__file__).resolve().parent.parent / "samples"
PRINTED = [
    "Dear Ms. Alvarez,",
    "Thank you for your order #4512 of 3 March.",
    "The invoice total is $1,284.50 (incl. VAT).",
    "Please reply to billing@example.com by Friday.",
    "Kind regards, J. Schmidt",
]
HANDWRITTEN = ["Buy milk and bread", "Call Anna at 5 pm", "Meeting moved to Tuesday"]


def to_paper(coverage: np.ndarray, rng: np.random.Generator, angle: float) -> np.ndarray:
    """The samples' scan look: a little brighter light fall-off and more noise than tests/data's."""
    return scan(coverage, rng, angle, paper=240, ink_level=30, darkest_light=0.9, noise=6)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(7)
    printed = ink(PRINTED, "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf", 34, 1.6)
    cv2.imwrite(str(OUT / "printed-letter.png"), to_paper(printed, rng, 1.5))
    (OUT / "printed-letter.txt").write_text("\n".join(PRINTED) + "\n")
    hand = ink(HANDWRITTEN, "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf", 48, 1.8)
    hand = elastic(hand, random.Random(3), alpha=60, sigma=6)
    cv2.imwrite(str(OUT / "handwritten-note.png"), to_paper(hand, rng, -2.0))
    (OUT / "handwritten-note.txt").write_text("\n".join(HANDWRITTEN) + "\n")
    word = ink(["Tuesday"], "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf", 48, 1.8)  # one word: API latency
    word = elastic(word, random.Random(5), alpha=60, sigma=6)
    cv2.imwrite(str(OUT / "handwritten-word.png"), to_paper(word, np.random.default_rng(11), 0.5))
    (OUT / "handwritten-word.txt").write_text("Tuesday\n")


if __name__ == "__main__":
    main()
