"""PDF input: every page rasterised with PDFium (pypdfium2) at a chosen dpi, as RGB pages.

`image_io.iter_pages` hands PDF bytes here (recognised by the `%PDF-` signature, never by a
file name). Page count and pixel limits are checked from the page sizes before anything is
rendered; an encrypted or broken PDF is a 4xx `InvalidImageError` with a sentence saying why.
PDFium is not thread-safe: one process renders one PDF at a time (as the CLI, a Lambda
container and the batch job do).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pypdfium2 as pdfium

from ocr_core.errors import InvalidImageError
from ocr_core.page import PageImage

PDF_DPI = int(os.environ.get("OCR_PDF_DPI", 300))  # the resolution OCR tools conventionally read scans at
MIN_DPI, MAX_DPI = 50, 600  # the one range of `dpi` (CLI --dpi, API `dpi`, batch `ocr-dpi`)
POINTS_PER_INCH = 72.0
SIGNATURE_WINDOW = 1024  # PDF readers accept the %PDF- header anywhere in the first 1 KiB


def is_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:SIGNATURE_WINDOW]


def check_dpi(dpi: int | str | None) -> int:
    """The render resolution to use: `dpi` (an int, or its text from a query, form field or tag) or
    the default PDF_DPI; a 422 `bad_dpi` for anything else or outside MIN_DPI..MAX_DPI. ASCII digits
    only: `str.isdigit()` alone says yes to '²' (which int() refuses) and to fullwidth digits."""
    if dpi is None or dpi == "":
        return PDF_DPI
    text = str(dpi).strip()
    if isinstance(dpi, bool) or not isinstance(dpi, int | str) or not (text.isascii() and text.isdigit()) or not MIN_DPI <= int(text) <= MAX_DPI:
        shown = text if len(text) <= 20 else text[:20] + "..."
        raise InvalidImageError(f"dpi must be a whole number between {MIN_DPI} and {MAX_DPI}, not {shown}.", "bad_dpi")
    return int(text)


def iter_pdf_pages(data: bytes, *, dpi: int | None, max_pages: int, max_pixels: int,
                   max_total_pixels: int) -> Iterator:
    """PDF bytes -> one `PageImage` per page (1-based), rendered at `dpi` one at a time.

    Every limit is checked from the page sizes before anything is rendered (as image_io does from
    image headers), so an oversized document is refused at once, not after rendering half of it.
    """
    dpi = check_dpi(dpi)
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise InvalidImageError("The PDF is encrypted (password-protected); send it decrypted.",
                                    "encrypted_pdf") from None
        raise InvalidImageError(f"The PDF could not be read: it looks damaged or truncated ({exc}).",
                                "corrupt_pdf") from None
    try:
        sizes = _page_sizes(doc, dpi / POINTS_PER_INCH, max_pages, max_pixels)
    except BaseException:
        doc.close()
        raise
    total = sum(w * h for w, h in sizes)
    if total > max_total_pixels:
        doc.close()
        raise InvalidImageError(f"The {len(sizes)} PDF pages hold {total / 1e6:.0f} megapixels together at {dpi} dpi; at "
                                f"most {max_total_pixels / 1e6:.0f} are accepted (ask for a lower dpi, or split the file).",
                                "too_many_pixels")
    return _render(doc, len(sizes), dpi / POINTS_PER_INCH)


def _page_sizes(doc: pdfium.PdfDocument, scale: float, max_pages: int, max_pixels: int) -> list[tuple[int, int]]:
    count = len(doc)
    if count == 0:
        raise InvalidImageError("The PDF has no pages.", "corrupt_pdf")
    if count > max_pages:
        raise InvalidImageError(f"The PDF has {count} pages; send at most {max_pages}.", "too_many_pages")
    sizes = []
    for index in range(count):
        try:
            w_pt, h_pt = doc.get_page_size(index)
        except pdfium.PdfiumError as exc:
            raise InvalidImageError(f"Page {index + 1} of the PDF could not be read ({exc}).", "corrupt_pdf") from None
        w, h = round(w_pt * scale), round(h_pt * scale)
        if w * h > max_pixels:
            raise InvalidImageError(
                f"Page {index + 1} of the PDF is {w}x{h} pixels at {round(scale * POINTS_PER_INCH)} dpi; at most "
                f"{max_pixels / 1e6:.0f} megapixels are accepted (ask for a lower dpi).", "too_many_pixels")
        sizes.append((w, h))
    return sizes


def _render(doc: pdfium.PdfDocument, count: int, scale: float) -> Iterator:
    try:
        for index in range(count):
            page = doc[index]
            try:
                rgb = np.asarray(page.render(scale=scale, may_draw_forms=True).to_pil().convert("RGB"), dtype=np.uint8)
            except pdfium.PdfiumError as exc:
                raise InvalidImageError(f"Page {index + 1} of the PDF could not be rendered: it looks damaged ({exc}).",
                                        "corrupt_pdf") from None
            finally:
                page.close()
            yield PageImage(rgb, index + 1)
    finally:
        doc.close()
