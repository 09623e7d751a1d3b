"""Files at a local path or an `s3://bucket/key` URI, and the one S3 client every part of the service uses.

The model store, the registry, S3 checkpoints and S3 datasets all go through here, so every
command works the same against a local folder (tests, a laptop) and S3 (Lambda, the Batch job).
No numpy and no model code: the batch job's result store and the API's inputs use it too.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

NOT_FOUND_CODES = ("404", "NoSuchKey", "NotFound")  # how S3 says "no such object" (GET, HEAD)


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def split_s3(uri: str) -> tuple[str, str]:
    """`s3://bucket/a/b` -> ('bucket', 'a/b')."""
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def join_uri(base: str, *parts: str) -> str:
    """Join with '/' for s3:// and with the OS separator for paths."""
    if is_s3(base):
        return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])
    return str(Path(base, *parts))


def s3_client() -> Any:
    """A boto3 S3 client with bounded retries and timeouts (throttling is retried a few times, then the
    caller's own retry takes over: SQS for the batch job, the next cold start for a model).
    AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (moto, LocalStack) are honored."""
    import boto3  # only needed for s3:// locations
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL_S3") or None,
                        config=Config(retries={"mode": "standard", "max_attempts": 4},
                                      connect_timeout=5, read_timeout=60))


def error_code(err: Exception) -> str:
    """The S3/AWS error code of a botocore ClientError ("NoSuchKey", "404", "PreconditionFailed", ...); "" otherwise."""
    return str((getattr(err, "response", None) or {}).get("Error", {}).get("Code", ""))


def read_uri(uri: str) -> bytes:
    """The bytes at a path or s3:// URI; FileNotFoundError when there is nothing there."""
    if not is_s3(uri):
        return Path(uri).read_bytes()
    return _object_call("get_object", uri)["Body"].read()


def _object_call(method: str, uri: str) -> Any:
    """One S3 call on the object at an s3:// URI; FileNotFoundError when there is no such object."""
    bucket, key = split_s3(uri)
    try:
        return getattr(s3_client(), method)(Bucket=bucket, Key=key)
    except Exception as exc:
        if error_code(exc) in NOT_FOUND_CODES:
            raise FileNotFoundError(uri) from exc
        raise


def fetch_uri(uri: str, dest: Path) -> Path:
    """Copy a path or s3:// object to `dest` (via a temporary name, so a partial file never lands)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    if is_s3(uri):
        bucket, key = split_s3(uri)
        s3_client().download_file(bucket, key, str(tmp))
    else:
        tmp.write_bytes(Path(uri).read_bytes())
    tmp.replace(dest)
    return dest




def put_file(path: Path, uri: str) -> None:
    if is_s3(uri):
        bucket, key = split_s3(uri)
        s3_client().upload_file(str(path), bucket, key)
    else:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(uri + ".part")
        shutil.copyfile(path, tmp)
        tmp.replace(uri)


def put_bytes(data: bytes, uri: str, content_type: str = "application/json") -> None:
    """One PutObject (S3) or one rename (local): readers see the old or the new bytes, never half."""
    if is_s3(uri):
        bucket, key = split_s3(uri)
        s3_client().put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)
    else:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(uri + ".part")
        tmp.write_bytes(data)
        tmp.replace(uri)


def read_json(uri: str) -> Any | None:
    """Parsed JSON at `uri`, or None when there is no such file/object."""
    try:
        return json.loads(read_uri(uri))
    except FileNotFoundError:
        return None


def exists(uri: str) -> bool:
    if not is_s3(uri):
        return Path(uri).exists()
    try:
        _object_call("head_object", uri)
    except FileNotFoundError:
        return False
    return True


def list_dirs(uri: str) -> list[str]:
    """Names of the immediate sub-folders (S3: common prefixes) of `uri`."""
    if not is_s3(uri):
        root = Path(uri)
        return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    bucket, key = split_s3(uri.rstrip("/") + "/")
    out: list[str] = []
    for page in s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key, Delimiter="/"):
        out += [p["Prefix"][len(key):].rstrip("/") for p in page.get("CommonPrefixes", [])]
    return sorted(out)


def list_files(uri: str) -> dict[str, int]:
    """Every file under `uri`, recursively: relative path -> size in bytes."""
    if not is_s3(uri):
        root = Path(uri)
        return {p.relative_to(root).as_posix(): p.stat().st_size for p in root.rglob("*") if p.is_file()}
    bucket, key = split_s3(uri.rstrip("/") + "/")
    out: dict[str, int] = {}
    for page in s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
        for obj in page.get("Contents", []):
            if not obj["Key"].endswith("/"):
                out[obj["Key"][len(key):]] = int(obj["Size"])
    return out


def sync_down(uri: str, dest: Path) -> Path:
    """Mirror `uri` into `dest`, skipping files already there with the same size (restartable)."""
    for rel, size in sorted(list_files(uri).items()):
        target = dest / rel
        if target.exists() and target.stat().st_size == size:
            continue
        fetch_uri(join_uri(uri, rel), target)
    return dest


def sync_up(src: Path, uri: str, names: list[str]) -> None:
    """Upload the named files of `src` to `uri`, in the given order (put the 'commit' file last)."""
    for name in names:
        if (src / name).exists():
            put_file(src / name, join_uri(uri, name))


def local_copy(uri: str, cache: Path | None = None) -> Path:
    """A local folder with the contents of `uri`: the path itself, or an S3 prefix mirrored into a cache.

    The cache (env OCR_DATA_CACHE, default /tmp/ocr-data) survives between runs on one machine,
    so a restarted job only fetches what is missing.
    """
    if not is_s3(uri):
        return Path(uri)
    bucket, key = split_s3(uri)
    dest = (cache or Path(os.environ.get("OCR_DATA_CACHE", "/tmp/ocr-data"))) / bucket / key.strip("/")
    print(f"fetching {uri} -> {dest}", flush=True)
    return sync_down(uri, dest)
