"""Replay the batch dead-letter queue: `python -m functions.batch.redrive --dlq URL --queue URL`.

Messages land in the DLQ after failing maxReceiveCount times (S3 errors, throttling, crashes).
Once the cause is fixed, this moves them back to the work queue. Answers are idempotent, so a
message that is replayed twice (a crash between send and delete) costs time, not a duplicate.

Default: receive / send / delete, which works everywhere (also on moto and LocalStack).
`--native` asks SQS to do it (StartMessageMoveTask) on real AWS.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import boto3


def redrive(sqs: Any, dlq_url: str, queue_url: str, limit: int | None = None, dry_run: bool = False) -> int:
    """Move up to `limit` messages (all if None) from the DLQ to the queue; returns how many moved."""
    moved = 0
    while limit is None or moved < limit:
        want = 10 if limit is None else min(10, limit - moved)
        msgs = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=want, WaitTimeSeconds=1,
                                   VisibilityTimeout=60, MessageAttributeNames=["All"]).get("Messages", [])
        if not msgs:
            break
        if dry_run:
            for m in msgs:
                print(f"would redrive {m['MessageId']}: {m['Body'][:160]}")
            sqs.change_message_visibility_batch(QueueUrl=dlq_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(msgs)])
            return len(msgs)
        entries = []
        for i, m in enumerate(msgs):
            entry: dict[str, Any] = {"Id": str(i), "MessageBody": m["Body"]}
            if m.get("MessageAttributes"):
                entry["MessageAttributes"] = m["MessageAttributes"]
            entries.append(entry)
        sent = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        ok = {e["Id"] for e in sent.get("Successful", [])}
        for failure in sent.get("Failed", []):
            print(f"could not send {msgs[int(failure['Id'])]['MessageId']}: {failure.get('Message')}", file=sys.stderr)
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs) if str(i) in ok]
        if done:
            sqs.delete_message_batch(QueueUrl=dlq_url, Entries=done)
        moved += len(done)
        if len(done) < len(msgs):
            break  # sending fails: stop instead of spinning; the rest stays in the DLQ
    return moved


def native_redrive(sqs: Any, dlq_url: str, queue_url: str) -> str:
    """StartMessageMoveTask (real SQS); returns the task handle."""
    arn = lambda url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]  # noqa: E731
    return str(sqs.start_message_move_task(SourceArn=arn(dlq_url), DestinationArn=arn(queue_url))["TaskHandle"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m functions.batch.redrive", description=__doc__.splitlines()[0])
    p.add_argument("--dlq", required=True, help="dead-letter queue URL (stack output BatchDeadLetterQueueUrl)")
    p.add_argument("--queue", required=True, help="work queue URL (stack output BatchQueueUrl)")
    p.add_argument("--limit", type=int, default=None, help="move at most this many messages")
    p.add_argument("--dry-run", action="store_true", help="print up to 10 messages, move nothing")
    p.add_argument("--native", action="store_true", help="use SQS StartMessageMoveTask (real AWS only)")
    a = p.parse_args(argv)
    sqs = boto3.client("sqs")
    if a.native:
        print(f"move task started: {native_redrive(sqs, a.dlq, a.queue)}")
        return 0
    moved = redrive(sqs, a.dlq, a.queue, a.limit, a.dry_run)
    print(f"{'listed' if a.dry_run else 'redrove'} {moved} message(s) from {a.dlq} to {a.queue}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
