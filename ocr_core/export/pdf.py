"""Searchable PDF: each page image with the recognised text as an invisible layer under it.

What OCRmyPDF and `tesseract ... pdf` produce: the page looks exactly like the scan, and text
can be searched, selected and copied. Written with ReportLab: per word, invisible text (render
mode 3) in Helvetica, sized to the word's box height and stretched horizontally to its width, so a
selection lands on the word in the image. Page size: the image's pixels at `dpi` (a PDF input's
render dpi; images count as `PDF_DPI`, so a 300-dpi scan keeps its paper size).
"""

from __future__ import annotations

import io

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
                x0, y0, x1, y1 = bbox(word.box, image.width, image.height)
                text = word.text + (" " if i < len(words) - 1 else "")
                size = max((y1 - y0) * scale * 0.8, 1.0)
                natural = stringWidth(text, FONT, size)
                target = (x1 - x0) * scale * (len(text) / max(len(word.text), 1))
                obj = pdf.beginText()
                obj.setTextRenderMode(INVISIBLE)
                obj.setFont(FONT, size)
                obj.setHorizScale(100.0 * target / natural if natural > 0 else 100.0)
                obj.setTextOrigin(x0 * scale, height - y1 * scale + 0.2 * (y1 - y0) * scale)
                obj.textOut(text)
                pdf.drawText(obj)
        pdf.drawImage(ImageReader(_pil(image)), 0, 0, width, height)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _pil(image: PageImage) -> Image.Image:
    rgb = image.rgb
    if (rgb[:, :, 0] == rgb[:, :, 1]).all() and (rgb[:, :, 1] == rgb[:, :, 2]).all():
        return Image.fromarray(rgb[:, :, 0])  # a gray scan stays gray: a third of the size
    return Image.fromarray(rgb)
