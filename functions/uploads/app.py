"""POST /api/uploads: a presigned S3 PUT URL for an image too big for a request body.

API Gateway takes at most 10 MB and Lambda 6 MB of synchronous payload, so large scans go to
S3 first: PUT the file to `upload_url`, then `POST /api/ocr` with `{"s3_key": key}`.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from ocr_http import ApiError, json_body, json_response, logger, make_resolver, tracer

app = make_resolver()
EXPIRES_SECONDS = int(os.environ.get("OCR_UPLOAD_URL_EXPIRES", "900"))
CONTENT_TYPES = ("image/jpeg", "image/png", "image/tiff", "image/bmp", "image/webp")


def _safe_name(name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", os.path.basename(name or "image"))[:100].strip("._")
    return name or "image"


@app.post("/api/uploads")
@tracer.capture_method
def create_upload() -> Any:
    body = json_body(app) if app.current_event.body else {}
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", 'send a JSON object such as {"filename": "scan.png", "content_type": "image/png"}')
    content_type = str(body.get("content_type") or "image/png")
    if content_type not in CONTENT_TYPES:
        raise ApiError(415, "unsupported_media_type", f"content_type must be one of {', '.join(CONTENT_TYPES)}")
    bucket = os.environ["UPLOAD_BUCKET"]
    key = f"uploads/{uuid.uuid4().hex}/{_safe_name(str(body.get('filename') or ''))}"
    url = boto3.client("s3").generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": key, "ContentType": content_type}, ExpiresIn=EXPIRES_SECONDS,
    )
    return json_response(201, {
        "upload_url": url, "method": "PUT", "headers": {"Content-Type": content_type},
        "s3_key": key, "expires_in": EXPIRES_SECONDS,
    })


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
