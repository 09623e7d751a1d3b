"""Turn an API Gateway request into the images to read and the mode to read them in.

Accepted bodies (all routes):
- `multipart/form-data` with a file field `image` (batch: one or more `images` or `image`
  fields) and an optional `mode` field — what `curl -F`, Python `requests(files=...)` and a
  browser's `FormData` send;
- a raw `image/*`, `application/pdf` (or `application/octet-stream`) body, with `?mode=` and `?filename=`;
- JSON `{"image": "<base64>", "filename": ..., "mode": ...}` or `{"s3_key": "uploads/..."}`
  (batch: `{"images": [ {...}, ... ], "mode": ...}`).
HTTP APIs base64-encode binary bodies (`isBase64Encoded`); both forms are handled here.
`format` (query, form field or JSON key; single-image routes) picks the answer's format: `json`
(default), `txt`, `jsonl`, `tsv`, `hocr`, `alto` or `pdf` (ocr_core.export). `dpi` (query, form
field or JSON key; all routes) is the resolution PDF pages are rendered at, as the CLI's `--dpi`
(range and default: ocr_core.pdf).
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from ocr_http import MAX_BATCH_IMAGES, MAX_BODY_BYTES, ApiError, caller_id, parse_json, quoted, upload_prefix
from python_multipart import create_form_parser
from python_multipart.exceptions import FormParserError

from ocr_core.errors import OcrError
from ocr_core.export import FORMATS
from ocr_core.image_io import MAX_IMAGE_BYTES
from ocr_core.pdf import check_dpi
from ocr_core.storage import NOT_FOUND_CODES, error_code, s3_client
from ocr_core.vocabulary import MODES

MAX_FORM_FIELDS = 10  # text fields of a multipart body (only `mode` is read); files are capped by the batch size


@dataclass
class ImageInput:
    filename: str
    data: bytes | None  # None when `error` says why this entry could not be read
    error: ApiError | None = None


@dataclass
class OcrRequest:
    images: list[ImageInput]
    mode: str
    format: str = "json"
    dpi: int | None = None  # PDF render resolution, already checked; None: the default (OCR_PDF_DPI)


def body_bytes(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError("bad_body", "the request body is marked base64 but is not valid base64") from None
    else:
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    if len(data) > MAX_BODY_BYTES:
        raise ApiError("payload_too_large",
                       f"the request body is {len(data):,} bytes; the limit is {MAX_BODY_BYTES:,}. "
                       "For larger images POST /api/uploads, POST the file with the returned form fields, then send {\"s3_key\": ...}")
    return data


def parse_request(event: dict[str, Any], *, batch: bool, default_mode: str = "auto") -> OcrRequest:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    query = event.get("queryStringParameters") or {}
    content_type = headers.get("content-type", "").strip()
    data = body_bytes(event)
    if not data:
        raise ApiError("empty_body", "the request has no body; send an image as multipart/form-data field "
                       "'image', as a raw image/* body, or as JSON {\"image\": \"<base64>\"}")
    media = content_type.split(";")[0].strip().lower()
    fmt, dpi = query.get("format"), query.get("dpi")
    if media == "multipart/form-data":
        images, fields = _multipart(content_type, data, batch)
        mode = fields.get("mode") or query.get("mode") or default_mode
        fmt = fields.get("format") or fmt
        dpi = fields.get("dpi") or dpi
    elif media == "application/json":
        images, mode, json_fmt, json_dpi = _json(data, batch, upload_prefix(caller_id(event)))
        mode = mode or query.get("mode") or default_mode
        fmt = json_fmt or fmt
        dpi = json_dpi if json_dpi is not None else dpi
    elif media.startswith("image/") or media in ("application/pdf", "application/octet-stream"):
        images = [ImageInput(query.get("filename") or "image", data)]
        mode = query.get("mode") or default_mode
    else:
        raise ApiError("unsupported_media_type",
                       f"Content-Type {media or '(none)'} is not accepted; use multipart/form-data, image/*, "
                       "application/pdf or application/json")
    if mode not in MODES:
        raise ApiError("bad_mode", f"mode must be one of {', '.join(MODES)}, not {quoted(mode)}")
    fmt = fmt or "json"
    allowed = ("json",) if batch else tuple(FORMATS)
    if fmt not in allowed:
        raise ApiError("bad_format", f"format must be one of {', '.join(allowed)}, not {quoted(fmt)}"
                       + (" (the batch route answers JSON; read one image per request for other formats)" if batch else ""))
    if batch and len(images) > MAX_BATCH_IMAGES:
        raise ApiError("too_many_images", f"a batch holds at most {MAX_BATCH_IMAGES} images, got {len(images)}")
    try:
        checked_dpi = None if dpi is None else check_dpi(dpi)
    except OcrError as err:
        raise ApiError(err.code, err.message) from None
    return OcrRequest(images, mode, fmt, checked_dpi)


def _multipart(content_type: str, data: bytes, batch: bool) -> tuple[list[ImageInput], dict[str, str]]:
    fields: dict[str, str] = {}
    files: list[tuple[str, ImageInput]] = []

    counts = {"fields": 0, "files": 0}
    max_files = MAX_BATCH_IMAGES if batch else 1

    def count(kind: str) -> None:
        """Stop parsing at the first part too many (a body may hold 60,000 tiny parts)."""
        counts[kind] += 1
        if kind == "fields" and counts[kind] > MAX_FORM_FIELDS:
            raise ApiError("too_many_fields", f"a request holds at most {MAX_FORM_FIELDS} form fields")
        if kind == "files" and counts[kind] > max_files + 1:  # one over: the checks below answer with the count
            raise ApiError("too_many_images", f"this route reads at most {max_files} image(s) per request"
                           + ("" if batch else "; use POST /api/ocr/batch for several"))

    def on_field(field: Any) -> None:
        count("fields")
        fields[field.field_name.decode()] = (field.value or b"").decode("utf-8", "replace")

    def on_file(file: Any) -> None:
        count("files")
        file.file_object.seek(0)
        name = (file.file_name or b"image").decode("utf-8", "replace")
        files.append((file.field_name.decode(), ImageInput(name, file.file_object.read())))

    try:
        parser = create_form_parser({"Content-Type": content_type}, on_field, on_file,
                                    config={"MAX_MEMORY_FILE_SIZE": MAX_BODY_BYTES + 1})  # keep files in memory
        parser.write(data)
        parser.finalize()
    except (FormParserError, ValueError) as err:
        raise ApiError("bad_multipart", f"the multipart/form-data body could not be parsed: {err}") from None
    wanted = ("images", "image") if batch else ("image",)
    images = [img for field, img in files if field in wanted]
    if not images:
        seen = sorted({f for f, _ in files} | set(fields))
        raise ApiError("missing_image", f"no file in field {' or '.join(repr(w) for w in wanted)}"
                       + (f"; the request has fields {', '.join(repr(s) for s in seen)}" if seen else ""))
    if not batch and len(images) > 1:
        raise ApiError("too_many_images", "this route reads one image; use POST /api/ocr/batch for several")
    return images, fields


def _json(data: bytes, batch: bool, uploads: str) -> tuple[list[ImageInput], str | None, str | None, Any]:
    """`uploads`: the caller's upload prefix, the only place an `s3_key` may point."""
    body = parse_json(data)
    if not isinstance(body, dict):
        raise ApiError("bad_json", 'send a JSON object such as {"image": "<base64>", "mode": "auto"}')
    mode, fmt, dpi = body.get("mode"), body.get("format"), body.get("dpi")
    if batch and "images" in body:
        entries = body["images"]
        if not isinstance(entries, list) or not entries:
            raise ApiError("missing_image", '"images" must be a non-empty list of {"image": ...} or {"s3_key": ...}')
        if len(entries) > MAX_BATCH_IMAGES:  # before reading any of them
            raise ApiError("too_many_images", f"a batch holds at most {MAX_BATCH_IMAGES} images, got {len(entries)}")
        return [_json_entry(e, i, uploads, lenient=True) for i, e in enumerate(entries)], mode, fmt, dpi
    if "image" not in body and "s3_key" not in body:
        raise ApiError("missing_image", 'the JSON body needs "image" (base64) or "s3_key"'
                       + (' or "images" (a list)' if batch else ""))
    return [_json_entry(body, 0, uploads, lenient=False)], mode, fmt, dpi


def _json_entry(entry: Any, index: int, uploads: str, lenient: bool) -> ImageInput:
    """One JSON image; in a batch (`lenient`) a bad entry becomes that entry's error, not the request's."""
    try:
        if not isinstance(entry, dict):
            raise ApiError("missing_image", f'images[{index}] must be an object with "image" or "s3_key"')
        if "s3_key" in entry:
            key = str(entry["s3_key"])
            return ImageInput(str(entry.get("filename") or os.path.basename(key)), read_upload(key, uploads))
        if not isinstance(entry.get("image"), str):
            raise ApiError("missing_image", '"image" must be a base64 string')
        try:
            data = base64.b64decode(entry["image"].split(",", 1)[-1] if entry["image"].startswith("data:") else entry["image"], validate=True)
        except (binascii.Error, ValueError):
            raise ApiError("bad_base64", '"image" is not valid base64') from None
        return ImageInput(str(entry.get("filename") or f"image-{index}"), data)
    except ApiError as err:
        if not lenient:
            raise
        return ImageInput(str(entry.get("filename") if isinstance(entry, dict) else "") or f"image-{index}", None, err)


def read_upload(key: str, prefix: str) -> bytes:
    """Bytes of an image this caller uploaded through POST /api/uploads (only their prefix is readable)."""
    if not key.startswith(prefix) or ".." in key:
        raise ApiError("bad_s3_key", f"s3_key must be a key POST /api/uploads returned to you (starting with {prefix!r})")
    bucket = os.environ.get("UPLOAD_BUCKET")
    if not bucket:
        raise ApiError("uploads_disabled", "this deployment has no upload bucket (UPLOAD_BUCKET is not set)")
    try:
        obj = s3_client().get_object(Bucket=bucket, Key=key)
    except ClientError as err:
        code = error_code(err)
        if code in (*NOT_FOUND_CODES, "AccessDenied", "403"):  # 403: no upload there (policy scope)
            raise ApiError("upload_not_found", f"nothing was uploaded at {key!r} (or it expired)") from None
        raise ApiError("storage_unavailable", f"the upload could not be read now ({code}); retry") from None
    if obj.get("ContentLength", 0) > MAX_IMAGE_BYTES:  # refuse before reading it into memory
        obj["Body"].close()
        raise ApiError("image_too_large", f"the upload is {obj['ContentLength']:,} bytes; images may be at most {MAX_IMAGE_BYTES:,}")
    return bytes(obj["Body"].read())
