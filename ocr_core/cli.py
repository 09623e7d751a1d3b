"""`ocr IMAGE... [--mode printed|handwritten|auto] [--json]`: OCR files from the command line.

`ocr batch ./in --out ./out`: the S3 drop-folder job over a local folder (same JSON answers).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

from ocr_core.errors import OcrError


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["batch"]:
        return batch_main(argv[1:])
    p = argparse.ArgumentParser(prog="ocr", description="Read printed and handwritten text from images.",
                                epilog="Folders: ocr batch ./in --out ./out (one JSON per image; see ocr batch --help).")
    p.add_argument("images", nargs="+", type=Path, help="JPEG, PNG, TIFF, BMP or WebP files")
    p.add_argument("--mode", choices=["printed", "handwritten", "auto"], default="auto")
    p.add_argument("--engine", choices=["crnn", "tesseract", "kerasocr"], default="crnn",
                   help="crnn: our Keras models (default); tesseract: the Tesseract binary; "
                        "kerasocr: keras-ocr's kurapan CRNN (printed digits + lowercase; needs crnn_kurapan.h5)")
    p.add_argument("--json", action="store_true", help="print the full structured result as JSON")
    a = p.parse_args(argv)

    from ocr_core.engine import OcrEngine  # after argument parsing: --help stays instant

    engine = OcrEngine()
    failures = 0
    results = []
    for path in tqdm(a.images, desc="ocr", unit="image", disable=len(a.images) < 2, file=sys.stderr):
        try:
            result = engine.read(path.read_bytes(), mode=a.mode, engine=a.engine)
            results.append({"file": str(path), **result.to_dict()})
            if not a.json:
                header = f"== {path} ({result.mode_used}, confidence {result.confidence:.2f}) =="
                print(header if len(a.images) > 1 else f"# {result.mode_used}, confidence {result.confidence:.2f}")
                print(result.text)
        except OcrError as err:
            failures += 1
            results.append({"file": str(path), **err.to_dict()})
            print(f"{path}: {err.message}", file=sys.stderr)
        except OSError as err:
            failures += 1
            results.append({"file": str(path), "error": "unreadable_file", "message": str(err)})
            print(f"{path}: cannot read file: {err.strerror}", file=sys.stderr)
    if a.json:
        print(json.dumps(results[0] if len(results) == 1 else results, indent=2, ensure_ascii=False))
    return 1 if failures else 0


def batch_main(argv: list[str]) -> int:
    """Answer every file below IN_DIR with OUT_DIR/<same path>.json, like the S3 batch function.

    Files already answered for the same bytes (sha256) are skipped, so re-running after an
    interruption only does what is left. Exit status 1 when any file got an error answer.
    """
    p = argparse.ArgumentParser(prog="ocr batch", description="OCR every image below a folder into JSON files "
                                "(<out>/<relative path>.json; errors as JSON at the same place).")
    p.add_argument("in_dir", type=Path, help="input folder; handwritten/ and printed/ subfolders pick the mode")
    p.add_argument("--out", type=Path, required=True, help="output folder (created; must not be the input folder)")
    p.add_argument("--mode", choices=["printed", "handwritten", "auto"], default=None,
                   help="force one mode for every file (default: from the subfolder, else auto)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    if not a.in_dir.is_dir():
        p.error(f"{a.in_dir} is not a folder")

    from ocr_core.batch import BatchRunner, WorkItem
    from ocr_core.engine import OcrEngine
    from ocr_core.result_store import LocalStore

    try:
        store = LocalStore(a.in_dir, a.out)
    except ValueError as err:
        p.error(str(err))
    sources = list(store.list_sources())
    runner = BatchRunner(OcrEngine(), store)
    counts: dict[str, int] = {}  # ok | error | unchanged (already answered for these bytes) | failed (no answer)
    errors = 0
    bar = tqdm(sources, desc="ocr batch", unit="image", file=sys.stderr, disable=a.quiet)
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
