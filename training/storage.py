"""Files at a local path or an `s3://bucket/key` URI, behind the handful of calls training needs.

The registry, S3 checkpoints and S3 datasets all go through here, so every command works the
same against a local folder (tests, a laptop) and S3 (the Batch job).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ocr_core.model_store import fetch_uri, is_s3, join_uri, read_uri, s3_client, split_s3

__all__ = ["fetch_uri", "is_s3", "join_uri", "read_uri", "put_file", "put_bytes", "read_json", "exists",
           "list_dirs", "list_files", "sync_down", "sync_up"]


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
    bucket, key = split_s3(uri)
    s3 = s3_client()
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except s3.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise


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
    import os

    bucket, key = split_s3(uri)
    dest = (cache or Path(os.environ.get("OCR_DATA_CACHE", "/tmp/ocr-data"))) / bucket / key.strip("/")
    print(f"fetching {uri} -> {dest}", flush=True)
    return sync_down(uri, dest)
