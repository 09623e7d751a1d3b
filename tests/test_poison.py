"""Issue 14's poison inputs through decode + the real engine: typed errors or a reading, never a crash.

Each case is one exact input the probe found; before the fix each raised a non-`OcrError`
(TypeError, cv2.error) or silently read nothing.
"""

from __future__ import annotations

import gc
import time
import weakref

import pytest

from benchmarks import poison
from ocr_core.engine import OcrEngine
from ocr_core.errors import BadRequestError, DeadlineExceeded, InvalidImageError
from ocr_core.image_io import decode_image, iter_pages
from ocr_core.metrics import cer


def test_tiff_page_without_dimensions_is_a_corrupt_image(engine: OcrEngine) -> None:
    data = poison.tiff_second_page_without_size()
    for read in (decode_image, engine.read):
        with pytest.raises(InvalidImageError) as err:
            read(data)
        assert (err.value.code, err.value.http_status) == ("corrupt_image", 422)
        assert "Missing dimensions" in err.value.message and not err.value.retryable


@pytest.mark.parametrize("width,height", [(8, 40000), (40000, 12)])
def test_very_long_strips_are_read_not_crashed(engine: OcrEngine, width: int, height: int) -> None:
    result = engine.read(poison.strip(width, height), mode="printed")
    assert (result.pages[0].width, result.pages[0].height) == (width, height)


def test_float_tiff_with_nan_and_inf_reads_its_text(engine: OcrEngine) -> None:
    text = "Poison never wins"
    clean = engine.read(poison.float_tiff(text, nan=False, inf=False), mode="printed").text
    dirty = engine.read(poison.float_tiff(text), mode="printed").text
    assert cer(text, clean) < 0.15, clean
    assert cer(text, dirty) < 0.15, dirty  # was "" (Inf stretched the whole page to black)


def test_float_tiff_of_only_nan_is_a_corrupt_image() -> None:
    with pytest.raises(InvalidImageError) as err:
        decode_image(poison.float_tiff_all_nan())
    assert err.value.code == "corrupt_image" and "finite" in err.value.message


def test_total_pixels_across_pages_are_refused_before_decoding(engine: OcrEngine) -> None:
    data = poison.blank_pages_tiff(12, 7000)  # 43 KB, 588 Mpx: every page is under the per-page limit
    assert len(data) < 60_000
    with pytest.raises(InvalidImageError) as err:
        iter_pages(data)  # raises from the headers, before the first page is asked for
    assert (err.value.code, err.value.http_status) == ("too_many_pixels", 413)
    assert "12 pages" in err.value.message
    with pytest.raises(InvalidImageError):
        engine.read(data)


def test_pages_are_decoded_and_read_one_at_a_time(engine: OcrEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    """While page N is read, page N-1's pixels are already gone (memory holds one page, not all)."""
    alive_when_read: list[int] = []
    earlier: list[weakref.ref] = []
    real_detect = engine.detector.detect

    def detect(page):  # the real detector, observed
        if page.page > len(alive_when_read):  # a new page (a turned copy from the orientation check has its number)
            gc.collect()
            alive_when_read.append(sum(ref() is not None for ref in earlier))
        earlier.append(weakref.ref(page))  # turned copies too: they must be gone with their page
        return real_detect(page)

    monkeypatch.setattr(engine.detector, "detect", detect)
    pages = [poison.text_page(t) for t in ("one", "two", "three")]
    result = engine.read(poison.save(pages[0], "TIFF", save_all=True, append_images=pages[1:]), mode="printed")
    assert len(result.pages) == 3 and alive_when_read == [0, 0, 0]


def test_deadline_gives_a_typed_timeout(engine: OcrEngine) -> None:
    data = poison.save(poison.text_page(), "PNG")
    with pytest.raises(DeadlineExceeded) as err:
        engine.read(data, deadline=time.monotonic())
    assert (err.value.code, err.value.http_status, err.value.retryable) == ("timeout", 504, False)
    assert engine.read(data, deadline=time.monotonic() + 60).text  # enough time: read as usual


def test_a_crash_inside_the_pipeline_is_that_images_error(engine: OcrEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any other deterministic failure on one image's pixels (a bug we do not know yet) -> 422, not 500."""
    import cv2

    def broken(page):
        raise cv2.error("injected: a detector bug on these pixels")

    monkeypatch.setattr(engine.detector, "detect", broken)
    with pytest.raises(InvalidImageError) as err:
        engine.read(poison.save(poison.text_page(), "PNG"))
    assert (err.value.code, err.value.http_status, err.value.retryable) == ("unprocessable_image", 422, False)


def test_a_huge_mode_value_is_not_echoed(engine: OcrEngine) -> None:
    with pytest.raises(BadRequestError) as err:
        engine.read(b"x", mode="m" * 1_000_000)
    assert (err.value.code, err.value.http_status) == ("bad_mode", 422) and len(str(err.value)) < 200
