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
