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

from benchmarks.poison import mutate, seed_images
from ocr_core.engine import OcrEngine
from ocr_core.errors import OcrError

SEED = int(os.environ.get("OCR_FUZZ_SEED", "14"))
MUTANTS_PER_SEED = int(os.environ.get("OCR_FUZZ_MUTANTS", "60"))


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
