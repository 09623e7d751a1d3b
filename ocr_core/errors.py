"""One typed error hierarchy for the engine, the API and the batch job.

Every failure a user can cause or see is an `OcrError` with a machine-readable `code`, the
HTTP status an API should answer (the code's, `vocabulary.ERROR_STATUS`), and a sentence that says what was wrong and what is accepted.
"""

from __future__ import annotations

from ocr_core.vocabulary import error_status

ACCEPTED_FORMATS = "JPEG, PNG, TIFF (multi-page too), BMP, WebP and PDF"


class OcrError(Exception):
    code = "ocr_error"
    transient: bool | None = None  # None: our side (5xx) is worth retrying, the input's fault (4xx) is not

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.http_status = error_status(self.code)  # one status per code (ocr_core/vocabulary.py)

    @property
    def retryable(self) -> bool:
        """Could the same input succeed on a later attempt (batch jobs retry these, answer the rest)?"""
        return self.http_status >= 500 if self.transient is None else self.transient

    def to_dict(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}


class InvalidImageError(OcrError):
    """The input is not an image we can read (or breaks a limit)."""

    code = "invalid_image"


class BadRequestError(OcrError):
    """A parameter is wrong (mode, engine...)."""

    code = "bad_request"


class ModelError(OcrError):
    """A model is missing, or its file does not match its manifest."""

    code = "model_error"


class DeadlineExceeded(OcrError):
    """The time budget ran out before the image was read (the function would have been killed)."""

    code = "timeout"
    transient = False  # the same image gets the same budget again: a retry would time out too
