"""Fault injection through the S3 batch path: every upload answered once, whatever goes wrong.

    python -m benchmarks.faults [--uploads 240] [--seed 14] [--out benchmarks/reports/faults.md]

A moto server plays S3 and SQS (real notifications, visibility timeouts, a DLQ after 5 receives).
Worker processes run the real batch handler (`functions.batch.app.handler`) in a receive ->
handle -> delete loop, as Lambda's SQS event source does, and inject faults into their own S3
client: errors before a call (InternalError, and SlowDown / ServiceUnavailable throttles), a lost
response after a successful PutObject (the answer is written, the worker thinks it failed), and
duplicate deliveries (a handled message sent again). One worker crashes (os._exit) right after
writing an answer and before deleting its message; another is SIGKILLed by the parent mid-run;
both are replaced, as Lambda would. The inputs mix real images with issue 14's poison files and
seeded fuzz mutants. At the end, messages in the DLQ are redriven with the faults switched off
(the documented `functions.batch.redrive` procedure, after "fixing the cause").

Checked: every input has an answer (lost = 0), written exactly once for its bytes (one object
version: duplicated = 0), for the exact uploaded ETag, with the expected status.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.lambda_context import LambdaContext

ROOT = Path(__file__).resolve().parents[1]
IN, OUT = "faults-in", "faults-out"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}
VISIBILITY_SECONDS = 4  # failed messages come back this fast (the template: 1800 s)
MAX_RECEIVES = 5  # the template's maxReceiveCount
BATCH_SIZE = 5  # the template's BatchSize


# ------------------------------------------------------------------------------------- inputs
def inputs(count: int, seed: int) -> list[tuple[str, bytes, dict[str, Any], str]]:
    """(key, bytes, put_object extras, expected: "ok" | "error:<code>" | "any") — about 1/3 poison."""
    from benchmarks import poison

    samples = ROOT / "samples"
    rng = random.Random(seed)
    fixed = [
        ("poison/page without size.tif", poison.tiff_second_page_without_size(), {}, "error:corrupt_image"),
        ("poison/only nan.tif", poison.float_tiff_all_nan(), {}, "error:corrupt_image"),
        ("poison/12 blank 7000px pages.tif", poison.blank_pages_tiff(), {}, "error:too_many_pixels"),
        ("poison/nan and inf.tif", poison.float_tiff(), {}, "ok"),
        ("poison/strip 8x40000.png", poison.strip(8, 40000), {}, "ok"),
        ("poison/strip 40000x12.png", poison.strip(40000, 12), {}, "ok"),
        ("poison/truncated.png", (samples / "printed-letter.png").read_bytes()[:5000], {}, "error:corrupt_image"),
        ("poison/random.jpg", rng.randbytes(3000), {}, "error:unsupported_format"),
        ("poison/empty.png", b"", {}, "error:empty_input"),
        ("poison/notes.txt.png", b"Buy milk\n", {}, "error:unsupported_format"),
        ("poison/bad mode.png", (samples / "handwritten-word.png").read_bytes(), {"Metadata": {"ocr-mode": "sideways"}},
         "error:bad_mode"),
        ("printed/letter.png", (samples / "printed-letter.png").read_bytes(), {}, "ok"),
        ("handwritten/note.png", (samples / "handwritten-note.png").read_bytes(), {}, "ok"),
    ]
    out = list(fixed)
    seeds = list(poison.seed_images().items())
    np_rng = __import__("numpy").random.default_rng(seed)
    n_mutants = count // 4
    for i in range(n_mutants):  # each mutant: any typed answer is right, a crash or no answer is not
        name, data = seeds[i % len(seeds)]
        out.append((f"fuzz/{name}-{i:03d}", poison.mutate(data, np_rng), {}, "any"))
    i = 0
    while len(out) < count:  # real, distinct printed lines (fast to read: the run is about the faults)
        words = " ".join(rng.choice(["Invoice", "total", "due", "March", "paid", "order", "ref", "Zürich"]) for _ in range(3))
        out.append((f"lines/{i:03d} {words}.png", poison.save(poison.text_page(f"{words} {i}", 24), "PNG"), {}, "ok"))
        i += 1
    return [(f"incoming/{k}", d, x, e) for k, d, x, e in out]


# ------------------------------------------------------------------------------------ workers
def worker(index: int, work: Path) -> None:
    """Receive -> the real handler -> delete, with faults injected into the handler's own S3 client."""
    import boto3
    from botocore.exceptions import ClientError

    from functions.batch import app

    rng = random.Random(int(os.environ["FAULT_SEED"]) * 100 + index)
    rate = float(os.environ["FAULT_RATE"])
    crash_after = int(os.environ.get("CRASH_AFTER_PUTS", "0"))  # 0: this worker does not crash by itself
    log = (work / f"worker-{index}.jsonl").open("a", buffering=1)
    calm = work / "calm"  # the cause is "fixed": no more faults (for the redrive)
    puts = 0

    def note(kind: str, **extra: Any) -> None:
        log.write(json.dumps({"worker": index, "kind": kind, **extra}) + "\n")

    def before_call(model: Any, **_: Any) -> None:
        if calm.exists() or rng.random() >= rate:
            return
        code, status = rng.choice([("InternalError", 500), ("SlowDown", 503), ("ServiceUnavailable", 503)])
        note("s3_throttle" if status == 503 else "s3_error", op=model.name)
        raise ClientError({"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                          model.name)

    def after_put(model: Any, **_: Any) -> None:
        nonlocal puts
        puts += 1
        if crash_after and puts == crash_after:
            note("crash_after_put")
            os._exit(137)  # the answer is written; the message is not deleted: it will be delivered again
        if not calm.exists() and rng.random() < rate / 2:
            note("lost_put_response")
            raise ClientError({"Error": {"Code": "InternalError", "Message": "injected after the write"},
                               "ResponseMetadata": {"HTTPStatusCode": 500}}, "PutObject")

    app.S3.meta.events.register("before-call.s3", before_call, unique_id="faults-before")
    app.S3.meta.events.register("after-call.s3.PutObject", after_put, unique_id="faults-after-put")
    sqs = boto3.client("sqs")
    queue = os.environ["QUEUE_URL"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    note("ready")
    while not (work / "stop").exists():
        msgs = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=BATCH_SIZE, WaitTimeSeconds=1,
                                   AttributeNames=["All"]).get("Messages", [])
        if not msgs:
            continue
        event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                              "attributes": m["Attributes"], "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                              "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1"} for m in msgs]}
        failed = {f["itemIdentifier"] for f in app.handler(event, LambdaContext("ocr-batch", remaining_ms=300_000, aws_request_id=f"w{index}"))["batchItemFailures"]}
        for m in msgs:
            note("receive", count=int(m["Attributes"]["ApproximateReceiveCount"]), failed=m["MessageId"] in failed)
        done = [m for m in msgs if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                              for i, m in enumerate(done)])
        for m in done:  # at-least-once delivery: SQS may hand the same message out again
            if not calm.exists() and rng.random() < rate:
                note("duplicate_delivery")
                sqs.send_message(QueueUrl=queue, MessageBody=m["Body"])


# ------------------------------------------------------------------------------------- parent
def setup(endpoint: str) -> tuple[Any, Any, str, str]:
    import boto3

    s3, sqs = boto3.client("s3", endpoint_url=endpoint), boto3.client("sqs", endpoint_url=endpoint)
    for b in (IN, OUT):
        s3.create_bucket(Bucket=b)
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})  # every write is counted
    dlq = sqs.create_queue(QueueName="faults-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName="faults", Attributes={
        "VisibilityTimeout": str(VISIBILITY_SECONDS),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)})})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket=IN, NotificationConfiguration={"QueueConfigurations": [{
        "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}}}]})
    return s3, sqs, queue, dlq


def queue_depth(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                  "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def answers(s3: Any) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=OUT, Prefix="results/"):
        for v in page.get("Versions", []):
            out.setdefault(v["Key"], []).append(v)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--uploads", type=int, default=240)
    p.add_argument("--seed", type=int, default=14)
    p.add_argument("--fault-rate", type=float, default=0.05, help="per S3 call (and per handled message for duplicates)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "reports" / "faults.md")
    p.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    p.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker is not None:
        worker(a.worker, a.work)
        return

    from benchmarks.batch import start_moto
    from ocr_core.dropfolder.store import mirror_key

    items = inputs(a.uploads, a.seed)
    work = Path(tempfile.mkdtemp(prefix="ocr-faults-"))
    moto, url = start_moto()
    procs: dict[int, subprocess.Popen[bytes]] = {}
    started = time.monotonic()
    load0 = os.getloadavg()
    try:
        os.environ.update(AWS_ENV)
        s3, sqs, queue, dlq = setup(url)
        path = os.pathsep.join([str(ROOT), str(ROOT / "layers" / "common"), os.environ.get("PYTHONPATH", "")])
        env = {**os.environ, **AWS_ENV, "AWS_ENDPOINT_URL": url, "RESULTS_BUCKET": OUT, "QUEUE_URL": queue,
               "PYTHONPATH": path, "FAULT_SEED": str(a.seed), "FAULT_RATE": str(a.fault_rate),
               "POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "faults"}
        next_index = 0

        def spawn(crash_after: int = 0) -> None:
            nonlocal next_index
            procs[next_index] = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.faults", "--worker", str(next_index), "--work", str(work)],
                cwd=ROOT, env={**env, "CRASH_AFTER_PUTS": str(crash_after)},
                stdout=subprocess.DEVNULL, stderr=(work / f"worker-{next_index}.err").open("wb"))
            next_index += 1

        spawn(crash_after=25)  # crashes by itself after its 25th answer write, before deleting the message
        for _ in range(a.workers - 1):
            spawn()
        for key, data, extra, _ in items:
            s3.put_object(Bucket=IN, Key=key, Body=data, **extra)
        reuploads = [it for it in items if it[0].startswith("incoming/lines/")][:10]
        for key, data, extra, _ in reuploads:  # the same bytes again: a new event, nothing new to answer
            s3.put_object(Bucket=IN, Key=key, Body=data, **extra)
        killed = crashed = redriven = 0
        replaced: set[int] = set()
        wanted = {mirror_key(k, "incoming/", "results/") for k, *_ in items}
        deadline = time.monotonic() + 40 * 60
        while time.monotonic() < deadline:
            time.sleep(2)
            have = answers(s3)
            done = len(wanted & set(have))
            if not killed and done >= a.uploads // 2:  # SIGKILL a worker mid-run (whatever it is doing)
                victim = max(i for i, pr in procs.items() if pr.poll() is None)
                procs[victim].send_signal(signal.SIGKILL)
                procs[victim].wait()
                killed = 1
                spawn()
            for i, pr in list(procs.items()):
                if i not in replaced and pr.poll() == 137:  # crashed by itself: Lambda starts a new instance
                    crashed += 1
                    replaced.add(i)
                    spawn()
            if queue_depth(sqs, queue) == 0:
                if queue_depth(sqs, dlq):  # fix the cause, then the documented redrive
                    (work / "calm").touch()
                    run = subprocess.run([sys.executable, "-m", "functions.batch.redrive", "--dlq", dlq, "--queue", queue],
                                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
                    redriven += int(run.stdout.split("redrove ")[1].split()[0]) if "redrove " in run.stdout else 0
                    continue
                if done == len(wanted):
                    break
        wall = time.monotonic() - started
        (work / "stop").touch()
        for pr in procs.values():
            try:
                pr.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pr.kill()
        have = answers(s3)
        report = verify(s3, items, have, reuploads, work, killed, crashed, redriven, wall, a, load0)
    finally:
        for pr in procs.values():
            if pr.poll() is None:
                pr.kill()
        moto.terminate()
        moto.wait(timeout=10)
    a.out.write_text(report)
    print(report)


def verify(s3: Any, items: list[tuple[str, bytes, dict[str, Any], str]], have: dict[str, list[dict[str, Any]]],
           reuploads: list[Any], work: Path, killed: int, crashed: int, redriven: int, wall: float,
           a: argparse.Namespace, load0: tuple[float, ...]) -> str:
    from ocr_core.dropfolder.store import mirror_key

    lost, duplicated, wrong, stale = [], [], [], []
    statuses: dict[str, int] = {}
    for key, _data, _, expected in items:
        rkey = mirror_key(key, "incoming/", "results/")
        versions = have.get(rkey, [])
        if not versions:
            lost.append(key)
            continue
        if len(versions) > 1:
            duplicated.append((key, len(versions)))
        doc = json.loads(s3.get_object(Bucket=OUT, Key=rkey)["Body"].read())
        etag = s3.head_object(Bucket=IN, Key=key)["ETag"].strip('"')
        if doc["source"]["fingerprint"] != etag:
            stale.append(key)
        got = "ok" if doc["status"] == "ok" else f"error:{doc['error']}"
        statuses[got] = statuses.get(got, 0) + 1
        if expected != "any" and got != expected:
            wrong.append((key, expected, got))
        if expected == "any" and doc["status"] == "error" and not 400 <= doc["http_status"] < 500:
            wrong.append((key, "a 4xx answer", got))
    events: dict[str, int] = {}
    receives = redelivered = 0
    for log in work.glob("worker-*.jsonl"):
        for line in log.read_text().splitlines():
            e = json.loads(line)
            events[e["kind"]] = events.get(e["kind"], 0) + 1
            if e["kind"] == "receive":
                receives += 1
                redelivered += e["count"] > 1
    poison = sum(k.startswith("incoming/poison/") for k, *_ in items)
    mutants = sum(k.startswith("incoming/fuzz/") for k, *_ in items)
    verdict = "PASS" if not (lost or duplicated or wrong or stale) else "FAIL"
    lines = [
        "# Fault injection: the S3 batch path under errors, throttles, redelivery and crashes",
        "",
        f"Measured {dt.date.today().isoformat()} with `python -m benchmarks.faults --uploads {a.uploads} --seed {a.seed} "
        f"--fault-rate {a.fault_rate} --workers {a.workers}` on {os.cpu_count()} shared cores (load average "
        f"{load0[0]:.1f} at the start). moto server S3 + SQS (visibility {VISIBILITY_SECONDS} s, DLQ after "
        f"{MAX_RECEIVES} receives, batches of {BATCH_SIZE}); workers run the real handler and engine.",
        "",
        f"**{verdict}**: {len(items)} uploads ({poison} poison files, {mutants} fuzz mutants, the rest real images) "
        f"plus {len(reuploads)} re-uploads of identical bytes.",
        "",
        "| check | result |",
        "| --- | --- |",
        f"| inputs without an answer (lost) | {len(lost)} |",
        f"| answers written more than once (duplicated: >1 object version) | {len(duplicated)} |",
        f"| answers for other bytes than the upload (stale ETag) | {len(stale)} |",
        f"| answers with an unexpected status | {len(wrong)} |",
        f"| answers: status counts | {', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))} |",
        "",
        "| fault injected | count |",
        "| --- | --- |",
        f"| S3 errors before a call (InternalError) | {events.get('s3_error', 0)} |",
        f"| S3 throttles before a call (SlowDown, ServiceUnavailable) | {events.get('s3_throttle', 0)} |",
        f"| answer written but its response lost | {events.get('lost_put_response', 0)} |",
        f"| duplicate deliveries of handled messages | {events.get('duplicate_delivery', 0)} |",
        f"| worker crash after writing an answer, before deleting the message | {crashed} |",
        f"| worker SIGKILLed mid-run | {killed} |",
        "",
        f"Deliveries: {receives} messages received, {redelivered} of them redeliveries (receive count > 1); "
        f"{redriven} message(s) reached the DLQ and were redriven with the faults off. Wall time {wall:.0f} s.",
        "",
    ]
    for title, rows in (("Lost", lost), ("Duplicated", duplicated), ("Stale", stale), ("Unexpected", wrong)):
        if rows:
            lines += [f"{title}: " + "; ".join(map(str, rows[:20])), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
