"""Hostile-but-valid-looking inputs (issue 14's probe): the tests and `benchmarks.faults` send them.

Each builder returns bytes a caller could send; none is random (same bytes every run).
"""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def text_page(text: str = "Poison never wins", size: int = 32) -> Image.Image:
    """A gray page with one printed line (dark ink on light paper)."""
    font = ImageFont.truetype(FONT, size)
    img = Image.new("L", (int(font.getlength(text)) + 2 * size, 3 * size), 245)
    ImageDraw.Draw(img).text((size, size), text, fill=20, font=font)
    return img


def save(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def tiff_second_page_without_size() -> bytes:
    """Two pages; the second page's IFD lost ImageWidth/ImageLength (Pillow: TypeError 'Missing dimensions')."""
    pages = [text_page("first page"), text_page("second page")]
    data = bytearray(save(pages[0], "TIFF", save_all=True, append_images=pages[1:]))
    order = "<" if data[:2] == b"II" else ">"
    offsets, offset = [], struct.unpack(order + "I", data[4:8])[0]
    while offset:
        offsets.append(offset)
        count = struct.unpack(order + "H", data[offset:offset + 2])[0]
        offset = struct.unpack(order + "I", data[offset + 2 + 12 * count:offset + 6 + 12 * count])[0]
    second = offsets[1]
    for i in range(struct.unpack(order + "H", data[second:second + 2])[0]):
        entry = second + 2 + 12 * i
        tag = struct.unpack(order + "H", data[entry:entry + 2])[0]
        if tag in (256, 257):  # ImageWidth, ImageLength -> private tags nobody reads
            data[entry:entry + 2] = struct.pack(order + "H", 65000 + tag - 256)
    return bytes(data)


def strip(width: int, height: int) -> bytes:
    """A blank-ish PNG more than 1000 times longer than wide (cv2.resize got a 0-pixel side)."""
    arr = np.full((height, width), 250, np.uint8)
    arr[::7, ::3] = 30
    return save(Image.fromarray(arr), "PNG")


def float_tiff(text: str = "Poison never wins", nan: bool = True, inf: bool = True) -> bytes:
    """A 32-bit float TIFF of a text line with NaN and +-Inf pixels in the paper (they blanked the page)."""
    arr = np.asarray(text_page(text), np.float32) / 255.0
    if nan:
        arr[0, :5] = np.nan
    if inf:
        arr[1, :5] = np.inf
        arr[2, :5] = -np.inf
    return save(Image.fromarray(arr, mode="F"), "TIFF")


def float_tiff_all_nan() -> bytes:
    return save(Image.fromarray(np.full((40, 60), np.nan, np.float32), mode="F"), "TIFF")


def blank_pages_tiff(pages: int = 12, side: int = 7000) -> bytes:
    """`pages` blank side x side pages, 1-bit Group 4: a few KB that decode to gigabytes."""
    page = Image.new("1", (side, side), 1)
    return save(page, "TIFF", save_all=True, append_images=[page] * (pages - 1), compression="group4")


def blank_png(side: int = 7000) -> bytes:
    return save(Image.new("1", (side, side), 1), "PNG", optimize=True)


def nested_json(depth: int = 100_000) -> bytes:
    """`{"image": [[[[...]]]]}` nested `depth` levels (json.loads raises RecursionError)."""
    return b'{"image": ' + b"[" * depth + b"]" * depth + b"}"


# ------------------------------------------------------------------ fuzzing (tests/test_fuzz.py, benchmarks.faults)
EDGE_VALUES = [b"\x00", b"\xff", b"\x7f", b"\x80", b"\x00\x00", b"\xff\xff", b"\xff\xff\xff\x7f", b"\x00\x00\x00\x80",
               b"\x01\x00", b"\x00\x01"]


def seed_images() -> dict[str, bytes]:
    page = text_page("Fuzz 42", 20)
    rgb, two = page.convert("RGB"), [page, text_page("page two", 20)]
    arr16 = (np.asarray(page, np.uint16) * 257).astype(np.uint16)
    return {
        "png": save(rgb, "PNG"),
        "png-palette": save(page.convert("P"), "PNG"),
        "png-16bit": save(Image.fromarray(arr16), "PNG"),
        "jpeg": save(rgb, "JPEG", quality=85),
        "jpeg-progressive-exif": save(rgb, "JPEG", progressive=True, exif=_exif()),
        "bmp": save(rgb, "BMP"),
        "webp": save(rgb, "WEBP", quality=80),
        "webp-lossless": save(rgb, "WEBP", lossless=True),
        "tiff": save(rgb, "TIFF"),
        "tiff-multipage": save(two[0], "TIFF", save_all=True, append_images=two[1:]),
        "tiff-deflate": save(page, "TIFF", compression="tiff_deflate"),
        "tiff-lzw-cmyk": save(rgb.convert("CMYK"), "TIFF", compression="tiff_lzw"),
        "tiff-jpeg": save(rgb, "TIFF", compression="jpeg"),
        "tiff-group4": save(page.convert("1"), "TIFF", compression="group4"),
        "tiff-float": float_tiff("Fuzz 42", nan=False, inf=False),
    }


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 6
    return exif


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One to four mutations, weighted towards the header (where parsers branch)."""
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 5))):
        kind = int(rng.integers(0, 5))
        head = min(len(out), 512)
        pos = int(rng.integers(0, head if rng.random() < 0.7 else len(out)))
        if kind == 0:  # flip bits
            out[pos] ^= 1 << int(rng.integers(0, 8))
        elif kind == 1:  # an edge value over a field
            value = EDGE_VALUES[int(rng.integers(0, len(EDGE_VALUES)))]
            out[pos:pos + len(value)] = value
        elif kind == 2:  # cut short
            del out[max(8, pos):]
        elif kind == 3:  # repeat a chunk
            n = int(rng.integers(1, 64))
            out[pos:pos] = out[pos:pos + n]
        else:  # random bytes
            n = int(rng.integers(1, 16))
            out[pos:pos + n] = rng.bytes(n)
    return bytes(out)
