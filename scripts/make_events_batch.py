"""Write events/s3-put.json and events/sqs-s3-put.json for `sam local invoke BatchFunction`.

The S3 event is what S3 sends for `aws s3 cp samples/handwritten-note.png
"s3://BUCKET/incoming/handwritten/Shopping list +1.png"` (real size and ETag of the sample, the
key URL-encoded the way S3 does it: spaces as '+', '+' as %2B); the SQS event wraps it the way the
Lambda SQS poller delivers it. Upload the sample under that key first, then:

    sam local invoke BatchFunction -e events/sqs-s3-put.json --env-vars env.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from urllib.parse import quote_plus

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
ACCOUNT = "123456789012"


def s3_put_event(bucket: str, key: str, data: bytes, version_id: str | None = None) -> dict:
    obj = {"key": quote_plus(key, safe="/"), "size": len(data), "eTag": hashlib.md5(data).hexdigest(),
           "sequencer": "0067443A2F1C5B9D2E"}
    if version_id:
        obj["versionId"] = version_id
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION, "eventTime": "2026-11-25T09:30:00.000Z",
        "eventName": "ObjectCreated:Put", "userIdentity": {"principalId": "AWS:AIDAEXAMPLEUSERID"},
        "requestParameters": {"sourceIPAddress": "203.0.113.10"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "ocr-batch-incoming",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": f"arn:aws:s3:::{bucket}"},
               "object": obj},
    }]}


def sqs_event(body: dict, queue: str = "ocr-batch-queue") -> dict:
    text = json.dumps(body)
    return {"Records": [{
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d", "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
        "body": text,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795598400000",
                       "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1795598400123"},
        "messageAttributes": {}, "md5OfBody": hashlib.md5(text.encode()).hexdigest(), "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}", "awsRegion": REGION,
    }]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bucket", default="ocr-service-input-example")
    p.add_argument("--key", default="incoming/handwritten/Shopping list +1.png")
    p.add_argument("--image", type=Path, default=ROOT / "samples" / "handwritten-note.png")
    a = p.parse_args()
    s3 = s3_put_event(a.bucket, a.key, a.image.read_bytes())
    (ROOT / "events" / "s3-put.json").write_text(json.dumps(s3, indent=2) + "\n")
    (ROOT / "events" / "sqs-s3-put.json").write_text(json.dumps(sqs_event(s3), indent=2) + "\n")


if __name__ == "__main__":
    main()
