"""GET /api/health: status, app version and the model versions the OCR functions load.

A zip function on the shared layer (no TensorFlow, no model loaded), so it answers while the OCR
containers are cold. With a registry (MODEL_URI) it reads the pointers and the served version's
manifest, and hashes that version's model file once per container (sha256, to name only a version
the OCR functions would accept): that first call takes as long as reading the file, later ones
milliseconds.
"""

from __future__ import annotations

from typing import Any

from api_spec import responses
from aws_lambda_powertools.utilities.typing import LambdaContext
from ocr_http import APP_VERSION, json_response, logger, make_resolver, model_versions, tracer

app = make_resolver()


@app.get("/api/health", operation_id="health", tags=["service"],
         summary="Status, app version and the model versions the OCR functions serve",
         responses=responses(200, "Health", "healthy"))
@tracer.capture_method
def health() -> Any:
    return json_response(200, {"status": "ok", "version": APP_VERSION, "models": model_versions()})


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
