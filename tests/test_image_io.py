"""Image decoding: every accepted format and mode comes out as RGB pages; bad input -> typed errors."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from conftest import DEV_EVAL, TEST_DATA, needs_dev_eval
from PIL import Image

from ocr_core.errors import InvalidImageError
from ocr_core.image_io import decode_image


def sample_rgb() -> Image.Image:
    arr = np.full((60, 90, 3), 255, np.uint8)
    arr[10:30, 5:40] = (0, 0, 0)  # a dark block in the top-left
    return Image.fromarray(arr)


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "BMP", "WEBP"])
def test_formats_round_trip(fmt: str) -> None:
    pages = decode_image(encode(sample_rgb(), fmt))
    assert len(pages) == 1 and pages[0].rgb.shape == (60, 90, 3) and pages[0].page == 1
    assert np.abs(pages[0].rgb.astype(int) - np.asarray(sample_rgb()).astype(int)).mean() < 6


def test_multipage_tiff_keeps_every_page_in_order() -> None:
    frames = [Image.new("L", (40, 30), v) for v in (0, 128, 255)]
    pages = decode_image(encode(frames[0], "TIFF", save_all=True, append_images=frames[1:]))
    assert [p.page for p in pages] == [1, 2, 3]
    assert [int(p.gray().mean()) for p in pages] == [0, 128, 255]


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    pages = decode_image(encode(sample_rgb(), "JPEG", exif=exif))
    assert pages[0].width == 60 and pages[0].height == 90
    assert pages[0].gray()[5:40, 30:50].mean() < 80  # the dark block moved to the top-right


def test_transparent_background_becomes_white_paper() -> None:
    rgba = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    rgba.paste((0, 0, 0, 255), (10, 10, 20, 20))
    gray = decode_image(encode(rgba, "PNG"))[0].gray()
    assert gray[0, 0] == 255 and gray[15, 15] == 0


@pytest.mark.parametrize("mode", ["1", "L", "P", "CMYK", "LA"])
def test_modes_become_rgb(mode: str) -> None:
    img = sample_rgb().convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "PNG" if mode != "CMYK" else "TIFF"
    page = decode_image(encode(img, fmt))[0]
    assert page.rgb.dtype == np.uint8 and page.rgb.shape == (60, 90, 3)
    assert page.gray()[15, 20] < 60 and page.gray()[50, 80] > 200


def test_16_bit_grayscale_is_rescaled_not_clipped() -> None:
    arr = np.full((30, 30), 40000, np.uint16)
    arr[:10] = 1000
    page = decode_image(encode(Image.fromarray(arr), "PNG"))[0]
    assert page.gray()[0, 0] < 20 and page.gray()[20, 20] > 230


@needs_dev_eval
@pytest.mark.parametrize("name,size", [("phototest", (640, 480)), ("eurotext", (1024, 800))])
def test_real_scans(name: str, size: tuple[int, int]) -> None:
    page = decode_image((DEV_EVAL / "printed" / f"{name}.tif").read_bytes())[0]
    assert (page.width, page.height) == size


def test_shipped_lzw_tiff_scan() -> None:
    data = (TEST_DATA / "printed-scan.tif").read_bytes()
    page = decode_image(data)[0]
    assert (page.width, page.height) == Image.open(io.BytesIO(data)).size
    assert page.gray().min() < 80 and np.median(page.gray()) > 180  # dark ink on light paper


def test_scikit_image_photographed_page() -> None:
    from skimage import data

    page = decode_image(encode(Image.fromarray(data.page()), "PNG"))[0]
    assert (page.height, page.width) == data.page().shape


def png_header_claiming(width: int, height: int) -> bytes:
    """A small, valid-looking PNG whose IHDR claims a huge size (a decompression bomb)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 4096)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("data,code", [
    (b"", "empty_input"),
    (encode(sample_rgb(), "JPEG")[:300], "corrupt_image"),
    (encode(Image.new("RGB", (1, 1)), "PNG"), "image_too_small"),
    (png_header_claiming(100_000, 100_000), "too_many_pixels"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "corrupt_pdf"),  # a PDF now: pdf.py
    (b"Dear diary, this is a text file renamed to .png\n", "unsupported_format"),
    (encode(sample_rgb(), "GIF"), "unsupported_format"),
])
def test_bad_inputs_raise_one_typed_error(data: bytes, code: str) -> None:
    with pytest.raises(InvalidImageError) as err:
        decode_image(data)
    assert err.value.code == code
    assert err.value.http_status in (400, 413, 415, 422)
    assert len(err.value.message) > 20 and "Traceback" not in err.value.message


def test_limits_on_bytes_pixels_and_pages() -> None:
    png = encode(sample_rgb(), "PNG")
    with pytest.raises(InvalidImageError, match="limit") as err:
        decode_image(png, max_bytes=100)
    assert err.value.code == "image_too_large"
    with pytest.raises(InvalidImageError) as err:
        decode_image(png, max_pixels=1000)
    assert err.value.code == "too_many_pixels"
    frames = [Image.new("L", (20, 20), v) for v in range(4)]
    with pytest.raises(InvalidImageError) as err:
        decode_image(encode(frames[0], "TIFF", save_all=True, append_images=frames[1:]), max_pages=3)
    assert err.value.code == "too_many_pages"


@pytest.mark.parametrize("max_pixels,reported", [(20_000_000, "2"), (1_500_000, "1.5")])
def test_pixel_limit_error_names_the_limit_that_applied(monkeypatch: pytest.MonkeyPatch, max_pixels: int,
                                                        reported: str) -> None:
    """When Pillow's own decompression-bomb guard stops a later TIFF page, the answer names the lower of the
    caller's limit and Pillow's (it used to name the module default, 50, whatever the caller passed)."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)  # Pillow then refuses pages over 2 Mpx on its own
    pages = [Image.new("1", (100, 100), 1), Image.new("1", (3000, 1000), 1)]
    tiff = encode(pages[0], "TIFF", save_all=True, append_images=pages[1:], compression="group4")
    with pytest.raises(InvalidImageError) as err:
        decode_image(tiff, max_pixels=max_pixels, max_total_pixels=10**9)
    assert err.value.code == "too_many_pixels" and f"at most {reported} megapixels" in err.value.message, err.value.message
