"""Line preprocessing: the histogram shortcut gives numpy's percentiles exactly."""

from __future__ import annotations

import numpy as np
import pytest

from ocr_core.preprocess import ink_levels


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (32, 5), (57, 2300), (3, 3)])
def test_ink_levels_are_numpys_percentiles(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    for _ in range(50):
        gray = rng.integers(0, 256, size=shape, dtype=np.uint8)
        if rng.random() < 0.5:  # mostly paper, as a line crop is
            gray = np.where(rng.random(shape) < 0.9, rng.integers(180, 256), gray).astype(np.uint8)
        assert ink_levels(gray) == (float(np.percentile(gray, 90)), float(np.percentile(gray, 2)))
        as_float = gray.astype(np.float32)  # prepare_line's levels, read from the float32 image before
        assert ink_levels(gray, np.float32) == (float(np.percentile(as_float, 90)), float(np.percentile(as_float, 2)))


def test_ink_levels_of_a_float_crop() -> None:
    gray = np.linspace(0, 255, 101).reshape(1, -1)
    assert ink_levels(gray) == (float(np.percentile(gray, 90)), float(np.percentile(gray, 2)))
