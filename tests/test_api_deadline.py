"""The OCR routes answer before Lambda's timeout: 504 `timeout`, or a batch with `timeout` entries.

The real handler in-process with a Lambda context whose remaining time is short (as late in an
invocation); the engine and images are real.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import assert_documented

from benchmarks.lambda_context import LambdaContext

EVENTS = Path(__file__).resolve().parents[1] / "events"


@pytest.fixture(scope="module")
def app() -> Any:
    from functions.api import app as module
    return module


def call(app: Any, event: str, remaining_ms: int) -> tuple[int, dict[str, Any]]:
    reply = app.handler(json.loads((EVENTS / f"{event}.json").read_text()), LambdaContext("ocr", remaining_ms=remaining_ms))
    return reply["statusCode"], json.loads(reply["body"])


def test_single_image_out_of_time_is_a_504(app: Any) -> None:
    status, body = call(app, "api-ocr-multipart", int(app.DEADLINE_MARGIN_SECONDS * 1000))
    assert (status, body["error"]) == (504, "timeout") and body["request_id"]
    assert_documented("POST", "/api/ocr", status, body)
    status, body = call(app, "api-ocr-multipart", 29_000)  # the function's whole timeout: read as usual
    assert status == 200 and body["text"]


def test_batch_out_of_time_answers_every_entry(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    status, body = call(app, "api-ocr-batch-multipart", int(app.DEADLINE_MARGIN_SECONDS * 1000))
    errors = [r["error"] for r in body["results"]]  # the event's 2nd file is not an image: refused from its header
    assert status == 200 and errors == ["timeout", "unsupported_format", "timeout"], errors
    assert body["warnings"] and "smaller batch" in body["warnings"][0]
    assert_documented("POST", "/api/ocr/batch", status, body)
    # Time for one image only (a reserve of 60 s per image, 70 s left: far more than one image takes even on a
    # loaded machine): the earlier images may not eat the last one's reserve, so the first times out, the last is read.
    monkeypatch.setattr(app, "MIN_IMAGE_SECONDS", 60.0)
    status, body = call(app, "api-ocr-batch-multipart", int(app.DEADLINE_MARGIN_SECONDS * 1000) + 70_000)
    assert status == 200 and body["results"][0]["error"] == "timeout" and body["results"][-1]["text"]
    monkeypatch.undo()
    status, body = call(app, "api-ocr-batch-multipart", 29_000)
    assert status == 200 and body["failed"] == 1 and not body["warnings"] and body["results"][2]["text"]
