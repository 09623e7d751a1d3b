"""Render the small test images in tests/data/ (committed; rerun to regenerate).

The test suite must pass on a plain clone, without ../shared: these files stand in for the
dev-eval scans in the tests that need a real file rather than one rendered on the fly. All text
is ours, rendered with the fonts training uses (Debian packages, see tests/data/README.md):

- printed-scan.tif: a grayscale "scan" of a short printed page (Liberation Serif, slight skew,
  uneven light, noise), with ground truth in printed-scan.txt;
- handwritten-line.png: one handwritten line (DKG handwriting font, bent strokes), ground
  truth in handwritten-line.txt;
- two-pages.pdf: a two-page PDF of printed text (one line per page, 150 dpi page images),
  ground truth in two-pages.txt (pages separated by a form feed).
"""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from training.synth import elastic

OUT = Path(__file__).resolve().parent.parent / "tests" / "data"
SERIF = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"
SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
HAND = "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf"
PRINTED = [
    "Order 2041 was shipped on 12 May 2026.",
    "The parcel weighs 3.5 kg; please sign for it.",
    "Questions? Call us at (555) 010-7788.",
    "Thank you, and have a pleasant week!",
]
HANDWRITTEN = "Meet me at the station at 7"
PDF_PAGES = ["The first page of the report", "Second page with the summary"]


def ink(lines: list[str], font_path: str, size: int, line_gap: float) -> np.ndarray:
    """White-on-black ink coverage of the lines, one margin of `size` around them."""
    font = ImageFont.truetype(font_path, size)
    width = int(max(font.getlength(t) for t in lines) + 2 * size)
    height = int(len(lines) * size * line_gap + 2 * size)
    img = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(img)
    for i, text in enumerate(lines):
        draw.text((size, size + i * size * line_gap), text, fill=255, font=font)
    return np.asarray(img)


def to_paper(coverage: np.ndarray, rng: np.random.Generator, angle: float, *, paper: float = 242, ink_level: float = 28,
             darkest_light: float = 0.88, noise: float = 5) -> np.ndarray:
    """Ink -> a scan: rotation, light falling off to one side (to `darkest_light`), blur and sensor noise.
    Also scripts/make_samples.py's renderer (with its own paper, ink and noise levels)."""
    h, w = coverage.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    coverage = cv2.warpAffine(coverage, m, (w, h))
    light = np.linspace(darkest_light, 1.0, w)[None, :]
    img = (paper * light) * (1 - coverage / 255.0) + ink_level * (coverage / 255.0)
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 0.7) + rng.normal(0, noise, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(13)
    scan = to_paper(ink(PRINTED, SERIF, 30, 1.6), rng, 1.0)
    Image.fromarray(scan).save(OUT / "printed-scan.tif", compression="tiff_lzw")
    (OUT / "printed-scan.txt").write_text("\n".join(PRINTED) + "\n")

    hand = elastic(ink([HANDWRITTEN], HAND, 44, 1.8), random.Random(3), alpha=50, sigma=6)
    cv2.imwrite(str(OUT / "handwritten-line.png"), to_paper(hand, rng, -1.0))
    (OUT / "handwritten-line.txt").write_text(HANDWRITTEN + "\n")

    pages = [Image.fromarray(to_paper(ink([t], SANS, 32, 1.6), rng, 0.0)) for t in PDF_PAGES]
    pages[0].save(OUT / "two-pages.pdf", "PDF", resolution=150.0, save_all=True, append_images=pages[1:])
    (OUT / "two-pages.txt").write_text("\f".join(t + "\n" for t in PDF_PAGES))


if __name__ == "__main__":
    main()
