"""Render synthetic text-line images the way our line detector crops them from real pages.

`printed_sample` draws a line in one of many book/UI fonts; `handwritten_sample` draws it
character by character in a handwriting-style font with per-letter jitter, then bends the
strokes with an elastic displacement field, slants it and varies stroke width, because real
hands vary far more than any font. Both then pass through camera/scanner degradations.
Every sample is a (uint8 gray crop, text) pair; `ocr_core.preprocess.prepare_line` makes the
model input from it exactly as at inference time.
"""

from __future__ import annotations

import random
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from training import fonts
from training.corpus import text_line


@lru_cache(maxsize=2048)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


@lru_cache(maxsize=2)
def _families(kind: str) -> list[list[str]]:
    found = fonts.handwriting_fonts() if kind == "handwritten" else fonts.printed_fonts()
    return list(fonts.by_family(found).values())


def _pick_font(rng: random.Random, kind: str) -> str:
    return rng.choice(rng.choice(_families(kind)))


def _supported(text: str, font_path: str) -> str:
    chars = fonts.charset(font_path)
    return "".join(ch for ch in text if ch == " " or ch in chars)


# ---------------------------------------------------------------- rendering


def _render_plain(text: str, font_path: str, size: int, rng: random.Random) -> np.ndarray:
    """Ink coverage (0..255, ink high) of a line, with a neighbour line above/below sometimes."""
    font = _font(font_path, size)
    left, top, right, bottom = font.getbbox(text)
    ascent, descent = font.getmetrics()
    w = right - left + 2 * size
    h = ascent + descent
    canvas = Image.new("L", (w, h * 3), 0)
    draw = ImageDraw.Draw(canvas)
    draw.text((size - left, h), text, fill=255, font=font)
    if rng.random() < 0.25:  # bits of the lines above and below, as a loose crop would catch
        gap = int(h * rng.uniform(0.15, 0.6))
        draw.text((size, h - h - gap), text_line(rng), fill=255, font=font)
        draw.text((size, h + h + gap), text_line(rng), fill=255, font=font)
    return np.asarray(canvas)


def _render_jittered(text: str, font_path: str, size: int, rng: random.Random) -> np.ndarray:
    """Character by character, each with its own size, baseline offset and spacing."""
    font = _font(font_path, size)
    ascent, descent = font.getmetrics()
    h = ascent + descent
    width = int(font.getlength(text) * 1.4) + 2 * size
    canvas = Image.new("L", (width, h * 2), 0)
    draw = ImageDraw.Draw(canvas)
    x = float(size)
    drift = 0.0
    space_scale = rng.uniform(0.7, 1.6)
    track = rng.uniform(-0.06, 0.08) * size
    for ch in text:
        if ch == " ":
            x += font.getlength(" ") * space_scale
            continue
        s = max(8, int(size * rng.uniform(0.9, 1.1)))
        f = _font(font_path, s)
        drift = 0.85 * drift + rng.gauss(0, 0.025 * size)
        y = h // 2 + (size - s) * 0.8 + drift
        draw.text((x, y), ch, fill=255, font=f)
        x += f.getlength(ch) + track + rng.gauss(0, 0.03 * size)
    ink = np.asarray(canvas)
    rows, cols = np.flatnonzero(ink.max(axis=1)), np.flatnonzero(ink.max(axis=0))
    if not len(rows):
        return ink
    m = size // 3  # keep a margin for the distortions that follow
    return np.pad(ink[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1], m)


def _tight_crop(ink: np.ndarray, rng: random.Random, main_rows: tuple[int, int] | None = None) -> np.ndarray:
    """Crop around the ink with margins like the detector's (~15-25% of height, ~1 height)."""
    cols = np.flatnonzero(ink.max(axis=0) > 40)
    if main_rows is None:
        rows = np.flatnonzero(ink.max(axis=1) > 40)
        y0, y1 = (rows[0], rows[-1] + 1) if len(rows) else (0, ink.shape[0])
    else:
        y0, y1 = main_rows
    if not len(cols):
        return ink
    x0, x1 = cols[0], cols[-1] + 1
    lh = y1 - y0
    top = int(lh * rng.uniform(0.05, 0.35))
    bottom = int(lh * rng.uniform(0.05, 0.35))
    left = int(lh * rng.uniform(0.05, 1.2))
    right = int(lh * rng.uniform(0.05, 1.2))
    pad = np.pad(ink, ((lh, lh), (2 * lh, 2 * lh)))
    return pad[y0 - top + lh: y1 + bottom + lh, x0 - left + 2 * lh: x1 + right + 2 * lh]


# ---------------------------------------------------------------- geometric distortions


def elastic(ink: np.ndarray, rng: random.Random, alpha: float, sigma: float) -> np.ndarray:
    """Bend strokes with a smooth random displacement field (Simard et al. 2003)."""
    h, w = ink.shape
    nrng = np.random.default_rng(rng.randrange(1 << 30))
    # The field is smooth, so compute it at 1/4 resolution and upsample (10x faster).
    sh, sw = max(2, h // 4), max(2, w // 4)
    fields = []
    for _ in range(2):
        f = cv2.GaussianBlur(nrng.uniform(-1, 1, (sh, sw)).astype(np.float32), (0, 0), sigma / 4)
        fields.append(cv2.resize(f, (w, h), interpolation=cv2.INTER_LINEAR) * (alpha / 4))  # same strength as full-res
    dx, dy = fields
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(ink, xs + dx, ys + dy, cv2.INTER_LINEAR, borderValue=0)


def _affine(ink: np.ndarray, rng: random.Random, max_rot: float, max_shear: float) -> np.ndarray:
    h, w = ink.shape
    angle = np.deg2rad(rng.uniform(-max_rot, max_rot))
    shear = rng.uniform(-max_shear, max_shear)
    m = np.array([[np.cos(angle), -np.sin(angle) + shear, 0], [np.sin(angle), np.cos(angle), 0]], np.float32)
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], np.float32) @ m.T
    m[:, 2] -= corners.min(axis=0)
    size = np.ceil(corners.max(axis=0) - corners.min(axis=0)).astype(int)
    return cv2.warpAffine(ink, m, (int(size[0]), int(size[1])), flags=cv2.INTER_LINEAR, borderValue=0)


def _wave(ink: np.ndarray, rng: random.Random, amplitude: float) -> np.ndarray:
    """Baseline wobble: shift columns up/down along a slow sine."""
    h, w = ink.shape
    period = rng.uniform(1.5, 6.0) * h
    phase = rng.uniform(0, 2 * np.pi)
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    shift = amplitude * np.sin(2 * np.pi * xs / period + phase)
    return cv2.remap(ink, xs, ys + shift.astype(np.float32), cv2.INTER_LINEAR, borderValue=0)


def _stroke(ink: np.ndarray, rng: random.Random, size: int) -> np.ndarray:
    r = rng.random()
    k = max(1, int(round(size / 25 * rng.uniform(0.5, 1.5))))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k + 1, k + 1))
    if r < 0.25:
        return cv2.dilate(ink, kernel)
    if r < 0.4:
        return cv2.erode(ink, kernel)
    return ink


# ---------------------------------------------------------------- photometric degradations


def _to_paper(ink: np.ndarray, rng: random.Random) -> np.ndarray:
    """Ink coverage -> gray image: paper tone, ink tone, lighting gradient, noise, blur, JPEG."""
    h, w = ink.shape
    paper = rng.uniform(150, 255)
    ink_tone = rng.uniform(0, min(110, paper - 50))
    cover = ink.astype(np.float32) / 255.0
    img = paper * (1 - cover) + ink_tone * cover
    if rng.random() < 0.5:  # uneven light
        gx, gy = np.meshgrid(np.linspace(-1, 1, w), np.linspace(-1, 1, h))
        img *= 1 + rng.uniform(-0.25, 0.25) * gx + rng.uniform(-0.15, 0.15) * gy
    if rng.random() < 0.3:  # paper texture
        nrng = np.random.default_rng(rng.randrange(1 << 30))
        tex = cv2.GaussianBlur(nrng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), rng.uniform(1, 4))
        img += tex * rng.uniform(5, 25)
    if rng.random() < 0.6:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.3))
    if rng.random() < 0.6:
        nrng = np.random.default_rng(rng.randrange(1 << 30))
        img += nrng.normal(0, rng.uniform(2, 18), img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.15:  # binarized scan (like fax / 1-bit TIFF)
        img = np.where(img < (paper + ink_tone) / 2, 0, 255).astype(np.uint8)
    if rng.random() < 0.35:  # low resolution, then back
        scale = rng.uniform(0.35, 0.9)
        small = cv2.resize(img, (max(8, int(w * scale)), max(8, int(h * scale))), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.3:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(20, 80)])
        img = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return img


# ---------------------------------------------------------------- public samplers


def printed_sample(rng: random.Random) -> tuple[np.ndarray, str]:
    font_path = _pick_font(rng, "printed")
    text = _supported(text_line(rng, max_chars=40, max_words=7), font_path).strip() or "text"
    size = rng.randint(22, 48)
    ink = _render_plain(text, font_path, size, rng)
    ascent, descent = _font(font_path, size).getmetrics()
    h = ascent + descent
    rows = np.flatnonzero(ink[h: 2 * h].max(axis=1) > 40)
    main = (h + rows[0], h + rows[-1] + 1) if len(rows) else (h, 2 * h)
    ink = _tight_crop(ink, rng, main)
    if rng.random() < 0.5:
        ink = _affine(ink, rng, max_rot=1.2, max_shear=0.15)
    ink = _stroke(ink, rng, size)
    return _to_paper(ink, rng), text


def handwritten_sample(rng: random.Random) -> tuple[np.ndarray, str]:
    font_path = _pick_font(rng, "handwritten")
    text = _supported(text_line(rng, max_chars=34, max_words=6), font_path).strip() or "note"
    size = rng.randint(36, 56)
    ink = _render_jittered(text, font_path, size, rng)
    ink = _stroke(ink, rng, size)
    if rng.random() < 0.85:
        scale = size / 45.0
        ink = elastic(ink, rng, alpha=rng.uniform(20, 110) * scale, sigma=rng.uniform(4.5, 8.0) * scale)
    if rng.random() < 0.5:
        ink = _wave(ink, rng, amplitude=rng.uniform(0.5, 0.08 * size))
    ink = _affine(ink, rng, max_rot=3.0, max_shear=0.45)
    ink = _tight_crop(ink, rng)
    return _to_paper(ink, rng), text


SAMPLERS = {"printed": printed_sample, "handwritten": handwritten_sample}
