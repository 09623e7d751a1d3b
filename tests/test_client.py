"""ocr_core.client and the README's "Calling the deployed API" examples, against the local API.

Between them and the local API (every template function under the Lambda RIE, S3 on moto) sits
`Gateway`, a proxy on 127.0.0.1 doing the two things of API Gateway the local API does not: it
checks SigV4 signatures as execute-api does (recomputed with botocore from the received request)
or the presence of a bearer token, and it answers 429/503 when a test asks it to, the way
API Gateway throttles (`{"message": ...}`).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from conftest import AWS_TEST_ENV, local_api_with_upload_bucket

import ocr_core.client as client_module
from ocr_core.client import OcrApiError, OcrClient
from ocr_core.metrics import cer

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
BUCKET = "ocr-uploads-client-test"
REGION = "us-east-1"
SIGV4 = re.compile(r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/execute-api/aws4_request, "
                   r"SignedHeaders=(?P<signed>[^,]+), Signature=(?P<signature>[0-9a-f]{64})$")


def expected(name: str) -> str:
    return (SAMPLES / f"{name}.txt").read_text().strip()


def sigv4_valid(method: str, url: str, headers: dict[str, str], body: bytes) -> bool:
    """What execute-api checks: the signature over the signed headers, query and body, with the caller's secret."""
    match = SIGV4.match(headers.get("authorization", ""))
    if not match or match["key"] != AWS_TEST_ENV["AWS_ACCESS_KEY_ID"] or "x-amz-date" not in headers:
        return False
    signed = {name: headers.get(name, "") for name in match["signed"].split(";")}
    request = AWSRequest(method=method, url=url, data=body, headers=signed)
    request.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(Credentials(AWS_TEST_ENV["AWS_ACCESS_KEY_ID"], AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"]), "execute-api", match["region"])
    canonical = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical), request) == match["signature"]


class Gateway:
    """Auth checks and injected throttling in front of the local API; records what it received."""

    def __init__(self, upstream: str) -> None:
        self.upstream, self.require, self.fail_next, self.seen = upstream, "none", [], []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                url = f"http://{headers['host']}{self.path}"
                ok = {"none": True, "jwt": headers.get("authorization", "").startswith("Bearer ey"),
                      "iam": sigv4_valid(self.command, url, headers, body)}[gateway.require]
                gateway.seen.append({"method": self.command, "path": self.path.split("?")[0], "authorized": ok})
                if not ok:
                    status, message = (401, "Unauthorized") if gateway.require == "jwt" else (403, "Forbidden")
                    return self._answer(status, json.dumps({"message": message}).encode(), {"Content-Type": "application/json"})
                if gateway.fail_next:  # a status: API Gateway's own answer; or (status, body, Retry-After)
                    failure = gateway.fail_next.pop(0)
                    status, answer, retry_after = failure if isinstance(failure, tuple) else (failure, None, "0")
                    message = {429: "Too Many Requests", 504: "Endpoint request timed out"}.get(status, "Service Unavailable")
                    return self._answer(status, json.dumps(answer or {"message": message}).encode(),
                                        {"Content-Type": "application/json", "Retry-After": retry_after})
                reply = requests.request(self.command, gateway.upstream + self.path, data=body, timeout=120,
                                         headers={k: v for k, v in headers.items() if k not in ("host", "content-length")})
                self._answer(reply.status_code, reply.content, dict(reply.headers))

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self, require: str = "none", fail_next: list[Any] | None = None) -> Gateway:
        self.require, self.fail_next, self.seen = require, list(fail_next or []), []
        return self


@pytest.fixture(scope="module")
def gateway(moto_endpoint: str) -> Iterator[Gateway]:
    with local_api_with_upload_bucket(moto_endpoint, BUCKET) as api:
        gw = Gateway(api.url)
        gw.s3 = api.s3
        try:
            yield gw
        finally:
            gw.server.shutdown()
            gw.server.server_close()


@pytest.fixture()
def creds(monkeypatch: pytest.MonkeyPatch, moto_endpoint: str) -> None:
    for key, value in {**AWS_TEST_ENV, "AWS_ENDPOINT_URL": moto_endpoint}.items():
        monkeypatch.setenv(key, value)


def test_client_limits_are_the_apis() -> None:
    import ocr_http

    assert client_module.MAX_BODY_BYTES == ocr_http.MAX_BODY_BYTES
    assert client_module.MAX_BATCH_IMAGES == ocr_http.MAX_BATCH_IMAGES


def test_client_does_not_import_tensorflow() -> None:
    code = "import sys, ocr_core.client; assert 'tensorflow' not in sys.modules and 'numpy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


def test_iam_signed_calls(gateway: Gateway, creds: None) -> None:
    client = OcrClient(gateway.reset(require="iam").url, auth="iam", region=REGION)
    assert client.health()["status"] == "ok"
    result = client.read(SAMPLES / "printed-letter.png", mode="printed")
    assert result["filename"] == "printed-letter.png" and cer(expected("printed-letter"), result["text"]) < 0.08
    assert [s["authorized"] for s in gateway.seen] == [True, True]
    # the check can fail: a wrong secret gives API Gateway's 403
    client._signer.credentials = Credentials(AWS_TEST_ENV["AWS_ACCESS_KEY_ID"], "not-the-secret")
    with pytest.raises(OcrApiError) as refused:
        client.health()
    assert refused.value.status == 403 and refused.value.code is None and refused.value.message == "Forbidden"


def test_retries_on_throttling_then_gives_up(gateway: Gateway, creds: None) -> None:
    client = OcrClient(gateway.reset(fail_next=[429, 503, 429]).url, backoff=0.01)
    result = client.read(SAMPLES / "handwritten-word.png", mode="handwritten")
    assert cer(expected("handwritten-word"), result["text"]) < 0.3
    assert len(gateway.seen) == 4  # three refusals, then the answer
    client = OcrClient(gateway.reset(fail_next=[429] * 3).url, retries=2, backoff=0.01)
    with pytest.raises(OcrApiError) as gave_up:
        client.health()
    assert gave_up.value.status == 429 and len(gateway.seen) == 3
    with pytest.raises(OcrApiError) as bad:  # our own errors are not retried
        OcrClient(gateway.reset().url).read(b"not an image", filename="x.png")
    assert bad.value.code == "unsupported_format" and bad.value.status == 415 and len(gateway.seen) == 1


def test_retries_only_what_a_retry_can_fix(gateway: Gateway, creds: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """API Gateway's own 504 (no `error` code) is retried; the API's 504 `timeout` would come again: raised at once.
    A long Retry-After is waited for at most MAX_RETRY_AFTER."""
    slept: list[float] = []
    monkeypatch.setattr(client_module.time, "sleep", slept.append)
    client = OcrClient(gateway.reset(fail_next=[504]).url, backoff=0.01)
    assert client.health()["status"] == "ok" and len(gateway.seen) == 2
    ours = {"error": "timeout", "message": "The image could not be read in the time this request has", "request_id": "r1"}
    with pytest.raises(OcrApiError) as timed_out:
        OcrClient(gateway.reset(fail_next=[(504, ours, "0")]).url, backoff=0.01).health()
    assert (timed_out.value.status, timed_out.value.code) == (504, "timeout") and len(gateway.seen) == 1
    slept.clear()
    assert OcrClient(gateway.reset(fail_next=[(429, None, "3600")]).url).health()["status"] == "ok"
    assert slept == [client_module.MAX_RETRY_AFTER] and len(gateway.seen) == 2


def test_big_files_go_through_the_upload_bucket(gateway: Gateway, creds: None) -> None:
    client = OcrClient(gateway.reset(require="jwt").url, auth="jwt", token="eyJ.test.token", max_body_bytes=100_000)
    result = client.read(SAMPLES / "handwritten-note.png", mode="handwritten")  # 168 kB > 100 kB
    assert cer(expected("handwritten-note"), result["text"]) < 0.3
    assert [(s["method"], s["path"]) for s in gateway.seen] == [("POST", "/api/uploads"), ("POST", "/api/ocr")]
    keys = [o["Key"] for o in gateway.s3.list_objects_v2(Bucket=BUCKET, Prefix="uploads/")["Contents"]]
    assert any(k.startswith("uploads/public/") and k.endswith("/handwritten-note.png") for k in keys)  # the caller's prefix


def test_batches_split_and_keep_order(gateway: Gateway, creds: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "MAX_BATCH_IMAGES", 2)
    client = OcrClient(gateway.reset().url, max_body_bytes=200_000)
    files = [SAMPLES / "handwritten-word.png", b"not an image", SAMPLES / "printed-letter.png", SAMPLES / "handwritten-note.png"]
    results = client.read_batch(files, mode="auto")
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert results[1]["error"] == "unsupported_format" and results[1]["status"] == 415
    assert cer(expected("handwritten-word"), results[0]["text"]) < 0.3
    assert cer(expected("printed-letter"), results[2]["text"]) < 0.08
    assert cer(expected("handwritten-note"), results[3]["text"]) < 0.3
    # 2 + 2 images, but the last two together exceed the body limit: three batch requests
    assert [s["path"] for s in gateway.seen] == ["/api/ocr/batch"] * 3


# ----------------------------------------------------------------------------- README examples
def readme_block(lang: str, marker: str) -> str:
    blocks = re.findall(rf"```{lang}\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    found = [b for b in blocks if marker in b]
    assert found, f"README has no {lang} block with {marker!r}"
    return found[0]


def run_example(cmd: list[str], gateway: Gateway, moto_endpoint: str) -> str:
    env = {**AWS_TEST_ENV, "PATH": "/usr/bin:/bin", "API_URL": gateway.url, "TOKEN": "eyJ.test.token",
           "PYTHONPATH": str(REPO), "AWS_ENDPOINT_URL": moto_endpoint}
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=True).stdout


def test_readme_iam_curl_example(gateway: Gateway, moto_endpoint: str) -> None:
    out = run_example(["bash", "-c", readme_block("bash", "--aws-sigv4")], gateway.reset(require="iam"), moto_endpoint)
    assert cer(expected("printed-letter"), json.loads(out)["text"]) < 0.08, out
    assert [s["authorized"] for s in gateway.seen] == [True]


def test_readme_iam_python_example(gateway: Gateway, moto_endpoint: str) -> None:
    out = run_example([sys.executable, "-c", readme_block("python", "SigV4Auth")], gateway.reset(require="iam"), moto_endpoint)
    assert cer(expected("handwritten-note"), out.strip()) < 0.3, out
    assert [s["authorized"] for s in gateway.seen] == [True]


def test_readme_jwt_curl_example(gateway: Gateway, moto_endpoint: str) -> None:
    out = run_example(["bash", "-c", readme_block("bash", "Bearer $TOKEN")], gateway.reset(require="jwt"), moto_endpoint)
    assert cer(expected("handwritten-note"), json.loads(out)["text"]) < 0.3, out
    assert [s["authorized"] for s in gateway.seen] == [True]


def test_readme_client_example(gateway: Gateway, moto_endpoint: str) -> None:
    code = f"API_URL = {gateway.reset(require='iam').url!r}\n" + readme_block("python", "OcrClient(API_URL")
    out = run_example([sys.executable, "-c", code], gateway, moto_endpoint)
    single, batch = out.split("\nhandwritten-note.png ", 1)
    assert cer(expected("printed-letter"), single) < 0.08, out
    note, letter = batch.split("\nprinted-letter.png ", 1)
    assert cer(expected("handwritten-note"), note.strip()) < 0.3 and cer(expected("printed-letter"), letter.strip()) < 0.08, out
    assert all(s["authorized"] for s in gateway.seen) and len(gateway.seen) == 2
