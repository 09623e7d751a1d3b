"""Render the demo images in samples/ (committed; rerun to regenerate).

A short printed letter (Liberation Serif, slightly rotated, scanner noise) and a handwritten
note (DKG handwriting font, bent strokes, uneven baseline), both with known text.
"""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

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


def page(lines: list[str], font_path: str, size: int, line_gap: float) -> np.ndarray:
    font = ImageFont.truetype(font_path, size)
    width = int(max(font.getlength(t) for t in lines) + 2 * size)
    height = int(len(lines) * size * line_gap + 2 * size)
    img = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(img)
    for i, text in enumerate(lines):
        draw.text((size, size + i * size * line_gap), text, fill=255, font=font)
    return np.asarray(img)


def to_paper(ink: np.ndarray, rng: np.random.Generator, angle: float) -> np.ndarray:
    h, w = ink.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    ink = cv2.warpAffine(ink, m, (w, h))
    gx = np.linspace(0.9, 1.0, w)[None, :]
    img = (240 * gx) * (1 - ink / 255.0) + 30 * (ink / 255.0)
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 0.7) + rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(7)
    printed = page(PRINTED, "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf", 34, 1.6)
    cv2.imwrite(str(OUT / "printed-letter.png"), to_paper(printed, rng, 1.5))
    (OUT / "printed-letter.txt").write_text("\n".join(PRINTED) + "\n")
    hand = page(HANDWRITTEN, "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf", 48, 1.8)
    hand = elastic(hand, random.Random(3), alpha=60, sigma=6)
    cv2.imwrite(str(OUT / "handwritten-note.png"), to_paper(hand, rng, -2.0))
    (OUT / "handwritten-note.txt").write_text("\n".join(HANDWRITTEN) + "\n")
    word = page(["Tuesday"], "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf", 48, 1.8)  # one word: API latency
    word = elastic(word, random.Random(5), alpha=60, sigma=6)
    cv2.imwrite(str(OUT / "handwritten-word.png"), to_paper(word, np.random.default_rng(11), 0.5))
    (OUT / "handwritten-word.txt").write_text("Tuesday\n")


if __name__ == "__main__":
    main()
