"""SQS-triggered batch OCR: S3 upload events (and job fan-out messages) -> JSON answers in S3.

Thin on purpose: parse the SQS/S3 event, hand each object to `ocr_core.dropfolder`'s
`DropFolderRunner`, log. The job fan-out message format is this function's own (`job_item_message`).
Failures are reported per message (ReportBatchItemFailures), so one bad message does not retry
the whole batch; messages that keep failing land in the dead-letter queue.

Environment: RESULTS_BUCKET (default: the input bucket), INPUT_PREFIX (incoming/), RESULTS_PREFIX
(results/), QUEUE_URL (where job manifests fan out), OCR_WARM_UP (1: trace models at init),
OCR_BATCH_ITEM_SECONDS (240: one image's reading budget; over it the answer is a `timeout` error).
Work stops `STOP_MARGIN_SECONDS` before the function's timeout: an image cut short by that is
retried (its message fails), never killed mid-write.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any
from urllib.parse import unquote_plus

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ocr_core.dropfolder.jobs import JobRef
from ocr_core.dropfolder.runner import DropFolderRunner, WorkItem
from ocr_core.dropfolder.store import S3Store, SourceRef
from ocr_core.engine import OcrEngine
from ocr_core.storage import s3_client

logger = Logger(service="ocr-batch")
tracer = Tracer(service="ocr-batch")
metrics = Metrics(namespace="ServerlessOCR", service="ocr-batch")  # ObjectsAnswered/Retried, MessagesUnreadable, AnswerLatency, ColdStart

# Init phase (once per container, outside the billed per-message time): models and clients.
ENGINE = OcrEngine()
if os.environ.get("OCR_WARM_UP", "1") != "0":
    ENGINE.warm_up()
S3 = s3_client()
_sqs: Any = None
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
_runners: dict[str, DropFolderRunner] = {}
ITEM_SECONDS = float(os.environ.get("OCR_BATCH_ITEM_SECONDS", "240"))
STOP_MARGIN_SECONDS = 10.0  # time to write the answer and report the batch before Lambda's timeout
_stop_by: float | None = None  # this invocation's, set by the handler


JOB_ITEM = "ocr_job_item"  # top-level key of a job fan-out message body (our own format, on our own queue)


def job_item_message(item: WorkItem) -> dict[str, Any]:
    """The SQS message body of one job item (read back by `work_items`)."""
    job = item.job
    return {JOB_ITEM: {"bucket": item.ref.bucket, "key": item.ref.key, "etag": item.ref.etag, "size": item.ref.size,
                       "mode": item.mode, "format": item.format,
                       "job": job and {"manifest_key": job.manifest_key, "job_id": job.job_id,
                                       "index": job.index, "total": job.total}}}


def _job_item(body: dict[str, Any]) -> WorkItem:
    d = body[JOB_ITEM]
    job = d.get("job")
    return WorkItem(SourceRef(d["bucket"], d["key"], etag=d.get("etag"), size=d.get("size")), d.get("mode"),
                    JobRef(job["manifest_key"], job["job_id"], int(job["index"]), int(job["total"])) if job else None,
                    d.get("format"))


def work_items(body: str) -> list[WorkItem]:
    """The objects one SQS message is about: S3 event records (read with Powertools' S3Event) or a job item."""
    msg = json.loads(body)
    if msg.get("Type") == "Notification" and "Message" in msg:  # S3 -> SNS -> SQS fan-out
        return work_items(msg["Message"])
    if JOB_ITEM in msg:
        return [_job_item(msg)]
    if msg.get("Event") == "s3:TestEvent":  # sent once when the notification is configured
        return []
    if "Records" not in msg:
        raise ValueError(f"not an S3 event or job item: {body[:200]}")
    items = []
    for rec in S3Event(msg).records:
        if rec.get("eventSource") != "aws:s3" or not str(rec.get("eventName", "")).startswith("ObjectCreated"):
            continue
        obj = rec.s3.get_object  # its key is as S3 sent it: URL-encoded
        items.append(WorkItem(SourceRef(rec.s3.bucket.name, unquote_plus(obj.key), version_id=obj.version_id,
                                        etag=obj.etag.strip('"') or None, size=obj.get("size"))))
    return items


def runner_for(bucket: str) -> DropFolderRunner:
    if bucket not in _runners:
        _runners[bucket] = DropFolderRunner(ENGINE, S3Store.from_env(bucket, client=S3), enqueue=enqueue,
                                       item_seconds=ITEM_SECONDS)
    return _runners[bucket]


def enqueue(items: list[WorkItem]) -> None:
    """Job fan-out: one message per image on the function's own queue (batches of 10)."""
    global _sqs
    queue_url = os.environ.get("QUEUE_URL")
    if not queue_url:
        raise RuntimeError("QUEUE_URL is not set: job manifests cannot fan out")
    _sqs = _sqs or boto3.client("sqs")
    for start in range(0, len(items), 10):
        chunk = items[start:start + 10]
        resp = _sqs.send_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps(job_item_message(it), ensure_ascii=False)} for i, it in enumerate(chunk)])
        if resp.get("Failed"):
            raise RuntimeError(f"could not enqueue {len(resp['Failed'])} job items: {resp['Failed'][0]}")


def record_handler(record: SQSRecord) -> None:
    """Answer every object of one message; raising marks just this message as failed (it is retried)."""
    try:
        items = work_items(record.body)
    except (ValueError, KeyError, TypeError):
        metrics.add_metric(name="MessagesUnreadable", unit=MetricUnit.Count, value=1)
        logger.exception("unreadable message", extra={"message_id": record.message_id})
        raise
    for item in items:
        try:
            out = runner_for(item.ref.bucket).process(item, stop_by=_stop_by)
        except Exception:
            metrics.add_metric(name="ObjectsRetried", unit=MetricUnit.Count, value=1)
            logger.exception("failed, will retry", extra={"bucket": item.ref.bucket, "key": item.ref.key,
                                                          "message_id": record.message_id})
            raise
        metrics.add_metric(name="ObjectsAnswered", unit=MetricUnit.Count, value=1)
        if out.status in ("ok", "error"):  # a fresh answer (not a duplicate or a job fan-out): how long it took
            metrics.add_metric(name="AnswerLatency", unit=MetricUnit.Milliseconds, value=out.duration_ms)
        logger.info("answered", extra={"bucket": item.ref.bucket, "key": item.ref.key, "outcome": out.status,
                                       "error": out.error, "result": out.location, "duration_ms": round(out.duration_ms, 1),
                                       "message_id": record.message_id, "receive_count": record.attributes.approximate_receive_count})


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)  # no OCR text in traces
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    global _stop_by
    _stop_by = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - STOP_MARGIN_SECONDS
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
