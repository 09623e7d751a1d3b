"""The parts of the OpenAPI description that the route decorators share, and the merge of all routes.

Each handler module declares its routes with Powertools (`@app.post(path, summary=...,
responses=..., openapi_extensions=...)`), using the schemas, bodies and error answers here;
`openapi_spec()` merges every function's resolver into one document with Powertools'
`OpenAPIMerge` (`.venv/bin/python scripts/make_openapi.py` writes it to functions/web/openapi.json, which the
web function serves at /api/docs; tests/test_packaging.py checks the file is what the code makes).
Plain dicts only at import time: the OCR image imports this without pydantic.
"""

from __future__ import annotations

import json
from typing import Any

from ocr_vocabulary import DEFAULT_MODE, MAX_BATCH_IMAGES, MAX_BODY_BYTES, MODEL_KINDS, MODES

REF = "#/components/schemas/"
JSON = "application/json"


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


SCHEMAS: dict[str, dict[str, Any]] = {
    "Mode": {"type": "string", "enum": list(MODES), "default": DEFAULT_MODE},
    "Format": {"type": "string", "enum": ["json", "txt", "jsonl", "tsv", "hocr", "alto", "pdf"], "default": "json",
               "description": "answer format (ocr_core.export): json (the full result), txt (pages separated by a form "
                              "feed), jsonl (one JSON line per text line), tsv (Tesseract's columns), hocr (hOCR 1.2), "
                              "alto (ALTO 4.4 XML), pdf (searchable PDF)"},
    "JsonImage": {
        "type": "object",
        "description": '{"image": base64 (or a data: URL)} or {"s3_key": a key POST /api/uploads returned to you}',
        "properties": {
            "image": {"type": "string", "format": "byte"},
            "s3_key": {"type": "string", "examples": ["uploads/public/0f3c.../scan.png"],
                       "description": "readable only under the caller's own prefix (uploads/<caller>/)"},
            "filename": {"type": "string"},
            "mode": ref("Mode"),
            "format": ref("Format"),
            "dpi": {"type": "integer", "description": "PDF render resolution (range and default: the `dpi` parameter)"},
        },
    },
    "Error": {
        "type": "object", "required": ["error", "message"],
        "properties": {"error": {"type": "string", "examples": ["unsupported_format"]}, "message": {"type": "string"},
                       "request_id": {"type": "string"}},
    },
    "Box": {
        "type": "array", "description": "polygon in original-image pixels, clockwise from the text's top-left "
                                        "(on a page read turned, that corner is where the turned text starts)",
        "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
    },
    "Word": {"type": "object", "properties": {"text": {"type": "string"}, "confidence": {"type": "number"}, "box": ref("Box")}},
    "Line": {
        "type": "object",
        "properties": {
            "text": {"type": "string"}, "confidence": {"type": "number"},
            "low_confidence": {"type": "boolean", "description": "confidence under its model's threshold: check this line"},
            "box": ref("Box"), "mode": {"type": "string", "enum": list(MODEL_KINDS)}, "page": {"type": "integer"},
            "words": {"type": "array", "items": ref("Word")},
        },
    },
    "OcrResult": {
        "type": "object", "required": ["text", "confidence", "mode", "lines"],
        "properties": {
            "text": {"type": "string", "description": "all lines in reading order, joined by newlines"},
            "filename": {"type": "string"}, "request_id": {"type": "string"}, "schema_version": {"type": "string"},
            "confidence": {"type": "number"}, "mode": ref("Mode"),
            "mode_used": {"type": "string", "description": "what auto decided: printed, handwritten or mixed"},
            "engine": {"type": "string"}, "detector": {"type": "string"},
            "models": {"type": "object", "additionalProperties": {"type": "string"}},
            "width": {"type": "integer"}, "height": {"type": "integer"}, "page_count": {"type": "integer"},
            "lines": {"type": "array", "items": ref("Line"), "description": "every line once, with its page"},
            "pages": {"type": "array", "items": {"type": "object"},
                      "description": "per page: page, width, height, rotation (clockwise degrees the image was turned to "
                                     "read it: 0, 90, 180, 270), text, line_count (its lines are in `lines`), warnings"},
            "warnings": {"type": "array", "items": {"type": "string"},
                         "description": "every page's warning codes, once each: rotated (read turned), too_small "
                                        "(very small print), blurred (blurred ink edges), mostly_unreadable (most text read with low confidence)"},
            "timings_ms": {"type": "object", "additionalProperties": {"type": "number"}},
        },
    },
    "BatchResult": {
        "type": "object",
        "properties": {
            "text": {"type": "string"}, "count": {"type": "integer"}, "failed": {"type": "integer"},
            "warnings": {"type": "array", "items": {"type": "string"},
                         "description": "e.g. images left unread (error timeout) when the request ran out of time"},
            "request_id": {"type": "string"},
            "results": {"type": "array", "items": {
                "type": "object", "description": "an OcrResult plus index, or an Error plus index, filename and status",
                "properties": {"index": {"type": "integer"}, "filename": {"type": "string"}, "text": {"type": "string"},
                               "error": {"type": "string"}, "message": {"type": "string"}, "status": {"type": "integer"}},
            }},
        },
    },
    "Health": {
        "type": "object",
        "properties": {"status": {"type": "string", "examples": ["ok"]}, "version": {"type": "string"},
                       "models": {"type": "object", "additionalProperties": {"type": "string"}}},
    },
    "Upload": {
        "type": "object",
        "properties": {"upload_url": {"type": "string"}, "method": {"type": "string", "examples": ["POST"]},
                       "fields": {"type": "object", "additionalProperties": {"type": "string"},
                                  "description": "form fields to send before the file (key, policy, signature, Content-Type)"},
                       "s3_key": {"type": "string", "description": "under the caller's prefix: uploads/<caller>/..."},
                       "max_bytes": {"type": "integer", "description": "the largest file the policy accepts"},
                       "expires_in": {"type": "integer", "description": "seconds the form stays valid"}},
    },
}

ERROR_MEANINGS = {
    400: "bad request (bad or too deeply nested JSON `bad_json`, bad base64, no image, an s3_key outside the caller's prefix)",
    404: "unknown route, or nothing uploaded at s3_key", 405: "wrong method",
    413: f"body over {MAX_BODY_BYTES / 1e6:.1f} MB, image over 20 MiB / 50 Mpx per page / 100 Mpx in all / 50 pages, "
         f"batch over {MAX_BATCH_IMAGES} images (more than one on /api/ocr), more than 10 form fields",
    415: "not an image or PDF, or a content type the API does not take",
    422: "bad mode or format, a `dpi` that is not a whole number in its range (`bad_dpi`), corrupt image, `corrupt_pdf`, `encrypted_pdf`, or an image the pipeline cannot process "
         "(`unprocessable_image`)",
    429: "throttled: retry later",
    500: "the service failed unexpectedly; report the request_id if it persists",
    503: "unavailable: the upload could not be read now (`storage_unavailable`, retry) or the deployment has no upload "
         "bucket (`uploads_disabled`)",
    504: "`timeout`: the image could not be read in the request's time (the same request times out again: send a "
         "smaller image)",
}

MODE_PARAM = {"name": "mode", "in": "query", "schema": ref("Mode"),
              "description": "printed | handwritten | auto (default auto); a multipart `mode` field or JSON `mode` works too"}
FORMAT_PARAM = {"name": "format", "in": "query", "schema": ref("Format"),
                "description": "answer format (default json); a multipart `format` field or JSON `format` works too"}
FILENAME_PARAM = {"name": "filename", "in": "query", "schema": {"type": "string"},
                  "description": "name echoed in the result, for raw image bodies"}


def dpi_param(low: int, high: int, default: int) -> dict[str, Any]:
    """The `dpi` parameter; the OCR routes pass ocr_core.pdf's range and default (this layer has no ocr_core)."""
    return {"name": "dpi", "in": "query", "schema": {"type": "integer", "minimum": low, "maximum": high, "default": default},
            "description": f"resolution PDF pages are rendered at, as `ocr --dpi` (default {default}, the deployment's "
                           "OCR_PDF_DPI); a multipart `dpi` field or JSON `dpi` works too; images ignore it"}


ONE_IMAGE_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["image"],
                                           "properties": {"image": {"type": "string", "format": "binary"}, "mode": ref("Mode"),
                                                          "format": ref("Format"), "dpi": {"type": "integer"}}}},
        "image/*": {"schema": {"type": "string", "format": "binary"}},
        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        JSON: {"schema": ref("JsonImage")},
    },
}

BATCH_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["images"], "properties": {
            "images": {"type": "array", "items": {"type": "string", "format": "binary"}}, "mode": ref("Mode"),
            "dpi": {"type": "integer"}}}},
        JSON: {"schema": {"type": "object", "required": ["images"], "properties": {
            "images": {"type": "array", "maxItems": MAX_BATCH_IMAGES, "items": ref("JsonImage")}, "mode": ref("Mode"),
            "dpi": {"type": "integer"}}}},
    },
}



def upload_body(content_types: tuple[str, ...]) -> dict[str, Any]:
    """The body of POST /api/uploads; `content_types`: what the policy may allow (the uploads function's list)."""
    return {
        "required": False,
        "content": {JSON: {"schema": {"type": "object", "properties": {
            "filename": {"type": "string", "examples": ["scan.tiff"]},
            "content_type": {"type": "string", "enum": list(content_types), "default": "image/png"}}}}},
    }

# How callers authenticate (template.yaml's AuthMode): documented, enforced by API Gateway.
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "iam": {"type": "apiKey", "name": "Authorization", "in": "header",
            "description": "AuthMode=IAM (the default): AWS Signature Version 4 of an IAM principal allowed "
                           "execute-api:Invoke (curl --aws-sigv4, botocore SigV4Auth; see the README)",
            "x-amazon-apigateway-authtype": "awsSigv4"},
    "jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "AuthMode=JWT: a token from JwtIssuer for JwtAudience (e.g. Cognito), `Authorization: Bearer <token>`"},
}
SECURITY = [{"iam": []}, {"jwt": []}]  # either one, whichever the stack was deployed with
PUBLIC: list[dict[str, list[str]]] = [{}]  # routes API Gateway never puts behind the authorizer


# the other answers of `format` (ocr_core.export.FORMATS' media types)
EXPORT_CONTENT = {media: {"schema": {"type": "string", **({"format": "binary"} if media == "application/pdf" else {})}}
                  for media in ("text/plain", "application/x-ndjson", "text/tab-separated-values",
                                "application/xhtml+xml", "application/xml", "application/pdf")}


def responses(ok: int, schema: str, description: str, errors: tuple[int, ...] = (),
              formats: bool = False) -> dict[int, Any]:
    """The `responses=` of a route: its success body (and with `formats`, the other `format` answers) and
    the JSON errors it can answer."""
    out: dict[int, Any] = {ok: {"description": description, "content": {JSON: {"schema": ref(schema)},
                                                                         **(EXPORT_CONTENT if formats else {})}}}
    for status in errors:
        out[status] = {"description": ERROR_MEANINGS[status], "content": {JSON: {"schema": ref("Error")}}}
    return out


def openapi_spec(resolvers: list[Any], version: str) -> dict[str, Any]:
    """One OpenAPI 3.1 document from the routes every function's resolver declares (needs pydantic)."""
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import Server

    merge = OpenAPIMerge(
        title="Serverless OCR API", version=version, on_conflict="error",
        description=("Reads printed and handwritten text from images with our own Keras models. Every error is JSON "
                     '`{"error": code, "message": ..., "request_id": ...}`; API Gateway\'s own (401/403 auth, 429 '
                     'throttled, 413 over 10 MB) are `{"message": ...}`. 4xx and 504 answers are deterministic: the '
                     f"same request gets the same answer. Limits: request bodies up to {MAX_BODY_BYTES / 1e6:.1f} MB (bigger images go through "
                     "POST /api/uploads: a presigned S3 POST form under the caller's own prefix), images up to 20 MiB / "
                     f"50 megapixels per page / 100 megapixels in all / 50 pages, batches up to {MAX_BATCH_IMAGES} images; reading stops "
                     "before the function's 29 s timeout (504 `timeout`; a batch answers 200 with `timeout` entries and "
                     "`warnings`). Routes are throttled one by one (429)."),
        servers=[Server(url="/", description="this API (the page at / and these docs call it same-origin)"),
                 Server(url="http://127.0.0.1:3000", description="local API (./dev.sh serve)")],
        security_schemes=SECURITY_SCHEMES,  # type: ignore[arg-type]  # plain dicts are what the merge writes
        security=SECURITY,
    )
    for app in resolvers:
        merge.add_schema(app.get_openapi_schema(title="part", version=version, security_schemes=SECURITY_SCHEMES))
    merge.add_schema({"components": {"schemas": SCHEMAS}})
    return dict(json.loads(merge.get_openapi_json_schema()))  # through Powertools' OpenAPI model: plain JSON
