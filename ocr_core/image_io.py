"""Decode and validate image bytes: the engine's only entry for pixels.

Accepts JPEG, PNG, TIFF (every page), BMP and WebP, and PDF (every page, rendered by `pdf.py`),
recognized by their content, never by a file name. EXIF orientation is applied; 1-bit, gray,
palette, alpha, CMYK and 16-bit images all come out as 8-bit RGB. Size, pixel-count (per page
and in total) and page limits are checked from the headers before any page is decoded (a
decompression-bomb guard), and pages are decoded one at a time (`iter_pages`). Every failure is
an `InvalidImageError` with a clear message.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from ocr_core import pdf
from ocr_core.errors import ACCEPTED_FORMATS, InvalidImageError
from ocr_core.page import PageImage

MAX_IMAGE_BYTES = int(os.environ.get("OCR_MAX_IMAGE_BYTES", 20 * 1024 * 1024))
MAX_IMAGE_PIXELS = int(os.environ.get("OCR_MAX_IMAGE_PIXELS", 50_000_000))
MAX_PAGES = int(os.environ.get("OCR_MAX_PAGES", 50))
MAX_TOTAL_PIXELS = int(os.environ.get("OCR_MAX_TOTAL_PIXELS", 100_000_000))  # all pages together
MIN_SIDE = 8
FORMATS = {"JPEG", "PNG", "TIFF", "BMP", "WEBP", "MPO"}  # MPO: multi-picture JPEG from cameras


def _error(code: str, message: str) -> InvalidImageError:
    return InvalidImageError(message, code)


def decode_image(data: bytes, *, max_bytes: int | None = None, max_pixels: int | None = None,
                 max_pages: int | None = None, max_total_pixels: int | None = None,
                 dpi: int | None = None) -> list[PageImage]:
    """Every page at once (small inputs, tests, exports that need the page images); the engine uses
    `iter_pages` to hold one page at a time. `dpi`: the resolution PDF pages are rendered at (pdf.py)."""
    return list(iter_pages(data, max_bytes=max_bytes, max_pixels=max_pixels, max_pages=max_pages,
                           max_total_pixels=max_total_pixels, dpi=dpi))


def iter_pages(data: bytes, *, max_bytes: int | None = None, max_pixels: int | None = None,
               max_pages: int | None = None, max_total_pixels: int | None = None,
               dpi: int | None = None) -> Iterator[PageImage]:
    """Check every limit from the headers of all pages first, then decode the pages one at a time.

    So a file that breaks a limit is refused before any pixel is decoded, and a caller that reads
    page by page never holds more than one decoded page. Whatever Pillow raises on a damaged file
    becomes an `InvalidImageError`; only `MemoryError` passes through (not the file's fault).
    """
    if data and len(data) <= (max_bytes or MAX_IMAGE_BYTES) and pdf.is_pdf(data):
        return pdf.iter_pdf_pages(data, dpi=dpi, max_pages=max_pages or MAX_PAGES, max_pixels=max_pixels or MAX_IMAGE_PIXELS,
                                  max_total_pixels=max_total_pixels or MAX_TOTAL_PIXELS)
    img = _open(data, max_bytes or MAX_IMAGE_BYTES, max_pixels or MAX_IMAGE_PIXELS)
    sizes = _page_sizes(img, max_pixels or MAX_IMAGE_PIXELS, max_pages or MAX_PAGES)
    total, total_limit = sum(w * h for w, h in sizes), max_total_pixels or MAX_TOTAL_PIXELS
    if total > total_limit:
        raise _error("too_many_pixels", f"The {len(sizes)} pages hold {total / 1e6:.0f} megapixels together; at most "
                     f"{total_limit / 1e6:.0f} megapixels per image are accepted. Split the file.")
    return _decode_pages(img, len(sizes), max_pixels or MAX_IMAGE_PIXELS)


def _decode_pages(img: Image.Image, count: int, max_pixels: int) -> Iterator[PageImage]:
    for i in range(count):
        with _as_invalid_image(img.format, max_pixels):
            img.seek(i)
            rgb = _to_rgb(img)
        yield PageImage(rgb, i + 1)


def _open(data: bytes, max_bytes: int, max_pixels: int) -> Image.Image:
    if not data:
        raise _error("empty_input", f"The image is empty (0 bytes). Send a {ACCEPTED_FORMATS} image.")
    if len(data) > max_bytes:
        raise _error("image_too_large", f"The image is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, ValueError, TypeError):
        raise _error("unsupported_format", f"This is not an image we can read. Accepted formats: {ACCEPTED_FORMATS}.") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # the warning is made an error above
        raise _too_many_pixels(_pillow_limit(max_pixels, Image.MAX_IMAGE_PIXELS)) from None
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder failure on these bytes is the file's
        raise _error("corrupt_image", f"The image could not be read: it looks damaged or truncated ({_short(exc)}).") from None
    if img.format not in FORMATS:
        raise _error("unsupported_format", f"{img.format} images are not accepted. Accepted formats: {ACCEPTED_FORMATS}.")
    return img


def _page_sizes(img: Image.Image, max_pixels: int, max_pages: int) -> list[tuple[int, int]]:
    """(width, height) of every page, read from the headers only (no pixel is decoded)."""
    sizes: list[tuple[int, int]] = []
    with _as_invalid_image(img.format, max_pixels):
        for i, frame in enumerate(ImageSequence.Iterator(img)):
            if i >= max_pages:
                raise _error("too_many_pages", f"The image has more than {max_pages} pages; send at most {max_pages}.")
            w, h = frame.size
            if w * h > max_pixels:
                raise _too_many_pixels(max_pixels, w, h)
            if w < MIN_SIDE or h < MIN_SIDE:
                raise _error("image_too_small", f"The image is {w}x{h} pixels; at least {MIN_SIDE}x{MIN_SIDE} is needed to hold text.")
            sizes.append((w, h))
    return sizes


@contextmanager
def _as_invalid_image(fmt: str | None, max_pixels: int) -> Iterator[None]:
    """Anything a damaged file makes Pillow raise (OSError, SyntaxError, TypeError, struct.error...) -> 422.
    `max_pixels`: the caller's per-page limit, which a decompression-bomb answer reports."""
    try:
        yield
    except (InvalidImageError, MemoryError):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # here only the error: twice Pillow's limit
        raise _too_many_pixels(_pillow_limit(max_pixels, 2 * (Image.MAX_IMAGE_PIXELS or 0))) from None
    except Exception as exc:  # noqa: BLE001 - see the docstring
        raise _error("corrupt_image", f"The {fmt} image could not be decoded: it looks damaged or truncated ({_short(exc)}).") from None


def _short(exc: Exception) -> str:
    """The decoder's reason, bounded: it can quote bytes of the file."""
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _pillow_limit(max_pixels: int, pillow_pixels: int) -> int:
    """The limit a page met when Pillow's own decompression-bomb guard fired: the lower of the caller's and Pillow's."""
    return min(max_pixels, pillow_pixels) if pillow_pixels else max_pixels


def _too_many_pixels(limit: int, w: int = 0, h: int = 0) -> InvalidImageError:
    size = f" ({w}x{h})" if w else ""
    return _error("too_many_pixels", f"The image is too large{size}; at most {limit / 1e6:g} megapixels are accepted.")


def _to_rgb(frame: Image.Image) -> np.ndarray:
    """Any mode -> 8-bit RGB; transparency becomes white paper."""
    frame.load()
    frame = ImageOps.exif_transpose(frame) or frame
    if frame.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(frame, dtype=np.float64)
        finite = np.isfinite(arr)  # float TIFFs can hold NaN/Inf: they would blank the whole page
        if not finite.any():
            raise _error("corrupt_image", "The image holds no finite pixel values (all NaN or infinite).")
        lo, hi = float(arr[finite].min()), float(arr[finite].max())
        arr = (np.where(finite, arr, hi) - lo) / max(hi - lo, 1e-9) * 255.0  # NaN/Inf -> paper
        return np.repeat(np.clip(arr, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)
    if frame.mode == "P" and "transparency" in frame.info:
        frame = frame.convert("RGBA")
    if frame.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        frame = frame.convert("RGBA")
        white = Image.new("RGBA", frame.size, (255, 255, 255, 255))
        frame = Image.alpha_composite(white, frame)
    return np.asarray(frame.convert("RGB"), dtype=np.uint8)
