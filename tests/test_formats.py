"""PDF input and every output format, from real files through the real models.

The two-page PDF and the printed scan are shipped in tests/data (no ../shared needed). hOCR is
parsed as strict XHTML and checked against the hOCR spec's rules we rely on; ALTO is validated
against the official ALTO XSD (conftest.alto_schema); the searchable PDF's text is read back with PDFium.
"""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pypdfium2 as pdfium
import pytest
from conftest import TEST_DATA, alto_schema
from lxml import etree
from PIL import Image
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfgen import canvas

from ocr_core import read
from ocr_core.errors import InvalidImageError
from ocr_core.export import FORMATS, export
from ocr_core.export.overlay import overlay_png
from ocr_core.image_io import decode_image
from ocr_core.metrics import cer
from ocr_core.reader import _engine
from ocr_core.result import OcrResult

PDF = TEST_DATA / "two-pages.pdf"
PDF_PAGES = (TEST_DATA / "two-pages.txt").read_text().split("\f")
DPI = 200


def collapse(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def pdf_read() -> tuple[OcrResult, list]:
    """The two-page PDF rendered at DPI and read in printed mode, with its page images."""
    pages = decode_image(PDF.read_bytes(), dpi=DPI)
    return _engine().read_pages(pages, "printed"), pages


# ------------------------------------------------------------------------------------------ PDF input
def test_pdf_pages_are_rendered_at_the_asked_dpi() -> None:
    doc = pdfium.PdfDocument(PDF.read_bytes())
    sizes_pt = [doc[i].get_size() for i in range(len(doc))]
    for dpi in (100, 300):
        pages = decode_image(PDF.read_bytes(), dpi=dpi)
        assert [p.page for p in pages] == [1, 2]
        for page, (w, h) in zip(pages, sizes_pt):
            assert abs(page.width - w * dpi / 72) <= 1 and abs(page.height - h * dpi / 72) <= 1
            assert page.gray().min() < 100 and np.median(page.gray()) > 180  # dark text on light paper


def test_multipage_pdf_is_read_page_by_page(pdf_read: tuple[OcrResult, list]) -> None:
    result, _ = pdf_read
    assert [p.page for p in result.pages] == [1, 2]
    for page, truth in zip(result.pages, PDF_PAGES):
        assert cer(truth.strip(), page.text) < 0.05, page.text


def _pdf(pages: int, encrypt: str | None = None) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=StandardEncryption(encrypt, canPrint=0) if encrypt else None)
    for i in range(pages):
        c.drawString(72, 720, f"page {i + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


@pytest.mark.parametrize("data,kwargs,code,status", [
    (_pdf(1, encrypt="secret"), {}, "encrypted_pdf", 422),
    (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", {}, "corrupt_pdf", 422),
    (_pdf(1)[:300], {}, "corrupt_pdf", 422),
    (_pdf(3), {"max_pages": 2}, "too_many_pages", 413),
    (_pdf(1), {"dpi": 10}, "bad_dpi", 422),
    (_pdf(1), {"dpi": "²"}, "bad_dpi", 422),  # str.isdigit() says yes to superscripts; int() does not
    (_pdf(1), {"dpi": "３００"}, "bad_dpi", 422),  # nor to fullwidth digits: ASCII only
    (_pdf(1), {"max_pixels": 1_000_000}, "too_many_pixels", 413),  # a Letter page at 300 dpi is 8.4 Mpx
])
def test_bad_pdfs_are_clear_4xx_errors(data: bytes, kwargs: dict, code: str, status: int) -> None:
    with pytest.raises(InvalidImageError) as err:
        decode_image(data, **kwargs)
    assert err.value.code == code and err.value.http_status == status, err.value.message
    assert "Traceback" not in err.value.message and err.value.message.endswith(".")


# -------------------------------------------------------------------------------------- text formats
def test_txt_separates_pages_with_a_form_feed(pdf_read: tuple[OcrResult, list]) -> None:
    result, _ = pdf_read
    text = export(result, "txt").decode()
    assert text.count("\f") == 1
    assert [collapse(t) for t in text.split("\f")] == [collapse(p.text) for p in result.pages]


def test_json_writes_each_line_once(pdf_read: tuple[OcrResult, list]) -> None:
    result, _ = pdf_read
    doc = json.loads(export(result, "json"))
    assert doc["schema_version"] == "2.0" and doc["page_count"] == 2
    assert doc["text"] == result.text  # the top-level text stays
    assert [ln["page"] for ln in doc["lines"]] == [1, 2]
    assert all("lines" not in page for page in doc["pages"])
    assert [p["line_count"] for p in doc["pages"]] == [1, 1]
    raw = export(result, "json").decode()
    for line in doc["lines"]:
        assert raw.count(json.dumps(line["text"], ensure_ascii=False)) == 1 + sum(  # once as a line, plus page texts
            p["text"] == line["text"] for p in doc["pages"]) + (doc["text"] == line["text"])


def test_jsonl_has_one_object_per_text_line(pdf_read: tuple[OcrResult, list]) -> None:
    result, _ = pdf_read
    rows = [json.loads(r) for r in export(result, "jsonl").decode().splitlines()]
    assert [(r["page"], r["line"], r["text"]) for r in rows] == [
        (p.page, i, ln.text) for p in result.pages for i, ln in enumerate(p.lines, 1)]


def test_tsv_has_tesseract_columns_and_one_row_per_word(pdf_read: tuple[OcrResult, list]) -> None:
    result, _ = pdf_read
    lines = export(result, "tsv").decode().splitlines()
    header = lines[0].split("\t")
    assert header == ["level", "page_num", "block_num", "par_num", "line_num", "word_num",
                      "left", "top", "width", "height", "conf", "text"]
    rows = [dict(zip(header, ln.split("\t"))) for ln in lines[1:]]
    assert all(len(ln.split("\t")) == 12 for ln in lines)
    words = [r for r in rows if r["level"] == "5"]
    assert [r["text"] for r in words] == [w.text for p in result.pages for ln in p.lines for w in ln.words]
    for r in words:
        page = result.pages[int(r["page_num"]) - 1]
        assert 0 <= float(r["conf"]) <= 100
        assert int(r["left"]) + int(r["width"]) <= page.width and int(r["top"]) + int(r["height"]) <= page.height
    assert [r["page_num"] for r in rows if r["level"] == "1"] == ["1", "2"]


# -------------------------------------------------------------------------------------------- hOCR
HOCR_CHILD = {"ocr_page": "ocr_carea", "ocr_carea": "ocr_par", "ocr_par": "ocr_line", "ocr_line": "ocrx_word"}


def _props(title: str) -> dict[str, str]:
    """hOCR properties: `name value...` pairs separated by semicolons (the spec's title grammar)."""
    out = {}
    for part in title.split(";"):
        name, _, value = part.strip().partition(" ")
        assert re.fullmatch(r"[a-z_]+", name), title
        out[name] = value.strip()
    return out


def test_hocr_is_valid_xhtml_following_the_spec(pdf_read: tuple[OcrResult, list]) -> None:
    result, _ = pdf_read
    data = export(result, "hocr", source="two-pages.pdf")
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))  # well-formed or raises
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    assert root.tag == "{http://www.w3.org/1999/xhtml}html"
    meta = {m.get("name"): m.get("content") for m in root.iterfind(".//h:head/h:meta", ns) if m.get("name")}
    assert meta["ocr-system"] and meta["ocr-number-of-pages"] == "2"
    capabilities = set(meta["ocr-capabilities"].split())
    elements = [e for e in root.iter() if e.get("class", "").startswith("ocr")]
    assert {e.get("class") for e in elements} <= capabilities  # every class used is declared
    ids = [e.get("id") for e in elements]
    assert len(ids) == len(set(ids)) and all(ids)
    pages = root.findall(".//h:div[@class='ocr_page']", ns)
    assert len(pages) == 2
    for page_el, page in zip(pages, result.pages):
        props = _props(page_el.get("title"))
        assert props["bbox"] == f"0 0 {page.width} {page.height}" and props["image"] == '"two-pages.pdf"'
    for el in elements:  # each level nests in its parent level, bboxes inside the parent's
        box = [int(v) for v in _props(el.get("title"))["bbox"].split()]
        assert box[0] < box[2] and box[1] < box[3]
        parent = el.getparent()
        if el.get("class") != "ocr_page":
            assert HOCR_CHILD[parent.get("class")] == el.get("class")
            pbox = [int(v) for v in _props(parent.get("title"))["bbox"].split()]
            assert pbox[0] <= box[0] and pbox[1] <= box[1] and box[2] <= pbox[2] and box[3] <= pbox[3]
        if el.get("class") == "ocrx_word":
            assert 0 <= int(_props(el.get("title"))["x_wconf"]) <= 100
    words = [e.text for e in elements if e.get("class") == "ocrx_word"]
    assert words == [w.text for p in result.pages for ln in p.lines for w in ln.words]


def test_hocr_passes_the_spec_validator(pdf_read: tuple[OcrResult, list], tmp_path) -> None:  # noqa: ANN001
    """hocr-spec (the spec's reference validator, strict parsing): valid; and it does fail a broken document."""
    from hocr_spec import HocrValidator

    result, _ = pdf_read
    good = tmp_path / "good.hocr"
    good.write_bytes(export(result, "hocr", source="two-pages.pdf"))
    report = HocrValidator("standard").validate(str(good), parse_strict=True)
    assert report.is_valid(), report.format("text")
    for wrong in (r"x_wconf \d+", "x_wconf high"), (r"class='ocr_line'", "class='ocr_textfloat'"):  # bad value, undeclared class
        broken = tmp_path / "broken.hocr"
        broken.write_text(re.sub(wrong[0], wrong[1], good.read_text(), count=1))
        assert not HocrValidator("standard").validate(str(broken), parse_strict=True).is_valid(), wrong


# -------------------------------------------------------------------------------------------- ALTO
def test_alto_validates_against_the_official_xsd(pdf_read: tuple[OcrResult, list]) -> None:
    result, _ = pdf_read
    schema = alto_schema()
    doc = etree.fromstring(export(result, "alto", source="two-pages.pdf"))
    assert schema.validate(doc), schema.error_log
    ns = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}
    lines = doc.findall(".//a:TextLine", ns)
    assert [" ".join(s.get("CONTENT") for s in ln.findall("a:String", ns)) for ln in lines] == \
        [ln.text for p in result.pages for ln in p.lines]
    assert [(p.get("WIDTH"), p.get("HEIGHT")) for p in doc.findall(".//a:Page", ns)] == \
        [(str(p.width), str(p.height)) for p in result.pages]


def test_the_alto_schema_rejects_what_it_should(pdf_read: tuple[OcrResult, list]) -> None:
    """The XSD is a real check: a String without CONTENT, a confidence above 1 or an unknown unit fails it."""
    result, _ = pdf_read
    schema = alto_schema()
    text = export(result, "alto").decode()
    assert schema.validate(etree.fromstring(text.encode())), schema.error_log
    for broken in (re.sub(r' CONTENT="[^"]*"', "", text, count=1), re.sub(r'WC="[0-9.]+"', 'WC="1.5"', text, count=1),
                   text.replace("<MeasurementUnit>pixel<", "<MeasurementUnit>pixels<")):
        assert broken != text and not schema.validate(etree.fromstring(broken.encode()))


# ---------------------------------------------------------------------------------- searchable PDF
def test_searchable_pdf_text_matches_the_ocr_text(pdf_read: tuple[OcrResult, list]) -> None:
    result, pages = pdf_read
    data = export(result, "pdf", pages=pages, dpi=DPI)
    doc = pdfium.PdfDocument(data)
    assert len(doc) == 2
    original = pdfium.PdfDocument(PDF.read_bytes())
    for i, page in enumerate(result.pages):
        text = doc[i].get_textpage().get_text_range()
        assert collapse(text) == collapse(page.text)
        w, h = doc[i].get_size()  # same paper size as the input
        ow, oh = original[i].get_size()
        assert abs(w - ow) < 1 and abs(h - oh) < 1
        # the page looks like the scan: rendered back, it matches the image it was made from
        back = np.asarray(doc[i].render(scale=DPI / 72).to_pil().convert("L"), dtype=float)
        src = pages[i].gray().astype(float)
        hh, ww = min(back.shape[0], src.shape[0]), min(back.shape[1], src.shape[1])
        assert np.abs(back[:hh, :ww] - src[:hh, :ww]).mean() < 8


def test_searchable_pdf_puts_each_word_over_its_box(pdf_read: tuple[OcrResult, list]) -> None:
    result, pages = pdf_read
    doc = pdfium.PdfDocument(export(result, "pdf", pages=pages, dpi=DPI))
    page_pdf, page = doc[0], result.pages[0]
    textpage = page_pdf.get_textpage()
    _, height_pt = page_pdf.get_size()
    for word in page.lines[0].words:
        x0, y0 = word.box.min(axis=0) * 72 / DPI
        x1, y1 = word.box.max(axis=0) * 72 / DPI
        inside = textpage.get_text_bounded(left=x0 - 2, bottom=height_pt - y1 - 2, right=x1 + 2, top=height_pt - y0 + 2)
        assert word.text in inside, (word.text, inside)


def test_overlay_draws_boxes_on_every_page(pdf_read: tuple[OcrResult, list]) -> None:
    result, pages = pdf_read
    img = np.asarray(Image.open(io.BytesIO(overlay_png(result, pages))).convert("RGB")).astype(int)
    assert img.shape[0] >= sum(p.height for p in pages) and img.shape[1] == max(p.width for p in pages)
    red = (img[:, :, 0] > 180) & (img[:, :, 1] < 80) & (img[:, :, 2] < 80)
    blue = (img[:, :, 2] > 180) & (img[:, :, 0] < 80)
    assert red[: pages[0].height].sum() > 100 and red[pages[0].height:].sum() > 100  # word boxes on both pages
    assert blue.sum() > 100


def test_every_format_is_exported(pdf_read: tuple[OcrResult, list]) -> None:
    result, pages = pdf_read
    for name, fmt in FORMATS.items():
        data = export(result, name, pages=pages, dpi=DPI)
        assert data, name
        if not fmt.binary:
            data.decode("utf-8")


# ----------------------------------------------------------------------------------------- library
def test_read_takes_a_path_bytes_pil_image_or_numpy_array() -> None:
    path = TEST_DATA / "printed-scan.tif"
    truth = (TEST_DATA / "printed-scan.txt").read_text()
    img = Image.open(path)
    texts = [read(src, mode="printed").text for src in (path, str(path), path.read_bytes(), img, np.asarray(img))]
    assert all(t == texts[0] for t in texts), texts
    assert cer(truth, texts[0]) < 0.05, texts[0]
    assert read(np.asarray(img.convert("RGB")), mode="printed").text == texts[0]


def test_read_reads_pdfs_and_refuses_other_objects() -> None:
    result = read(PDF, mode="printed", dpi=DPI)
    assert len(result.pages) == 2
    with pytest.raises(Exception, match="path, bytes, a PIL image or a numpy array"):
        read(12345)
    with pytest.raises(Exception, match="uint8"):
        read(np.zeros((10, 10), dtype=np.float32))
