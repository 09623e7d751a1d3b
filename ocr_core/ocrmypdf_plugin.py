"""OCRmyPDF plugin: `ocrmypdf --plugin ocr_core.ocrmypdf_plugin in.pdf out.pdf` reads with our engine.

OCRmyPDF (a separate install: `pip install ocrmypdf`, see the README) rasterises every page, calls
`generate_ocr` with the page image, and lays the words we return under the page as an invisible
text layer, keeping everything else it does (page images untouched, optional PDF/A, optimisation,
skipping pages that already have text). `--ocr-core-mode printed|handwritten|auto` picks our mode
(default auto). Each OCRmyPDF worker process loads the models once, on its first page.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocrmypdf import hookimpl
from ocrmypdf.models.ocr_element import BoundingBox, OcrClass, OcrElement
from ocrmypdf.pluginspec import OcrEngine, OrientationConfidence
from PIL import Image

from ocr_core import __version__
from ocr_core.export.text import bbox, words_of
from ocr_core.vocabulary import DEFAULT_MODE, MODES

if TYPE_CHECKING:
    from ocr_core.engine import OcrEngine as CoreEngine



@cache
def _engine() -> CoreEngine:
    from ocr_core.engine import OcrEngine as CoreEngine  # numpy, onnxruntime: only in the process that reads

    return CoreEngine()


def _mode(options: Any) -> str:
    return str(getattr(options, "ocr_core_mode", None) or DEFAULT_MODE)


class OcrCoreEngine(OcrEngine):
    """Our CRNN models behind OCRmyPDF's engine interface (its `generate_ocr` API: no hOCR round trip)."""

    @staticmethod
    def version() -> str:
        return __version__

    @staticmethod
    def creator_tag(options: Any) -> str:
        return f"ocr_core {__version__} ({_mode(options)})"

    def __str__(self) -> str:
        return f"ocr_core {__version__}"

    @staticmethod
    def languages(options: Any) -> set[str]:
        return {"eng"}  # the models read the Latin alphabet of ocr_core.alphabet; OCRmyPDF's default -l is eng

    @staticmethod
    def get_orientation(input_file: Path, options: Any) -> OrientationConfidence:
        return OrientationConfidence(angle=0, confidence=0.0)  # the engine turns sideways pages itself (generate_ocr)

    @staticmethod
    def supports_generate_ocr() -> bool:
        return True

    @staticmethod
    def generate_ocr(input_file: Path, options: Any, page_number: int = 0) -> tuple[OcrElement, str]:
        """One page image -> an ocr_page of ocr_line elements holding ocrx_word elements (pixels, top-left origin).

        A page our engine read turned gives each line its `textangle` (counter-clockwise degrees, as
        hOCR's), which OCRmyPDF's renderer lays the line's text along."""
        data = Path(input_file).read_bytes()
        with Image.open(input_file) as img:
            dpi = img.info.get("dpi", (300, 300))
        result = _engine().read(data, mode=_mode(options))
        page = result.pages[0]
        lines = []
        for line in page.lines:
            words = [OcrElement(ocr_class=OcrClass.WORD, bbox=BoundingBox(*bbox(w.box, page.width, page.height)),
                                text=w.text, confidence=w.confidence) for w in words_of(line)]
            lines.append(OcrElement(ocr_class=OcrClass.LINE, bbox=BoundingBox(*bbox(line.box, page.width, page.height)),
                                    confidence=line.confidence, textangle=float(page.rotation), children=words))
        root = OcrElement(ocr_class=OcrClass.PAGE, bbox=BoundingBox(0, 0, page.width, page.height),
                          dpi=float(dpi[0] if isinstance(dpi, tuple) else dpi), page_number=page_number, children=lines)
        return root, page.text

    @staticmethod
    def generate_hocr(input_file: Path, output_hocr: Path, output_text: Path, options: Any) -> None:
        raise NotImplementedError("ocr_core gives OCRmyPDF words (generate_ocr); use its default --pdf-renderer")

    @staticmethod
    def generate_pdf(input_file: Path, output_pdf: Path, output_text: Path, options: Any) -> None:
        raise NotImplementedError("ocr_core gives OCRmyPDF words (generate_ocr); use its default --pdf-renderer")


@hookimpl
def add_options(parser: Any) -> None:
    group = parser.add_argument_group("ocr_core", "Options of the ocr_core engine (ocr_core.ocrmypdf_plugin)")
    group.add_argument("--ocr-core-mode", choices=MODES, default=DEFAULT_MODE,
                       help="printed, handwritten or auto (default): which of our models read the pages")


@hookimpl
def get_ocr_engine(options: Any) -> OcrEngine | None:
    """Ours whenever this plugin is loaded, unless another engine is named with --ocr-engine."""
    if options is not None and getattr(options, "ocr_engine", "auto") not in ("auto", "ocr_core"):
        return None
    return OcrCoreEngine()
