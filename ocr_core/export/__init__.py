"""One `OcrResult`, many output formats: `export(result, "hocr")` -> bytes.

| format | module | what |
| --- | --- | --- |
| `txt` | text.py | the text; pages separated by a form feed (`\\f`), as Tesseract does |
| `json` | text.py | `OcrResult.to_dict()` (what the API and batch job return by default) |
| `jsonl` | text.py | one JSON object per text line (page, text, confidence, box, words) |
| `tsv` | text.py | Tesseract's TSV columns: one row per page, block, paragraph, line and word |
| `hocr` | hocr.py | hOCR 1.2 (XHTML): ocr_page > ocr_carea > ocr_par > ocr_line > ocrx_word with bbox, x_wconf |
| `alto` | alto.py | ALTO 4.4 XML: Page > PrintSpace > TextBlock > TextLine > String/SP with WC |
| `pdf` | pdf.py | searchable PDF: each page image with the text invisible under it (needs the page images) |

`overlay.py` draws the line and word boxes on the page images (a PNG, `ocr --overlay`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ocr_core.errors import BadRequestError
from ocr_core.image_io import PageImage
from ocr_core.result import OcrResult


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str  # the HTTP Content-Type the API answers with
    extension: str  # file name suffix (batch results, `ocr -o DIR`)
    binary: bool = False
    needs_pages: bool = False  # rendering needs the page images, not only the result


FORMATS = {f.name: f for f in (
    Format("json", "application/json", ".json"),
    Format("txt", "text/plain; charset=utf-8", ".txt"),
    Format("jsonl", "application/x-ndjson", ".jsonl"),
    Format("tsv", "text/tab-separated-values; charset=utf-8", ".tsv"),
    Format("hocr", "application/xhtml+xml; charset=utf-8", ".hocr"),
    Format("alto", "application/xml; charset=utf-8", ".alto.xml"),
    Format("pdf", "application/pdf", ".pdf", binary=True, needs_pages=True),
)}


def get_format(name: str) -> Format:
    if name not in FORMATS:
        raise BadRequestError(f"format must be one of {', '.join(FORMATS)}, not {name!r}", "bad_format")
    return FORMATS[name]


def export(result: OcrResult, fmt: str, *, pages: list[PageImage] | None = None, source: str = "",
           dpi: int | None = None) -> bytes:
    """The result in `fmt` as bytes (UTF-8 for text formats). `source` names the input file (hOCR, ALTO);
    `pages` are the decoded page images (required for `pdf`), rendered at `dpi` for PDF inputs."""
    from ocr_core.export import alto, hocr, pdf, text

    get_format(fmt)
    if fmt == "pdf":
        if pages is None:
            raise ValueError("the searchable PDF needs the page images (pages=...)")
        return pdf.searchable_pdf(result, pages, dpi=dpi)
    writers = {"json": text.to_json, "txt": text.to_text, "jsonl": text.to_jsonl, "tsv": text.to_tsv,
               "hocr": lambda r: hocr.to_hocr(r, source), "alto": lambda r: alto.to_alto(r, source)}
    return writers[fmt](result).encode("utf-8")
