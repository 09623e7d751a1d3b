"""S3 drop-folder batch OCR end to end: moto server S3 + SQS, real S3->SQS notifications, the real
handler (Powertools batch processing) in-process, real images through the shipped models.

`poll()` does what the Lambda SQS event source mapping does: receive up to 10 messages, build the
Lambda SQS event from them, invoke the handler, delete the messages that are not reported in
`batchItemFailures`. Everything else (queues, visibility timeouts, maxReceiveCount, the DLQ,
notifications, conditional writes, object versions) is moto's real server behaviour.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote_plus

import boto3
import numpy as np
import pypdfium2 as pdfium
import pytest
import requests
from botocore.exceptions import ClientError
from conftest import TEST_DATA
from PIL import Image

from benchmarks import poison
from benchmarks.lambda_context import LambdaContext
from functions.local_api import find_rie
from ocr_core.dropfolder.store import check_separation, mirror_key
from ocr_core.metrics import cer

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
LETTER = (SAMPLES / "printed-letter.png").read_bytes()
LETTER_TXT = (SAMPLES / "printed-letter.txt").read_text()
NOTE = (SAMPLES / "handwritten-note.png").read_bytes()
NOTE_TXT = (SAMPLES / "handwritten-note.txt").read_text()
PDF = (TEST_DATA / "two-pages.pdf").read_bytes()
PDF_TXT = (TEST_DATA / "two-pages.txt").read_text().replace("\n\f", "\n\n")  # result text: pages split by a blank line
PRINTED_CER, HANDWRITTEN_CER = 0.05, 0.30  # measured 0.017 and 0.164; printed mode on the note: 0.61
IN, OUT = "ocr-in", "ocr-out"
BATCH_TIMEOUT_MS = 300_000  # template.yaml's BatchFunction Timeout


def convert(data: bytes, fmt: str, **kw: Any) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buf, format=fmt, **kw)
    return buf.getvalue()


def two_page_tiff() -> bytes:
    buf = io.BytesIO()
    pages = [Image.open(io.BytesIO(LETTER)), Image.open(io.BytesIO(NOTE))]
    pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:], compression="tiff_deflate")
    return buf.getvalue()


def noise_png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (h, w, 3), np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def app(moto_endpoint: str) -> Iterator[Any]:
    """The batch function module, imported once (its init creates the one engine of this module)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ENDPOINT_URL", moto_endpoint)
        for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                     "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
            mp.setenv(k, v)
        from functions.batch import app as module
        yield module


@pytest.fixture()
def stack(aws: str, app: Any, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """Input and results buckets (versioned), queue + DLQ (maxReceiveCount 2), S3->SQS notification on incoming/."""
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    for b in (IN, OUT):
        s3.create_bucket(Bucket=b)
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    dlq = sqs.create_queue(QueueName="ocr-batch-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName="ocr-batch", Attributes={
        "VisibilityTimeout": "2",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    monkeypatch.setenv("RESULTS_BUCKET", OUT)
    monkeypatch.setenv("QUEUE_URL", queue)
    monkeypatch.setattr(app, "_runners", {})
    monkeypatch.setattr(app, "_sqs", None)
    return SimpleNamespace(s3=s3, sqs=sqs, queue=queue, dlq=dlq, arn=arn)


def notify(st: SimpleNamespace) -> None:
    st.s3.put_bucket_notification_configuration(Bucket=IN, NotificationConfiguration={"QueueConfigurations": [{
        "Id": "ocr-batch-incoming", "QueueArn": st.arn, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}}}]})


def receive(st: SimpleNamespace, url: str | None = None, wait: int = 0) -> list[dict[str, Any]]:
    return st.sqs.receive_message(QueueUrl=url or st.queue, MaxNumberOfMessages=10, WaitTimeSeconds=wait,
                                  AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])


def lambda_event(msgs: list[dict[str, Any]], arn: str) -> dict[str, Any]:
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
        "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1",
    } for m in msgs]}


def invoke(app: Any, st: SimpleNamespace, msgs: list[dict[str, Any]]) -> set[str]:
    """One Lambda invocation for received messages; deletes the successes, returns the failed ids."""
    resp = app.handler(lambda_event(msgs, st.arn), LambdaContext("ocr-batch", remaining_ms=BATCH_TIMEOUT_MS))
    failed = {f["itemIdentifier"] for f in resp["batchItemFailures"]}
    done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs) if m["MessageId"] not in failed]
    if done:
        st.sqs.delete_message_batch(QueueUrl=st.queue, Entries=done)
    return failed


def drain(app: Any, st: SimpleNamespace) -> int:
    """Poll until the queue is empty (all messages succeeded); returns how many were handled."""
    handled = 0
    while msgs := receive(st):
        assert not invoke(app, st, msgs)
        handled += len(msgs)
    return handled


def result(st: SimpleNamespace, key: str) -> dict[str, Any]:
    return json.loads(st.s3.get_object(Bucket=OUT, Key=mirror_key(key, "incoming/", "results/"))["Body"].read())


def versions(st: SimpleNamespace) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for v in st.s3.list_object_versions(Bucket=OUT).get("Versions", []):
        out.setdefault(v["Key"], []).append(v)
    return out


# (key, bytes, put_object extras, expected: ("ok", reference text, max CER, mode used) | ("error", code))
def uploads() -> list[tuple[str, bytes, dict[str, Any], tuple]]:
    letter = ("ok", LETTER_TXT, PRINTED_CER, "printed")
    note = ("ok", NOTE_TXT, HANDWRITTEN_CER, "handwritten")
    return [
        ("incoming/letters/letter.png", LETTER, {}, letter),
        ("incoming/letters/Dear Ms Alvarez.png", LETTER, {}, letter),
        ("incoming/letters/été à Zürich — ß.png", LETTER, {}, letter),
        ("incoming/a+b/c+d=e.png", LETTER, {}, letter),
        ("incoming/日本語/手紙 1.png", LETTER, {}, letter),
        ("incoming/odd/100% sure & (copy) #1.png", LETTER, {}, letter),
        ("incoming/odd/ two  spaces .png", LETTER, {}, letter),
        ("incoming/formats/letter.jpg", convert(LETTER, "JPEG", quality=92), {}, letter),
        ("incoming/formats/letter.bmp", convert(LETTER, "BMP"), {}, letter),
        ("incoming/formats/letter.webp", convert(LETTER, "WEBP", lossless=True), {}, letter),
        ("incoming/printed/letter copy.png", LETTER, {}, letter),
        ("incoming/handwritten/note.png", NOTE, {}, note),
        ("incoming/handwritten/sub dir/note+2.png", NOTE, {}, note),
        ("incoming/notes/by-metadata.png", NOTE, {"Metadata": {"ocr-mode": "handwritten"}}, note),
        ("incoming/notes/by-tag.png", NOTE, {"Tagging": "ocr-mode=handwritten"}, note),
        ("incoming/handwritten/printed-by-metadata.png", NOTE, {"Metadata": {"ocr-mode": "printed"}},
         ("ok", NOTE_TXT, 1.0, "printed")),
        ("incoming/scans/two pages.tif", two_page_tiff(), {}, ("ok", LETTER_TXT + "\n\n" + NOTE_TXT, 0.12, "mixed")),
        ("incoming/printed/report.pdf", PDF, {"Metadata": {"ocr-format": "alto"}}, ("ok", PDF_TXT, PRINTED_CER, "printed")),
        ("incoming/printed/tagged.pdf", PDF, {"Tagging": "ocr-format=hocr"}, ("ok", PDF_TXT, PRINTED_CER, "printed")),
        ("incoming/printed/at 100 dpi.pdf", PDF, {"Metadata": {"ocr-dpi": "100"}}, ("ok", PDF_TXT, PRINTED_CER, "printed")),
        ("incoming/bad/bad dpi.pdf", PDF, {"Tagging": "ocr-dpi=5000"}, ("error", "bad_dpi")),
        ("incoming/bad/bad format.png", LETTER, {"Metadata": {"ocr-format": "docx"}}, ("error", "bad_format")),
        ("incoming/bad/truncated.png", LETTER[: len(LETTER) // 3], {}, ("error", "corrupt_image")),
        ("incoming/bad/random.jpg", np.random.default_rng(1).bytes(5000), {}, ("error", "unsupported_format")),
        ("incoming/bad/empty.png", b"", {}, ("error", "empty_input")),
        ("incoming/bad/notes.txt.png", b"Buy milk and bread\n", {}, ("error", "unsupported_format")),
        ("incoming/bad/huge.png", noise_png(800, 600), {}, ("error", "image_too_large")),
        ("incoming/bad/bad mode.png", LETTER, {"Metadata": {"ocr-mode": "sideways"}}, ("error", "bad_mode")),
        # issue 14's poison files: each used to crash the engine (retried into the DLQ, never answered)
        ("incoming/poison/page without size.tif", poison.tiff_second_page_without_size(), {}, ("error", "corrupt_image")),
        ("incoming/poison/only nan.tif", poison.float_tiff_all_nan(), {}, ("error", "corrupt_image")),
        ("incoming/poison/12 blank pages.tif", poison.blank_pages_tiff(), {}, ("error", "too_many_pixels")),
        ("incoming/printed/poison/nan and inf.tif", poison.float_tiff(), {}, ("ok", "Poison never wins", 0.15, "printed")),
        ("incoming/printed/poison/strip 8x40000.png", poison.strip(8, 40000), {}, ("ok", None, None, "printed")),
        ("incoming/printed/poison/strip 40000x12.png", poison.strip(40000, 12), {}, ("ok", None, None, "printed")),
    ]


def test_end_to_end_every_upload_gets_one_answer(app: Any, stack: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    st = stack
    import ocr_core.dropfolder.runner

    monkeypatch.setattr(ocr_core.dropfolder.runner, "MAX_IMAGE_BYTES", 1_000_000)  # huge.png is 1.4 MB: refused before download
    notify(st)
    cases = uploads()
    assert len(cases) >= 20
    for key, data, extra, _ in cases:
        st.s3.put_object(Bucket=IN, Key=key, Body=data, **extra)
    st.s3.put_object(Bucket=IN, Key="elsewhere/not-watched.png", Body=LETTER)  # outside the filter: no event

    msgs: list[dict[str, Any]] = []
    while batch := receive(st):
        msgs += batch
    bodies = [json.loads(m["Body"]) for m in msgs]
    assert sum(b.get("Event") == "s3:TestEvent" for b in bodies) == 1  # sent when the notification was set
    records = [r for b in bodies for r in b.get("Records", [])]
    assert len(records) == len(cases) and {r["eventName"] for r in records} == {"ObjectCreated:Put"}
    assert any("%2B" in r["s3"]["object"]["key"] for r in records)  # '+' arrives URL-encoded
    assert any("+" in r["s3"]["object"]["key"].replace("%2B", "") for r in records)  # spaces arrive as '+'

    for i in range(0, len(msgs), 10):  # the handler, as Lambda invokes it (batch size 10)
        assert invoke(app, st, msgs[i:i + 10]) == set()
    assert receive(st) == []  # everything deleted, and writing results triggered nothing

    results = versions(st)
    renditions = {"results/printed/report.pdf.alto.xml", "results/printed/tagged.pdf.hocr"}
    assert set(results) == {mirror_key(k, "incoming/", "results/") for k, *_ in cases} | renditions
    for key, data, _, expected in cases:
        doc = result(st, key)
        assert doc["source"]["bucket"] == IN and doc["source"]["key"] == key, key
        assert doc["source"]["fingerprint"] and doc["batch_schema_version"] == "1.0", key
        assert doc["model_versions"]["printed"] and doc["batch_timings_ms"]["total"] > 0, key
        if expected[0] == "ok":
            _, text, limit, mode_used = expected
            assert doc["status"] == "ok" and doc["mode_used"] == mode_used, (key, doc["mode_used"])
            assert doc["source"]["size"] == len(data) and doc["source"]["version_id"], key
            assert text is None or cer(text, doc["text"]) < limit, (key, doc["text"])
        else:
            assert doc["status"] == "error" and doc["error"] == expected[1], (key, doc)
            assert doc["message"]
    assert result(st, "incoming/handwritten/printed-by-metadata.png")["mode_source"] == "metadata"
    assert cer(NOTE_TXT, result(st, "incoming/handwritten/printed-by-metadata.png")["text"]) > HANDWRITTEN_CER
    assert result(st, "incoming/notes/by-tag.png")["mode_source"] == "tag"
    assert result(st, "incoming/handwritten/note.png")["mode_source"] == "prefix"
    assert result(st, "incoming/letters/letter.png")["mode_source"] == "default"
    report = result(st, "incoming/printed/report.pdf")  # a multi-page PDF, and its ALTO beside the JSON
    assert report["page_count"] == 2 and report["outputs"] == {"alto": f"s3://{OUT}/results/printed/report.pdf.alto.xml"}
    alto = st.s3.get_object(Bucket=OUT, Key="results/printed/report.pdf.alto.xml")
    assert alto["ContentType"].startswith("application/xml") and b"<TextLine" in alto["Body"].read()
    assert result(st, "incoming/printed/tagged.pdf")["outputs"] == {"hocr": f"s3://{OUT}/results/printed/tagged.pdf.hocr"}
    widths = {dpi: [p["width"] for p in result(st, key)["pages"]]  # ocr-dpi renders the PDF at 100 dpi, not 300
              for dpi, key in ((100, "incoming/printed/at 100 dpi.pdf"), (300, "incoming/printed/report.pdf"))}
    assert all(abs(a * 3 - b) <= 3 for a, b in zip(widths[100], widths[300], strict=True)) and widths[100][0] > 0, widths
    tiff = result(st, "incoming/scans/two pages.tif")
    assert tiff["page_count"] == 2 and cer(LETTER_TXT, tiff["pages"][0]["text"]) < PRINTED_CER
    tags = st.s3.get_object_tagging(Bucket=OUT, Key="results/bad/empty.png.json")["TagSet"]
    assert {"Key": "ocr-status", "Value": "error"} in tags  # lifecycle rules key on this tag

    # Redelivery (at-least-once SQS) and a re-upload of identical bytes: nothing is written again.
    for b in bodies:
        st.sqs.send_message(QueueUrl=st.queue, MessageBody=json.dumps(b))
    st.s3.put_object(Bucket=IN, Key="incoming/letters/letter.png", Body=LETTER)  # same ETag, new version
    assert drain(app, st) == len(bodies) + 1
    again = versions(st)
    assert {k: [v["VersionId"] for v in vs] for k, vs in again.items()} == \
           {k: [v["VersionId"] for v in vs] for k, vs in results.items()}
    assert all(len(vs) == 1 for vs in again.values())

    # A changed upload replaces its answer; the stale event of the old version then changes nothing.
    key = "incoming/letters/Dear Ms Alvarez.png"
    old = next(b for b in bodies if "Records" in b and "Dear" in b["Records"][0]["s3"]["object"]["key"])
    st.s3.put_object(Bucket=IN, Key=key, Body=NOTE, Metadata={"ocr-mode": "handwritten"})
    assert drain(app, st) == 1
    st.sqs.send_message(QueueUrl=st.queue, MessageBody=json.dumps(old))
    assert drain(app, st) == 1
    doc = result(st, key)
    assert cer(NOTE_TXT, doc["text"]) < HANDWRITTEN_CER and doc["source"]["size"] == len(NOTE)
    assert len(versions(st)[mirror_key(key, "incoming/", "results/")]) == 2


def test_faults_retry_reach_the_dlq_and_redrive_brings_them_back(app: Any, stack: SimpleNamespace,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    st = stack
    notify(st)
    assert drain(app, st) == 1  # the s3:TestEvent, ignored
    poison = convert(NOTE, "PNG", compress_level=1)  # distinct bytes: the engine "crashes" on these
    uploads = {"incoming/ok.png": LETTER, "incoming/crash.png": poison, "incoming/put fails.png": NOTE}
    for key, data in uploads.items():
        st.s3.put_object(Bucket=IN, Key=key, Body=data)

    real_read = app.ENGINE.read

    def crashing_read(data: bytes, mode: str = "auto", **kw: Any) -> Any:
        if data == poison:
            raise RuntimeError("simulated crash in the engine")
        return real_read(data, mode=mode, **kw)

    def failing_put(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key", "").startswith("results/put fails"):
            raise ClientError({"Error": {"Code": "InternalError", "Message": "simulated S3 failure"}}, "PutObject")

    monkeypatch.setattr(app.ENGINE, "read", crashing_read)
    app.S3.meta.events.register("before-parameter-build.s3.PutObject", failing_put, unique_id="test-put-fault")
    try:
        msgs = receive(st, wait=1)
        by_key = {unquote_plus(json.loads(m["Body"])["Records"][0]["s3"]["object"]["key"]): m["MessageId"] for m in msgs}
        assert set(by_key) == set(uploads)
        failed = invoke(app, st, msgs)
        assert failed == {by_key["incoming/crash.png"], by_key["incoming/put fails.png"]}  # ok.png succeeded
        assert receive(st) == []  # failed messages are invisible until the visibility timeout ends
        time.sleep(2.2)
        again = receive(st)
        assert {m["MessageId"] for m in again} == failed
        assert {m["Attributes"]["ApproximateReceiveCount"] for m in again} == {"2"}
        assert invoke(app, st, again) == failed
        time.sleep(2.2)
        assert receive(st) == []  # third receive: maxReceiveCount (2) reached, moved to the DLQ
        attrs = st.sqs.get_queue_attributes(QueueUrl=st.dlq, AttributeNames=["ApproximateNumberOfMessages"])
        assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "2"
    finally:
        app.S3.meta.events.unregister("before-parameter-build.s3.PutObject", unique_id="test-put-fault")
        monkeypatch.setattr(app.ENGINE, "read", real_read)
    keys = {v["Key"] for v in st.s3.list_object_versions(Bucket=OUT).get("Versions", [])}
    assert keys == {"results/ok.png.json"}  # failures wrote nothing, not even half a file

    cmd = [sys.executable, "-m", "functions.batch.redrive", "--dlq", st.dlq, "--queue", st.queue]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert run.returncode == 0 and "redrove 2 message" in run.stdout, run.stdout + run.stderr
    assert drain(app, st) == 2
    assert cer(NOTE_TXT, result(st, "incoming/crash.png")["text"]) < HANDWRITTEN_CER
    assert cer(NOTE_TXT, result(st, "incoming/put fails.png")["text"]) < HANDWRITTEN_CER
    assert result(st, "incoming/ok.png")["status"] == "ok"
    attrs = st.sqs.get_queue_attributes(QueueUrl=st.dlq, AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_time_budgets_answer_or_retry(app: Any, stack: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over its own budget an image gets a `timeout` answer; cut short by the invocation's end it is retried."""
    st = stack
    notify(st)
    assert drain(app, st) == 1  # the s3:TestEvent
    st.s3.put_object(Bucket=IN, Key="incoming/slow.png", Body=LETTER)
    msgs = receive(st, wait=1)
    short = LambdaContext("ocr-batch", remaining_ms=int(app.STOP_MARGIN_SECONDS * 1000))
    resp = app.handler(lambda_event(msgs, st.arn), short)  # no time left in this invocation
    assert {f["itemIdentifier"] for f in resp["batchItemFailures"]} == {msgs[0]["MessageId"]}
    assert "Versions" not in st.s3.list_object_versions(Bucket=OUT)  # nothing written: it will be retried

    monkeypatch.setattr(app, "ITEM_SECONDS", 1e-6)  # the image's own budget is what runs out
    monkeypatch.setattr(app, "_runners", {})
    assert invoke(app, st, msgs) == set()
    doc = result(st, "incoming/slow.png")
    assert (doc["status"], doc["error"], doc["http_status"]) == ("error", "timeout", 504)


def test_job_manifest_fans_out_and_writes_a_summary(app: Any, stack: SimpleNamespace) -> None:
    st = stack
    scans = {"incoming/scans/a.png": LETTER, "incoming/scans/b b.png": LETTER,
             "incoming/scans/c+.png": NOTE, "incoming/scans/broken.png": b"\x89PNG\r\n\x1a\n broken"}
    scans["incoming/reports/two.pdf"] = PDF  # only the format job below asks for it
    for key, data in scans.items():  # already there before the notification exists: only a job reaches them
        st.s3.put_object(Bucket=IN, Key=key, Body=data)
    notify(st)
    st.s3.put_object(Bucket=IN, Key="incoming/jobs/march.ocrjob.json", Body=json.dumps({"prefix": "scans/"}))
    st.s3.put_object(Bucket=IN, Key="incoming/jobs/two keys.ocrjob.json",
                     Body=json.dumps({"keys": ["scans/a.png", "incoming/scans/missing.png"], "mode": "printed"}))
    st.s3.put_object(Bucket=IN, Key="incoming/jobs/bad.ocrjob.json", Body=b"[not json")
    st.s3.put_object(Bucket=IN, Key="incoming/jobs/tsv.ocrjob.json",
                     Body=json.dumps({"keys": ["reports/two.pdf"], "mode": "printed", "format": "tsv"}))
    assert drain(app, st) == 1 + 4 + 4 + 2 + 1  # test event, 4 manifests, then the fanned-out items

    summary = result(st, "incoming/jobs/march.ocrjob.json")
    assert summary["status"] == "done" and summary["total"] == 4, summary
    assert summary["counts"] == {"ok": 3, "error": 1}
    assert [f["key"] for f in summary["failures"]] == ["incoming/scans/broken.png"]
    assert summary["durations_ms"]["max"] > 0
    assert cer(NOTE_TXT, result(st, "incoming/scans/c+.png")["text"]) < HANDWRITTEN_CER
    two = result(st, "incoming/jobs/two keys.ocrjob.json")
    assert two["counts"] == {"ok": 1, "error": 1} and two["mode"] == "printed"
    assert result(st, "incoming/scans/missing.png")["error"] == "source_missing"
    st.s3.put_object(Bucket=IN, Key="incoming/scans/missing.png", Body=LETTER)  # it turns up later: answered
    assert drain(app, st) == 1
    assert cer(LETTER_TXT, result(st, "incoming/scans/missing.png")["text"]) < PRINTED_CER
    assert result(st, "incoming/jobs/bad.ocrjob.json")["error"] == "bad_manifest"
    assert result(st, "incoming/jobs/tsv.ocrjob.json")["counts"] == {"ok": 1}
    tsv = st.s3.get_object(Bucket=OUT, Key="results/reports/two.pdf.tsv")["Body"].read().decode()
    assert result(st, "incoming/reports/two.pdf")["outputs"] == {"tsv": f"s3://{OUT}/results/reports/two.pdf.tsv"}
    assert {row.split("\t")[1] for row in tsv.splitlines()[1:]} == {"1", "2"}  # rows of both pages


def test_handler_under_the_lambda_runtime_interface_emulator(stack: SimpleNamespace, tmp_path: Path) -> None:
    """The container entry point for real: awslambdaric runs `functions.batch.app.handler` under the RIE."""
    rie = find_rie()  # .venv-sam's (./dev.sh setup installs it); fails loudly if missing
    st = stack
    notify(st)
    st.s3.put_object(Bucket=IN, Key="incoming/rie/letter 1+1.png", Body=LETTER)
    st.s3.put_object(Bucket=IN, Key="incoming/rie/broken.png", Body=b"\x89PNG\r\n\x1a\n broken")
    msgs = []
    while batch := receive(st, wait=1):
        msgs += batch
    poison = st.sqs.send_message(QueueUrl=st.queue, MessageBody='{"not": "an S3 event"}')["MessageId"]
    msgs += receive(st, wait=1)
    assert len(msgs) == 4  # test event, two uploads, the poison message

    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AWS_LAMBDA_FUNCTION_TIMEOUT": "600", "OCR_WARM_UP": "0"}
    log = open(tmp_path / "rie.log", "wb")
    proc = subprocess.Popen([rie, "--log-level", "error", "--runtime-interface-emulator-address", f"127.0.0.1:{ports[0]}",
                             "--runtime-api-address", f"127.0.0.1:{ports[1]}",
                             sys.executable, "-m", "awslambdaric", "functions.batch.app.handler"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{ports[0]}/2015-03-31/functions/function/invocations"
        for _ in range(100):
            try:
                resp = requests.post(url, json=lambda_event(msgs, st.arn), timeout=300)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert resp.status_code == 200, resp.text
        assert resp.json() == {"batchItemFailures": [{"itemIdentifier": poison}]}, (tmp_path / "rie.log").read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
    assert cer(LETTER_TXT, result(st, "incoming/rie/letter 1+1.png")["text"]) < PRINTED_CER
    assert result(st, "incoming/rie/broken.png")["status"] == "error"


def test_sam_events_parse_to_the_decoded_key(app: Any) -> None:
    event = json.loads((ROOT / "events" / "sqs-s3-put.json").read_text())
    items = app.work_items(event["Records"][0]["body"])
    assert [i.ref.key for i in items] == ["incoming/handwritten/Shopping list +1.png"]
    assert items[0].ref.size == len(NOTE)
    assert app.work_items(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": IN})) == []


def test_results_can_never_feed_back_into_the_input() -> None:
    check_separation("b", "incoming/", "b", "results/")
    check_separation("in", "", "out", "")  # separate buckets: anything goes
    for inp, res in [("incoming/", "incoming/results/"), ("", "results/"), ("data/", "data/")]:
        with pytest.raises(ValueError):
            check_separation("b", inp, "b", res)
    with pytest.raises(ValueError):
        mirror_key("results/a.png.json", "incoming/", "results/")


def test_local_folder_mode(tmp_path: Path, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    (src / "a b").mkdir(parents=True)
    (src / "handwritten").mkdir()
    (src / "a b" / "été+1.png").write_bytes(LETTER)
    (src / "handwritten" / "note.png").write_bytes(NOTE)
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    (src / "poison.tif").write_bytes(poison.tiff_second_page_without_size())  # aborted every run before
    (src / "report.pdf").write_bytes((TEST_DATA / "two-pages.pdf").read_bytes())
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    run = subprocess.run(["ocr", "batch", str(src), "--out", str(out)], capture_output=True, text=True,
                         timeout=300, env=env, cwd=tmp_path)
    assert run.returncode == 1, run.stderr  # two files got an error answer
    assert "5 files" in run.stderr and "ok 3" in run.stderr and "error 2" in run.stderr, run.stderr
    assert "100%" not in run.stderr  # stderr is not a terminal: no progress bar frames in logs
    report = json.loads((out / "report.pdf.json").read_text())  # a multi-page PDF, page by page
    pdf_truth = (TEST_DATA / "two-pages.txt").read_text().split("\f")
    assert report["page_count"] == 2 and [ln["page"] for ln in report["lines"]] == [1, 2]
    assert all(cer(t.strip(), p["text"]) < PRINTED_CER for t, p in zip(pdf_truth, report["pages"])), report["pages"]
    letter = json.loads((out / "a b" / "été+1.png.json").read_text())
    note = json.loads((out / "handwritten" / "note.png.json").read_text())
    broken = json.loads((out / "broken.jpg.json").read_text())
    assert cer(LETTER_TXT, letter["text"]) < PRINTED_CER and letter["source"]["key"] == "a b/été+1.png"
    assert note["mode_source"] == "prefix" and cer(NOTE_TXT, note["text"]) < HANDWRITTEN_CER
    assert broken["status"] == "error" and broken["error"] in ("corrupt_image", "unsupported_format")
    assert json.loads((out / "poison.tif.json").read_text())["error"] == "corrupt_image"
    assert not list(out.rglob(".tmp-*"))

    # Re-run in-process (the module's engine): nothing changes; a changed file is redone.
    import ocr_core.engine
    from ocr_core import cli

    monkeypatch.setattr(ocr_core.engine, "OcrEngine", lambda: app.ENGINE)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.json")}
    assert cli.main(["batch", str(src), "--out", str(out), "--quiet"]) == 1
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.json")} == before
    (src / "broken.jpg").write_bytes(convert(LETTER, "JPEG"))
    (src / "poison.tif").unlink()
    assert cli.main(["batch", str(src), "--out", str(out), "--quiet"]) == 0
    assert cer(LETTER_TXT, json.loads((out / "broken.jpg.json").read_text())["text"]) < PRINTED_CER

    # --format writes a rendition beside each new JSON answer (here: the searchable PDF of a new upload)
    (src / "again.pdf").write_bytes((TEST_DATA / "two-pages.pdf").read_bytes())
    assert cli.main(["batch", str(src), "--out", str(out), "--quiet", "--format", "pdf"]) == 0
    again = json.loads((out / "again.pdf.json").read_text())
    assert again["outputs"] == {"pdf": str(out / "again.pdf.pdf")} and again["page_count"] == 2
    searchable = pdfium.PdfDocument((out / "again.pdf.pdf").read_bytes())
    assert [" ".join(searchable[i].get_textpage().get_text_range().split()) for i in range(2)] == \
        [p["text"] for p in again["pages"]]

    # A job manifest cannot reach outside the input folder (a synced scanner folder is untrusted).
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "s.png").write_bytes(NOTE)
    (src / "jobs").mkdir()
    (src / "jobs" / "escape.ocrjob.json").write_text(json.dumps({"keys": ["../secret/s.png"]}))
    assert cli.main(["batch", str(src), "--out", str(out), "--quiet"]) == 1
    assert json.loads((out / "jobs" / "escape.ocrjob.json.json").read_text())["error"] == "bad_manifest"
    assert not (tmp_path / "secret" / "s.png.json").exists() and not list(tmp_path.glob("secret*/**/*.json"))
