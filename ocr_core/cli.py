"""`ocr INPUT... [--format txt|json|jsonl|tsv|hocr|alto|pdf] [-o OUTPUT]`: OCR files from the command line.

Conventions (Tesseract's and every Unix filter's): stdout holds only the requested output; progress
and messages go to stderr (the progress bar only on a terminal); `-` reads stdin; folders are
walked for images and PDFs; `-o` writes a file, or one file per input into a folder.

Warnings about what was read (a turned page, very small print, mostly low-confidence text:
ocr_core.quality) are a line each on stderr, whatever the verbosity.

Exit codes: 0 every input was read; 1 at least one input could not be read (the others are still
written; each failure is a line on stderr); 2 bad usage; 3 the engine cannot run (a model or the
Tesseract binary is missing).

`ocr batch ./in --out ./out`: the S3 drop-folder job over a local folder (same JSON answers).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from tqdm import tqdm

from ocr_core import __version__
from ocr_core.backends import BACKENDS
from ocr_core.errors import ModelError, OcrError
from ocr_core.export import FORMATS
from ocr_core.vocabulary import DEFAULT_MODE, MODES

if TYPE_CHECKING:
    from ocr_core.engine import OcrEngine

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_ENGINE = 0, 1, 2, 3
INPUT_SUFFIXES = {".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".bmp", ".webp", ".mpo", ".pdf"}
STDIN = "-"
# formats whose documents can be concatenated on one stream; the others need one file per input (-o DIR)
STREAMABLE = {"txt", "json", "jsonl"}


@dataclass
class Input:
    name: str  # what messages and JSON call it: the path as given, or "-" for stdin
    path: Path | None  # None for stdin
    relative: Path  # where its output goes below an -o folder


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["batch"]:
        return batch_main(argv[1:])
    a = _parser().parse_args(argv)
    fmt = "json" if a.json else a.format
    inputs = list(_inputs(a.inputs))
    if not inputs:
        print("ocr: no image or PDF files found in the given folders", file=sys.stderr)
        return EXIT_SOME_FAILED
    to_folder = a.output is not None and a.output != STDIN and (len(inputs) > 1 or a.output.endswith("/")
                                                                or Path(a.output).is_dir())
    if not to_folder and len(inputs) > 1 and fmt not in STREAMABLE:
        print(f"ocr: --format {fmt} writes one document per input: give -o FOLDER for several inputs", file=sys.stderr)
        return EXIT_USAGE
    if a.overlay and len(inputs) > 1:
        print("ocr: --overlay draws one input; give a single file", file=sys.stderr)
        return EXIT_USAGE
    if fmt == "pdf" and not to_folder and a.output in (None, STDIN) and sys.stdout.isatty():
        print("ocr: not writing a PDF to a terminal: use -o FILE.pdf or redirect stdout", file=sys.stderr)
        return EXIT_USAGE

    from ocr_core.engine import OcrEngine  # after argument parsing: --help and --version stay instant

    engine = OcrEngine()
    failures = 0
    stream = _Stream(a.output, separator=b"\f" if fmt == "txt" else b"")  # txt, jsonl, single documents: as read
    json_docs: list[dict] = []  # json: one document (or an array) at the end
    show_bar = len(inputs) > 1 and not a.quiet and sys.stderr.isatty()
    for item in tqdm(inputs, desc="ocr", unit="file", disable=not show_bar, file=sys.stderr):
        try:
            data = sys.stdin.buffer.read() if item.path is None else item.path.read_bytes()
            out, doc = _read_one(engine, data, item, fmt, a)
        except ModelError as err:
            print(f"ocr: {err.message}", file=sys.stderr)
            return EXIT_ENGINE
        except OcrError as err:
            failures += 1
            json_docs.append({"file": item.name, **err.to_dict()})
            tqdm.write(f"{item.name}: {err.message}", file=sys.stderr)
            continue
        except OSError as err:
            failures += 1
            json_docs.append({"file": item.name, "error": "unreadable_file", "message": str(err)})
            tqdm.write(f"{item.name}: cannot read file: {err.strerror or err}", file=sys.stderr)
            continue
        for message in _warnings(item.name, doc):  # always, as Tesseract prints its warnings; stdout stays the output
            tqdm.write(message, file=sys.stderr)
        if a.verbose:
            tqdm.write(f"{item.name}: {len(doc['pages'])} page(s), {doc['mode_used']}, "
                       f"confidence {doc['confidence']:.2f}", file=sys.stderr)
        if to_folder:
            target = Path(a.output) / item.relative.with_name(item.relative.name + FORMATS[fmt].extension)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(out)
        elif fmt == "json":
            json_docs.append({"file": item.name, **doc})
        else:
            stream.write(out)  # txt: a form feed between documents too
    if not to_folder and fmt == "json" and json_docs:
        payload = json_docs[0] if len(inputs) == 1 else json_docs
        stream.write((json.dumps(payload, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    stream.close()
    return EXIT_SOME_FAILED if failures else EXIT_OK


def _read_one(engine: OcrEngine, data: bytes, item: Input, fmt: str, a: argparse.Namespace) -> tuple[bytes, dict]:
    """One input -> (its output in `fmt`, its result dict). Decodes once; page images feed pdf/overlay."""
    from ocr_core.export import export
    from ocr_core.export.overlay import overlay_png
    from ocr_core.image_io import decode_image

    t0 = time.perf_counter()
    pages = decode_image(data, dpi=a.dpi)
    result = engine.read_pages(pages, a.mode, a.engine, {"decode": (time.perf_counter() - t0) * 1000}, layout=a.layout)
    if a.overlay:
        Path(a.overlay).write_bytes(overlay_png(result, pages))
    source = item.path.name if item.path else "stdin"
    return export(result, fmt, pages=pages, source=source, dpi=a.dpi), result.to_dict()


def _warnings(name: str, doc: dict) -> list[str]:
    """One stderr line per page warning (ocr_core.quality.WARNINGS says what each code means)."""
    from ocr_core.quality import WARNINGS

    return [f"{name}: page {page['page']}: {code}" + (f" {page['rotation']}" if code == "rotated" else "")
            + f": {WARNINGS.get(code, code)}" for page in doc.get("pages", []) for code in page.get("warnings", [])]


class _Stream:
    """stdout or the one -o file, opened on the first document (no empty file when nothing could be read)."""

    def __init__(self, output: str | None, separator: bytes) -> None:
        self.output, self.separator = output, separator
        self.sink: BinaryIO | None = None

    def write(self, body: bytes) -> None:
        if self.sink is None:
            self.sink = sys.stdout.buffer if self.output in (None, STDIN) else open(self.output, "wb")  # noqa: SIM115
        else:
            self.sink.write(self.separator)
        self.sink.write(body)
        self.sink.flush()

    def close(self) -> None:
        if self.sink is not None and self.sink is not sys.stdout.buffer:
            self.sink.close()


def _inputs(args: list[str]) -> Iterator[Input]:
    """Files as given; folders walked (sorted, image and PDF suffixes only); `-` is stdin."""
    for arg in args:
        if arg == STDIN:
            yield Input(STDIN, None, Path("stdin"))
            continue
        path = Path(arg)
        if path.is_dir():
            for found in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES):
                yield Input(str(found), found, found.relative_to(path))
        else:
            yield Input(arg, path, Path(path.name))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ocr", description="Read printed and handwritten text from images and PDFs.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes: 0 all read; 1 some input could not be read; 2 bad usage; 3 a model or engine is missing\n"
               "folders of images: ocr batch ./in --out ./out (one JSON per image, resumable; see ocr batch --help)")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="JPEG, PNG, TIFF, BMP, WebP or PDF files; folders (walked); - for stdin")
    p.add_argument("-f", "--format", choices=list(FORMATS), default="txt",
                   help="txt (default; pages separated by a form feed), json (full result), jsonl (one line per "
                        "text line), tsv (Tesseract's columns), hocr, alto (ALTO 4.4 XML), pdf (searchable PDF)")
    p.add_argument("--json", action="store_true", help="same as --format json")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="write here instead of stdout: a file, or a folder (ends with / or exists, or several "
                        "inputs) that gets one <input name><format extension> per input")
    p.add_argument("--mode", choices=MODES, default=DEFAULT_MODE)
    p.add_argument("--engine", choices=list(BACKENDS), default="crnn",
                   help="crnn: our models (default); tesseract: the Tesseract binary; "
                        "kerasocr: keras-ocr's kurapan CRNN (printed digits + lowercase; needs crnn_kurapan.h5)")
    p.add_argument("--dpi", type=_dpi, default=None, help="resolution PDF pages are rendered at (default: OCR_PDF_DPI or 300)")
    p.add_argument("--layout", choices=["auto", "line"], default="auto",
                   help="auto: find the lines (default); line: the image is one line crop (like tesseract --psm 7)")
    p.add_argument("--overlay", metavar="PNG", help="also write the page image(s) with line and word boxes drawn")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("-v", "--verbose", action="store_true", help="one summary line per input on stderr")
    p.add_argument("--version", action="version", version=f"ocr (ocr_core) {__version__}")
    return p


def _dpi(text: str) -> int:
    """--dpi checked before any input is read: a bad value is bad usage (exit 2), not an unreadable file."""
    from ocr_core.errors import OcrError
    from ocr_core.pdf import check_dpi  # imported only when --dpi is given: `ocr --help` stays quick

    try:
        return check_dpi(text)
    except OcrError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def batch_main(argv: list[str]) -> int:
    """Answer every file below IN_DIR with OUT_DIR/<same path>.json, like the S3 batch function.

    Files already answered for the same bytes (sha256) are skipped, so re-running after an
    interruption only does what is left. Exit status 1 when any file got an error answer.
    """
    p = argparse.ArgumentParser(prog="ocr batch", description="OCR every image below a folder into JSON files "
                                "(<out>/<relative path>.json; errors as JSON at the same place).")
    p.add_argument("in_dir", type=Path, help="input folder; handwritten/ and printed/ subfolders pick the mode")
    p.add_argument("--out", type=Path, required=True, help="output folder (created; must not be the input folder)")
    p.add_argument("--mode", choices=MODES, default=None,
                   help="force one mode for every file (default: from the subfolder, else auto)")
    p.add_argument("-f", "--format", choices=list(FORMATS), default="json",
                   help="also write this rendition beside each JSON answer (<out>/<relative path><extension>)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    if not a.in_dir.is_dir():
        p.error(f"{a.in_dir} is not a folder")

    from ocr_core.dropfolder.runner import DropFolderRunner, WorkItem
    from ocr_core.dropfolder.store import LocalStore
    from ocr_core.engine import OcrEngine

    try:
        store = LocalStore(a.in_dir, a.out)
    except ValueError as err:
        p.error(str(err))
    sources = list(store.list_sources())
    runner = DropFolderRunner(OcrEngine(), store, default_format=a.format)
    counts: dict[str, int] = {}  # ok | error | unchanged (already answered for these bytes) | failed (no answer)
    errors = 0
    bar = tqdm(sources, desc="ocr batch", unit="image", file=sys.stderr, disable=a.quiet or not sys.stderr.isatty())
    for ref in bar:
        try:
            out = runner.process(WorkItem(ref, a.mode))
        except Exception as err:  # noqa: BLE001 - unreadable file, full disk, a bug: report it, go on with the rest
            counts["failed"] = counts.get("failed", 0) + 1
            errors += 1
            tqdm.write(f"{ref.key}: not answered ({type(err).__name__}: {err})", file=sys.stderr)
            continue
        label = "unchanged" if out.status == "duplicate" else out.status
        counts[label] = counts.get(label, 0) + 1
        errors += (out.answer_status or out.status) == "error"
        if out.status == "error":
            tqdm.write(f"{ref.key}: {out.error}", file=sys.stderr)
        bar.set_postfix(counts, refresh=False)
    print(f"{len(sources)} files -> {store.out_dir}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
          file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
