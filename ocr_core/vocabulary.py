"""The service's words, in one place: modes, line geometry, the model registry's layout, request
limits, and the HTTP status of every error code.

Standard library only, so every layer can use it: the engine and the drop-folder job (`ocr_core`),
the API functions, the zip functions' Lambda layer (`layers/common/ocr_vocabulary.py` is a symlink to
this file: `sam build` copies its content; the engine image copies it under that name), the OpenAPI
document (`layers/common/api_spec.py`), the Python client and training. The web page (JavaScript)
cannot import it: tests/test_structure.py checks the page and the generated spec against it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

# ---------------------------------------------------------------- modes
MODEL_KINDS = ("printed", "handwritten")  # the line models; what the registry serves
MODES = (*MODEL_KINDS, "auto")  # auto: both models decide per page / per line
DEFAULT_MODE = "auto"

# ---------------------------------------------------------------- line geometry (what a line model is fed)
LINE_HEIGHT = 32  # model input height in pixels (a model may ask for a multiple: its manifest's input_shape[0])
WIDTH_STEP = 4  # the CRNN downsamples width by 4: one CTC time step per 4 input columns

# ---------------------------------------------------------------- model registry (training/registry.py writes it)
# <root>/<kind>/<version>/ holds a model folder; <root>/<kind>/latest.json names the promoted version.
REGISTRY_POINTER = "latest.json"
LATEST = "latest"
RUNTIMES = ("onnx", "keras")  # the forward passes a model folder can be served with (ocr_core/runtime.py)
RUNTIME_ENV = "OCR_RUNTIME"


def pinned_version_env(kind: str) -> str:
    """The variable that pins a registry version instead of latest: MODEL_VERSION_HANDWRITTEN=..."""
    return f"MODEL_VERSION_{kind.upper()}"


def wanted_version(kind: str, read_pointer: Callable[[str], Mapping[str, Any]], pinned: str | None = None,
                   env: Mapping[str, str] = os.environ) -> str:
    """The registry version to serve: `pinned`, else MODEL_VERSION_<KIND>, else what latest.json names.

    `read_pointer(kind)` reads `<root>/<kind>/latest.json` (the caller's I/O; it raises when absent)."""
    version = pinned or env.get(pinned_version_env(kind)) or LATEST
    return str(read_pointer(kind)["version"]) if version == LATEST else version


def choose_runtime(manifest: Mapping[str, Any], wanted: str | None = None, env: Mapping[str, str] = os.environ) -> str:
    """The runtime asked for (argument, else OCR_RUNTIME), else onnx when the model has an ONNX export, else keras.
    ValueError for an unknown runtime."""
    wanted = wanted or env.get(RUNTIME_ENV) or ""
    if wanted:
        if wanted not in RUNTIMES:
            raise ValueError(f"{RUNTIME_ENV}={wanted!r}: the runtimes are {', '.join(RUNTIMES)}")
        return wanted
    return "onnx" if "onnx" in manifest.get("runtimes", {}) else "keras"


def runtime_file(manifest: Mapping[str, Any], runtime: str) -> tuple[str, str]:
    """(file name, sha256) of a runtime's model file as the manifest records it; ValueError when not exported."""
    if runtime == "keras":
        return str(manifest.get("file", "model.keras")).rsplit("/", 1)[-1], str(manifest.get("sha256", ""))
    entry = manifest.get("runtimes", {}).get(runtime)
    if not entry:
        raise ValueError(f"model {manifest.get('name', '?')}@{manifest.get('version', '?')} has no {runtime} export "
                         f"(run `python -m training.export <model folder>`, or set {RUNTIME_ENV}=keras)")
    return str(entry["file"]).rsplit("/", 1)[-1], str(entry.get("sha256", ""))


# ---------------------------------------------------------------- requests
# API Gateway -> Lambda carries at most 6 MB of event, so ~4.4 MB of base64-encoded image.
MAX_BODY_BYTES = 4_400_000
MAX_BATCH_IMAGES = 10  # images per POST /api/ocr/batch

# ---------------------------------------------------------------- errors: one HTTP status per code, everywhere
ERROR_STATUS: dict[str, int] = {
    # the request itself
    "bad_request": 400, "bad_json": 400, "bad_body": 400, "bad_multipart": 400, "empty_body": 400,
    "missing_image": 400, "bad_base64": 400, "bad_s3_key": 400, "bad_manifest": 400, "bad_source": 400, "bad_image_array": 400,
    "not_found": 404, "upload_not_found": 404, "source_missing": 404,
    "method_not_allowed": 405,
    "payload_too_large": 413, "too_many_images": 413, "too_many_fields": 413, "job_too_large": 413,
    "unsupported_media_type": 415,
    # a parameter's value
    "bad_mode": 422, "bad_format": 422, "bad_engine": 422, "bad_layout": 422,
    "bad_dpi": 422,  # a dpi that is not a whole number in range (pdf.check_dpi)
    # the image
    "invalid_image": 400, "empty_input": 400,
    "image_too_large": 413, "too_many_pixels": 413, "too_many_pages": 413,
    "unsupported_format": 415,
    "corrupt_image": 422, "corrupt_pdf": 422, "encrypted_pdf": 422, "image_too_small": 422, "unprocessable_image": 422,
    # our side
    "ocr_error": 500, "internal_error": 500, "model_error": 500,
    "storage_unavailable": 503, "uploads_disabled": 503,
    "timeout": 504,
}


def quoted(value: object, limit: int = 40) -> str:
    """A caller's value quoted in an error message, bounded (it may be a megabyte long)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...'"


def error_status(code: str) -> int:
    """The HTTP status of an error code (KeyError for a code not in ERROR_STATUS: add it there)."""
    return ERROR_STATUS[code]
