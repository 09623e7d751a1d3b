"""`ocr_core.read(...)`: the library's one call, for a path, bytes, a PIL image or a numpy array.

    from ocr_core import read
    result = read("scan.pdf")          # or bytes, PIL.Image.Image, numpy array (H, W) / (H, W, 3|4)
    print(result.text)                 # result.pages, result.to_dict(), ocr_core.export.export(result, "hocr")

One engine (models loaded once) is kept per process and reused by every call.
"""

from __future__ import annotations

import functools
import io
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from ocr_core.errors import BadRequestError
from ocr_core.result import OcrResult

ReadSource = str | os.PathLike | bytes | Image.Image | np.ndarray  # what read() takes


@functools.cache
def _engine() -> Any:
    from ocr_core.engine import OcrEngine  # loads TensorFlow: only on the first read

    return OcrEngine()


def read(source: ReadSource, mode: str = "auto", *,
         engine: str = "crnn", dpi: int | None = None) -> OcrResult:
    """Read the text of an image or PDF. `mode`: printed, handwritten or auto; `dpi`: PDF render resolution."""
    return _engine().read(to_bytes(source), mode=mode, engine=engine, dpi=dpi)


def to_bytes(source: Any) -> bytes:
    """What `read` accepts -> encoded bytes, so every input goes through the same checks (image_io, pdf)."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    if isinstance(source, str | os.PathLike):
        return Path(source).read_bytes()
    if isinstance(source, np.ndarray):
        if source.dtype != np.uint8 or source.ndim not in (2, 3) or (source.ndim == 3 and source.shape[2] not in (1, 3, 4)):
            raise BadRequestError(f"a numpy image must be uint8 (H, W), (H, W, 1), (H, W, 3) RGB or (H, W, 4) RGBA, "
                                  f"not {source.dtype} {source.shape}", "bad_image_array")
        source = Image.fromarray(source[:, :, 0] if source.ndim == 3 and source.shape[2] == 1 else source)
    if isinstance(source, Image.Image):  # its first frame, upright (EXIF orientation applied: PNG drops EXIF)
        source = ImageOps.exif_transpose(source) or source
        buf = io.BytesIO()
        source.save(buf, format="TIFF" if source.mode == "CMYK" else "PNG")
        return buf.getvalue()
    raise BadRequestError(f"read() takes a path, bytes, a PIL image or a numpy array, not {type(source).__name__}",
                          "bad_source")
