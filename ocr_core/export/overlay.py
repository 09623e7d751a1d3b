"""Line and word boxes drawn on the page images, to see what was found (`ocr --overlay out.png`)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from ocr_core.image_io import PageImage
from ocr_core.result import OcrResult

LINE_COLOUR = (0, 90, 255)  # blue: lines
WORD_COLOUR = (230, 0, 0)  # red: words
PAGE_GAP = 20  # pixels of gray between stacked pages


def overlay_png(result: OcrResult, pages: list[PageImage]) -> bytes:
    """One PNG: the pages stacked top to bottom, line polygons in blue and word polygons in red."""
    drawn = []
    for image, page in zip(pages, result.pages):
        canvas = Image.fromarray(image.rgb).convert("RGB")
        draw = ImageDraw.Draw(canvas)
        width = max(1, round(max(image.width, image.height) / 600))
        for line in page.lines:
            draw.polygon([tuple(p) for p in line.box.reshape(-1, 2).tolist()], outline=LINE_COLOUR, width=width + 1)
            for word in line.words:
                draw.polygon([tuple(p) for p in word.box.reshape(-1, 2).tolist()], outline=WORD_COLOUR, width=width)
        drawn.append(canvas)
    out = Image.new("RGB", (max(im.width for im in drawn), sum(im.height for im in drawn) + PAGE_GAP * (len(drawn) - 1)),
                    (128, 128, 128))
    y = 0
    for im in drawn:
        out.paste(im, (0, y))
        y += im.height + PAGE_GAP
    buf = io.BytesIO()
    out.save(buf, format="PNG")
    return buf.getvalue()
