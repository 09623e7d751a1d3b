"""POST /api/uploads: a presigned S3 POST form for an image too big for a request body.

API Gateway takes at most 10 MB and Lambda 6 MB of synchronous payload, so large scans go to
S3 first: POST the file with the returned `fields` to `upload_url` (a multipart form, the file
field last), then `POST /api/ocr` with `{"s3_key": key}`.

The POST policy is what S3 enforces, whatever the uploader sends: the exact key, one content type
(an image type or PDF), a size between 1 byte and the engine's image limit, and an expiry. Keys
live under the caller's own prefix (`uploads/<caller>/...`, from the JWT subject or IAM user;
`public` when the API has no auth), and the OCR routes read only their caller's prefix. Minting
is rate-limited by the route's own throttle in template.yaml (`UploadsRouteRateLimit`).
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Any

import boto3
from api_spec import responses, upload_body
from aws_lambda_powertools.utilities.typing import LambdaContext
from ocr_http import ApiError, caller_id, json_body, json_response, logger, make_resolver, tracer, upload_prefix

app = make_resolver()
EXPIRES_SECONDS = int(os.environ.get("OCR_UPLOAD_URL_EXPIRES", "900"))
# The engine's own image-size limit (ocr_core.image_io reads the same variable; this zip function
# cannot import it: no numpy here). tests/test_packaging.py checks the two defaults agree.
MAX_UPLOAD_BYTES = int(os.environ.get("OCR_MAX_IMAGE_BYTES", 20 * 1024 * 1024))
CONTENT_TYPES = ("image/jpeg", "image/png", "image/tiff", "image/bmp", "image/webp", "application/pdf")


def _safe_name(name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", os.path.basename(name or "image"))[:100].strip("._")
    return name or "image"


@app.post("/api/uploads", operation_id="createUpload", tags=["ocr"],
          summary="A presigned S3 POST form (size-capped, one image type or PDF, under the caller's prefix) for a big image",
          description="POST a multipart form of `fields` plus the file (field `file`, last) to `upload_url`, then "
                      "`POST /api/ocr {\"s3_key\": ...}`. S3 enforces the policy: that exact key under "
                      "`uploads/<caller>/` (the JWT subject or IAM principal, hashed; `public` without auth), that "
                      "content type, 1 byte to `max_bytes`, until `expires_in` seconds from now. 503 "
                      "`uploads_disabled` when the deployment has no upload bucket.",
          responses=responses(201, "Upload", "the form to POST the file with", (400, 415, 429, 503)),
          openapi_extensions={"requestBody": upload_body(CONTENT_TYPES)})
@tracer.capture_method
def create_upload() -> Any:
    body = json_body(app) if app.current_event.body else {}
    if not isinstance(body, dict):
        raise ApiError("bad_json", 'send a JSON object such as {"filename": "scan.png", "content_type": "image/png"}')
    content_type = str(body.get("content_type") or "image/png")
    if content_type not in CONTENT_TYPES:
        raise ApiError("unsupported_media_type", f"content_type must be one of {', '.join(CONTENT_TYPES)}")
    bucket = os.environ.get("UPLOAD_BUCKET")
    if not bucket:
        raise ApiError("uploads_disabled", "this deployment has no upload bucket (UPLOAD_BUCKET is not set); "
                       "send images of up to 4.4 MB in the request body instead")
    caller = caller_id(app.current_event.raw_event)
    key = f"{upload_prefix(caller)}{uuid.uuid4().hex}/{_safe_name(str(body.get('filename') or ''))}"
    post = boto3.client("s3").generate_presigned_post(
        Bucket=bucket, Key=key, Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, MAX_UPLOAD_BYTES]],
        ExpiresIn=EXPIRES_SECONDS,
    )
    logger.info("upload minted", extra={"caller": caller, "content_type": content_type})
    return json_response(201, {
        "upload_url": post["url"], "method": "POST", "fields": post["fields"], "s3_key": key,
        "max_bytes": MAX_UPLOAD_BYTES, "expires_in": EXPIRES_SECONDS,
    })


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
