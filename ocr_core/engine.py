"""The OCR pipeline in one screen: image bytes -> pages -> lines -> recognized text.

    decode (image_io) -> detect lines (segment / CRAFT) -> recognize (CRNN + CTC) -> assemble

Recognition backends, by name (`backends.py`): `crnn` (ours, default), `tesseract` (the binary, whole
pages), `kerasocr` (keras-ocr's kurapan CRNN on the words of our detected lines; needs `crnn_kurapan.h5`).

Models load once per engine (create one engine per process and reuse it).
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np

from ocr_core import quality
from ocr_core.backends import BACKENDS, RecognitionBackend
from ocr_core.detect import LineDetector, make_detector
from ocr_core.errors import BadRequestError, DeadlineExceeded, InvalidImageError, ModelError, OcrError
from ocr_core.image_io import PageImage, iter_pages
from ocr_core.lexicon import Lexicon, lexicon_languages
from ocr_core.model_store import ModelStore
from ocr_core.orientation import CheckTime, Confidences, orient
from ocr_core.recognize import CrnnRecognizer, LineReading, batch_order
from ocr_core.result import Line, OcrResult, Page, Word
from ocr_core.segment import whole_line
from ocr_core.vocabulary import MODEL_KINDS, MODES, quoted

# auto, per line (chosen on synthetic lines and htr-real val: benchmarks/auto_margin.py, reports/auto_margin.md):
AUTO_MARGIN = 0.02  # how much surer than the printed model the handwriting model must be to read a line,
AUTO_SURE = 0.95  # or, when the printed model is at least this sure (clean print, which the handwriting
AUTO_SURE_MARGIN = 0.05  # model also reads with confidence), this much surer
AUTO_CLOSE = 0.1  # a glance less than this below the printed model's confidence: the full read decides,
AUTO_CLOSE_UNDER = 0.9  # when the printed model is less sure than this (clean print would pay a full read)
AUTO_DOUBTFUL = 0.8  # on a page of one kind, lines its model reads less sure than this are read by both
AUTO_SAMPLE = 6  # lines both models read before auto decides whether a page is all one kind
AUTO_KINDS = MODEL_KINDS  # the models auto chooses between
ENGINES = tuple(BACKENDS)  # recognition backends by name: crnn (default), tesseract, kerasocr
LAYOUTS = ("auto", "line")  # find the lines | the image is one line crop
ESTIMATE_HEADROOM = 1.5  # a step may cost this much more than the same step did before
log = logging.getLogger(__name__)


class OcrEngine:
    """Reads printed and handwritten text with our CRNNs; Tesseract or keras-ocr's recognizer when asked."""

    def __init__(self, store: ModelStore | None = None, detector: str | None = None,
                 decoder: str | None = None) -> None:
        self.store = store or ModelStore()
        self.detector: LineDetector = make_detector(detector or os.environ.get("OCR_DETECTOR", "auto"), self.store)
        self.decoder = decoder or os.environ.get("OCR_DECODER", "greedy")
        self.lexicon = _load_lexicon(self.store, lexicon_languages(os.environ.get("OCR_LEXICON", "")))
        self._recognizers: dict[str, CrnnRecognizer] = {}
        self._backends: dict[str, RecognitionBackend] = {}  # by name, made on first use
        self._seconds = {"detect_mpx": 0.0, "line": 0.0}  # learned step costs (see _learn), for deadlines

    # ------------------------------------------------------------------ models
    def recognizer(self, kind: str) -> CrnnRecognizer:
        if kind not in self._recognizers:
            self._recognizers[kind] = CrnnRecognizer(self.store.load(kind))
        return self._recognizers[kind]

    def backend(self, name: str) -> RecognitionBackend:
        """The recognition backend called `name` (backends.BACKENDS), made once per engine."""
        if name not in self._backends:
            self._backends[name] = BACKENDS[name](self)
        return self._backends[name]

    def warm_up(self) -> None:
        """Load both models and trace their graphs (call at container init, not per request)."""
        blank = np.full((40, 200), 255, np.uint8)
        for kind in MODEL_KINDS:
            self.recognizer(kind).read_lines([blank])

    def model_versions(self) -> dict[str, str]:
        versions = {}
        for kind in MODEL_KINDS:
            try:
                versions[kind] = str(self.store.manifest(kind).get("version"))
            except ModelError:
                versions[kind] = "missing"
        versions["detector"] = self.detector.name
        return versions

    # ------------------------------------------------------------------ reading
    def read(self, data: bytes, mode: str = "auto", engine: str = "crnn", deadline: float | None = None, *,
             dpi: int | None = None, layout: str = "auto") -> OcrResult:
        """Read every page of one image or PDF, decoding and reading one page at a time.

        `deadline` (a `time.monotonic()` value, e.g. from the Lambda context) is checked before each
        step: past it, `DeadlineExceeded` (504 `timeout`) instead of being killed mid-way. `dpi`: the
        resolution PDF pages are rendered at (default OCR_PDF_DPI). `layout`: `auto` finds the lines;
        `line` reads each page as one line crop (Tesseract's --psm 7).
        """
        _check_choices(mode, engine, layout)  # before decoding: a bad parameter is the first thing to report
        t0 = time.perf_counter()
        pages = iter_pages(data, dpi=dpi)  # every limit (incl. all pages' pixels together) is checked here
        timings = {"decode": (time.perf_counter() - t0) * 1000}
        return self.read_pages(pages, mode, engine, timings, deadline, layout=layout)

    def read_pages(self, pages: Iterable[PageImage], mode: str = "auto", engine: str = "crnn",
                   timings: dict[str, float] | None = None, deadline: float | None = None, *,
                   layout: str = "auto") -> OcrResult:
        """Decoded pages -> result (also for callers that keep the page images, e.g. for a searchable PDF)."""
        _check_choices(mode, engine, layout)
        timings = dict(timings or {})
        start, before = time.perf_counter(), timings.get("decode", 0.0)
        backend = self.backend(engine)
        backend.check(mode)
        if backend.reads_pages:
            return self._read_whole_pages(backend, pages, mode, timings, deadline)
        out_pages: list[Page] = []
        detect_ms = recog_ms = 0.0
        for page in self._checked(pages, deadline, timings):
            with _page_failure(page.page):
                mpx = page.width * page.height / 1e6
                _check_deadline(deadline, f"before finding the lines of page {page.page}", mpx * self._seconds["detect_mpx"])
                t = time.perf_counter()
                if layout == "line":  # the caller says it is one upright line crop
                    regions, rotation = [whole_line(page.gray())], 0
                else:
                    oriented = orient(page, self.detector.detect, self._sample_reader(mode, deadline),
                                      self._detection_check(deadline, page.page, mpx))
                    regions, rotation = oriented.regions, oriented.rotation
                detect_ms += (time.perf_counter() - t) * 1000
                if mpx >= 1.0:  # small images cost mostly fixed overhead: they would inflate the per-Mpx rate
                    self._learn("detect_mpx", (time.perf_counter() - t) / mpx)
                blur = quality.page_blur([r.crop for r in regions], [r.band[1] - r.band[0] for r in regions])
                t = time.perf_counter()
                lines = backend.read_lines(regions, mode, deadline)
                recog_ms += (time.perf_counter() - t) * 1000
            out_pages.append(Page(page.page, page.width, page.height, lines, rotation, blur))
        timings.update(detect=detect_ms, recognize=recog_ms)
        timings["total"] = before + (time.perf_counter() - start) * 1000  # page decoding happens inside
        used = Counter(ln.mode for p in out_pages for ln in p.lines)
        mode_used = mode if mode != "auto" else (used.most_common(1)[0][0] if len(used) == 1 else "mixed" if used else "auto")
        name, models = backend.describe(mode)
        return OcrResult(out_pages, mode, mode_used, name, models, self.detector.name, timings)

    def _sample_reader(self, mode: str, deadline: float | None) -> Confidences:
        """What orientation checks read sample lines with: the mode's model at a glance (one look,
        greedy); in auto both models, each line scored by the surer one (the printed model's
        confidence on handwriting is noise). Out of time, it stops before reading."""
        kinds = list(AUTO_KINDS) if mode == "auto" else [mode]

        def read(crops: list[np.ndarray]) -> list[tuple[str, float]]:
            _check_deadline(deadline, "while reading sample lines to find the page's way up",
                            len(crops) * len(kinds) * self._seconds["line"])
            surest = [max(per_crop, key=_score) for per_crop in zip(*(self.recognizer(k).glance(crops) for k in kinds))]
            return [(r.text, r.confidence) for r in surest]
        return read

    def _detection_check(self, deadline: float | None, page: int, mpx: float) -> CheckTime:
        """What `orient` calls before each extra detection of a turned copy (as dear as the first)."""
        return lambda step: _check_deadline(deadline, f"{step}, page {page}", mpx * self._seconds["detect_mpx"])

    def _recognize(self, regions: list, mode: str, deadline: float | None = None) -> list[Line]:
        crops = [r.crop for r in regions]
        if mode == "auto":
            kinds, readings = self._auto_readings(crops, deadline)
        else:
            kinds = [mode] * len(crops)
            readings = {mode: dict(enumerate(self._read_lines(crops, mode, deadline)))}
        lines = []
        for i, region in enumerate(regions):
            r = readings[kinds[i]][i]
            if not r.text.strip():
                continue
            words = [Word(w.text, w.confidence, region.crop_x_to_box(w.x0, w.x1)) for w in r.words]
            lines.append(Line(r.text, r.confidence, region.box, words, kinds[i]))
        return lines

    def _auto_readings(self, crops: list[np.ndarray], deadline: float | None) -> tuple[list[str], dict[str, dict[int, LineReading]]]:
        """auto: each line's kind, and the readings by kind and line index.

        Both models read a sample of AUTO_SAMPLE lines spread over the page: the printed model in
        full (one look, what it keeps), the handwriting model at a glance (one look, greedy: its
        confidence is all choosing needs, and its full read adds the word model); when the full read
        takes more looks than the glance, close calls (`_close_call`) are decided by it.
        When every sampled line goes to one kind, the page is taken to be that kind and the rest is
        read by that model alone, except lines it is unsure of (confidence under AUTO_DOUBTFUL),
        which `_auto_kind` decides between both. A mixed sample: every line is decided. Only lines
        given to the handwriting model get its full read.
        """
        n = len(crops)
        readings: dict[str, dict[int, LineReading]] = {k: {} for k in AUTO_KINDS}
        glances: dict[int, LineReading] = {}  # the handwriting model's one-look readings, to choose by

        def read(which: list[int], kind: str) -> None:
            readings[kind].update(zip(which, self._read_lines([crops[i] for i in which], kind, deadline)))

        def choose(which: list[int]) -> dict[int, str]:
            """Each line's kind; the handwriting model's side is its full reading where it has one."""
            read([i for i in which if i not in readings["printed"]], "printed")
            unseen = [i for i in which if i not in readings["handwritten"]]
            glances.update(zip(unseen, self._read_lines([crops[i] for i in unseen], "handwritten", deadline, glance=True)))
            if not self.recognizer("handwritten").glance_is_full_read:  # else its confidence is the glance's
                read([i for i in unseen if _close_call(readings["printed"][i], glances[i])], "handwritten")
            return {i: _auto_kind(readings["printed"][i], readings["handwritten"].get(i) or glances[i]) for i in which}

        sample = sorted({int(i) for i in np.linspace(0, n - 1, min(n, AUTO_SAMPLE)).round()}) if n else []
        chosen = choose(sample)
        rest = [i for i in range(n) if i not in chosen]
        page_kinds = set(chosen.values())
        if len(page_kinds) == 1:  # one kind: its model reads the rest; doubtful lines are decided
            kind = page_kinds.pop()
            read(rest, kind)
            doubtful = [i for i in rest if _score(readings[kind][i]) < AUTO_DOUBTFUL]
            chosen |= {i: kind for i in rest} | choose(doubtful)
        else:  # mixed: line by line
            chosen |= choose(rest)
        read([i for i in range(n) if chosen[i] == "handwritten" and i not in readings["handwritten"]], "handwritten")
        return [chosen[i] for i in range(n)], readings

    def _read_lines(self, crops: list[np.ndarray], kind: str, deadline: float | None,
                    glance: bool = False) -> list[LineReading]:
        """Every crop read by the `kind` model (or at a `glance`: `CrnnRecognizer.glance`), in chunks
        of similar width, checking the deadline before each chunk against what a chunk has cost so
        far (a dense 50 Mpx page is ~100 lines)."""
        recognizer = self.recognizer(kind)
        readings: list[LineReading | None] = [None] * len(crops)
        order = batch_order(crops)  # longest (dearest) first: estimates err high
        size = recognizer.lines_at_once  # whole batches, one per run at once (OCR_THREADS)
        for start in range(0, len(order), size):
            chunk = order[start:start + size]
            _check_deadline(deadline, "while reading lines", len(chunk) * self._seconds["line"])
            t = time.perf_counter()
            lines = [crops[i] for i in chunk]
            got = recognizer.glance(lines) if glance else recognizer.read_lines(lines, self.decoder, self.lexicon)
            for i, reading in zip(chunk, got):
                readings[i] = reading
            if not glance:  # the estimate is of a full read: glances would lower it
                self._learn("line", (time.perf_counter() - t) / len(chunk))
        return [r for r in readings if r is not None]

    def _checked(self, pages: Iterable[PageImage], deadline: float | None, timings: dict[str, float]) -> Iterator[PageImage]:
        """The pages, decoded one at a time (decode time added to `timings`), each only if time is
        left to decode it (estimated by the pages before it). Out of time after a page, whether
        another follows is only known by pulling it: none (free) ends a finished read normally."""
        it, last, first = iter(pages), 0.0, True
        while True:
            late = None
            try:
                _check_deadline(deadline, "before decoding the next page", last)
            except DeadlineExceeded as err:
                if first:  # no page read yet: nothing finished to keep
                    raise
                late = err
            t = time.perf_counter()
            page = next(it, None)
            last = time.perf_counter() - t
            timings["decode"] = timings.get("decode", 0.0) + last * 1000
            if page is None:
                return
            if late is not None:
                raise late
            first = False
            yield page

    def _learn(self, what: str, seconds: float) -> None:
        """Running estimate of a step's cost (seconds per line / per megapixel), for deadline checks."""
        old = self._seconds[what]
        self._seconds[what] = seconds if old == 0.0 else 0.7 * old + 0.3 * seconds

    def _read_whole_pages(self, backend: RecognitionBackend, pages: Iterable[PageImage], mode: str,
                          timings: dict[str, float], deadline: float | None) -> OcrResult:
        """A backend that finds its own lines (tesseract) reads each page whole."""
        start, before, recog_ms = time.perf_counter(), timings.get("decode", 0.0), 0.0
        out = []
        for p in self._checked(pages, deadline, timings):  # decodes each page, adding to timings["decode"]
            with _page_failure(p.page):
                t = time.perf_counter()
                lines = backend.read_page(p)
                recog_ms += (time.perf_counter() - t) * 1000
                out.append(Page(p.page, p.width, p.height, lines))
        timings["recognize"] = recog_ms
        timings["total"] = before + (time.perf_counter() - start) * 1000  # as read_pages: decoding happens inside
        name, models = backend.describe(mode)
        return OcrResult(out, mode, backend.name, name, models, backend.name, timings)


def _check_deadline(deadline: float | None, where: str, expected_seconds: float = 0.0) -> None:
    """Past the deadline, or the next step (by what such steps have cost, with headroom for a busier
    CPU) would end past it: stop now."""
    if deadline is not None and time.monotonic() + ESTIMATE_HEADROOM * expected_seconds >= deadline:
        raise DeadlineExceeded(f"The image could not be read in the time this request has ({where}); "
                               "send fewer or smaller pages.")


@contextmanager
def _page_failure(page: int) -> Iterator[None]:
    """A crash of detection or recognition on one page is that image's failure (422), not the service's.

    Deterministic on the same pixels, so retrying cannot help: the caller gets a typed error and
    the next image is read. Our own typed errors and MemoryError (not the image's fault) pass through.
    """
    try:
        yield
    except (OcrError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - see the docstring
        log.exception("reading page %d failed", page)
        raise InvalidImageError(f"Page {page} could not be processed ({type(exc).__name__}); "
                                "this image cannot be read.", "unprocessable_image") from exc


def _check_choices(mode: str, engine: str, layout: str = "auto") -> None:
    if layout not in LAYOUTS:
        raise BadRequestError(f"layout must be one of {', '.join(LAYOUTS)}, not {quoted(layout)}", "bad_layout")
    if mode not in MODES:
        raise BadRequestError(f"mode must be one of {', '.join(MODES)}, not {quoted(mode)}", "bad_mode")
    if engine not in ENGINES:
        raise BadRequestError(f"engine must be one of {', '.join(ENGINES)}, not {quoted(engine)}", "bad_engine")


def _load_lexicon(store: ModelStore, languages: tuple[str, ...]) -> Lexicon | None:
    """The word lists (models/lexicon/<lang>.txt) used to respell unsure words; none without the folder."""
    if not languages:
        return None
    try:
        folder = store.local_dir("lexicon")
    except ModelError:
        return None
    return Lexicon.load_languages(folder, languages) if folder.is_dir() else None


def _auto_kind(printed: LineReading, handwritten: LineReading, margin: float = AUTO_MARGIN,
               sure: float = AUTO_SURE, sure_margin: float = AUTO_SURE_MARGIN) -> str:
    """Which model reads a line in `auto`: the printed one unless the handwriting one is surer by
    `margin` (by `sure_margin` when the printed model is at least `sure` confident).

    Ties go to the printed model: on clean print the handwriting model can be as confident while
    reading worse (it merges words). Rules compared in benchmarks/reports/auto_margin.md.
    """
    p, h = _score(printed), _score(handwritten)
    return "handwritten" if h > p + (sure_margin if p >= sure else margin) else "printed"


def _close_call(printed: LineReading, glance: LineReading, margin: float = AUTO_MARGIN, close: float = AUTO_CLOSE,
                under: float = AUTO_CLOSE_UNDER) -> bool:
    """Whether the handwriting model's glance lost to an unsure printed model by less than `close`:
    then its full read, when it takes more looks than the glance (surer on real hands), decides instead."""
    p, g = _score(printed), _score(glance)
    return p < under and p - close < g <= p + margin


def _score(reading: LineReading) -> float:
    """Confidence, discounted for empty readings (a model that sees nothing is not 'sure')."""
    return reading.confidence if reading.text.strip() else 0.0
