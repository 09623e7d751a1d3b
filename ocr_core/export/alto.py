"""ALTO 4.4 export (Library of Congress, www.loc.gov/standards/alto): the XML libraries and archives read.

alto > Description (pixel units, source file, the software) > Layout > Page > PrintSpace >
TextBlock > TextLine > String (CONTENT, box, WC 0-1) with SP between words. One TextBlock per
page holds its lines (our detector finds lines, not blocks), with ROTATION when the page was read
turned (its `rotation`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ocr_core import __version__
from ocr_core.export.text import bbox, words_of
from ocr_core.result import OcrResult

NS = "http://www.loc.gov/standards/alto/ns-v4#"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{NS} http://www.loc.gov/alto/v4/alto-4-4.xsd"


def _pos(el: ET.Element, box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    el.set("HPOS", str(x0))
    el.set("VPOS", str(y0))
    el.set("WIDTH", str(x1 - x0))
    el.set("HEIGHT", str(y1 - y0))


def to_alto(result: OcrResult, source: str = "") -> str:
    ET.register_namespace("", NS)
    ET.register_namespace("xsi", XSI)
    q = lambda tag: f"{{{NS}}}{tag}"  # noqa: E731
    root = ET.Element(q("alto"), {f"{{{XSI}}}schemaLocation": SCHEMA_LOCATION})
    desc = ET.SubElement(root, q("Description"))
    ET.SubElement(desc, q("MeasurementUnit")).text = "pixel"
    ET.SubElement(ET.SubElement(desc, q("sourceImageInformation")), q("fileName")).text = source or "image"
    step = ET.SubElement(ET.SubElement(desc, q("OCRProcessing"), ID="ocr_0"), q("ocrProcessingStep"))
    software = ET.SubElement(step, q("processingSoftware"))
    ET.SubElement(software, q("softwareName")).text = "ocr_core"
    ET.SubElement(software, q("softwareVersion")).text = __version__
    ET.SubElement(software, q("applicationDescription")).text = result.engine
    layout = ET.SubElement(root, q("Layout"))
    for page in result.pages:
        p = page.page
        page_el = ET.SubElement(layout, q("Page"), ID=f"page_{p}", PHYSICAL_IMG_NR=str(p),
                                WIDTH=str(page.width), HEIGHT=str(page.height))
        space = ET.SubElement(page_el, q("PrintSpace"))
        _pos(space, (0, 0, page.width, page.height))
        if not page.lines:
            continue
        boxes = [bbox(ln.box, page.width, page.height) for ln in page.lines]
        block = ET.SubElement(space, q("TextBlock"), ID=f"block_{p}_1")
        if page.rotation:  # a page read turned: its text lies at that angle (ALTO: counter-clockwise) in the image
            block.set("ROTATION", str(page.rotation))
        _pos(block, (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)))
        for li, (line, box) in enumerate(zip(page.lines, boxes), 1):
            line_el = ET.SubElement(block, q("TextLine"), ID=f"line_{p}_{li}")
            _pos(line_el, box)
            words = words_of(line)
            for wi, word in enumerate(words, 1):
                wbox = bbox(word.box, page.width, page.height)
                string = ET.SubElement(line_el, q("String"), ID=f"string_{p}_{li}_{wi}", CONTENT=word.text)
                _pos(string, wbox)
                string.set("WC", f"{min(max(word.confidence, 0.0), 1.0):.3f}")
                if wi < len(words):  # the gap to the next word
                    nxt = bbox(words[wi].box, page.width, page.height)
                    sp = ET.SubElement(line_el, q("SP"), ID=f"sp_{p}_{li}_{wi}")
                    sp.set("WIDTH", str(max(nxt[0] - wbox[2], 0)))
                    sp.set("HPOS", str(wbox[2]))
                    sp.set("VPOS", str(wbox[1]))
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
