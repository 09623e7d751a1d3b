"""The batch function's Powertools metrics: a fresh process (a cold container) answers one S3 upload
(moto server) and prints CloudWatch embedded-metric-format lines, which is how Lambda publishes them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
from conftest import AWS_TEST_ENV

REPO = Path(__file__).resolve().parents[1]
INVOKE = """
import json, sys
from benchmarks.lambda_context import LambdaContext
from functions.batch import app
event = json.loads(sys.stdin.read())
context = LambdaContext("ocr-batch", remaining_ms=300_000, aws_request_id="r1")
print("RESULT " + json.dumps(app.handler(event, context)))
"""


def test_batch_function_publishes_cold_start_and_answers(aws: str) -> None:
    s3 = boto3.client("s3")
    for bucket in ("metrics-in", "metrics-out"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="metrics-in", Key="incoming/letter.png", Body=(REPO / "samples" / "printed-letter.png").read_bytes())
    head = s3.head_object(Bucket="metrics-in", Key="incoming/letter.png")
    s3_event = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {
        "bucket": {"name": "metrics-in"},
        "object": {"key": "incoming/letter.png", "eTag": head["ETag"].strip('"'), "size": head["ContentLength"]}}}]}
    event = {"Records": [{"messageId": "m1", "receiptHandle": "h1", "body": json.dumps(s3_event), "attributes": {
        "ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}]}
    env = {**os.environ, **AWS_TEST_ENV, "AWS_ENDPOINT_URL": aws, "RESULTS_BUCKET": "metrics-out", "OCR_WARM_UP": "0",
           "POWERTOOLS_TRACE_DISABLED": "true", "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "layers" / "common")])}
    run = subprocess.run([sys.executable, "-c", INVOKE], input=json.dumps(event), cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.splitlines()
    assert json.loads(next(line for line in lines if line.startswith("RESULT "))[7:]) == {"batchItemFailures": []}
    emf = [json.loads(line) for line in lines if line.startswith("{") and '"_aws"' in line]
    names = {m["Name"]: doc for doc in emf for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert names["ColdStart"]["ColdStart"] == [1.0] or names["ColdStart"]["ColdStart"] == 1.0
    assert names["ColdStart"]["function_name"] == "ocr-batch"
    assert names["ObjectsAnswered"]["ObjectsAnswered"] in (1.0, [1.0]) and names["ObjectsAnswered"]["service"] == "ocr-batch"
    assert names["AnswerLatency"]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ServerlessOCR"
    assert s3.list_objects_v2(Bucket="metrics-out")["KeyCount"] == 1
