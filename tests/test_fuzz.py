"""Seeded, bounded fuzzing of decode + read: mutated images of every accepted format.

Valid images of each format (and TIFF's variants: multi-page, deflate/LZW/JPEG compression,
16-bit, float, CMYK) are mutated — bytes flipped, header fields overwritten with edge values,
cut short, chunks repeated — and sent through `OcrEngine.read`, the path every caller takes.
The only exception allowed out is `OcrError` (typed, with a 4xx or 5xx status); anything else
(TypeError, struct.error, cv2.error, ...) is a crash that would give 500 or block a batch.
Same seed, same mutants: a failure names its format and mutant number to replay.
"""

from __future__ import annotations

import os
import traceback

import numpy as np
import pytest
from PIL import Image

from benchmarks import poison
from ocr_core.engine import OcrEngine
from ocr_core.errors import OcrError

SEED = int(os.environ.get("OCR_FUZZ_SEED", "14"))
MUTANTS_PER_SEED = int(os.environ.get("OCR_FUZZ_MUTANTS", "60"))
EDGE_VALUES = [b"\x00", b"\xff", b"\x7f", b"\x80", b"\x00\x00", b"\xff\xff", b"\xff\xff\xff\x7f", b"\x00\x00\x00\x80",
               b"\x01\x00", b"\x00\x01"]


def seed_images() -> dict[str, bytes]:
    page = poison.text_page("Fuzz 42", 20)
    rgb, two = page.convert("RGB"), [page, poison.text_page("page two", 20)]
    arr16 = (np.asarray(page, np.uint16) * 257).astype(np.uint16)
    return {
        "png": poison.save(rgb, "PNG"),
        "png-palette": poison.save(page.convert("P"), "PNG"),
        "png-16bit": poison.save(Image.fromarray(arr16), "PNG"),
        "jpeg": poison.save(rgb, "JPEG", quality=85),
        "jpeg-progressive-exif": poison.save(rgb, "JPEG", progressive=True, exif=_exif()),
        "bmp": poison.save(rgb, "BMP"),
        "webp": poison.save(rgb, "WEBP", quality=80),
        "webp-lossless": poison.save(rgb, "WEBP", lossless=True),
        "tiff": poison.save(rgb, "TIFF"),
        "tiff-multipage": poison.save(two[0], "TIFF", save_all=True, append_images=two[1:]),
        "tiff-deflate": poison.save(page, "TIFF", compression="tiff_deflate"),
        "tiff-lzw-cmyk": poison.save(rgb.convert("CMYK"), "TIFF", compression="tiff_lzw"),
        "tiff-jpeg": poison.save(rgb, "TIFF", compression="jpeg"),
        "tiff-group4": poison.save(page.convert("1"), "TIFF", compression="group4"),
        "tiff-float": poison.float_tiff("Fuzz 42", nan=False, inf=False),
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


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    e = OcrEngine(detector="opencv")
    e.warm_up()
    return e


@pytest.mark.filterwarnings("ignore")  # Pillow warns on most mutants; the test counts outcomes
def test_no_mutant_escapes_with_anything_but_an_ocr_error(engine: OcrEngine) -> None:
    rng = np.random.default_rng(SEED)
    crashes: list[str] = []
    outcomes: dict[str, int] = {}
    for name, data in seed_images().items():
        engine.read(data, mode="printed")  # every seed itself is valid
        for i in range(MUTANTS_PER_SEED):
            mutant = mutate(data, rng)
            try:
                engine.read(mutant, mode="printed")
                outcomes["read"] = outcomes.get("read", 0) + 1
            except OcrError as err:
                outcomes[err.code] = outcomes.get(err.code, 0) + 1
            except Exception as exc:  # noqa: BLE001 - what the test is looking for
                crashes.append(f"{name} mutant {i}: {type(exc).__name__}: {exc}\n"
                               + "".join(traceback.format_exception(exc)[-3:]))
    print(f"fuzz outcomes (seed {SEED}): {dict(sorted(outcomes.items()))}")
    assert not crashes, f"{len(crashes)} mutants crashed:\n" + "\n".join(crashes[:5])
    assert outcomes.get("read", 0) > 50 and outcomes.get("corrupt_image", 0) > 50  # the mutants reach both paths
