"""`ocr IMAGE... [--mode printed|handwritten|auto] [--json]`: OCR files from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

from ocr_core.errors import OcrError


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="ocr", description="Read printed and handwritten text from images.")
    p.add_argument("images", nargs="+", type=Path, help="JPEG, PNG, TIFF, BMP or WebP files")
    p.add_argument("--mode", choices=["printed", "handwritten", "auto"], default="auto")
    p.add_argument("--engine", choices=["crnn", "tesseract"], default="crnn",
                   help="crnn: our Keras models (default); tesseract: the Tesseract binary")
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


if __name__ == "__main__":
    sys.exit(main())
