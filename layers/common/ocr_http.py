"""What every HTTP function of the OCR API shares: the resolver, JSON errors, CORS, limits.

This module ships in the Lambda layer built from `layers/common/` (zip functions: health,
uploads) and is copied into the engine's container image (OCR functions), so all routes answer
errors the same way: `{"error": code, "message": ..., "request_id": ...}`, never a stack trace.
It needs no TensorFlow and no numpy.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

APP_VERSION = "0.2.0"  # equals ocr_core.__version__ and pyproject.toml (tests/test_packaging.py checks it); minor bump on an API change
SERVICE = "serverless-ocr"

# API Gateway -> Lambda carries at most 6 MB of event, so ~4.4 MB of base64-encoded image.
MAX_BODY_BYTES = int(os.environ.get("OCR_API_MAX_BODY_BYTES", str(4_400_000)))
MAX_BATCH_IMAGES = int(os.environ.get("OCR_API_MAX_BATCH_IMAGES", "10"))

# The routes of the whole API (all functions), for 405 answers and the OpenAPI check.
ROUTES: dict[str, set[str]] = {
    "/": {"GET"},
    "/api/docs": {"GET"},
    "/api/health": {"GET"},
    "/api/uploads": {"POST"},
    "/api/ocr": {"POST"},
    "/api/ocr/handwritten": {"POST"},
    "/api/ocr/batch": {"POST"},
}

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="ServerlessOCR", service=SERVICE)
tracer = Tracer(service=SERVICE)


class ApiError(Exception):
    """A request the API refuses: becomes `{"error": code, "message": ...}` with `status`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


UPLOAD_ROOT = "uploads/"


def caller_id(event: dict[str, Any]) -> str:
    """Who calls, as a short opaque id for key prefixes: the JWT subject or the IAM principal
    (hashed: keys must not carry user names or account ids); `public` when the API has no auth."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    jwt = (authorizer.get("jwt") or {}).get("claims") or {}
    iam = authorizer.get("iam") or {}
    who = (f"jwt:{jwt['sub']}" if jwt.get("sub") else
           f"iam:{iam.get('userArn') or iam.get('userId')}" if (iam.get("userArn") or iam.get("userId")) else "")
    return hashlib.sha256(who.encode()).hexdigest()[:20] if who else "public"


def upload_prefix(caller: str) -> str:
    """Where a caller's uploads live; the OCR routes read `s3_key`s under it only."""
    return f"{UPLOAD_ROOT}{caller}/"


def request_id(app: APIGatewayHttpResolver) -> str:
    return str(app.current_event.request_context.request_id or "")


def json_response(status: int, body: dict[str, Any]) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps(body, ensure_ascii=False))


def error_response(app: APIGatewayHttpResolver, status: int, code: str, message: str) -> Response:
    return json_response(status, {"error": code, "message": message, "request_id": request_id(app)})


def json_body(app: APIGatewayHttpResolver) -> Any:
    """The request's JSON body; a 400 `bad_json` error if it is not JSON."""
    return parse_json(app.current_event.decoded_body or "null")


def parse_json(data: str | bytes) -> Any:
    """JSON of a request body; 400 `bad_json` when it is not JSON or nested too deeply to parse."""
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise ApiError(400, "bad_json", f"the body is not valid JSON: {err}") from None
    except RecursionError:
        raise ApiError(400, "bad_json", "the body is JSON nested too deeply; send a flat object") from None


def quoted(value: object, limit: int = 40) -> str:
    """A caller's value in an error message, bounded (it may be a megabyte long)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...'"


def make_resolver() -> APIGatewayHttpResolver:
    """An HTTP API (payload 2.0) resolver with CORS and JSON errors for every failure."""
    origin = os.environ.get("CORS_ALLOW_ORIGIN", "*")
    app = APIGatewayHttpResolver(cors=CORSConfig(allow_origin=origin, max_age=600, allow_headers=["Content-Type"]))

    @app.exception_handler(ApiError)
    def _api_error(err: ApiError) -> Response:
        logger.info("request refused", extra={"error": err.code, "status": err.status})
        return error_response(app, err.status, err.code, err.message)

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        path, method = app.current_event.path, app.current_event.http_method
        allowed = ROUTES.get(path)
        if allowed:
            resp = error_response(app, 405, "method_not_allowed", f"{method} is not allowed on {path}; use {', '.join(sorted(allowed))}")
            resp.headers["Allow"] = ", ".join(sorted(allowed))
            return resp
        return error_response(app, 404, "not_found", f"no route {method} {path}; routes: " +
                              ", ".join(f"{m} {p}" for p, ms in ROUTES.items() for m in sorted(ms)))

    @app.exception_handler(Exception)
    def _unexpected(err: Exception) -> Response:
        logger.exception("unhandled error")
        # Not "retry": an unexpected failure may well happen again on the same request.
        return error_response(app, 500, "internal_error", "the service failed unexpectedly on this request; "
                              "report the request_id if it persists")

    return app


# ---------------------------------------------------------------------- models (no TensorFlow)
_S3_URI = re.compile(r"^s3://([^/]+)/?(.*)$")


_s3: Any = None  # one client per container, made on first use


def _read(uri: str) -> dict[str, Any]:
    """JSON at a path or s3:// URI (ocr_core.model_store.read_uri needs numpy; this layer does not)."""
    global _s3
    match = _S3_URI.match(uri)
    if match:
        _s3 = _s3 or boto3.client("s3")
        body = _s3.get_object(Bucket=match.group(1), Key=match.group(2))["Body"].read()
        return dict(json.loads(body))
    with open(uri, encoding="utf-8") as f:
        return dict(json.load(f))


def model_versions(kinds: tuple[str, ...] = ("printed", "handwritten")) -> dict[str, str]:
    """The model version each OCR function serves, read without loading any model.

    With `MODEL_URI` (the registry, see training/registry.py) it is the pinned
    `MODEL_VERSION_<KIND>` or the version `latest.json` names (a warm container keeps the version
    it loaded until it is recycled; every OCR result names the exact one); without a promoted
    version the functions use the model baked into their image ("image"). Otherwise it is the manifest in `OCR_MODEL_DIR` (default: the repo's models/).
    Health reports, never fails: an unreadable store gives "unavailable".
    """
    registry = os.environ.get("MODEL_URI", "").rstrip("/")
    folder = os.environ.get("OCR_MODEL_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models")
    versions: dict[str, str] = {}
    for kind in kinds:
        try:
            pinned = os.environ.get(f"MODEL_VERSION_{kind.upper()}")
            if registry and pinned:  # the functions load this version, whatever latest says
                versions[kind] = pinned
            elif registry:
                versions[kind] = str(_read(f"{registry}/{kind}/latest.json")["version"])
            else:
                versions[kind] = str(_read(os.path.join(folder, kind, "manifest.json")).get("version", "unknown"))
        except Exception as err:  # noqa: BLE001 - health reports, never raises
            # Health may read only */latest.json (least privilege, no s3:ListBucket), so S3 answers a
            # missing pointer with 403; either way the OCR functions serve the model baked into their image.
            code = getattr(err, "response", {}).get("Error", {}).get("Code")
            no_pointer = registry and code in ("NoSuchKey", "404", "AccessDenied", "403")
            versions[kind] = "image" if no_pointer else "unavailable"
    return versions
