"""What PDF input and the output formats cost, on a rendered 3-page US-letter PDF.

    python -m benchmarks.formats [--out benchmarks/reports/formats.md] [--repeats 3]

A born-digital PDF (ReportLab, 3 pages of 11-pt Times, 40 lines each) is rasterised at 150 to
400 dpi (pypdfium2), read in printed mode, and exported to every format. Per dpi: render ms per
page, OCR seconds per page, lines found (of 120) and CER against the text the PDF was made from;
per format: export ms for the whole document and output size. Medians of --repeats after a warm-up; one process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import statistics
import time
from pathlib import Path

from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("the quick brown fox jumps over a lazy dog while seven bright invoices arrive on "
         "monday and the committee reviews every report before noon").split()
PAGES, LINES = 3, 40


def make_pdf() -> tuple[bytes, str]:
    """A 3-page letter PDF of numbered text lines, and its text (pages joined by a blank line)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    pages = []
    for p in range(PAGES):
        lines = [f"{p * LINES + i + 1}. " + " ".join(WORDS[(p * 7 + i * 3 + k) % len(WORDS)] for k in range(9)).capitalize()
                 for i in range(LINES)]
        c.setFont("Times-Roman", 11)
        for i, text in enumerate(lines):
            c.drawString(72, letter[1] - 72 - i * 16, text)
        c.showPage()
        pages.append("\n".join(lines))
    c.save()
    return buf.getvalue(), "\n\n".join(pages)


def timed(fn, repeats: int) -> tuple[float, object]:  # noqa: ANN001
    fn()  # warm-up
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "reports" / "formats.md")
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()

    from ocr_core.engine import OcrEngine
    from ocr_core.export import FORMATS, export
    from ocr_core.image_io import decode_image
    from ocr_core.metrics import cer

    data, truth = make_pdf()
    engine = OcrEngine(detector="opencv")
    engine.warm_up()
    dpi_rows, fmt_rows = [], []
    for dpi in (150, 200, 250, 300, 350, 400):
        render_s, pages = timed(lambda dpi=dpi: decode_image(data, dpi=dpi), a.repeats)
        ocr_s, result = timed(lambda pages=pages: engine.read_pages(pages, "printed"), a.repeats)
        dpi_rows.append(f"| {dpi} | {pages[0].width}x{pages[0].height} | {render_s / PAGES * 1000:.0f} | "
                        f"{ocr_s / PAGES:.2f} | {sum(len(pg.lines) for pg in result.pages)} | {cer(truth, result.text):.2%} |")
        if dpi == 300:
            for name in FORMATS:
                s, out = timed(lambda name=name, result=result, pages=pages: export(result, name, pages=pages, dpi=300),
                               a.repeats)
                fmt_rows.append(f"| {name} | {s * 1000:.1f} | {len(out) / 1024:.0f} |")
    load = os.getloadavg()[0]
    report = [
        f"# PDF input and output formats ({dt.date.today().isoformat()}, {os.cpu_count()} cores)", "",
        f"Command: `python -m benchmarks.formats`; median of {a.repeats} after a warm-up; one process, "
        f"`OcrEngine(detector=\"opencv\")`, printed mode. 1-minute load average at the end: {load:.1f} "
        "(a training run shares the machine when it is above 1).",
        f"Input: a born-digital {PAGES}-page US-letter PDF (ReportLab, 11-pt Times, {LINES} lines a page, "
        f"{len(data) / 1024:.0f} KB), rasterised by pypdfium2.", "",
        "| dpi | page pixels | render ms/page | OCR s/page | lines found | CER (whole document) |",
        "| --- | --- | --- | --- | --- | --- |", *dpi_rows, "",
        f"Exports of the 300-dpi reading ({PAGES} pages):", "",
        "| format | export ms (document) | size KB |", "| --- | --- | --- |", *fmt_rows, "",
    ]
    a.out.write_text("\n".join(report))
    print("\n".join(report))


if __name__ == "__main__":
    main()
