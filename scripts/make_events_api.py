"""Write events/api-*.json: one API Gateway HTTP API event per route and body format.

For `sam local invoke OcrFunction -e events/api-ocr-multipart.json` (with Docker) and for the
tests, which post the same files to the functions under the Lambda Runtime Interface Emulator.
The events are built by the same code the local API uses (functions/local_api.http_api_event)
from the real sample images, with the bodies HTTP APIs send: binary bodies base64-encoded.

    python scripts/make_events_api.py
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from urllib3 import encode_multipart_formdata

from functions.local_api import http_api_event

REPO = Path(__file__).resolve().parent.parent
EVENTS = REPO / "events"
SAMPLES = REPO / "samples"


def multipart(files: list[tuple[str, str, bytes]], data: dict[str, str]) -> tuple[dict[str, str], bytes]:
    """The multipart/form-data body curl -F and requests(files=...) send."""
    fields: list[tuple[str, Any]] = [(k, v) for k, v in data.items()] + [(f, (n, b)) for f, n, b in files]
    body, content_type = encode_multipart_formdata(fields, boundary="ocr-event-boundary-7d1f")  # stable files
    return {"Content-Type": content_type}, body


def event(method: str, path: str, route: str, headers: dict[str, str] | None = None, body: bytes = b"") -> dict[str, Any]:
    ev = http_api_event(method, path, {"Host": "localhost:3000", "User-Agent": "sam-local-event", **(headers or {})}, body, route)
    ev["requestContext"]["requestId"] = "event-" + Path(path.split("?")[0]).name  # stable across regenerations
    ev["requestContext"]["timeEpoch"] = 1795600000000
    ev["requestContext"]["time"] = "25/Nov/2026:09:46:40 +0000"
    return ev


def all_events() -> dict[str, dict[str, Any]]:
    note = (SAMPLES / "handwritten-note.png").read_bytes()
    word = (SAMPLES / "handwritten-word.png").read_bytes()
    letter = (SAMPLES / "printed-letter.png").read_bytes()
    json_hdr = {"Content-Type": "application/json"}
    return {
        "api-health": event("GET", "/api/health", "GET /api/health"),
        "api-ocr-multipart": event("POST", "/api/ocr", "POST /api/ocr",
                                   *multipart([("image", "printed-letter.png", letter)], {"mode": "auto"})),
        "api-ocr-raw-image": event("POST", "/api/ocr?mode=printed&filename=printed-letter.png", "POST /api/ocr",
                                   {"Content-Type": "image/png"}, letter),
        "api-ocr-json-base64": event("POST", "/api/ocr", "POST /api/ocr", json_hdr, json.dumps({
            "image": base64.b64encode(word).decode(), "filename": "handwritten-word.png", "mode": "handwritten"}).encode()),
        "api-ocr-s3-key": event("POST", "/api/ocr", "POST /api/ocr", json_hdr, json.dumps({
            "s3_key": "uploads/public/example/handwritten-note.png", "mode": "handwritten"}).encode()),
        "api-ocr-handwritten-multipart": event("POST", "/api/ocr/handwritten", "POST /api/ocr/handwritten",
                                               *multipart([("image", "handwritten-note.png", note)], {})),
        "api-ocr-batch-multipart": event("POST", "/api/ocr/batch", "POST /api/ocr/batch", *multipart(
            [("images", "handwritten-word.png", word), ("images", "not-an-image.png", b"plain text, this is no image"),
             ("images", "printed-letter.png", letter)], {"mode": "auto"})),
        "api-uploads": event("POST", "/api/uploads", "POST /api/uploads", json_hdr,
                             json.dumps({"filename": "big-scan.png", "content_type": "image/png"}).encode()),
    }


def main() -> None:
    for name, ev in all_events().items():
        (EVENTS / f"{name}.json").write_text(json.dumps(ev, indent=1) + "\n")
        print(f"events/{name}.json")


if __name__ == "__main__":
    main()
