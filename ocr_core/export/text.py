"""Plain-text exports of an `OcrResult`: txt, json, jsonl and Tesseract-style tsv."""

from __future__ import annotations

import json

import numpy as np

from ocr_core.result import Line, OcrResult, Word

PAGE_SEPARATOR = "\f"  # form feed between pages, as `tesseract ... txt` writes


def bbox(box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """A polygon -> its axis-aligned (left, top, right, bottom) in whole pixels, inside the page."""
    pts = np.asarray(box, dtype=float).reshape(-1, 2)
    x0, y0 = np.floor(pts.min(axis=0))
    x1, y1 = np.ceil(pts.max(axis=0))
    x0, y0 = min(max(int(x0), 0), width - 1), min(max(int(y0), 0), height - 1)
    return x0, y0, min(max(int(x1), x0 + 1), width), min(max(int(y1), y0 + 1), height)


def words_of(line: Line) -> list[Word]:
    """The line's words; a line read without word positions is split at its spaces, each word's box
    cut from the line's polygon in proportion to its character offsets."""
    words = [w for w in line.words if w.text.strip()]
    if words or not line.text.strip():
        return words
    tl, tr, br, bl = np.asarray(line.box, dtype=float).reshape(4, 2)
    out, pos, n = [], 0, len(line.text)
    for token in line.text.split():
        start = line.text.index(token, pos)
        pos = start + len(token)
        a, b = start / n, pos / n
        out.append(Word(token, line.confidence, np.array([tl + (tr - tl) * a, tl + (tr - tl) * b,
                                                          bl + (br - bl) * b, bl + (br - bl) * a])))
    return out


def to_text(result: OcrResult) -> str:
    """Each page's lines, one per line; pages separated by a form feed."""
    return PAGE_SEPARATOR.join(page.text + "\n" if page.text else "" for page in result.pages)


def to_json(result: OcrResult) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"


def to_jsonl(result: OcrResult) -> str:
    """One JSON object per text line, in reading order (streams well; `jq -c`, pandas.read_json(lines=True))."""
    rows = [json.dumps({"page": page.page, "line": i, **line.to_dict()}, ensure_ascii=False)
            for page in result.pages for i, line in enumerate(page.lines, 1)]
    return "".join(row + "\n" for row in rows)


TSV_COLUMNS = ("level", "page_num", "block_num", "par_num", "line_num", "word_num",
               "left", "top", "width", "height", "conf", "text")


def to_tsv(result: OcrResult) -> str:
    """Tesseract's TSV: levels 1 page, 2 block, 3 paragraph, 4 line, 5 word; conf 0-100 on words, -1 above.

    Our detector finds lines, not blocks or paragraphs: each page has one block and one paragraph.
    """
    rows = ["\t".join(TSV_COLUMNS)]

    def row(level: int, page: int, line: int, word: int, box: tuple[int, int, int, int], conf: float, text: str) -> None:
        x0, y0, x1, y1 = box
        block = par = 1 if level >= 2 else 0
        rows.append("\t".join(map(str, (level, page, block, par, line, word, x0, y0, x1 - x0, y1 - y0,
                                        conf if conf < 0 else round(conf * 100, 2), text))))

    for page in result.pages:
        full = (0, 0, page.width, page.height)
        row(1, page.page, 0, 0, full, -1, "")
        if not page.lines:
            continue
        area = _union([bbox(ln.box, page.width, page.height) for ln in page.lines])
        row(2, page.page, 0, 0, area, -1, "")
        row(3, page.page, 0, 0, area, -1, "")
        for li, line in enumerate(page.lines, 1):
            row(4, page.page, li, 0, bbox(line.box, page.width, page.height), -1, "")
            for wi, word in enumerate(words_of(line), 1):
                row(5, page.page, li, wi, bbox(word.box, page.width, page.height), word.confidence,
                    word.text.replace("\t", " "))
    return "\n".join(rows) + "\n"


def _union(boxes: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
