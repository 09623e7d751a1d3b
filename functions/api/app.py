"""OCR routes: POST /api/ocr, /api/ocr/handwritten, /api/ocr/batch (container image with TensorFlow).

Thin by design: `inputs` parses the request, `ocr_core` reads the image, this module shapes the
JSON. The engine (models, graphs) loads once per container, at init, outside the handler.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from ocr_http import ApiError, json_response, logger, make_resolver, metrics, request_id, tracer

from functions.api.inputs import ImageInput, OcrRequest, parse_request
from ocr_core.engine import OcrEngine
from ocr_core.errors import OcrError

ENGINE = OcrEngine()
ENGINE.warm_up()

app = make_resolver()


def _read(image: ImageInput, mode: str) -> dict[str, Any]:
    """One image -> the engine's result (raises ApiError with the right status on a bad image)."""
    if image.error is not None:
        raise image.error
    assert image.data is not None
    try:
        result = ENGINE.read(image.data, mode=mode)
    except OcrError as err:
        raise ApiError(err.http_status, err.code, err.message) from None  # the engine knows the status
    metrics.add_metric(name="ImagesRead", unit=MetricUnit.Count, value=1)
    return {"filename": image.filename, **result.to_dict()}


def _single(request: OcrRequest) -> Any:
    started = time.perf_counter()
    body = _read(request.images[0], request.mode)
    body["request_id"] = request_id(app)
    metrics.add_metric(name="OcrLatency", unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1000)
    return json_response(200, body)


@app.post("/api/ocr")
@tracer.capture_method
def ocr() -> Any:
    return _single(parse_request(app.current_event.raw_event, batch=False))


@app.post("/api/ocr/handwritten")
@tracer.capture_method
def ocr_handwritten() -> Any:
    request = parse_request(app.current_event.raw_event, batch=False, default_mode="handwritten")
    request.mode = "handwritten"  # the route decides; a `mode` field cannot override it
    return _single(request)


@app.post("/api/ocr/batch")
@tracer.capture_method
def ocr_batch() -> Any:
    """Results in request order; a bad image gives its entry an error and not the batch."""
    request = parse_request(app.current_event.raw_event, batch=True)
    results: list[dict[str, Any]] = []
    for index, image in enumerate(request.images):
        try:
            results.append({"index": index, **_read(image, request.mode)})
        except ApiError as err:
            results.append({"index": index, "filename": image.filename, "error": err.code,
                            "message": err.message, "status": err.status})
    failed = sum("error" in r for r in results)
    return json_response(200, {
        "text": "\n\n".join(r.get("text", "") for r in results), "count": len(results), "failed": failed,
        "results": results, "request_id": request_id(app),
    })


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
