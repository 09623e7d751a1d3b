"""OCR routes: POST /api/ocr, /api/ocr/handwritten, /api/ocr/batch (container image: numpy, OpenCV, onnxruntime).

Thin by design: `inputs` parses the request, `ocr_core` reads the image, this module shapes the
JSON. The engine (models, ONNX sessions) loads once per container, at init, outside the handler.
"""

from __future__ import annotations

import os
import time
from typing import Any

from api_spec import BATCH_BODY, FILENAME_PARAM, FORMAT_PARAM, MODE_PARAM, ONE_IMAGE_BODY, dpi_param, responses
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from ocr_http import ApiError, json_response, logger, make_resolver, metrics, request_id, tracer

from functions.api.inputs import ImageInput, OcrRequest, parse_request
from ocr_core.engine import OcrEngine
from ocr_core.errors import OcrError
from ocr_core.export import FORMATS, export
from ocr_core.image_io import decode_image
from ocr_core.pdf import MAX_DPI, MIN_DPI, PDF_DPI

ENGINE = OcrEngine()
if os.environ.get("OCR_WARM_UP", "1") != "0":  # 0: skip loading the models at import (e.g. to write the spec)
    ENGINE.warm_up()

app = make_resolver()
DPI_PARAM = dpi_param(MIN_DPI, MAX_DPI, PDF_DPI)
# Answer before Lambda kills the function: stop reading this long before its timeout (the answer
# still has to be shaped and sent). OCR_REQUEST_SECONDS optionally caps a request further.
DEADLINE_MARGIN_SECONDS = 2.5
REQUEST_SECONDS = float(os.environ.get("OCR_REQUEST_SECONDS", "0")) or None
MIN_IMAGE_SECONDS = 1.0  # the batch route keeps this much per image still to read


def request_deadline() -> float:
    """time.monotonic() by which this request's reading must stop (from the Lambda context)."""
    context = app.lambda_context
    left = context.get_remaining_time_in_millis() / 1000 - DEADLINE_MARGIN_SECONDS
    return time.monotonic() + (min(left, REQUEST_SECONDS) if REQUEST_SECONDS else left)


def _read(image: ImageInput, mode: str, deadline: float, dpi: int | None = None) -> dict[str, Any]:
    """One image -> the engine's result (raises ApiError with the right status on a bad image)."""
    if image.error is not None:
        raise image.error
    assert image.data is not None
    try:
        result = ENGINE.read(image.data, mode=mode, deadline=deadline, dpi=dpi)
    except OcrError as err:
        raise ApiError(err.code, err.message) from None  # the engine knows the status
    metrics.add_metric(name="ImagesRead", unit=MetricUnit.Count, value=1)
    return {"filename": image.filename, **result.to_dict()}


def _export(image: ImageInput, request: OcrRequest, deadline: float) -> Response:
    """A non-JSON answer (txt, hOCR, ALTO, TSV, JSONL, searchable PDF) for one image."""
    if image.error is not None:
        raise image.error
    assert image.data is not None
    try:
        pages = decode_image(image.data, dpi=request.dpi)  # kept: the searchable PDF draws them
        result = ENGINE.read_pages(pages, request.mode, deadline=deadline)
        body = export(result, request.format, pages=pages, source=image.filename, dpi=request.dpi)
    except OcrError as err:
        raise ApiError(err.code, err.message) from None
    metrics.add_metric(name="ImagesRead", unit=MetricUnit.Count, value=1)
    fmt = FORMATS[request.format]
    return Response(status_code=200, content_type=fmt.media_type, body=body if fmt.binary else body.decode("utf-8"),
                    headers={"X-Request-Id": request_id(app)})


def _single(request: OcrRequest) -> Any:
    started = time.perf_counter()
    if request.format != "json":
        response = _export(request.images[0], request, request_deadline())
        metrics.add_metric(name="OcrLatency", unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1000)
        return response
    body = _read(request.images[0], request.mode, request_deadline(), request.dpi)
    body["request_id"] = request_id(app)
    metrics.add_metric(name="OcrLatency", unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1000)
    return json_response(200, body)


@app.post("/api/ocr", operation_id="ocr", tags=["ocr"], summary="Read one image or PDF (mode printed, handwritten or auto)",
          responses=responses(200, "OcrResult", "the text and its structure (or the document in the asked format)",
                              (400, 404, 413, 415, 422, 429, 500, 503, 504), formats=True),
          openapi_extensions={"requestBody": ONE_IMAGE_BODY, "parameters": [MODE_PARAM, FILENAME_PARAM, FORMAT_PARAM, DPI_PARAM]})
@tracer.capture_method
def ocr() -> Any:
    return _single(parse_request(app.current_event.raw_event, batch=False))


@app.post("/api/ocr/handwritten", operation_id="ocrHandwritten", tags=["ocr"],
          summary="Read one image or PDF with the handwriting model",
          responses=responses(200, "OcrResult", "the text and its structure (or the document in the asked format)",
                              (400, 404, 413, 415, 422, 429, 500, 503, 504), formats=True),
          openapi_extensions={"requestBody": ONE_IMAGE_BODY, "parameters": [FILENAME_PARAM, FORMAT_PARAM, DPI_PARAM]})
@tracer.capture_method
def ocr_handwritten() -> Any:
    request = parse_request(app.current_event.raw_event, batch=False, default_mode="handwritten")
    request.mode = "handwritten"  # the route decides; a `mode` field cannot override it
    return _single(request)


@app.post("/api/ocr/batch", operation_id="ocrBatch", tags=["ocr"],
          summary="Read several images; results in request order, a bad image fails only its entry",
          description="Up to 10 images. Time is budgeted so that every image keeps at least 1 s: images the request "
                      "had no time left for get an entry with error `timeout` (status 504) and the answer lists "
                      "`warnings`; send those again in a smaller batch. Entry errors (a bad image, an unreadable "
                      "upload) never fail the batch.",
          responses=responses(200, "BatchResult", "one entry per image, in request order", (400, 413, 415, 422, 429, 500)),
          openapi_extensions={"requestBody": BATCH_BODY, "parameters": [MODE_PARAM, DPI_PARAM]})
@tracer.capture_method
def ocr_batch() -> Any:
    """Results in request order; a bad image gives its entry an error and not the batch.

    Time is budgeted: image i must finish while `MIN_IMAGE_SECONDS` remain for each image after
    it, so one slow image cannot starve the rest; images out of time get a `timeout` entry and
    the answer still arrives (never a killed function).
    """
    request = parse_request(app.current_event.raw_event, batch=True)
    deadline = request_deadline()
    results: list[dict[str, Any]] = []
    for index, image in enumerate(request.images):
        left_after = len(request.images) - index - 1
        try:
            results.append({"index": index, **_read(image, request.mode, deadline - MIN_IMAGE_SECONDS * left_after,
                                                    request.dpi)})
        except ApiError as err:
            results.append({"index": index, "filename": image.filename, "error": err.code,
                            "message": err.message, "status": err.status})
    failed = sum("error" in r for r in results)
    timed_out = sum(r.get("error") == "timeout" for r in results)
    warnings = [f"{timed_out} of {len(results)} images were not read in this request's time; send them in "
                "a smaller batch"] if timed_out else []
    return json_response(200, {
        "text": "\n\n".join(r.get("text", "") for r in results), "count": len(results), "failed": failed,
        "results": results, "warnings": warnings, "request_id": request_id(app),
    })


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
