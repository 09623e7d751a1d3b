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
from training.corpus import book_line, handwriting_line, receipt_line, text_line


@lru_cache(maxsize=4096)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


@lru_cache(maxsize=4)
def _families(kind: str, split: str = "train") -> list[list[str]]:
    found = fonts.handwriting_fonts(split) if kind == "handwritten" else fonts.printed_fonts()
    return list(fonts.by_family(found).values())


def _pick_font(rng: random.Random, kind: str) -> str:
    return rng.choice(rng.choice(_families(kind)))


def _supported(text: str, font_path: str) -> str:
    chars = fonts.charset(font_path)
    return "".join(ch for ch in text if ch == " " or ch in chars)


# ---------------------------------------------------------------- rendering


TRACKED_SHARE = 0.2  # plain lines set letter-spaced, as headings, typewriting and wide scans are


def _render_plain(text: str, font_path: str, size: int, rng: random.Random) -> np.ndarray:
    """Ink coverage (0..255, ink high) of a line, sometimes letter-spaced, with a neighbour line
    above/below sometimes. Letter-spaced lines teach that a word space is a gap wider than the
    line's own letter gaps, not a fixed number of pixels."""
    font = _font(font_path, size)
    left, top, right, bottom = font.getbbox(text)
    ascent, descent = font.getmetrics()
    track = size * rng.uniform(0.04, 0.3) if rng.random() < TRACKED_SHARE else 0.0
    w = right - left + 2 * size + int(track * len(text))
    h = ascent + descent
    canvas = Image.new("L", (w, h * 3), 0)
    draw = ImageDraw.Draw(canvas)
    if track:
        x = float(size - left)
        for ch in text:  # letter by letter: the font's kerning is lost, as in real letter-spacing
            draw.text((x, h), ch, fill=255, font=font)
            x += font.getlength(ch) + track
    else:
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
    img = paper - (paper - ink_tone) * cover
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


def plain_printed_sample(rng: random.Random) -> tuple[np.ndarray, str]:
    """A line of document text in any of Debian's book/UI fonts, 22-48 px, scanner degradations."""
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


# ---------------------------------------------------------------- handwriting: a line cut from a page

OUT_HEIGHT = 64  # real line crops (../shared/htr-real) are stored 64 px high


@lru_cache(maxsize=512)
def _x_height(font_path: str) -> float:
    """x-height per point of font size, so every hand is drawn at a comparable letter size."""
    left, top, right, bottom = _font(font_path, 100).getbbox("x", anchor="ls")
    return max(bottom - top, 20) / 100.0


@lru_cache(maxsize=512)
def _extent(font_path: str) -> float:
    """Typical ascender top to descender bottom, in x-heights: how tall a line of this hand is
    (medians over letters, so one long flourish does not count)."""
    font = _font(font_path, 100)
    top = float(np.median([font.getbbox(ch, anchor="ls")[1] for ch in "bdhklt"]))
    bottom = float(np.median([font.getbbox(ch, anchor="ls")[3] for ch in "gjpqy"]))
    xh = 100 * _x_height(font_path)
    return max(bottom - top, xh) / xh


def _hand_text(rng: random.Random, font_path: str) -> str:
    """A handwriting line the font can draw; fonts without accents get accent-free lines."""
    text = ""
    for _ in range(4):
        text = handwriting_line(rng)
        if _supported(text, font_path) == text:
            return text
    return " ".join(_supported(text, font_path).split()) or "note"


def _lay_out_words(text: str, font_path: str, size: int, rng: random.Random, xh: float) -> tuple[list, float]:
    """Word by word (cursive joins kept inside words), each with its own size, spacing and a
    baseline that wanders like a hand's: [(x, dy, word, font)] and the line's width."""
    drift, x, placed = 0.0, 0.0, []
    space = _font(font_path, size).getlength(" ") * rng.uniform(0.8, 1.8)
    sizes = [max(8, size + d) for d in (-1, 0, 1) for _ in range(1 + (d == 0))]  # a few, so fonts stay cached
    for word in text.split(" "):
        if not word:
            continue
        f = _font(font_path, rng.choice(sizes))
        drift = 0.6 * drift + rng.gauss(0, 0.1 * xh)
        placed.append((x, drift, word, f))
        x += f.getlength(word) + space * rng.uniform(0.75, 1.3)
    return placed, x


def _page_strip(rng: random.Random, font_path: str, text: str, xh: float) -> tuple[np.ndarray, tuple[int, int, int, int], float, float]:
    """Ink of the line with (usually) the lines above and below in the same hand, as on a page,
    cut to what a padded, slightly tilted line box can reach.

    Returns the ink, the main line's ink box (x0, y0, x1, y1), its baseline and the line pitch."""
    size = max(10, 2 * round(xh / _x_height(font_path) / 2))  # even sizes: fewer font objects to cache
    font = _font(font_path, size)
    ascent, descent = font.getmetrics()
    # Baseline to baseline, about one line's full height: the neighbours' ascenders and
    # descenders reach into the line box, as on real pages
    pitch = xh * max(_extent(font_path), 2.3) * rng.uniform(0.7, 1.1)
    words, line_width = _lay_out_words(text, font_path, size, rng, xh)
    width, height = int(line_width + 4 * xh), int(ascent + descent + 2 * xh)
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for x, dy, word, f in words:  # the whole line fits: every word of the label is drawn
        draw.text((2 * xh + x, ascent + xh + dy), word, fill=255, font=f, anchor="ls")
    line = np.asarray(canvas)
    rows, cols = np.flatnonzero(line.max(axis=1) > 60), np.flatnonzero(line.max(axis=0) > 60)
    if not len(rows):
        rows, cols = np.array([0, height - 1]), np.array([0, width - 1])
    y0, y1 = int(rows[0]), int(rows[-1]) + 1
    x0, x1 = max(0, int(cols[0]) - int(2 * xh)), min(width, int(cols[-1]) + 1 + int(2 * xh))
    band = line[y0:y1, x0:x1]
    # Rows the padded (<= 0.6 of the box), tilted (<= ~2 degrees) crop can reach
    margin = int(0.7 * (y1 - y0) + 0.02 * (x1 - x0)) + 4
    strip = np.zeros((y1 - y0 + 2 * margin, x1 - x0), np.uint8)
    strip[margin: margin + y1 - y0] = band
    # The neighbours: the same hand's words in another order, sometimes ending early like a
    # paragraph's last line. Reusing the rendered ink instead of drawing two more lines keeps
    # the sampler fast.
    for sign in (-1, 1):
        if rng.random() < 0.92:
            other = _shuffled_words(band, rng, xh)
            if rng.random() < 0.25:
                other[:, rng.randrange(band.shape[1]):] = 0
            y = margin + sign * int(round(pitch))
            lo, hi = max(0, y), min(strip.shape[0], y + band.shape[0])
            if hi > lo:
                np.maximum(strip[lo:hi], other[lo - y: hi - y], out=strip[lo:hi])
    box = (int(cols[0]) - x0, margin, int(cols[-1]) + 1 - x0, margin + y1 - y0)
    return strip, box, ascent + xh - y0 + margin, pitch


def _shuffled_words(band: np.ndarray, rng: random.Random, xh: float) -> np.ndarray:
    """The words of a rendered line (ink runs split at gaps wider than ~xh/3), shuffled and re-spaced."""
    idx = np.flatnonzero(band.max(axis=0) > 0)
    out = np.zeros_like(band)
    if not len(idx):
        return out
    breaks = np.flatnonzero(np.diff(idx) > xh / 3)
    words = [band[:, a:b] for a, b in zip(np.r_[idx[0], idx[breaks + 1]], np.r_[idx[breaks] + 1, idx[-1] + 1])]
    rng.shuffle(words)
    x = rng.randrange(int(2 * xh) + 1)
    for word in words:
        w = min(word.shape[1], out.shape[1] - x)
        if w <= 0:
            break
        out[:, x: x + w] = word[:, :w]
        x += w + int(xh * rng.uniform(0.5, 1.2))
    return out


def _cut_like_a_line_box(ink: np.ndarray, box: tuple[int, int, int, int], baseline: float, pitch: float,
                         rng: random.Random, xh: float) -> tuple[np.ndarray, np.ndarray]:
    """Slant and tilt the strip, then crop the main line's box plus a little padding, as the
    real crops were made (ALTO polygon box + 4 px). Returns (ink, ruled-paper layer)."""
    x0, y0, x1, y1 = box
    angle = np.deg2rad(min(2.0, max(-2.0, rng.gauss(0, 0.7))))
    shear = rng.uniform(-0.15, 0.45) if rng.random() < 0.7 else 0.0  # most hands lean right
    cx, cy = (x0 + x1) / 2, baseline
    cos, sin = np.cos(angle), np.sin(angle)
    # x' = cos*(x + shear*(y - cy)) - sin*(y - cy), y' = sin*(x - cx) + cos*(y - cy): slant, then tilt
    m = np.array([[cos, cos * shear - sin, 0], [sin, cos, 0]], np.float64)
    m[:, 2] = -m[:, :2] @ [cx, cy]
    corners = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]], np.float64) @ m.T
    (bx0, by0), (bx1, by1) = corners.min(axis=0), corners.max(axis=0)
    box_h = by1 - by0
    # Real line polygons leave room above and below the ink; some boxes are much taller
    tall = rng.random() < 0.1
    pad_top = box_h * (rng.uniform(0.3, 0.6) if tall else rng.uniform(0.02, 0.2))
    pad_bottom = box_h * (rng.uniform(0.3, 0.6) if tall else rng.uniform(0.02, 0.2))
    pad_x = box_h * rng.uniform(0.02, 0.25)
    m[:, 2] -= [bx0 - pad_x, by0 - pad_top]
    out_w = int(bx1 - bx0 + 2 * pad_x)
    out_h = int(box_h + pad_top + pad_bottom)
    cut = cv2.warpAffine(ink, m.astype(np.float32), (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=0)
    rules = np.zeros_like(cut)
    if rng.random() < 0.25:  # ruled paper: lines under the writing's baselines (grid paper sometimes)
        offset = rng.uniform(-0.1, 0.25) * xh
        thick = max(1, int(round(xh / 12)))
        for k in (-1, 0, 1):
            y = baseline + k * pitch + offset
            ends = np.array([[-1e4, y, 1], [1e4 + ink.shape[1], y, 1]]) @ m.T
            cv2.line(rules, tuple(int(v) for v in ends[0]), tuple(int(v) for v in ends[1]), 255, thick, cv2.LINE_AA)
        if rng.random() < 0.3:
            step = pitch / rng.choice([2, 4])
            for x in np.arange(rng.uniform(0, step), out_w, step):
                cv2.line(rules, (int(x), 0), (int(x + out_h * sin), out_h), 255, thick, cv2.LINE_AA)
    return cut, rules


def _hand_stroke(ink: np.ndarray, rng: random.Random, xh: float) -> np.ndarray:
    """Pen width: thinner or bolder than the font's stroke, now and then."""
    k = 2 if xh < 17 else 3
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    r = rng.random()
    if r < 0.2:
        thin = cv2.erode(ink, kernel)
        return thin if thin.max() > 100 else ink  # a hairline font would vanish
    if r < 0.45:
        return cv2.dilate(ink, kernel)
    return ink


def _smooth_field(rng: random.Random, shape: tuple[int, int], cells: int) -> np.ndarray:
    """A smooth random field in [-1, 1] with about `cells` bumps along the line."""
    nrng = np.random.default_rng(rng.randrange(1 << 30))
    small = nrng.uniform(-1, 1, (2, max(2, cells))).astype(np.float32)
    return cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC).clip(-1, 1)


@lru_cache(maxsize=1)
def _noise_bank() -> tuple[np.ndarray, np.ndarray]:
    """(white noise, paper grain), unit variance, OUT_HEIGHT x 8192: samples take random windows,
    which is 10x cheaper than drawing fresh noise for every line."""
    white = np.random.default_rng(0).standard_normal((OUT_HEIGHT, 8192), np.float32)
    grain = cv2.GaussianBlur(white, (0, 0), 1.3)
    return white, grain / grain.std()


def _noise(bank: np.ndarray, rng: random.Random, h: int, w: int) -> np.ndarray:
    if w > bank.shape[1]:
        bank = np.tile(bank, (1, w // bank.shape[1] + 1))
    x = rng.randrange(bank.shape[1] - w + 1)
    window = bank[:h, x: x + w]
    return window[:, ::-1] if rng.random() < 0.5 else window


def _ink_on_paper(ink: np.ndarray, rules: np.ndarray | None, rng: random.Random) -> np.ndarray:
    """Ink coverage (at output size) -> gray scan: pen pressure, ink and paper tones, ruling,
    stains, uneven light, paper grain, scanner blur, noise and JPEG."""
    h, w = ink.shape
    cover = ink.astype(np.float32) / 255.0
    if rng.random() < 0.6:  # pen pressure / ink flow varies along the line
        cover *= 1 - rng.uniform(0.05, 0.35) * (0.5 + 0.5 * _smooth_field(rng, (h, w), w // 40 + 2))
    paper = rng.uniform(185, 250) if rng.random() < 0.8 else rng.uniform(130, 190)  # clean or aged/grey scans
    pencil = rng.random() < 0.2
    ink_tone = paper - rng.uniform(70, 130) if pencil else rng.uniform(0, min(70, paper - 100))
    img = paper - (paper - ink_tone) * cover
    if rules is not None:
        r = rules.astype(np.float32) / 255.0 * rng.uniform(0.15, 0.5)
        img = img * (1 - r) + rng.uniform(60, 160) * r
    if rng.random() < 0.5:  # uneven light and paper tone
        img *= 1 + rng.uniform(0.02, 0.08) * _smooth_field(rng, (h, w), w // 200 + 2)
    if rng.random() < 0.2:  # stains and foxing
        nrng = np.random.default_rng(rng.randrange(1 << 30))
        yy, xx = np.ogrid[:h, :w]
        for _ in range(rng.randint(1, 3)):
            cx, cy, r = nrng.uniform(0, w), nrng.uniform(0, h), nrng.uniform(5, 40)
            x0, x1 = int(max(0, cx - 3 * r)), int(min(w, cx + 3 * r + 1))
            blob = np.exp(-((xx[:, x0:x1] - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)).astype(np.float32)
            img[:, x0:x1] -= rng.uniform(8, 40) * blob
    white, grain = _noise_bank()
    if rng.random() < 0.5:  # paper grain
        img += _noise(grain, rng, h, w) * np.float32(rng.uniform(1, 4))
    if rng.random() < 0.4:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 0.8))
    if rng.random() < 0.5:  # sensor noise
        img += _noise(white, rng, h, w) * np.float32(rng.uniform(1, 6))
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.03:  # bilevel scan
        img = np.where(img < (paper + ink_tone) / 2, 0, 255).astype(np.uint8)
    if rng.random() < 0.85:  # the real crops are JPEG (quality 70)
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(40, 90)])
        img = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return img


def _handwritten(rng: random.Random, split: str) -> tuple[np.ndarray, str]:
    font_path = rng.choice(rng.choice(_families("handwritten", split)))
    text = _hand_text(rng, font_path)
    xh = rng.uniform(12, 19)  # x-height in render pixels: the crop is ~3-4 x-heights, about 64 px
    ink, box, baseline, pitch = _page_strip(rng, font_path, text, xh)
    ink = _hand_stroke(ink, rng, xh)
    if rng.random() < 0.8:  # every writer's letters differ a little from the font's
        ink = elastic(ink, rng, alpha=rng.uniform(10, 45) * xh / 14, sigma=rng.uniform(3.5, 6.0) * xh / 14)
    ink, rules = _cut_like_a_line_box(ink, box, baseline, pitch, rng, xh)
    h, w = ink.shape
    out_w = max(16, int(round(w * OUT_HEIGHT / max(h, 1))))
    interp = cv2.INTER_AREA if h > OUT_HEIGHT else cv2.INTER_LINEAR
    ink = cv2.resize(ink, (out_w, OUT_HEIGHT), interpolation=interp)
    rules = cv2.resize(rules, (out_w, OUT_HEIGHT), interpolation=interp) if rules.any() else None
    return _ink_on_paper(ink, rules, rng), text


def handwritten_sample(rng: random.Random) -> tuple[np.ndarray, str]:
    """A handwritten line crop in a training font (64 px high, like ../shared/htr-real)."""
    return _handwritten(rng, "train")


def handwritten_validation_sample(rng: random.Random) -> tuple[np.ndarray, str]:
    """The same, in a hand never trained on (fonts.VALIDATION_FAMILIES)."""
    return _handwritten(rng, "validation")


# ---------------------------------------------------------------- receipts, small print, book pages


@lru_cache(maxsize=8)
def _printed_families(use: str, split: str) -> list[list[str]]:
    found = fonts.receipt_fonts(split) if use == "receipt" else fonts.book_fonts(split)
    return list(fonts.by_family(found).values())


def _dot_matrix(ink: np.ndarray, pitch: int) -> np.ndarray:
    """Redraw ink as round dots on a printer-head grid (dot-matrix and some thermal printers)."""
    h, w = ink.shape
    cells = cv2.resize(ink, (max(1, w // pitch), max(1, h // pitch)), interpolation=cv2.INTER_AREA) > 70
    yy, xx = np.mgrid[:pitch, :pitch] - (pitch - 1) / 2
    dot = ((xx**2 + yy**2) <= (0.5 * pitch) ** 2).astype(np.uint8) * 255
    return np.kron(cells.astype(np.uint8), dot)


def _receipt_ink(rng: random.Random, font_path: str, left: str, right: str, size: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Left part, a column gap, the right-aligned part (prices); now and then the tightly spaced
    lines above and below. Returns ink and the main line's rows."""
    font = _font(font_path, size)
    ascent, descent = font.getmetrics()
    h = ascent + descent
    gap = font.getlength("0") * (rng.randint(1, 16) if right else 0)
    wl = font.getlength(left)
    width = int(wl + gap + font.getlength(right) + 2 * size)
    canvas = Image.new("L", (width, 3 * h), 0)
    draw = ImageDraw.Draw(canvas)
    draw.text((size, h), left, fill=255, font=font)
    if right:
        draw.text((size + wl + gap, h), right, fill=255, font=font)
    if rng.random() < 0.35:  # receipts are tightly spaced: a loose crop catches the neighbours
        pitch = int(h * rng.uniform(0.95, 1.35))
        for y in (h - pitch, h + pitch):
            other = " ".join(p for p in receipt_line(rng) if p)
            draw.text((size + rng.randint(0, size), y), other, fill=255, font=font)
    ink = np.asarray(canvas)
    rows = np.flatnonzero(ink[h: 2 * h].max(axis=1) > 40)
    return ink, ((h + rows[0], h + rows[-1] + 1) if len(rows) else (h, 2 * h))


def _thermal(ink: np.ndarray, rng: random.Random, xh: float, page: bool = False) -> np.ndarray:
    """Ink coverage -> gray photo of a till slip: faded and broken print, dead print-head dots,
    low contrast, shadows, camera blur, noise and JPEG. `page`: a whole slip, whose every line
    must stay legible: milder fading, contrast and light."""
    h, w = ink.shape
    cover = ink.astype(np.float32) / 255.0
    if rng.random() < 0.5:  # faded thermal paper, unevenly
        cover *= 1 - rng.uniform(0.15, 0.3 if page else 0.5) * (0.5 + 0.5 * _smooth_field(rng, (h, w), w // 30 + 2))
    if rng.random() < 0.25:  # dead print-head elements: thin white streaks along the paper feed
        for _ in range(rng.randint(1, 4)):
            x = rng.randrange(w)
            cover[:, x: x + rng.randint(1, 2)] *= rng.uniform(0.0, 0.4)
    if rng.random() < 0.3:  # broken strokes: ink missing in small patches
        nrng = np.random.default_rng(rng.randrange(1 << 30))
        holes = cv2.GaussianBlur(nrng.uniform(0, 1, (h, w)).astype(np.float32), (0, 0), rng.uniform(0.6, 1.5))
        cover *= holes > np.quantile(holes, rng.uniform(0.1, 0.35))
    paper = rng.uniform(170, 250)
    low = rng.random() < (0.15 if page else 0.4)  # low contrast often
    ink_tone = max(0.0, paper - (rng.uniform(70 if page else 40, 110) if low else rng.uniform(110, 220)))
    img = paper - (paper - ink_tone) * cover
    if rng.random() < 0.5:  # camera light: gradient and a soft shadow
        gx, gy = np.meshgrid(np.linspace(-1, 1, w, dtype=np.float32), np.linspace(-1, 1, h, dtype=np.float32))
        light = 0.1 if page else 0.3
        img *= 1 + rng.uniform(-light, light) * gx + rng.uniform(-2 * light / 3, 2 * light / 3) * gy
    white, grain = _noise_bank()
    if rng.random() < 0.4 and h <= white.shape[0]:
        img += _noise(grain, rng, h, w) * np.float32(rng.uniform(2, 8))
    r = rng.random()
    if r < 0.5:  # camera focus (small print stays barely legible: less blur)
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, min(1.2, xh / 9)))
    elif r < 0.65:  # camera shake
        k = rng.randint(2, 4)
        kernel = np.zeros((k, k), np.float32)
        cv2.line(kernel, (0, rng.randrange(k)), (k - 1, rng.randrange(k)), 1.0, 1)
        img = cv2.filter2D(img, -1, kernel / kernel.sum())
    if rng.random() < 0.6 and h <= white.shape[0]:
        img += _noise(white, rng, h, w) * np.float32(rng.uniform(2, 12))
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.55:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(20, 85)])
        img = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return img


def _receipt(rng: random.Random, split: str) -> tuple[np.ndarray, str]:
    font_path = rng.choice(rng.choice(_printed_families("receipt", split)))
    left, right = receipt_line(rng)
    left, right = _supported(left, font_path).strip() or "TOTAL", _supported(right, font_path).strip()
    text = " ".join(f"{left} {right}".split())
    # x-height in pixels as photographed: small print (6-9 px) most of the time
    xh = rng.uniform(6, 9) if rng.random() < 0.6 else rng.uniform(9, 18)
    dots = rng.random() < 0.2
    # native-size glyphs (hinted, blocky), or drawn at ~24 px x-height and shrunk (dots need room)
    up = 1 if not dots and rng.random() < 0.5 else max(2, round(24 / xh))
    size = max(6, round(xh * up / _x_height(font_path)))
    ink, (y0, y1) = _receipt_ink(rng, font_path, left, right, size)
    if dots:
        ink = _dot_matrix(ink, max(3, round((y1 - y0) / rng.uniform(7, 10))))
    if up > 1:
        h, w = ink.shape
        ink = cv2.resize(ink, (max(8, w // up), max(8, h // up)), interpolation=cv2.INTER_AREA)
        y0, y1 = y0 // up, max(y0 // up + 1, y1 // up)
    if rng.random() < 0.3:  # thermal print bleeds, cheap print is thin
        ink = cv2.dilate(ink, np.ones((1, 2), np.uint8)) if rng.random() < 0.5 else cv2.GaussianBlur(ink, (0, 0), 0.5)
    ink = _tight_crop(ink, rng, (int(y0), int(y1)))
    if rng.random() < 0.4:  # the slip photographed a little askew
        ink = _affine(ink, rng, max_rot=1.5, max_shear=0.08)
    return _thermal(ink, rng, xh), text


def receipt_sample(rng: random.Random) -> tuple[np.ndarray, str]:
    """A till-receipt line in a training till face: small, faded, photographed."""
    return _receipt(rng, "train")


def receipt_validation_sample(rng: random.Random) -> tuple[np.ndarray, str]:
    """The same, in a till face never trained on (fonts.PRINTED_HELD_OUT)."""
    return _receipt(rng, "validation")


def receipt_page(rng: random.Random, split: str = "validation") -> tuple[np.ndarray, list[str]]:
    """A whole till slip: 12-25 receipt lines in one face, prices right-aligned in a 30-44 character
    column, headers and footers centred; small print, photographed (the `synthetic-receipts-pages`
    benchmark). Returns the gray image and its lines' texts, top to bottom."""
    font_path = rng.choice(rng.choice(_printed_families("receipt", split)))
    xh = rng.uniform(7, 12)
    dots = rng.random() < 0.2
    up = max(2, round(24 / xh))
    font = _font(font_path, max(6, round(xh * up / _x_height(font_path))))
    ascent, descent = font.getmetrics()
    pitch, adv = int((ascent + descent) * rng.uniform(1.0, 1.3)), font.getlength("0")
    column = adv * rng.randint(30, 44)
    texts = []
    for _ in range(rng.randint(12, 25)):
        left, right = (_supported(t, font_path).strip() for t in receipt_line(rng))
        if font.getlength(left) + (2 * adv + font.getlength(right) if right else 0) > column:
            left, right = left[: int(column / adv)].strip(), ""  # a slip has no room: drop the code, cut the line
        texts.append((left or "TOTAL", right))
    canvas = Image.new("L", (int(column + 4 * adv), pitch * (len(texts) + 2)), 0)
    draw = ImageDraw.Draw(canvas)
    for i, (left, right) in enumerate(texts):
        y = pitch * (i + 1)
        if right:
            draw.text((2 * adv, y), left, fill=255, font=font)
            draw.text((2 * adv + column - font.getlength(right), y), right, fill=255, font=font)
        else:
            x = 2 * adv + ((column - font.getlength(left)) / 2 if rng.random() < 0.5 else 0)
            draw.text((x, y), left, fill=255, font=font)
    ink = np.asarray(canvas)
    if dots:
        ink = _dot_matrix(ink, max(3, round(pitch / rng.uniform(8, 11))))
    ink = cv2.resize(ink, (ink.shape[1] // up, ink.shape[0] // up), interpolation=cv2.INTER_AREA)
    ink = _affine(ink, rng, max_rot=1.0, max_shear=0.0)
    return _thermal(np.pad(ink, int(3 * xh)), rng, xh, page=True), [" ".join(f"{a} {b}".split()) for a, b in texts]


def _book(rng: random.Random, split: str) -> tuple[np.ndarray, str]:
    """A justified line of set book text (ligatures drawn by the font's shaping), small, as an old
    300-dpi scan has it: ink spread or worn type, slight skew."""
    font_path = rng.choice(rng.choice(_printed_families("book", split)))
    words = _supported(book_line(rng), font_path).split() or ["text"]
    xh = rng.uniform(7, 16)
    up = 1 if rng.random() < 0.4 else 3
    size = max(6, round(xh * up / _x_height(font_path)))
    font = _font(font_path, size)
    ascent, descent = font.getmetrics()
    h = ascent + descent
    space = font.getlength(" ") * rng.uniform(1.0, 2.2)  # justified lines stretch their spaces
    width = int(sum(font.getlength(wd) for wd in words) + space * len(words) + 2 * size)
    canvas = Image.new("L", (width, 3 * h), 0)
    draw = ImageDraw.Draw(canvas)
    x = float(size)
    for wd in words:
        draw.text((x, h), wd, fill=255, font=font)
        x += font.getlength(wd) + space * rng.uniform(0.9, 1.1)
    if rng.random() < 0.3:
        for y in (h - int(h * rng.uniform(1.0, 1.3)), h + int(h * rng.uniform(1.0, 1.3))):
            draw.text((size, y), book_line(rng), fill=255, font=font)
    ink = np.asarray(canvas)
    rows = np.flatnonzero(ink[h: 2 * h].max(axis=1) > 40)
    y0, y1 = (h + rows[0], h + rows[-1] + 1) if len(rows) else (h, 2 * h)
    if up > 1:
        ink = cv2.resize(ink, (max(8, ink.shape[1] // up), max(8, ink.shape[0] // up)), interpolation=cv2.INTER_AREA)
        y0, y1 = y0 // up, max(y0 // up + 1, y1 // up)
    r = rng.random()
    if r < 0.2:  # ink spread of old letterpress
        ink = cv2.GaussianBlur(ink, (0, 0), 0.6)
        ink = np.where(ink > 60, 255, ink * 2).astype(np.uint8)
    elif r < 0.35:  # worn type: broken hairlines
        nrng = np.random.default_rng(rng.randrange(1 << 30))
        ink = (ink * (nrng.uniform(0, 1, ink.shape) > rng.uniform(0.05, 0.2))).astype(np.uint8)
    ink = _tight_crop(ink, rng, (int(y0), int(y1)))
    if rng.random() < 0.4:
        ink = _affine(ink, rng, max_rot=0.8, max_shear=0.0)
    return _to_paper(ink, rng), " ".join(words)


def book_sample(rng: random.Random) -> tuple[np.ndarray, str]:
    return _book(rng, "train")


# The printed training stream: plain document lines, receipts and small print, book lines.
PRINTED_MIX = {"plain": 0.5, "receipt": 0.35, "book": 0.15}


def _printed_mix(rng: random.Random, split: str) -> tuple[np.ndarray, str]:
    kind = rng.choices(list(PRINTED_MIX), list(PRINTED_MIX.values()))[0]
    if kind == "receipt":
        return _receipt(rng, split)
    if kind == "book":
        return _book(rng, split)
    return plain_printed_sample(rng)  # Debian's fonts, no held-out split (as before)


def printed_sample(rng: random.Random) -> tuple[np.ndarray, str]:
    """A printed line from PRINTED_MIX, in training fonts."""
    return _printed_mix(rng, "train")


def printed_validation_sample(rng: random.Random) -> tuple[np.ndarray, str]:
    """The same mix; receipts and book lines in held-out faces (plain lines have no held-out fonts)."""
    return _printed_mix(rng, "validation")


SAMPLERS = {"printed": printed_sample, "handwritten": handwritten_sample, "receipt": receipt_sample}
# Synthetic validation: unseen hands, unseen till and book faces.
VALIDATION_SAMPLERS = {"printed": printed_validation_sample, "handwritten": handwritten_validation_sample,
                       "receipt": receipt_validation_sample}
