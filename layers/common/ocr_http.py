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
import ocr_vocabulary as vocabulary  # ocr_core/vocabulary.py, copied into the layer
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from ocr_vocabulary import error_status, quoted  # noqa: F401 - quoted: for the handlers

APP_VERSION = "0.2.0"  # equals ocr_core.__version__ and pyproject.toml (tests/test_packaging.py checks it); minor bump on an API change
SERVICE = "serverless-ocr"

MAX_BODY_BYTES = int(os.environ.get("OCR_API_MAX_BODY_BYTES", str(vocabulary.MAX_BODY_BYTES)))
MAX_BATCH_IMAGES = int(os.environ.get("OCR_API_MAX_BATCH_IMAGES", str(vocabulary.MAX_BATCH_IMAGES)))

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
    """A request the API refuses: becomes `{"error": code, "message": ...}` with the code's status."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = error_status(code), code, message


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


def error_response(app: APIGatewayHttpResolver, code: str, message: str) -> Response:
    return json_response(error_status(code), {"error": code, "message": message, "request_id": request_id(app)})


def json_body(app: APIGatewayHttpResolver) -> Any:
    """The request's JSON body; a 400 `bad_json` error if it is not JSON."""
    return parse_json(app.current_event.decoded_body or "null")


def parse_json(data: str | bytes) -> Any:
    """JSON of a request body; 400 `bad_json` when it is not JSON or nested too deeply to parse."""
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise ApiError("bad_json", f"the body is not valid JSON: {err}") from None
    except RecursionError:
        raise ApiError("bad_json", "the body is JSON nested too deeply; send a flat object") from None


def make_resolver() -> APIGatewayHttpResolver:
    """An HTTP API (payload 2.0) resolver with CORS and JSON errors for every failure."""
    origin = os.environ.get("CORS_ALLOW_ORIGIN", "*")
    app = APIGatewayHttpResolver(cors=CORSConfig(allow_origin=origin, max_age=600, allow_headers=["Content-Type"]))

    @app.exception_handler(ApiError)
    def _api_error(err: ApiError) -> Response:
        logger.info("request refused", extra={"error": err.code, "status": err.status})
        return error_response(app, err.code, err.message)

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        path, method = app.current_event.path, app.current_event.http_method
        allowed = ROUTES.get(path)
        if allowed:
            resp = error_response(app, "method_not_allowed", f"{method} is not allowed on {path}; use {', '.join(sorted(allowed))}")
            resp.headers["Allow"] = ", ".join(sorted(allowed))
            return resp
        return error_response(app, "not_found", f"no route {method} {path}; routes: " +
                              ", ".join(f"{m} {p}" for p, ms in ROUTES.items() for m in sorted(ms)))

    @app.exception_handler(Exception)
    def _unexpected(err: Exception) -> Response:
        logger.exception("unhandled error")
        # Not "retry": an unexpected failure may well happen again on the same request.
        return error_response(app, "internal_error", "the service failed unexpectedly on this request; "
                              "report the request_id if it persists")

    return app


# ---------------------------------------------------------------------- models (no TensorFlow)
_S3_URI = re.compile(r"^s3://([^/]+)/?(.*)$")


_s3: Any = None  # one client per container, made on first use
_verified: dict[str, str] = {}  # model file URI + its ETag (or mtime) -> sha256: each version of a file is hashed once


def _open(uri: str) -> Any:
    """A readable stream of the bytes at a path or s3:// URI (ocr_core.storage needs the engine package; this layer has none)."""
    global _s3
    match = _S3_URI.match(uri)
    if match:
        _s3 = _s3 or boto3.client("s3")
        return _s3.get_object(Bucket=match.group(1), Key=match.group(2))["Body"]
    return open(uri, "rb")  # noqa: SIM115 - closed by the callers' with


def _read(uri: str) -> dict[str, Any]:
    """JSON at a path or s3:// URI."""
    with _open(uri) as f:
        return dict(json.loads(f.read()))


def _sha256(uri: str) -> str:
    """sha256 of the file at a path or s3:// URI, hashed once per version of the object (ETag / mtime)."""
    match = _S3_URI.match(uri)
    if match:
        global _s3
        _s3 = _s3 or boto3.client("s3")
        seen = f"{uri} {_s3.head_object(Bucket=match.group(1), Key=match.group(2))['ETag']}"
    else:
        stat = os.stat(uri)
        seen = f"{uri} {stat.st_mtime_ns} {stat.st_size}"
    if seen not in _verified:
        digest = hashlib.sha256()
        with _open(uri) as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        _verified[seen] = digest.hexdigest()
    return _verified[seen]


def registry_version(registry: str, kind: str) -> str:
    """The registry version the OCR functions serve for `kind`, checked the way ocr_core.model_store checks it:
    the pin or latest.json (vocabulary.wanted_version), that version's manifest, the sha256 of the file the
    runtime loads. Raises when any step fails: then the functions serve the model baked into their image."""
    version = vocabulary.wanted_version(kind, lambda k: _read(f"{registry}/{k}/{vocabulary.REGISTRY_POINTER}"))
    base = f"{registry}/{kind}/{version}"
    manifest = _read(f"{base}/manifest.json")
    if str(manifest.get("version")) != version:
        raise ValueError(f"{base} holds manifest version {manifest.get('version')!r}")
    file_name, sha256 = vocabulary.runtime_file(manifest, vocabulary.choose_runtime(manifest))
    if _sha256(f"{base}/{file_name}") != sha256:
        raise ValueError(f"{base}/{file_name} does not match its manifest's sha256")
    return version


def model_versions(kinds: tuple[str, ...] = vocabulary.MODEL_KINDS) -> dict[str, str]:
    """The model version each OCR function serves, read without loading any model: what their results name.

    With `MODEL_URI` (the registry, see training/registry.py) it is `registry_version` (a warm OCR
    container keeps the version it loaded until it is recycled; every OCR result names the exact one);
    when the registry has no usable version (none promoted, unreadable, a file failing its sha256)
    the functions serve the model baked into their image: its manifest's version where this function
    can read it (`OCR_MODEL_DIR`, default the repo's models/), else "image". Without `MODEL_URI` it
    is that baked manifest's version. Health reports, never fails: an unreadable baked manifest
    without a registry gives "unavailable".
    """
    registry = os.environ.get("MODEL_URI", "").rstrip("/")
    folder = os.environ.get("OCR_MODEL_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models")
    versions: dict[str, str] = {}
    for kind in kinds:
        if registry:
            try:
                versions[kind] = registry_version(registry, kind)
                continue
            except Exception as err:  # noqa: BLE001 - health reports, never raises
                logger.info("registry model not served", extra={"kind": kind, "reason": f"{type(err).__name__}: {err}"})
        try:
            versions[kind] = str(_read(os.path.join(folder, kind, "manifest.json")).get("version", "unknown"))
        except Exception:  # noqa: BLE001 - the zip function has no baked models: it cannot name the image's
            versions[kind] = "image" if registry else "unavailable"
    return versions
