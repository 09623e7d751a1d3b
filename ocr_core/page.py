"""One decoded page: what decoding (image_io.py, pdf.py) hands to detection and the exports."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class PageImage:
    rgb: np.ndarray  # uint8 (H, W, 3), EXIF orientation applied
    page: int  # 1-based

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    def gray(self) -> np.ndarray:
        """ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B), rounded; OpenCV's fixed-point version: no
        float copies of the page (a 50 Mpx page took 6 s and 600 MB that way)."""
        return cv2.cvtColor(self.rgb, cv2.COLOR_RGB2GRAY)
