"""Find the text lines of a page, strip or photo, and cut one clean crop per line.

Our recognizers read a whole line at a time, so detection only has to find lines. Plain OpenCV, no
model: flatten the lighting -> binarize -> measure text height and skew from the ink -> deskew ->
group ink components into lines -> cut each line from the flattened, deskewed page with a margin.

Grouping works on "core bars": each character-sized component is replaced by a bar over the middle
half of its height. Bars of one line overlap vertically while ascenders and descenders of neighbouring
lines don't, so tightly set lines stay apart; a horizontal dilation then joins the bars of a line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

MAX_SKEW = 12.0  # degrees searched either way (phone photos of pages are usually within +-10)
MARGIN_Y = 0.18  # crop margin above/below the line, as a fraction of its height
MARGIN_X = 1.0  # crop margin left/right, in line heights
FIGURE_SIDE = 8  # a figure is at least this many text heights wide and tall (a drop capital is ~3)
MIN_DEPTH = 35  # ink is at least this much darker than the flattened paper (unless the ink itself is fainter)
CELL_WIDTH = 16  # widest table cell (a price, a code: ~15 characters) in text heights; a text column's line is wider
ROW_CORE = 1.8  # tallest core (text heights) of a line joined into a table row (receipt rows: at most 1.5, faded print)


@dataclass
class LineRegion:
    """One text line: its box in the original image and the crop the recognizer reads."""

    box: np.ndarray  # float32 (4, 2) TL, TR, BR, BL in original image pixels
    crop: np.ndarray  # uint8 gray, deskewed and flattened, dark ink on light paper
    to_orig: np.ndarray = field(repr=False)  # 2x3 affine: deskewed page coords -> original image
    crop_x0: float = field(repr=False)  # deskewed-page x of the crop's column 0
    band: tuple[float, float] = field(repr=False)  # the line's top and bottom in deskewed-page y
    image_size: tuple[int, int] = field(repr=False)  # original (width, height), to clip boxes

    def crop_x_to_box(self, x0: float, x1: float) -> np.ndarray:
        """Polygon (TL, TR, BR, BL) in original pixels of the crop columns x0..x1 (e.g. one word)."""
        return _to_original(self.crop_x0 + x0, self.band[0], self.crop_x0 + x1, self.band[1], self)

    @classmethod
    def from_rect(cls, gray: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> LineRegion:
        """Region for an axis-aligned line box found by another detector (crop gets the usual margins)."""
        gray = _as_gray(gray)
        h, w = gray.shape
        my, mx = int(MARGIN_Y * (y1 - y0)), int(MARGIN_X * (y1 - y0))
        cx0, cy0 = max(0, x0 - mx), max(0, y0 - my)
        crop = _flatten(gray[cy0 : min(h, y1 + my), cx0 : min(w, x1 + mx)])[0]
        region = cls(np.zeros((4, 2), np.float32), crop, np.eye(2, 3), float(cx0), (float(y0), float(y1)), (w, h))
        region.box = _to_original(x0, y0, x1, y1, region)
        return region


def _to_original(x0: float, y0: float, x1: float, y1: float, region: LineRegion) -> np.ndarray:
    pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)
    pts = pts @ region.to_orig[:, :2].T + region.to_orig[:, 2]
    w, h = region.image_size
    return np.clip(pts, 0, [w - 1, h - 1]).astype(np.float32)


def segment_lines(gray: np.ndarray) -> list[LineRegion]:
    """Text lines of a grayscale image in reading order; [] when there is no text."""
    gray = _as_gray(gray)
    if min(gray.shape) < 8:
        return []
    small = _thumbnail(gray)
    if _is_inverted(small):
        gray, small = 255 - gray, None
    flat, bg = _flatten(gray, small)
    masks = _binarize(flat, bg, _noise_sigma(gray))
    if masks is None:
        return []
    ink, sure = masks
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    stats = stats[1:]
    solid = np.zeros(n, bool)
    solid[labels[sure > 0]] = True
    h_text = _text_height(stats[solid[1:]])
    if h_text is None:
        return []
    keep = _is_text(stats, h_text, ink.shape) & solid[1:]
    figures = _figure_boxes(stats, keep, h_text)
    keep &= ~_centres_inside(stats, figures)
    angle = _estimate_skew(labels, keep, h_text)
    to_rot, size = _rotation(gray.shape, -angle)
    if angle:  # deskew the page, keeping only text components in the mask
        lut = np.concatenate([[0], np.where(keep, 255, 0)]).astype(np.uint8)
        ink = cv2.warpAffine(lut[labels], to_rot, size, flags=cv2.INTER_NEAREST, borderValue=0)
        flat = cv2.warpAffine(flat, to_rot, size, flags=cv2.INTER_LINEAR, borderValue=255)
        _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        stats = stats[1:]
        keep = stats[:, 4] >= _speck_area(h_text)
    line_of, bands = _group_lines(stats, keep, h_text)
    if len(figures):
        line_of, bands = _drop_stroke_lines(stats, line_of, bands, h_text)
    if not bands:
        return []
    to_orig = cv2.invertAffineTransform(to_rot)
    bands_arr = np.array(bands, np.float64)
    regions = [_make_region(flat, labels, stats, line_of, i, bands[i], to_orig, gray.shape)
               for i in _reading_order(bands_arr, list(range(len(bands))))]
    # A line cut off by the top or bottom edge of the photo is unreadable: drop it when it is clearly short.
    short = 0.6 * np.median(bands_arr[:, 3] - bands_arr[:, 1])
    h = gray.shape[0]
    regions = [r for r in regions
               if r.band[1] - r.band[0] >= short or 1 < r.box[:, 1].min() and r.box[:, 1].max() < h - 2]
    return _as_single_line(gray, regions)


def _as_single_line(gray: np.ndarray, regions: list[LineRegion]) -> list[LineRegion]:
    """A strip holding one text row (a line crop) -> one line, not pieces plus neighbours' debris.

    Real line crops carry fragments of the lines above and below, and big cursive confuses the
    text-height estimate, so the detector may return pieces, debris lines, or miss a word. When the
    row ink profile of a strip has one dense band (`_single_row`), the lines on that row become one
    line from its first to its last inked column (unless the detector already found exactly that
    line); lines off the row are kept, except those cut by the top or bottom edge (fragments).
    """
    row = _single_row(gray) if regions else None
    if row is None:
        return regions
    y0, y1, x0, x1 = row
    h = gray.shape[0]
    on_row = [r for r in regions if y0 <= r.box[:, 1].mean() <= y1]
    off_row = [r for r in regions if not y0 <= r.box[:, 1].mean() <= y1
               and 1 < r.box[:, 1].min() and r.box[:, 1].max() < h - 2]
    line = on_row[0] if len(on_row) == 1 else None
    if line is None or line.box[:, 0].min() > x0 + 0.05 * (x1 - x0) or line.box[:, 0].max() < x1 - 0.05 * (x1 - x0):
        line = LineRegion.from_rect(gray, x0, y0, x1, y1)  # else the detector's (deskewed) line spans the row
    return sorted([line, *off_row], key=lambda r: float(r.box[:, 1].mean()))


def whole_line(gray: np.ndarray) -> LineRegion:
    """The whole image as one line crop, as it is (for callers that know they hold a line crop,
    like Tesseract's --psm 7: the recognizer reads it the way it was trained on line crops)."""
    gray = _as_gray(gray)
    h, w = gray.shape
    line = LineRegion(np.zeros((4, 2), np.float32), gray.copy(), np.eye(2, 3), 0.0, (0.0, float(h)), (w, h))
    line.box = _to_original(0, 0, w, h, line)
    return line


def _single_row(gray: np.ndarray) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) of the one text row of a strip, or None when it is not a one-row strip.

    One row: the image is wider than 1.5 heights, its smoothed row profile of ink has one dense
    band inside it (other inner bands carry under 35% of its ink, bands cut by the top or bottom
    edge, the neighbours' fragments, under 60%), and that band
    (the x-height zone) fills 18-80% of the height, as in a line crop, never on a page.
    The row spans the band plus 60% of its height above and below (ascenders, descenders).
    """
    h, w = gray.shape
    if w < 1.5 * h or np.percentile(gray, 90) - np.percentile(gray, 2) < 30:
        return None
    _, ink = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    profile = cv2.blur(ink.sum(axis=1).astype(np.float32)[:, None], (1, 3))[:, 0]
    if profile.max() <= 0:
        return None
    dense = np.flatnonzero(profile >= 0.3 * profile.max())
    runs = np.split(dense, np.flatnonzero(np.diff(dense) > 3) + 1)  # a band may have a thin gap
    mass = np.array([profile[r].sum() for r in runs])
    inner = np.array([r[0] > 1 and r[-1] < h - 2 for r in runs])
    main_mass = mass[inner].max() if inner.any() else mass.max()
    main = runs[int(np.flatnonzero(mass == main_mass)[0])]
    # other inner bands must be faint; bands cut by an edge may be a neighbour's ascenders or
    # descenders, never a whole line (a line cut by a tight crop carries as much ink as the row)
    if ((inner & (mass >= 0.35 * main_mass)).sum() > 1 or (~inner & (mass >= 0.6 * main_mass)).any()
            or not 0.18 * h <= len(main) <= 0.8 * h):
        return None
    c0, c1 = int(main[0]), int(main[-1]) + 1
    cols = np.flatnonzero(ink[c0:c1].any(axis=0))
    if not len(cols):
        return None
    reach = int(0.6 * (c1 - c0))
    return max(0, c0 - reach), min(h, c1 + reach), int(cols[0]), int(cols[-1]) + 1


# ---------------------------------------------------------------- image clean-up


def _as_gray(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = cv2.normalize(img.astype(np.float32), None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if img.ndim == 3:
        img = cv2.cvtColor(img[:, :, :3], cv2.COLOR_RGB2GRAY) if img.shape[2] >= 3 else img[:, :, 0]
    return np.ascontiguousarray(img)


def _is_inverted(small: np.ndarray) -> bool:
    """Light text on dark (judged on the page's thumbnail)? Flattening assumes light paper; with the wrong
    polarity it turns the background around the text dark, so the polarity leaving far less dark area is the right one."""
    dark = [np.mean(_flatten(img)[0] < 128) for img in (small, 255 - small)]
    return bool(dark[1] < 0.5 * dark[0])


def _flatten(gray: np.ndarray, small: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Divide by the paper brightness (a large grey closing erases the ink), so paper -> ~255.

    Returns the flattened image and the paper brightness. Done on a <=512 px thumbnail (`small`, when
    the caller has it already): lighting varies slowly, and it keeps big pages cheap.
    """
    h, w = gray.shape
    small = _thumbnail(gray) if small is None else small
    k = max(15, min(small.shape) // 10) | 1
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    bg = np.maximum(cv2.resize(cv2.blur(bg, (k, k)), (w, h), interpolation=cv2.INTER_LINEAR), 1)
    return cv2.divide(gray, bg, scale=255), bg


def _thumbnail(gray: np.ndarray, side: int = 512) -> np.ndarray:
    """Scaled so its longer side is at most `side`; never 0 px thin (an 8x40000 strip stays >= 1 px)."""
    h, w = gray.shape
    s = min(1.0, side / max(h, w))
    if s == 1.0:
        return gray
    return cv2.resize(gray, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def _noise_sigma(gray: np.ndarray) -> float:
    """Pixel noise of the photo/scan, from neighbour differences (robust: edges are a small minority)."""
    d = np.abs(np.diff(gray[::8].astype(np.int16), axis=1))
    if not d.size:
        return float("nan")  # as np.median of nothing
    # the median from the differences' histogram (0..255): the same value, without sorting a million of them
    cum = np.cumsum(np.bincount(d.ravel(), minlength=256))
    mid = np.searchsorted(cum, [(d.size - 1) // 2, d.size // 2], side="right")
    return 1.4826 * float(mid.mean()) / np.sqrt(2)


def _binarize(flat: np.ndarray, bg: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Ink mask: Otsu on the flattened page, but never closer to the paper than 35 levels or 4 noise
    sigmas (noise is amplified where flattening divided by a dark shadow or desk). Also returns a
    "sure ink" mask at 6 sigmas: a real stroke reaches it somewhere, a noise blob doesn't."""
    cum = np.cumsum(cv2.calcHist([flat], [0], None, [256], [0, 256]).ravel())
    paper = int(np.searchsorted(cum, cum[-1] / 2))
    if paper < 35:
        return None
    t, _ = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # the threshold depends on the pixel's paper brightness only: computed once per brightness (a
    # 256-entry table), not once per pixel in float64 (that was 40 % of finding a dense page's lines)
    brightness = np.arange(256, dtype=np.uint8)[None, :]
    darkest = int(np.searchsorted(cum, 0.005 * cum[-1]))  # the ink's level: faded print may be 30 levels from paper
    floor = min(MIN_DEPTH, max(12, (paper - darkest) // 2))
    masks = []
    for sigmas in (4, 6):
        depth = np.maximum(cv2.divide(sigmas * sigma * 255, brightness), floor)
        limit = np.minimum(cv2.subtract(paper, depth), t).astype(np.uint8)
        masks.append(cv2.compare(flat, cv2.LUT(bg, limit), cv2.CMP_LE))
    return (masks[0], masks[1]) if cv2.countNonZero(masks[1]) else None


def _speck_area(h_text: float) -> float:
    return max(3.0, (0.08 * h_text) ** 2)


def _text_height(stats: np.ndarray) -> float | None:
    """Typical character height: median component height, ignoring specks and giants."""
    h = stats[:, 3][(stats[:, 4] >= 6) & (stats[:, 3] >= 3)]
    if len(h) == 0:
        return None
    h0 = np.median(h)
    return float(np.median(h[(h >= 0.5 * h0) & (h <= 3 * h0)]))


def _is_text(stats: np.ndarray, h_text: float, shape: tuple[int, int]) -> np.ndarray:
    """Drop specks, figures/frames, ruled lines and page edges (large blobs touching the border)."""
    x, y, w, h, area = stats.T
    fill = area / (w * h)
    speck = area < _speck_area(h_text)
    huge = h > 5 * h_text
    rule = (w > 6 * h_text) & (h < 0.5 * h_text) & (fill > 0.4)
    edge = (x == 0) | (y == 0) | (x + w == shape[1]) | (y + h == shape[0])
    border = edge & ((h > 2.5 * h_text) | (w > 8 * h_text) & (fill > 0.3))
    return ~(speck | huge | rule | border)


def _figure_boxes(stats: np.ndarray, keep: np.ndarray, h_text: float) -> np.ndarray:
    """(x, y, w, h) of the page's figures: big, densely drawn non-text components (an engraving, a
    photo's dark areas; at least `FIGURE_SIDE` text heights each way and 15% inked). A frame drawn
    around text is sparse (a few %), a drop capital small."""
    x, y, w, h, area = stats.T.astype(np.float64)
    figure = ~keep & (w >= FIGURE_SIDE * h_text) & (h >= FIGURE_SIDE * h_text) & (area >= 0.15 * w * h)
    return stats[figure, :4]


def _centres_inside(stats: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Components whose centre lies in one of the boxes: inside a figure, its loose hatching strokes
    are character-sized but no text."""
    cx, cy = stats[:, 0] + stats[:, 2] / 2, stats[:, 1] + stats[:, 3] / 2
    inside = np.zeros(len(stats), bool)
    for x, y, w, h in boxes:
        inside |= (cx > x) & (cx < x + w) & (cy > y) & (cy < y + h)
    return inside


def _drop_stroke_lines(stats: np.ndarray, line_of: np.ndarray, bands: list[tuple], h_text: float
                       ) -> tuple[np.ndarray, list[tuple]]:
    """On a page with figures, drop "lines" made of a figure's loose strokes: under half of their
    components (those at least half a text height tall) are glyph-shaped; the rest are hairlines (five
    times as tall as wide, or under 0.3 text heights wide). Letters, digits and handwritten words are glyphs."""
    w, h = stats[:, 2].astype(np.float64), stats[:, 3].astype(np.float64)
    body = h >= 0.5 * h_text
    glyph = body & (w >= 0.3 * h_text) & (w >= 0.2 * h)
    count = np.bincount(line_of[line_of >= 0], minlength=len(bands))
    n_body = np.bincount(line_of[body & (line_of >= 0)], minlength=len(bands))
    n_glyph = np.bincount(line_of[glyph & (line_of >= 0)], minlength=len(bands))
    kept = (n_glyph >= 0.5 * n_body) & (count > 0)
    if kept.all():
        return line_of, bands
    new_of = np.cumsum(kept) - 1
    line_of = np.where((line_of >= 0) & kept[np.maximum(line_of, 0)], new_of[np.maximum(line_of, 0)], -1)
    return line_of, [band for band, k in zip(bands, kept, strict=True) if k]


# ---------------------------------------------------------------- skew


def _estimate_skew(labels: np.ndarray, keep: np.ndarray, h_text: float) -> float:
    """Text angle in degrees (counter-clockwise), maximizing the sharpness of the ink's row profile."""
    st = max(1, int(h_text // 10))  # ~10 samples per text height is plenty
    sub = labels[::st, ::st]
    ys, xs = np.nonzero(sub)
    ok = keep[sub[ys, xs] - 1]
    ys, xs = ys[ok].astype(np.float32), xs[ok].astype(np.float32)
    if len(ys) < 50:
        return 0.0
    if len(ys) > 150_000:
        ys, xs = ys[:: len(ys) // 100_000], xs[:: len(xs) // 100_000]

    def sharpness(deg: float) -> float:
        a = np.radians(deg)
        p = np.round(ys * np.cos(a) + xs * np.sin(a)).astype(np.int64)
        c = np.bincount(p - p.min()).astype(np.float64)
        return float(c @ c)

    best = max(np.arange(-MAX_SKEW, MAX_SKEW + 1e-6, 0.5), key=sharpness)
    best = max(np.arange(best - 0.5, best + 0.5 + 1e-6, 0.05), key=sharpness)
    return float(round(best, 2)) if abs(best) >= 0.1 else 0.0


def _rotation(shape: tuple[int, int], deg: float) -> tuple[np.ndarray, tuple[int, int]]:
    """Affine rotating an image by deg (counter-clockwise) onto a canvas big enough to hold all of it."""
    h, w = shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), deg, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(np.ceil(w * c + h * s)), int(np.ceil(w * s + h * c))
    m[0, 2] += (nw - w) / 2
    m[1, 2] += (nh - h) / 2
    return m, (nw, nh)


# ---------------------------------------------------------------- grouping


def _core(stats: np.ndarray, h_text: float) -> tuple[np.ndarray, np.ndarray]:
    """Centre and half-height of each component's core bar: the middle half of it, at least half a
    text height tall so broken strokes of one line still overlap."""
    h = stats[:, 3].astype(np.float64)
    return stats[:, 1] + h / 2, 0.25 * np.maximum(h, h_text)


def _core_blobs(stats: np.ndarray, body: np.ndarray, h_text: float, shape: tuple[int, int]) -> np.ndarray:
    """Blob id per component (-1 if not body): core bars joined horizontally across ~1.2 text heights.

    Drawn at a scale where text is ~10 px tall, which is plenty and keeps big pages cheap.
    """
    f = max(1.0, h_text / 10)
    x, w = stats[:, 0] / f, stats[:, 2] / f
    cy, b = (v / f for v in _core(stats, h_text))
    core = np.zeros((int(shape[0] / f) + 2, int(shape[1] / f) + 2), np.uint8)
    idx = np.flatnonzero(body)
    for i in idx:
        core[int(cy[i] - b[i]) : int(cy[i] + b[i]) + 1, int(x[i]) : int(x[i] + w[i]) + 1] = 255
    core = cv2.dilate(core, np.ones((1, int(1.2 * h_text / f) | 1), np.uint8))
    _, lab = cv2.connectedComponents(core, connectivity=4)
    blob = np.full(len(stats), -1)
    blob[idx] = lab[cy[idx].astype(int), (x[idx] + w[idx] / 2).astype(int)]
    return blob


def _group_lines(stats: np.ndarray, keep: np.ndarray, h_text: float) -> tuple[np.ndarray, list[tuple]]:
    """Assign components to lines. Returns the line index per component (-1: none) and per line
    (x0, y0, x1, y1, core_top, core_bottom) in deskewed coords."""
    line_of = np.full(len(stats), -1)
    if not keep.any():
        return line_of, []
    x, y, w, h = stats[:, :4].T.astype(np.float64)
    shape = (int((y + h).max()) + 1, int((x + w).max()) + 1)
    small = keep & (h < 0.4 * h_text) & (w < 0.8 * h_text)  # dots, commas, accents, hyphens
    body = keep & ~small
    blob = _core_blobs(stats, body, h_text, shape)
    # A component much taller than the others of its blob usually touches the next line: regroup without it.
    # Only blobs whose cores are unusually tall can hold two lines; a word with ascender and descender is fine.
    tall = np.zeros_like(body)
    cy, b = _core(stats, h_text)
    for bid in np.unique(blob[body]):
        members = blob == bid
        med = np.median(h[members])
        if (cy + b)[members].max() - (cy - b)[members].min() > 1.8 * max(med, h_text):
            tall |= members & (h > 2 * med)
    if tall.any():
        body &= ~tall
        blob = _core_blobs(stats, body, h_text, shape)
    pieces = _merge_fragments([np.flatnonzero(blob == b) for b in np.unique(blob[body])], stats, h_text)
    # A piece without a character-sized component (lone comma, dash) or of one or two narrow components
    # (a big capital or a stroke of a broken letter) joins a line like a dot, else stands on its own.
    weak = [h[m].max() < 0.6 * h_text or len(m) <= 2 and np.ptp(np.r_[x[m], (x + w)[m]]) < 2 * h_text
            for m in pieces]
    frags = [m for m, wk in zip(pieces, weak, strict=True) if not wk] or pieces
    for i, members in enumerate(frags):
        line_of[members] = i
    _attach(np.flatnonzero(keep & (line_of < 0)), line_of, frags, stats, h_text)
    orphans = [m for m in pieces if (line_of[m] < 0).all() and h[m].max() >= 0.6 * h_text
               and stats[m, 4].sum() >= 0.15 * h_text**2]  # not a noise blob
    for m in orphans:
        line_of[m] = len(frags)
        frags.append(m)

    ctop = np.array([(cy - b)[m].min() for m in frags])
    cbot = np.array([(cy + b)[m].max() for m in frags])
    lx0 = np.array([x[m].min() for m in frags]) - 2 * h_text
    lx1 = np.array([(x + w)[m].max() for m in frags]) + 2 * h_text
    bands = []
    for i in range(len(frags)):
        members = np.flatnonzero(line_of == i)
        inner = members[~tall[members]]
        y0, y1 = y[inner].min(), (y + h)[inner].max()
        for j in members[tall[members]]:  # a tall loop or capital counts unless it reaches another line's core
            others = (ctop < y[j] + h[j]) & (cbot > y[j]) & (lx1 > x[j]) & (lx0 < x[j] + w[j])
            if others.sum() <= 1:
                y0, y1 = min(y0, y[j]), max(y1, y[j] + h[j])
        bands.append((x[members].min(), y0, (x + w)[members].max(), y1, ctop[i], cbot[i]))
    return _join_table_rows(line_of, bands, h_text)


def _join_table_rows(line_of: np.ndarray, bands: list[tuple], h_text: float) -> tuple[np.ndarray, list[tuple]]:
    """Cells of one table row (a receipt's item and its price) -> one line, read left to right.

    A cell is a line's nearest right-hand neighbour on its row (their cores overlap by half), short
    (`CELL_WIDTH`), whose right edge more lines share than its left edge (prices, right-aligned at the
    slip's edge); or any such neighbour when the right-hand neighbours are under half as wide as their
    left-hand ones. Lines of a second text column are long and of their column's width, and left-aligned
    (or justified; a paragraph's indented first line shares only its right edge): never joined.
    Repeated while it joins (a price broken in two pieces is joined first, then to its item). Only lines
    one text line tall (`ROW_CORE`) take part.
    """
    for _ in range(4):
        b = np.array(bands, np.float64)
        parent = _row_cells(b, h_text)
        roots, new_of = np.unique(parent, return_inverse=True)
        if len(roots) == len(bands):
            break
        bands = [(b[m, 0].min(), b[m, 1].min(), b[m, 2].max(), b[m, 3].max(), b[m, 4].min(), b[m, 5].max())
                 for m in (parent == r for r in roots)]
        line_of = np.where(line_of >= 0, new_of[np.maximum(line_of, 0)], -1)
    return line_of, bands


def _row_cells(b: np.ndarray, h_text: float) -> np.ndarray:
    """One round of `_join_table_rows`: per line, the line its row joins it to (itself if none)."""
    n = len(b)
    parent = np.arange(n)
    if n < 3:
        return parent
    x0, x1, ctop, cbot = b[:, 0], b[:, 2], b[:, 4], b[:, 5]
    core = cbot - ctop
    # A table row is one text line tall: a "line" whose core spans more (glyphs of several lines of a
    # sideways page side by side) joins nothing; joined, such stacks made a sideways page look upright.
    one_line = core <= ROW_CORE * h_text
    right_of = np.full(n, -1)
    for i in np.flatnonzero(one_line):
        overlap = np.minimum(cbot, cbot[i]) - np.maximum(ctop, ctop[i])
        cand = (overlap > 0.5 * np.minimum(core, core[i])) & (x0 > x1[i]) & one_line
        if cand.any():
            right_of[i] = np.flatnonzero(cand)[x0[cand].argmin()]
    left = np.flatnonzero(right_of >= 0)
    cells = np.unique(right_of[left])
    if not len(cells):
        return parent

    def peers(edge: np.ndarray) -> np.ndarray:
        """How many other lines share each cell's edge (within a text height)."""
        return (np.abs(edge[cells, None] - edge[None, :]) < h_text).sum(axis=1) - 1

    ends, starts = peers(x1), peers(x0)
    short = len(cells) >= 2 and np.median((x1 - x0)[cells]) < 0.5 * np.median((x1 - x0)[left])
    is_cell = np.zeros(n, bool)
    is_cell[cells] = short | (ends >= 2) & (ends > starts) & ((x1 - x0)[cells] < CELL_WIDTH * h_text)
    for i in left[is_cell[right_of[left]]]:
        parent[parent == parent[right_of[i]]] = parent[i]
    return parent


def _attach(rest: np.ndarray, line_of: np.ndarray, frags: list[np.ndarray], stats: np.ndarray, h_text: float) -> None:
    """Give each component in rest to the horizontally overlapping line whose core is nearest (if near)."""
    if not len(rest) or not frags:
        return
    x, w, h = stats[:, 0], stats[:, 2], stats[:, 3]
    cy, b = _core(stats, h_text)
    ctop = np.array([(cy - b)[m].min() for m in frags])
    cbot = np.array([(cy + b)[m].max() for m in frags])
    lx0 = np.array([x[m].min() for m in frags]) - 2 * h_text
    lx1 = np.array([(x + w)[m].max() for m in frags]) + 2 * h_text
    hm = np.array([np.median(h[m]) for m in frags])
    cx, cyr = (x + w / 2)[rest, None], cy[rest, None]
    dist = np.maximum(np.maximum(ctop - cyr, cyr - cbot), 0)
    dist[(cx < lx0) | (cx > lx1) | (dist > hm)] = np.inf
    best = dist.argmin(axis=1)
    found = np.isfinite(dist[np.arange(len(rest)), best])
    line_of[rest[found]] = best[found]


def _merge_fragments(frags: list[np.ndarray], stats: np.ndarray, h_text: float) -> list[np.ndarray]:
    """Join pieces of one line split by a wide gap (justified text, handwriting), narrowest gaps first,
    but not across a column gutter: a wide gap where lines nearby start at the same x instead of crossing."""
    n = len(frags)
    if n < 2:
        return frags
    x, y, w, h = stats[:, :4].T.astype(np.float64)
    cy, b = _core(stats, h_text)
    x0 = np.array([x[m].min() for m in frags])
    x1 = np.array([(x + w)[m].max() for m in frags])
    top = np.array([(cy - b)[m].min() for m in frags])
    bot = np.array([(cy + b)[m].max() for m in frags])
    asc = np.array([max(h_text, np.percentile(h[m], 90)) for m in frags])  # ascender height, even if strokes broke

    def end_band(m: np.ndarray, at_right: bool) -> tuple[float, float]:
        """Core band of a piece's first/last two text heights (handwritten lines wander)."""
        near_end = (x + w)[m] >= (x + w)[m].max() - 2 * h_text if at_right else x[m] <= x[m].min() + 2 * h_text
        return (cy - b)[m][near_end].min(), (cy + b)[m][near_end].max()

    rtop, rbot = np.array([end_band(m, True) for m in frags]).T
    ltop, lbot = np.array([end_band(m, False) for m in frags]).T
    pairs = []
    for i in range(n):  # each piece with its nearest right neighbour on the same row
        overlap = np.minimum(lbot, rbot[i]) - np.maximum(ltop, rtop[i])
        gap = x0 - x1[i]
        # touching or slightly overlapping pieces of a row join too (a comma or a descender between them)
        cand = (overlap > 0.25 * np.minimum(lbot - ltop, rbot[i] - rtop[i])) & (gap > -h_text) & (x0 > x0[i])
        cand &= gap < 4 * np.maximum(asc, asc[i])
        if cand.any():
            j = int(np.flatnonzero(cand)[gap[cand].argmin()])
            pairs.append((gap[j], i, j))
    parent = np.arange(n)
    for gap, i, j in sorted(pairs):  # narrowest gaps first
        ri, rj = parent[i], parent[j]
        if ri == rj:
            continue
        # A gutter: at least a text height wide, more lines nearby start where j does than cross it, and
        # lines nearby end left of it too (no gutter after a list's numbers, a drop capital, a hanging word).
        near = (parent == np.arange(n)) & (top < bot[rj] + 5 * h_text) & (bot > top[rj] - 5 * h_text)
        near[[ri, rj]] = False
        aligned = (near & (np.abs(x0 - x0[j]) < h_text)).sum()
        mid = (x1[i] + x0[j]) / 2
        left_column = (near & (x1 < mid) & (x1 - x0 > 4 * h_text)).any()
        if gap >= h_text and left_column and aligned >= 2 and aligned > (near & (x0 < mid) & (x1 > mid)).sum():
            continue
        parent[parent == rj] = ri  # extents of a group live at its root
        x0[ri], x1[ri] = min(x0[ri], x0[rj]), max(x1[ri], x1[rj])
        top[ri], bot[ri] = min(top[ri], top[rj]), max(bot[ri], bot[rj])
    return [np.concatenate([frags[k] for k in np.flatnonzero(parent == r)]) for r in np.unique(parent)]


def _reading_order(bands: np.ndarray, idx: list[int]) -> list[int]:
    """Recursive XY-cut: split at empty vertical channels (columns, left to right) first, else at the
    widest horizontal gaps (blocks, top to bottom); lines within a block by y."""
    if len(idx) <= 1:
        return idx
    x0, y0, x1, y1 = bands[idx, :4].T
    pad = 0.3 * np.median(y1 - y0)  # consecutive lines of a paragraph overlap after padding
    for lo, hi, widest_only in ((x0, x1, False), (y0 - pad, y1 + pad, True)):
        order = np.argsort(lo)
        reach = np.maximum.accumulate(hi[order])
        gaps = lo[order][1:] - reach[:-1]
        if gaps.max() <= 0:
            continue
        cuts = np.flatnonzero(gaps >= (0.8 * gaps.max() if widest_only else 1e-9)) + 1
        groups = np.split(np.asarray(idx)[order], cuts)
        if not widest_only and not _side_by_side(bands, groups):
            continue  # lines at the left and centred ones taking turns, row by row: one column
        if not widest_only and len(groups) == 2 and _is_table(bands, list(groups[0]), list(groups[1])):
            return _by_rows(bands, idx)
        return [i for g in groups for i in _reading_order(bands, list(g))]
    return sorted(idx, key=lambda i: bands[i, 4] + bands[i, 5])


def _side_by_side(bands: np.ndarray, groups: list[np.ndarray]) -> bool:
    """Columns run side by side: some line of one sits beside (overlaps by a fifth of its height, in y)
    a line of another. Groups whose lines each have a row of their own are one column, read by rows."""
    y0, y1 = bands[:, 1], bands[:, 3]
    label = np.concatenate([np.full(len(g), k) for k, g in enumerate(groups)])
    idx = np.concatenate(groups)
    overlap = np.minimum(y1[idx, None], y1[None, idx]) - np.maximum(y0[idx, None], y0[None, idx])
    height = np.minimum((y1 - y0)[idx, None], (y1 - y0)[None, idx])
    return bool(((overlap > 0.2 * height) & (label[:, None] != label[None, :])).any())


def _is_table(bands: np.ndarray, left: list[int], right: list[int]) -> bool:
    """Two "columns" that are one table (a receipt's items and prices): nearly every right-hand line
    sits on the row of a left-hand one, and the right-hand lines are short beside the left ones.
    Two columns of text have lines of about the same width, so they are still read column by column."""
    ctop, cbot = bands[:, 4], bands[:, 5]
    on_a_row = [any(min(cbot[r], cbot[i]) > max(ctop[r], ctop[i]) for i in left) for r in right]
    widths = bands[:, 2] - bands[:, 0]
    return (len(right) >= 3 and float(np.mean(on_a_row)) >= 0.8
            and float(np.median(widths[right])) < 0.5 * float(np.median(widths[left])))


def _by_rows(bands: np.ndarray, idx: list[int]) -> list[int]:
    """Lines top to bottom; lines sharing a row (their cores overlap) left to right."""
    rows: list[list[int]] = []
    for i in sorted(idx, key=lambda i: bands[i, 4] + bands[i, 5]):
        last = rows[-1] if rows else None
        if last and min(bands[i, 5], bands[last, 5].min()) > max(bands[i, 4], bands[last, 4].max()):
            last.append(i)
        else:
            rows.append([i])
    return [i for row in rows for i in sorted(row, key=lambda i: bands[i, 0])]


# ---------------------------------------------------------------- crops


def _make_region(
    flat: np.ndarray, labels: np.ndarray, stats: np.ndarray, line_of: np.ndarray, i: int, band: tuple,
    to_orig: np.ndarray, orig_shape: tuple[int, int],
) -> LineRegion:
    """Crop line i from the flattened deskewed page, erasing ink that belongs to other lines."""
    x0, y0, x1, y1 = band[:4]
    lh = y1 - y0
    H, W = flat.shape
    r0, r1 = max(0, int(y0 - MARGIN_Y * lh)), min(H, int(np.ceil(y1 + MARGIN_Y * lh)))
    c0, c1 = max(0, int(x0 - MARGIN_X * lh)), min(W, int(np.ceil(x1 + MARGIN_X * lh)))
    crop = flat[r0:r1, c0:c1].copy()
    # Components of other lines poking into the margin (descenders from above, ascenders from below).
    # Ones mostly inside this line's band (e.g. touching it) stay.
    cy, ch = stats[:, 1], stats[:, 3]
    inside = np.clip(np.minimum(cy + ch, y1) - np.maximum(cy, y0), 0, None) / ch
    lut = np.concatenate([[0], (line_of != i) & (inside < 0.5)]).astype(np.uint8)
    foreign = cv2.dilate(lut[labels[r0:r1, c0:c1]], np.ones((3, 3), np.uint8))
    crop[foreign > 0] = 255
    region = LineRegion(np.zeros((4, 2), np.float32), crop, to_orig, float(c0), (float(y0), float(y1)),
                        (orig_shape[1], orig_shape[0]))
    region.box = _to_original(x0, y0, x1, y1, region)
    return region
