"""One typed error hierarchy for the engine, the API and the batch job.

Every failure a user can cause or see is an `OcrError` with a machine-readable `code`, the
HTTP status an API should answer, and a sentence that says what was wrong and what is accepted.
"""

from __future__ import annotations

ACCEPTED_FORMATS = "JPEG, PNG, TIFF (multi-page too), BMP and WebP"


class OcrError(Exception):
    code = "ocr_error"
    http_status = 500

    def __init__(self, message: str, code: str | None = None, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if http_status:
            self.http_status = http_status

    def to_dict(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}


class InvalidImageError(OcrError):
    """The input is not an image we can read (or breaks a limit)."""

    code = "invalid_image"
    http_status = 400


class BadRequestError(OcrError):
    """A parameter is wrong (mode, engine...)."""

    code = "bad_request"
    http_status = 400


class ModelError(OcrError):
    """A model is missing, or its file does not match its manifest."""

    code = "model_error"
    http_status = 500
