"""hOCR 1.2 export: XHTML whose classes and `title` properties carry the layout (kba.github.io/hocr-spec).

ocr_page > ocr_carea > ocr_par > ocr_line > ocrx_word, each with `bbox`; words with `x_wconf`
(0-100), pages with `image` and `ppageno`. Our detector finds lines, so each page has one content
area and one paragraph around its lines (as Tesseract's hOCR has at least one of each). A page
that was read turned (its `rotation`) gives them `textangle`, the text's angle in the image.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from ocr_core.export.text import bbox, words_of
from ocr_core.result import OcrResult

CAPABILITIES = "ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf"


def _bbox(box: tuple[int, int, int, int]) -> str:
    return "bbox {} {} {} {}".format(*box)


def to_hocr(result: OcrResult, source: str = "") -> str:
    image = source.replace('"', "") or "image"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"',
        '    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">',
        " <head>",
        f"  <title>{escape(source or 'OCR result')}</title>",
        '  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>',
        f'  <meta name="ocr-system" content={quoteattr(result.engine)}/>',
        f'  <meta name="ocr-capabilities" content="{CAPABILITIES}"/>',
        f'  <meta name="ocr-number-of-pages" content="{len(result.pages)}"/>',
        " </head>",
        " <body>",
    ]
    for page in result.pages:
        p = page.page
        title = f'image "{image}"; {_bbox((0, 0, page.width, page.height))}; ppageno {p - 1}'
        out.append(f"  <div class='ocr_page' id='page_{p}' title={quoteattr(title)}>")
        if page.lines:
            boxes = [bbox(ln.box, page.width, page.height) for ln in page.lines]
            area = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
            # a page read turned: its text lies at that angle (counter-clockwise) in the image
            angle = f"; textangle {page.rotation}" if page.rotation else ""
            out.append(f"   <div class='ocr_carea' id='block_{p}_1' title='{_bbox(area)}{angle}'>")
            out.append(f"    <p class='ocr_par' id='par_{p}_1' title='{_bbox(area)}{angle}'>")
            for li, (line, box) in enumerate(zip(page.lines, boxes), 1):
                out.append(f"     <span class='ocr_line' id='line_{p}_{li}' title='{_bbox(box)}{angle}'>")
                for wi, word in enumerate(words_of(line), 1):
                    wtitle = f"{_bbox(bbox(word.box, page.width, page.height))}; x_wconf {round(word.confidence * 100)}"
                    out.append(f"      <span class='ocrx_word' id='word_{p}_{li}_{wi}' title='{wtitle}'>"
                               f"{escape(word.text)}</span>")
                out.append("     </span>")
            out.append("    </p>")
            out.append("   </div>")
        out.append("  </div>")
    out += [" </body>", "</html>", ""]
    return "\n".join(out)
