"""Render the demo images in samples/ (committed; rerun to regenerate).

A short printed letter (Liberation Serif, slightly rotated, scanner noise), a handwritten
note (DKG handwriting font, bent strokes, uneven baseline) and a till receipt (Share Tech Mono, a
till face training never sees, small print on grey thermal paper, photographed), all with known text.
"""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
from make_test_data import ink  # scripts/ is on the path when this runs as a script
from make_test_data import to_paper as scan
from PIL import Image, ImageDraw, ImageFont

from training.fonts import FONT_CACHE
from training.synth import elastic

OUT = Path(__file__).resolve().parent.parent / "samples"
PRINTED = [
    "Dear Ms. Alvarez,",
    "Thank you for your order #4512 of 3 March.",
    "The invoice total is $1,284.50 (incl. VAT).",
    "Please reply to billing@example.com by Friday.",
    "Kind regards, J. Schmidt",
]
RECEIPT = [  # (left, right-aligned)
    ("FAIRVIEW MART", ""), ("12 ORCHARD RD #01-23", ""), ("GST REG NO: M2-0012345-6", ""),
    ("03/11/2026 14:32", "TXN 0457"), ("MILK 2L", "$6.90"), ("BREAD WHOLEMEAL", "$3.45"), ("2 x 1.95", "$3.90"),
    ("EGGS 10S", "$4.20"), ("SUBTOTAL", "$18.45"), ("ROUNDING", "-$0.05"), ("TOTAL INCL. OF GST", "$18.40"),
    ("CASH", "$20.00"), ("CHANGE", "$1.60"), ("THANK YOU, PLEASE COME AGAIN", ""),
]
HANDWRITTEN = ["Buy milk and bread", "Call Anna at 5 pm", "Meeting moved to Tuesday"]


def to_paper(coverage: np.ndarray, rng: np.random.Generator, angle: float) -> np.ndarray:
    """The samples' scan look: a little brighter light fall-off and more noise than tests/data's."""
    return scan(coverage, rng, angle, paper=240, ink_level=30, darkest_light=0.9, noise=6)


def receipt(rng: np.random.Generator) -> np.ndarray:
    """A narrow slip: drawn at 3x, shrunk to ~8 px x-height, grey paper, soft focus, a shadow."""
    font = ImageFont.truetype(str(FONT_CACHE / "share-tech-mono@5.3.0" / "share-tech-mono-latin-400-normal.ttf"), 60)
    column, pitch = font.getlength("0") * 32, 78
    img = Image.new("L", (int(column + 120), pitch * (len(RECEIPT) + 2)), 0)
    draw = ImageDraw.Draw(img)
    for i, (left, right) in enumerate(RECEIPT):
        draw.text((60, pitch * (i + 1)), left, fill=255, font=font)
        draw.text((60 + column - font.getlength(right), pitch * (i + 1)), right, fill=255, font=font)
    ink = cv2.resize(np.asarray(img), (img.width // 3, img.height // 3), interpolation=cv2.INTER_AREA) / 255.0
    h, w = ink.shape
    paper = 225 - 25 * np.linspace(0, 1, w)[None, :] ** 2  # a shadow towards the right edge
    gray = cv2.GaussianBlur((paper * (1 - ink) + 70 * ink).astype(np.float32), (0, 0), 0.6) + rng.normal(0, 4, ink.shape)
    return np.clip(gray, 0, 255).astype(np.uint8)


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
    cv2.imwrite(str(OUT / "receipt.png"), receipt(np.random.default_rng(13)))
    (OUT / "receipt.txt").write_text("\n".join(" ".join(f"{a} {b}".split()) for a, b in RECEIPT) + "\n")


if __name__ == "__main__":
    main()
