"""Where blur starts to cost characters: the page blur measure (`ocr_core.quality.page_blur`) against
our CER, to set `quality.BLURRED`, the threshold of the `blurred` warning.

    python -m benchmarks.blur [--pages-per-cell 2] [--out benchmarks/reports/blur.md]

Pages: short printed pages rendered here (text from training's corpus, fixed seeds) in faces
training never saw (the held-out book and till faces of training.fonts: crimson-pro,
sorts-mill-goudy, b612-mono, share-tech-mono; the pixel faces doto and tiny5 are left out, they read
badly even sharp) and two common document faces (DejaVu Sans, Liberation Sans), at x-heights
of 8-22 px; plus the repository's own real-looking images (samples/printed-letter.png,
samples/receipt.png, tests/data/printed-scan.tif). Never ../shared/dev-eval, which is only for
measuring. Each page is blurred with a Gaussian whose sigma is a fraction of its x-height, given
a little sensor noise, and read by the engine as served (printed mode); the page's blur measure is
the one the engine computed for its `blurred` warning.

Then, once the threshold is set and never to choose it, false alarms: how many real images get
`blurred`, read as `benchmarks.eval_cer` reads them (line sets as line crops), with their CER: the
repository's shipped images and, where ../shared exists, the dev-eval and htr-real val sets.

The threshold is the lower edge of the first blur bucket from which on the pages' mean CER
exceeds TARGET_CER (and stays above it), printed with the table; `quality.BLURRED` is set from it
by hand (its docstring says where it comes from).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from benchmarks.reporting import publish
from ocr_core import quality
from ocr_core.engine import OcrEngine
from ocr_core.metrics import cer
from ocr_core.page import PageImage

ROOT = Path(__file__).resolve().parents[1]
SEED = 20_261_211  # fixed: the same pages on every run
X_HEIGHTS = (8, 11, 15, 22)  # px
SIGMAS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)  # Gaussian sigma in x-heights
NOISE = 2.0  # gray levels of sensor noise added after the blur
LINES_PER_PAGE = 6
TARGET_CER = 0.10  # "too blurred": the pages' mean CER above this
EDGES = (0.0, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.10, 0.12, 0.15, 0.2, 1.0)  # blur buckets
DOCUMENT_FACES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                  "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf")
REAL_LOOKING = ("samples/printed-letter.png", "samples/receipt.png", "tests/data/printed-scan.tif")


def faces() -> dict[str, str]:
    """Face name -> font file: the held-out book and till faces (not the pixel ones), two document faces."""
    from training import fonts

    held_out = fonts.by_family(fonts.book_fonts("validation") + fonts.receipt_fonts("validation"))
    if not held_out:
        raise SystemExit(f"the held-out fonts are not in {fonts.FONT_CACHE}: run ./dev.sh setup (training/install-fonts.sh)")
    out = {name: next((f for f in files if "400-normal" in f or "Regular" in f), files[0])
           for name, files in sorted(held_out.items()) if name not in ("doto", "tiny5")}
    return out | {Path(f).stem: f for f in DOCUMENT_FACES if Path(f).exists()}


def render_page(font_path: str, x_height: int, rng: random.Random) -> tuple[np.ndarray, str, float]:
    """A sharp page of LINES_PER_PAGE lines (dark ink on light paper), its text, its x-height in px."""
    from training import fonts
    from training.corpus import text_line

    per_pt = ImageFont.truetype(font_path, 100).getbbox("x", anchor="ls")
    font = ImageFont.truetype(font_path, max(6, round(x_height * 100 / (per_pt[3] - per_pt[1]))))
    chars = fonts.charset(font_path)
    texts = []
    while len(texts) < LINES_PER_PAGE:
        text = " ".join("".join(c for c in text_line(rng, max_chars=48) if c == " " or c in chars).split())
        if len(text) >= 12:
            texts.append(text)
    ascent, descent = font.getmetrics()
    pitch, margin = int(1.4 * (ascent + descent)), 3 * x_height
    width = int(max(font.getlength(t) for t in texts)) + 2 * margin
    page = Image.new("L", (width, pitch * LINES_PER_PAGE + 2 * margin), rng.randint(225, 245))
    draw = ImageDraw.Draw(page)
    ink = rng.randint(20, 60)
    for i, text in enumerate(texts):
        draw.text((margin, margin + i * pitch), text, fill=ink, font=font)
    return np.asarray(page), "\n".join(texts), float(x_height)


def x_height_of(gray: np.ndarray) -> float:
    """A real-looking image's x-height, roughly: the median height of its ink components."""
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink)
    heights = stats[1:, cv2.CC_STAT_HEIGHT][stats[1:, cv2.CC_STAT_AREA] >= 6]
    return float(np.median(heights))


def degrade(gray: np.ndarray, sigma_px: float, rng: np.random.Generator) -> np.ndarray:
    blurred = cv2.GaussianBlur(gray, (0, 0), sigma_px) if sigma_px > 0 else gray
    return np.clip(blurred + rng.normal(0, NOISE, gray.shape), 0, 255).astype(np.uint8)


def sources(pages_per_cell: int) -> list[tuple[str, np.ndarray, str, float]]:
    """(name, sharp gray page, truth, x-height px) for every face, x-height and seed, then the real-looking images."""
    out = []
    for f, (name, path) in enumerate(faces().items()):
        for xh in X_HEIGHTS:
            for k in range(pages_per_cell):
                gray, text, x = render_page(path, xh, random.Random(SEED + 1000 * f + 10 * xh + k))
                out.append((name, gray, text, x))
    for rel in REAL_LOOKING:
        gray = cv2.imread(str(ROOT / rel), cv2.IMREAD_GRAYSCALE)
        truth = (ROOT / rel).with_suffix(".txt").read_text(encoding="utf-8")
        out.append((Path(rel).name, gray, truth, x_height_of(gray)))
    return out


def measure(engine: OcrEngine, pages_per_cell: int) -> tuple[list[dict], float]:
    """One row per (page, blur): the engine's blur measure and CER. Also the mean CPU ms of page_blur."""
    rows, cpu = [], []
    noise = np.random.default_rng(SEED)
    for name, gray, truth, xh in sources(pages_per_cell):
        for frac in SIGMAS:
            img = degrade(gray, frac * xh, noise)
            result = engine.read(cv2.imencode(".png", img)[1].tobytes(), mode="printed")
            page = result.pages[0]
            rows.append({"source": name, "x_height": xh, "sigma": frac, "blur": page.blur,
                         "cer": cer(truth, result.text), "flagged": "blurred" in page.warnings, "rotation": page.rotation})
            regions = engine.detector.detect(PageImage(cv2.cvtColor(img, cv2.COLOR_GRAY2RGB), 1))
            t = time.process_time()
            for _ in range(5):
                quality.page_blur([r.crop for r in regions], [r.band[1] - r.band[0] for r in regions])
            cpu.append((time.process_time() - t) / 5)
    return rows, 1000 * float(np.mean(cpu))


SHIPPED = ("samples/printed-letter.png", "samples/receipt.png", "tests/data/printed-scan.tif", "tests/data/two-pages.pdf",
           "samples/handwritten-note.png", "samples/handwritten-word.png", "tests/data/handwritten-line.png")
CHECK_SETS = ("printed", "handwritten", "handwritten-warped", "handwritten-real-en", "htr-real-val", "synthetic-receipts",
              "synthetic-receipt-pages")


def false_alarms(engine: OcrEngine) -> list[str]:
    """Report rows: per set of real images, how many got `blurred` and the CER of those and of the rest."""
    from benchmarks.eval_cer import DEV_EVAL, SETS, samples

    groups = {"shipped (samples/, tests/data/)": [(ROOT / f, ROOT / f.replace(".png", ".txt").replace(".tif", ".txt")
                                                   .replace(".pdf", ".txt"), "handwritten" if "handwritten" in f else "printed", "auto")
                                                  for f in SHIPPED]}
    rows = []
    for name, files in groups.items():
        got = [(engine.read(f.read_bytes(), mode=mode, layout=layout), t.read_text(encoding="utf-8")) for f, t, mode, layout in files]
        rows.append(_alarm_row(name, got))
    if not DEV_EVAL.is_dir():
        return rows + ["| ../shared/dev-eval, htr-real | skipped: ../shared is absent | | | |"]
    for name in CHECK_SETS:
        mode, psm = SETS[name]
        layout = "line" if psm == 7 else "auto"  # as benchmarks.eval_cer reads them
        got = [(engine.read(f.read_bytes(), mode=mode, layout=layout), truth) for f, truth in samples(name)]
        rows.append(_alarm_row(f"{name} ({mode}, layout {layout})", got))
    return rows


def _alarm_row(name: str, got: list) -> str:
    flagged = [cer(truth, r.text) for r, truth in got if "blurred" in r.warnings]
    rest = [cer(truth, r.text) for r, truth in got if "blurred" not in r.warnings]
    mean = lambda xs: f"{100 * np.mean(xs):.1f}%" if xs else "–"  # noqa: E731
    return f"| {name} | {len(got)} | {len(flagged)} | {mean(flagged)} | {mean(rest)} |"


def dense_page_cost() -> tuple[int, float]:
    """`page_blur` on the speed benchmark's dense 300-dpi page (57 lines): its lines, median CPU ms of 20 runs."""
    import tempfile

    from benchmarks.speed import dense_page
    from ocr_core.segment import segment_lines

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dense.png"
        dense_page(path)
        regions = segment_lines(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE))
    times = []
    for _ in range(20):
        t = time.process_time()
        quality.page_blur([r.crop for r in regions], [r.band[1] - r.band[0] for r in regions])
        times.append(time.process_time() - t)
    return len(regions), 1000 * float(np.median(times))


def threshold(rows: list[dict]) -> float | None:
    """Lower edge of the first bucket from which on every bucket's mean CER is over TARGET_CER
    (pages read upright: on a page the orientation check turned, the "lines" measured are not lines)."""
    rows = [r for r in rows if r["rotation"] == 0]
    means = []
    for lo, hi in zip(EDGES, EDGES[1:]):
        got = [r["cer"] for r in rows if r["blur"] is not None and lo <= r["blur"] < hi]
        means.append((lo, float(np.mean(got)) if got else None))
    over = None
    for lo, mean in reversed(means):
        if mean is None:
            continue
        if mean <= TARGET_CER:
            break
        over = lo
    return over


def report(rows: list[dict], cpu_ms: float, dense: tuple[int, float], alarms: list[str], args: argparse.Namespace) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    found = threshold(rows)
    out = [f"# Blur: the page blur measure against our CER ({dt.date.today()}, commit {commit})", "",
           f"`python -m benchmarks.blur --pages-per-cell {args.pages_per_cell}`: {len(rows)} page reads (printed mode, "
           f"the engine as served). Blur measure: `quality.page_blur`, the median over a page's lines of its ink "
           f"edges' Gaussian sigma divided by the line height. Sigma below: the Gaussian applied, in x-heights.", "",
           "## CER by blur measure", "", "| blur measure | pages | mean CER | pages over 10% CER | flagged `blurred` now |",
           "| --- | --- | --- | --- | --- |"]
    upright, turned = [r for r in rows if r["rotation"] == 0], [r for r in rows if r["rotation"]]
    for lo, hi in zip(EDGES, EDGES[1:]):
        got = [r for r in upright if r["blur"] is not None and lo <= r["blur"] < hi]
        if got:
            out.append(f"| {lo:.2f}–{hi:.2f} | {len(got)} | {100 * np.mean([r['cer'] for r in got]):.1f}% | "
                       f"{sum(r['cer'] > TARGET_CER for r in got)} | {sum(r['flagged'] for r in got)} |")
    none = [r for r in upright if r["blur"] is None]
    for label, got in (("not measured", none), ("read turned (any measure)", turned)):
        if got:
            out.append(f"| {label} | {len(got)} | {100 * np.mean([r['cer'] for r in got]):.1f}% | "
                       f"{sum(r['cer'] > TARGET_CER for r in got)} | {sum(r['flagged'] for r in got)} |")
    out += ["", "Pages read turned: the orientation check found no upright reading of a heavily blurred page "
            "and read it sideways; its measure is then taken across the lines (`rotated` and `mostly_unreadable` "
            "still flag such a page).", "", f"First bucket from which on the mean CER stays over {TARGET_CER:.0%}: "
            f"**{found if found is None else f'{found:.2f}'}**; `quality.BLURRED` = {quality.BLURRED}.", ""]
    flagged = [r for r in rows if r["flagged"]]
    sharp = [r for r in rows if r["sigma"] == 0.0]
    bad = [r for r in rows if r["cer"] > TARGET_CER]
    out += [f"At `quality.BLURRED` = {quality.BLURRED}: {len(flagged)} pages flagged, of which "
            f"{sum(r['cer'] <= TARGET_CER for r in flagged)} read with CER <= 10% (false alarms); "
            f"{sum(r['flagged'] for r in sharp)} of {len(sharp)} unblurred pages flagged; "
            f"{sum(not r['flagged'] for r in bad)} of {len(bad)} pages over 10% CER not flagged "
            "(too small, or unreadable for other reasons: `mostly_unreadable` covers those).", "",
            f"Cost: `page_blur` takes {cpu_ms:.2f} ms CPU per page on average on these pages, {dense[1]:.1f} ms on "
            f"`benchmarks.speed`'s dense 300-dpi page ({dense[0]} lines, {quality.BLUR_LINES} of them measured; "
            "the whole page takes about 0.9 s CPU to read, `benchmarks/reports/speed.md`).", "",
            "## False alarms on real images (checked after the threshold was set, never used to set it)", "",
            "| images | count | flagged `blurred` | CER of the flagged | CER of the rest |", "| --- | --- | --- | --- | --- |",
            *alarms, "",
            "## By applied blur and x-height (mean blur measure / mean CER)", "",
            "| sigma (x-heights) | " + " | ".join(f"x-height {xh} px" for xh in X_HEIGHTS) + " | real-looking images | pages read turned |",
            "| --- |" + " --- |" * (len(X_HEIGHTS) + 2)]
    real = {Path(p).name for p in REAL_LOOKING}
    for s in SIGMAS:
        cells = []
        for group in [[r for r in rows if r["source"] not in real and r["x_height"] == xh] for xh in X_HEIGHTS] + \
                     [[r for r in rows if r["source"] in real]]:
            got = [r for r in group if r["sigma"] == s]
            blur = [r["blur"] for r in got if r["blur"] is not None]
            cells.append(f"{np.mean(blur):.3f} / {100 * np.mean([r['cer'] for r in got]):.1f}%" if blur else
                         f"– / {100 * np.mean([r['cer'] for r in got]):.1f}%")
        turned_here = [r for r in rows if r["sigma"] == s]
        out.append(f"| {s:.2f} | " + " | ".join(cells) + f" | {sum(r['rotation'] != 0 for r in turned_here)} of {len(turned_here)} |")
    out += ["", "## Per source (sigma 0 / 0.2 / 0.3: blur measure, CER)", "", "| source | x-height | sigma 0 | sigma 0.2 | sigma 0.3 |",
            "| --- | --- | --- | --- | --- |"]
    seen = []
    for r in rows:
        key = (r["source"], r["x_height"])
        if key in seen:
            continue
        seen.append(key)
        cells = []
        for s in (0.0, 0.2, 0.3):
            got = [x for x in rows if (x["source"], x["x_height"]) == key and x["sigma"] == s]
            blur = [x["blur"] for x in got if x["blur"] is not None]
            cells.append(f"{np.mean(blur):.3f}, {100 * np.mean([x['cer'] for x in got]):.1f}%" if blur else
                         f"–, {100 * np.mean([x['cer'] for x in got]):.1f}%")
        out.append(f"| {key[0]} | {key[1]:.0f} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages-per-cell", type=int, default=2, help="pages per face and x-height")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "reports" / "blur.md")
    args = parser.parse_args(argv)
    engine = OcrEngine()
    rows, cpu_ms = measure(engine, args.pages_per_cell)
    return publish(report(rows, cpu_ms, dense_page_cost(), false_alarms(engine), args), args.out)


if __name__ == "__main__":
    raise SystemExit(main())
