"""Searchable PDF: each page image with the recognised text as an invisible layer under it.

What OCRmyPDF and `tesseract ... pdf` produce: the page looks exactly like the scan, and text
can be searched, selected and copied. Written with ReportLab: per word, invisible text (render
mode 3) in Helvetica, sized to the word's box height and stretched horizontally to its width, so a
selection lands on the word in the image. On a page read turned (`Page.rotation`) the text runs along
the word's polygon instead (first point: the text's top-left), turned counter-clockwise by the same
angle, so selecting a sideways word selects along it. Page size: the image's pixels at `dpi` (a PDF input's
render dpi; images count as `PDF_DPI`, so a 300-dpi scan keeps its paper size).
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from ocr_core import __version__
from ocr_core.export.text import bbox, words_of
from ocr_core.image_io import PageImage
from ocr_core.pdf import PDF_DPI, POINTS_PER_INCH
from ocr_core.result import OcrResult

FONT = "Helvetica"  # a standard PDF font (WinAnsi: Western European letters, typographic quotes and dashes)
INVISIBLE = 3  # PDF text render mode: neither fill nor stroke


def searchable_pdf(result: OcrResult, pages: list[PageImage], *, dpi: int | None = None) -> bytes:
    if len(pages) != len(result.pages):
        raise ValueError(f"{len(pages)} page images for a result of {len(result.pages)} pages")
    scale = POINTS_PER_INCH / (dpi or PDF_DPI)
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pageCompression=1, invariant=1)
    pdf.setCreator(f"ocr_core {__version__}")
    pdf.setProducer(f"ocr_core {__version__} (ReportLab)")
    for image, page in zip(pages, result.pages):
        width, height = image.width * scale, image.height * scale
        pdf.setPageSize((width, height))
        for line in page.lines:  # text first: it lies under the image
            words = words_of(line)
            for i, word in enumerate(words):
                text = word.text + (" " if i < len(words) - 1 else "")
                if page.rotation:
                    length, box_height, origin = _frame_along(word.box, scale, height)
                else:
                    x0, y0, x1, y1 = bbox(word.box, image.width, image.height)
                    length, box_height, origin = (x1 - x0) * scale, (y1 - y0) * scale, (x0 * scale, height - y1 * scale)
                size = max(box_height * 0.8, 1.0)
                natural = stringWidth(text, FONT, size)
                target = length * (len(text) / max(len(word.text), 1))
                obj = pdf.beginText()
                obj.setTextRenderMode(INVISIBLE)
                obj.setFont(FONT, size)
                obj.setHorizScale(100.0 * target / natural if natural > 0 else 100.0)
                # baseline a fifth of the box above its bottom edge (room for descenders), along the text's up
                angle = math.radians(page.rotation)
                cos, sin = math.cos(angle), math.sin(angle)
                lift = 0.2 * box_height
                obj.setTextTransform(cos, sin, -sin, cos, origin[0] - sin * lift, origin[1] + cos * lift)
                obj.textOut(text)
                pdf.drawText(obj)
        pdf.drawImage(ImageReader(_pil(image)), 0, 0, width, height)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _frame_along(box, scale: float, page_height: float) -> tuple[float, float, tuple[float, float]]:
    """A turned word's text frame in PDF points: its length (top edge), height (left edge) and
    origin (its bottom-left corner; PDF y runs up)."""
    tl, tr, _, bl = np.asarray(box, dtype=float).reshape(4, 2) * scale
    return float(np.hypot(*(tr - tl))), float(np.hypot(*(bl - tl))), (float(bl[0]), page_height - float(bl[1]))


def _pil(image: PageImage) -> Image.Image:
    rgb = image.rgb
    if (rgb[:, :, 0] == rgb[:, :, 1]).all() and (rgb[:, :, 1] == rgb[:, :, 2]).all():
        return Image.fromarray(rgb[:, :, 0])  # a gray scan stays gray: a third of the size
    return Image.fromarray(rgb)
