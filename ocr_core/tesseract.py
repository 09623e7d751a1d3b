"""Tesseract as an optional engine (`--engine tesseract`) (when the `tesseract` binary is installed).

Runs the binary on a PNG through stdin/stdout and parses its TSV output into lines and words
with boxes, so its results have the same shape as ours.
"""

from __future__ import annotations

import shutil
import subprocess

import cv2
import numpy as np

from ocr_core.result import Line, Word


def available() -> bool:
    return shutil.which("tesseract") is not None


def version() -> str:
    out = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout
    return out.split("\n")[0].strip() or "tesseract"


def _box(x: int, y: int, w: int, h: int) -> np.ndarray:
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)


def read_page(gray: np.ndarray, lang: str = "eng", psm: int = 3, timeout: float = 120) -> list[Line]:
    ok, png = cv2.imencode(".png", gray)
    proc = subprocess.run(["tesseract", "stdin", "stdout", "-l", lang, "--psm", str(psm), "tsv"],
                          input=png.tobytes(), capture_output=True, timeout=timeout, check=True)
    rows = [r.split("\t") for r in proc.stdout.decode("utf-8", "replace").splitlines()[1:]]
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for r in rows:
        if len(r) < 12 or r[0] != "5" or not r[11].strip():
            continue
        key = (int(r[2]), int(r[3]), int(r[4]))  # block, paragraph, line
        x, y, w, h = (int(v) for v in r[6:10])
        lines.setdefault(key, []).append(Word(r[11], max(float(r[10]), 0.0) / 100, _box(x, y, w, h)))
    out = []
    for words in lines.values():
        pts = np.concatenate([w.box for w in words])
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        conf = float(np.mean([w.confidence for w in words]))
        out.append(Line(" ".join(w.text for w in words), conf, _box(x0, y0, x1 - x0, y1 - y0), words, "tesseract"))
    return out
