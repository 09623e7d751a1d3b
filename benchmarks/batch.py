"""Batch OCR throughput and memory: 50 mixed images through the SQS handler (moto) and `ocr batch`.

    python -m benchmarks.batch [--out benchmarks/reports/batch.md]

Each mode runs in its own fresh process (one "function instance"), which reports its cold start
(imports + engine + warm-up), the steady throughput (images per minute between the first and last
answer), the end-to-end wall time and its peak RSS. The handler mode talks to a moto server
process over HTTP exactly as the function talks to S3/SQS: upload -> real S3 notification ->
receive -> handler (batches of 5, as in the template) -> delete. Texts are checked against the
known transcripts (mean CER per kind) so a fast-but-wrong run cannot pass for a good one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.lambda_context import LambdaContext

ROOT = Path(__file__).resolve().parents[1]
DEV_EVAL = ROOT.parent / "shared" / "dev-eval"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}
BATCH_SIZE = 5  # template.yaml: BatchFunction BatchSize


def mixed_images() -> list[tuple[str, bytes, str, str]]:
    """50 (relative key, bytes, kind, reference text): lines, pages, photos of notes, formats."""
    from PIL import Image

    out: list[tuple[str, bytes, str, str]] = []
    hw = sorted((DEV_EVAL / "handwritten").glob("hw*.png"))[:20]
    for i, p in enumerate(hw):  # half under handwritten/ (prefix mode), half auto
        folder = "handwritten/lines" if i % 2 == 0 else "lines"
        out.append((f"{folder}/{p.name}", p.read_bytes(), "handwritten line", p.with_suffix(".txt").read_text()))
    for p in sorted((DEV_EVAL / "handwritten-warped").glob("hw*.png"))[:10]:
        out.append((f"handwritten/warped/{p.name}", p.read_bytes(), "handwritten line (warped)", p.with_suffix(".txt").read_text()))
    for i in range(4):
        for name in ("phototest", "eurotext"):
            p = DEV_EVAL / "printed" / f"{name}.tif"
            out.append((f"scans/{name} {i}.tif", p.read_bytes(), "printed page (scan)", p.with_suffix(".txt").read_text()))
    samples = ROOT / "samples"
    for i in range(6):
        letter = (samples / "printed-letter.png").read_bytes()
        if i % 2:
            buf = io.BytesIO()
            Image.open(io.BytesIO(letter)).save(buf, format="JPEG", quality=90)
            letter, ext = buf.getvalue(), "jpg"
        else:
            ext = "png"
        out.append((f"letters/letter {i}.{ext}", letter, "printed letter", (samples / "printed-letter.txt").read_text()))
        out.append((f"handwritten/notes/note {i}.png", (samples / "handwritten-note.png").read_bytes(), "handwritten note",
                    (samples / "handwritten-note.txt").read_text()))
    assert len(out) == 50, len(out)
    return out


# ------------------------------------------------------------------------------------- children
def child_handler(work: Path) -> dict[str, Any]:
    import boto3

    t0 = time.perf_counter()
    from functions.batch import app  # init: engine + warm-up, as a Lambda cold start

    cold = time.perf_counter() - t0
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    queue = os.environ["QUEUE_URL"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for key, data in json.loads((work / "objects.json").read_text()).items():
        s3.put_object(Bucket="bench-in", Key=key, Body=(work / "in" / data).read_bytes())
    t1 = time.perf_counter()
    handled = failures = 0
    while msgs := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=BATCH_SIZE, WaitTimeSeconds=1,
                                      AttributeNames=["All"]).get("Messages", []):
        event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                              "attributes": m["Attributes"], "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                              "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1"} for m in msgs]}
        failed = {f["itemIdentifier"] for f in app.handler(event, LambdaContext("ocr-batch", remaining_ms=300_000, aws_request_id="bench"))["batchItemFailures"]}
        failures += len(failed)
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs) if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(QueueUrl=queue, Entries=done)
        handled += len(msgs)
    wall = time.perf_counter() - t1
    docs = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="bench-out", Prefix="results/"):
        for o in page.get("Contents", []):
            docs[o["Key"][len("results/"):-len(".json")]] = json.loads(s3.get_object(Bucket="bench-out", Key=o["Key"])["Body"].read())
    return {"cold_s": cold, "wall_s": wall, "messages": handled, "failures": failures, "docs": docs}


def child_local(work: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    from ocr_core import cli

    rc = cli.main(["batch", str(work / "in"), "--out", str(work / "out"), "--quiet"])
    wall = time.perf_counter() - t0
    docs = {str(p.relative_to(work / "out"))[:-len(".json")]: json.loads(p.read_text()) for p in (work / "out").rglob("*.json")}
    return {"cold_s": None, "wall_s": wall, "rc": rc, "docs": docs}


def child_main(mode: str, work: Path) -> None:
    import resource

    res = child_handler(work) if mode == "handler" else child_local(work)
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (work / f"{mode}.json").write_text(json.dumps(res, ensure_ascii=False))


# --------------------------------------------------------------------------------------- parent
def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    import socket

    import requests

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **AWS_ENV})
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(url + "/moto-api/", timeout=1)
            return proc, url
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("moto server did not start")


def setup_stack(env: dict[str, str]) -> str:
    import boto3

    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"])
    sqs = session.client("sqs", endpoint_url=env["AWS_ENDPOINT_URL"])
    for b in ("bench-in", "bench-out"):
        s3.create_bucket(Bucket=b)
    dlq = sqs.create_queue(QueueName="bench-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName="bench", Attributes={
        "VisibilityTimeout": "1800", "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket="bench-in", NotificationConfiguration={"QueueConfigurations": [{
        "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}}}]})
    return queue


def summarize(res: dict[str, Any], images: list[tuple[str, bytes, str, str]], key_of: Any) -> dict[str, Any]:
    from ocr_core.metrics import cer

    docs = res["docs"]
    stamps, per_kind, errors = [], {}, 0
    for rel, _, kind, ref in images:
        doc = docs[key_of(rel)]
        if doc.get("status") != "ok":
            errors += 1
            continue
        stamps.append(dt.datetime.fromisoformat(doc["processed_at"]))
        per_kind.setdefault(kind, []).append(cer(ref, doc["text"]))
    stamps.sort()
    span = (stamps[-1] - stamps[0]).total_seconds()
    ocr_ms = sorted(d["batch_timings_ms"]["total"] for d in docs.values() if "batch_timings_ms" in d)
    return {
        "answers": len(docs), "errors": errors,
        "steady_ipm": 60 * (len(stamps) - 1) / span if span else float("nan"),
        "wall_ipm": 60 * len(images) / res["wall_s"], "wall_s": res["wall_s"], "cold_s": res.get("cold_s"),
        "median_item_ms": ocr_ms[len(ocr_ms) // 2], "peak_rss_mb": res["peak_rss_mb"],
        "cer": {k: sum(v) / len(v) for k, v in per_kind.items()},
        "counts": {k: len(v) for k, v in per_kind.items()},
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "reports" / "batch.md")
    p.add_argument("--child", choices=["handler", "local"], help=argparse.SUPPRESS)
    p.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        child_main(a.child, a.work)
        return

    images = mixed_images()
    work = Path(tempfile.mkdtemp(prefix="ocr-bench-batch-"))
    objects = {}
    for rel, data, _, _ in images:
        (work / "in" / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / "in" / rel).write_bytes(data)
        objects[f"incoming/{rel}"] = rel
    (work / "objects.json").write_text(json.dumps(objects))
    load_before = os.getloadavg()
    results = {}
    moto, url = start_moto()
    try:
        env = {**os.environ, **AWS_ENV, "AWS_ENDPOINT_URL": url, "RESULTS_BUCKET": "bench-out"}
        env["QUEUE_URL"] = setup_stack(env)
        subprocess.run([sys.executable, "-m", "benchmarks.batch", "--child", "handler", "--work", str(work)],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        moto.terminate()
        moto.wait(timeout=10)
    handler = json.loads((work / "handler.json").read_text())
    results["handler"] = summarize(handler, images, lambda rel: rel)
    results["handler"]["messages"] = handler["messages"]
    results["handler"]["failures"] = handler["failures"]
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "benchmarks.batch", "--child", "local", "--work", str(work)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    local_proc_s = time.perf_counter() - t0
    local = json.loads((work / "local.json").read_text())
    results["local"] = summarize(local, images, lambda rel: rel)
    results["local"]["process_s"] = local_proc_s
    load_after = os.getloadavg()
    shutil.rmtree(work, ignore_errors=True)
    report = render(results, images, load_before, load_after)
    a.out.write_text(report)
    print(report)


def render(r: dict[str, Any], images: list[tuple[str, bytes, str, str]], load0: tuple[float, ...],
           load1: tuple[float, ...]) -> str:
    h, loc = r["handler"], r["local"]
    kinds = list(h["cer"])
    mix = ", ".join(f"{h['counts'][k]} {k}" for k in kinds)
    lines = [
        "# Batch OCR: throughput and memory per function instance",
        "",
        f"Measured {dt.date.today().isoformat()} with `python -m benchmarks.batch` on this machine: "
        f"{os.cpu_count()} cores, no GPU, shared with a training job (load average {load0[0]:.1f} before, "
        f"{load1[0]:.1f} after), so these are pessimistic for a Lambda instance with the same core count.",
        "",
        f"Input: 50 mixed images ({mix}); "
        f"{sum(len(d) for _, d, _, _ in images) / 1e6:.1f} MB in total. Each mode runs in a fresh process (one "
        "function instance, one engine). *Steady* = images per minute between the first and the last answer "
        "(what a warm instance sustains); *wall* includes everything after init (handler: receive, S3 GET/PUT "
        "via moto over HTTP, delete; local: process start, model load).",
        "",
        "| mode | steady images/min | wall images/min | wall s | init s | median per image ms | peak RSS MB | answers (errors) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| SQS handler (moto S3+SQS, batches of {BATCH_SIZE}) | {h['steady_ipm']:.0f} | {h['wall_ipm']:.0f} | {h['wall_s']:.1f} | "
        f"{h['cold_s']:.1f} | {h['median_item_ms']:.0f} | {h['peak_rss_mb']:.0f} | {h['answers']} ({h['errors']}) |",
        f"| `ocr batch ./in --out ./out` | {loc['steady_ipm']:.0f} | {loc['wall_ipm']:.0f} | {loc['wall_s']:.1f} | "
        f"(in wall) | {loc['median_item_ms']:.0f} | {loc['peak_rss_mb']:.0f} | {loc['answers']} ({loc['errors']}) |",
        "",
        f"Handler: {h['messages']} SQS messages, {h['failures']} reported failures; init (import, engine, "
        f"model warm-up) {h['cold_s']:.1f} s is the Lambda cold start's Python part. Local mode: the whole "
        f"command took {loc['process_s']:.1f} s including interpreter start and model load.",
        "",
        "Quality check on the same answers (mean CER per kind, handler / local):",
        "",
        "| kind | images | CER handler | CER local |",
        "| --- | --- | --- | --- |",
    ]
    for k in kinds:
        lines.append(f"| {k} | {h['counts'][k]} | {100 * h['cer'][k]:.2f}% | {100 * loc['cer'][k]:.2f}% |")
    lines += ["", "Sizing: the template gives the function 3008 MB (peak RSS above plus headroom; Lambda CPU "
              "share grows with memory) and a 300 s timeout; a batch of 5 takes a few seconds.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
