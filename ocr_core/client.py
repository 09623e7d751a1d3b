"""A small client of the deployed OCR API: auth (IAM SigV4, JWT, none), retries, big-file uploads.

Needs only `requests` (and `botocore` for IAM); never imports TensorFlow, so it runs anywhere:

    from ocr_core.client import OcrClient
    client = OcrClient("https://abc123.execute-api.eu-west-1.amazonaws.com", auth="iam")  # AWS credentials as boto3 finds them
    result = client.read("scan.png", mode="auto")          # the API's JSON: result["text"], result["lines"], ...
    batch = client.read_batch(["a.png", "b.jpg"])           # 10 images per request; a bad image fails only its entry

Throttled or briefly unavailable answers (429, 502, 503, API Gateway's own 504) and dropped connections
are retried with exponential backoff (honouring `Retry-After` up to 30 s); other errors, and the API's
own deterministic ones (504 `timeout`, 503 `uploads_disabled`), raise `OcrApiError` at once. An
image over the API's body limit goes to S3 first: POST /api/uploads, POST the file with the returned
form fields to the presigned URL, then POST /api/ocr {"s3_key"}. `python -m ocr_core.client URL FILE...` prints the text.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import random
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from urllib3 import encode_multipart_formdata

from ocr_core.vocabulary import DEFAULT_MODE, MAX_BATCH_IMAGES, MAX_BODY_BYTES, MODES

MULTIPART_SLACK = 64 * 1024  # room for the multipart headers of a batch body
RETRY_STATUSES = frozenset({429, 502, 503, 504})
FINAL_CODES = frozenset({"timeout", "uploads_disabled"})  # the API's errors that the same request gets again
MAX_RETRY_AFTER = 30.0  # seconds: a longer Retry-After is not waited for in full
IMAGE_MAGIC = [(b"\x89PNG", "image/png"), (b"\xff\xd8", "image/jpeg"), (b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff"),
               (b"BM", "image/bmp"), (b"RIFF", "image/webp"), (b"%PDF", "application/pdf")]

ImageLike = str | os.PathLike[str] | bytes


class OcrApiError(Exception):
    """The API (or API Gateway) refused the request: HTTP `status`, our `code` (None for API Gateway's own)."""

    def __init__(self, status: int, code: str | None, message: str, request_id: str | None = None) -> None:
        super().__init__(f"HTTP {status} {code or ''}: {message}".replace("  ", " "))
        self.status, self.code, self.message, self.request_id = status, code, message, request_id


def content_type_of(data: bytes, filename: str) -> str:
    for magic, kind in IMAGE_MAGIC:
        if data.startswith(magic):
            return kind
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _load(image: ImageLike, filename: str | None) -> tuple[bytes, str]:
    if isinstance(image, bytes):
        return image, filename or "image"
    path = Path(image)
    return path.read_bytes(), filename or path.name


class OcrClient:
    """Calls one deployment of the API. `auth`: "iam" (SigV4, the stack's default), "jwt" (`token`) or None."""

    def __init__(self, base_url: str, *, auth: str | None = None, token: str | None = None, region: str | None = None,
                 retries: int = 5, backoff: float = 0.5, timeout: float = 60.0, max_body_bytes: int = MAX_BODY_BYTES,
                 session: requests.Session | None = None) -> None:
        if auth not in (None, "iam", "jwt"):
            raise ValueError("auth must be 'iam', 'jwt' or None")
        if auth == "jwt" and not token:
            raise ValueError("auth='jwt' needs a token")
        self.base_url = base_url.rstrip("/")
        self.auth, self.token, self.retries, self.backoff, self.timeout = auth, token, retries, backoff, timeout
        self.max_body_bytes = max_body_bytes
        self.http = session or requests.Session()
        self._signer: Any = None
        if auth == "iam":
            import botocore.session
            from botocore.auth import SigV4Auth

            boto = botocore.session.get_session()
            credentials = boto.get_credentials()
            if credentials is None:
                raise ValueError("auth='iam' needs AWS credentials (environment, profile or role)")
            region = region or boto.get_config_variable("region") or _region_of(self.base_url)
            self._signer = SigV4Auth(credentials, "execute-api", region)

    # ------------------------------------------------------------------ the API
    def health(self) -> dict[str, Any]:
        return self._json("GET", "/api/health")

    def read(self, image: ImageLike, *, mode: str = "auto", filename: str | None = None) -> dict[str, Any]:
        """One image (or PDF, where the API takes it) -> the API's result JSON."""
        data, name = _load(image, filename)
        if len(data) > self.max_body_bytes:
            key = self.upload(data, name)
            return self._json("POST", "/api/ocr", body=json.dumps({"s3_key": key, "filename": name, "mode": mode}).encode(),
                              headers={"Content-Type": "application/json"})
        return self._json("POST", "/api/ocr", params={"mode": mode, "filename": name}, body=data,
                          headers={"Content-Type": content_type_of(data, name)})

    def read_batch(self, images: Iterable[ImageLike], *, mode: str = "auto") -> list[dict[str, Any]]:
        """Several images -> one entry each, in order (an entry with "error" failed alone).

        Up to 10 images (and the body limit) per POST /api/ocr/batch; an image over the limit alone
        goes through the upload flow."""
        loaded = [_load(image, None) for image in images]
        results: list[dict[str, Any]] = [{} for _ in loaded]
        chunk: list[int] = []

        def flush() -> None:
            if not chunk:
                return
            fields: list[Any] = [("images", (loaded[i][1], loaded[i][0], content_type_of(*loaded[i]))) for i in chunk]
            body, content_type = encode_multipart_formdata([*fields, ("mode", mode)])
            answer = self._json("POST", "/api/ocr/batch", body=body, headers={"Content-Type": content_type})
            for i, result in zip(chunk, answer["results"]):
                results[i] = {**result, "index": i}
            chunk.clear()

        for i, (data, name) in enumerate(loaded):
            if len(data) > self.max_body_bytes:
                try:
                    results[i] = {"index": i, **self.read(data, mode=mode, filename=name)}
                except OcrApiError as err:
                    results[i] = {"index": i, "filename": name, "error": err.code, "message": err.message, "status": err.status}
                continue
            if len(chunk) == MAX_BATCH_IMAGES or sum(len(loaded[j][0]) for j in chunk) + len(data) > self.max_body_bytes - MULTIPART_SLACK:
                flush()
            chunk.append(i)
        flush()
        return results

    def upload(self, data: bytes, filename: str) -> str:
        """Put a big image in the upload bucket: returns its `s3_key`.

        POST /api/uploads mints a presigned S3 POST policy (the key under this caller's prefix, the
        content type, a size cap); the file goes to `upload_url` as a multipart form of the returned
        `fields` with the file last (S3 ignores fields after it)."""
        content_type = content_type_of(data, filename)
        ticket = self._json("POST", "/api/uploads", headers={"Content-Type": "application/json"},
                            body=json.dumps({"filename": filename, "content_type": content_type}).encode())
        form, form_type = encode_multipart_formdata([*ticket["fields"].items(), ("file", (filename, data, content_type))])
        sent = self._send("POST", ticket["upload_url"], body=form, headers={"Content-Type": form_type}, sign=False)
        if sent.status_code >= 300:
            raise OcrApiError(sent.status_code, "upload_failed", sent.text[:500])
        return str(ticket["s3_key"])

    # ------------------------------------------------------------------ HTTP
    def _json(self, method: str, path: str, *, params: dict[str, str] | None = None, body: bytes | None = None,
              headers: dict[str, str] | None = None) -> dict[str, Any]:
        url = self.base_url + path + ("?" + urlencode(params) if params else "")
        resp = self._send(method, url, body=body, headers=headers or {})
        try:
            answer = resp.json()
        except ValueError:
            answer = {"message": resp.text[:500]}
        if resp.status_code >= 400:
            raise OcrApiError(resp.status_code, answer.get("error"), str(answer.get("message", "")), answer.get("request_id"))
        return dict(answer)

    def _send(self, method: str, url: str, *, body: bytes | None, headers: dict[str, str], sign: bool = True) -> requests.Response:
        """One request with retries; signed anew on every attempt (SigV4 signatures carry the time)."""
        for attempt in range(self.retries + 1):
            sent = {**headers, **(self._auth_headers(method, url, body, headers) if sign else {})}
            try:
                resp = self.http.request(method, url, data=body, headers=sent, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout):
                if attempt == self.retries:
                    raise
                time.sleep(self._delay(attempt, None))
                continue
            if resp.status_code in RETRY_STATUSES and _error_code(resp) not in FINAL_CODES and attempt < self.retries:
                time.sleep(self._delay(attempt, resp))
                continue
            return resp
        raise AssertionError("unreachable")

    def _delay(self, attempt: int, resp: requests.Response | None) -> float:
        retry_after = resp.headers.get("Retry-After") if resp is not None else None
        if retry_after and retry_after.isdigit():
            return min(float(retry_after), MAX_RETRY_AFTER)
        return self.backoff * (2 ** attempt) * (0.5 + random.random() / 2)  # exponential, jittered

    def _auth_headers(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> dict[str, str]:
        if self.auth == "jwt":
            return {"Authorization": f"Bearer {self.token}"}
        if self.auth == "iam":
            from botocore.awsrequest import AWSRequest

            request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
            self._signer.add_auth(request)
            return {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "x-amz-date", "x-amz-security-token")}
        return {}


def _error_code(resp: requests.Response) -> str | None:
    """Our API's `error` code in an answer; None for API Gateway's own answers (`{"message": ...}`)."""
    try:
        answer = resp.json()
    except ValueError:
        return None
    return answer.get("error") if isinstance(answer, dict) else None


def _region_of(url: str) -> str:
    """`https://ID.execute-api.REGION.amazonaws.com` -> REGION."""
    parts = url.split("//", 1)[-1].split("/", 1)[0].split(".")
    if "execute-api" in parts:
        return parts[parts.index("execute-api") + 1]
    raise ValueError(f"no region in {url}: pass region=")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ocr_core.client", description="Read images with a deployed OCR API.")
    p.add_argument("url", help="the stack's ApiUrl output (or http://127.0.0.1:3000)")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--mode", default=DEFAULT_MODE, choices=MODES)
    p.add_argument("--auth", choices=["iam", "jwt", "none"], default="iam")
    p.add_argument("--token", default=os.environ.get("OCR_API_TOKEN"), help="JWT for --auth jwt (default $OCR_API_TOKEN)")
    p.add_argument("--json", action="store_true", help="print the full results as JSON")
    a = p.parse_args(argv)
    client = OcrClient(a.url, auth=None if a.auth == "none" else a.auth, token=a.token)
    results = [client.read(a.files[0], mode=a.mode)] if len(a.files) == 1 else client.read_batch(a.files, mode=a.mode)
    if a.json:
        print(json.dumps(results if len(results) > 1 else results[0], ensure_ascii=False, indent=2))
    else:
        for path, result in zip(a.files, results):
            print(f"== {path}\n{result.get('text', '')}" if "error" not in result else f"== {path}: {result['error']}: {result['message']}")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
