"""Where batch answers live: an S3 results location or a local folder, with the same semantics.

The batch logic (`batch.py`) only talks to a `Store`, so the S3 Lambda and `ocr batch ./in --out
./out` write identical JSON. All S3 reads and writes of the batch job are here, so the guarantees
sit in one place:

* keys mirror the input: `incoming/a/b.png` -> `results/a/b.png.json` (error JSON at the same key);
* a result is tied to its source by a fingerprint (S3 ETag, or sha256 locally), kept in the
  object's metadata, so a redelivered event for the same source version writes nothing;
* writes are conditional (`If-None-Match: *` / `If-Match`), so two racing deliveries cannot both
  write, and S3 PutObject / local `os.replace` never leave a half-written file;
* results can never land under the input prefix of the same bucket (no processing loops).
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from ocr_core.storage import NOT_FOUND_CODES, error_code, s3_client

STATUS_KEY = "ocr-status"
FINGERPRINT_KEY = "source-fingerprint"


class SourceMissing(Exception):
    """The object named by an event is gone (deleted before we got to it)."""


class SourceSuperseded(Exception):
    """The object was overwritten since the event: the newer upload has its own event."""


class ConcurrentWrite(Exception):
    """Another worker changed the result while we wrote it; retrying resolves it."""


@dataclass(frozen=True)
class SourceRef:
    """One input object as an event or a listing names it (S3 key, or path relative to the input folder)."""

    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None  # S3 ETag without quotes; locally the sha256 of the bytes
    size: int | None = None


@dataclass
class Source:
    ref: SourceRef  # resolved from the object actually read (version, ETag, size)
    data: bytes
    metadata: dict[str, str] = field(default_factory=dict)
    last_modified: str | None = None


@dataclass(frozen=True)
class Head:
    etag: str  # of the result object itself (for If-Match)
    meta: dict[str, str]


class Store(Protocol):
    """What batch.py needs from a results location."""

    input_prefix: str
    results_prefix: str

    def location(self, key: str) -> str: ...
    def result_key(self, source_key: str) -> str: ...
    def read_source(self, ref: SourceRef) -> Source: ...
    def source_tags(self, ref: SourceRef) -> dict[str, str]: ...
    def list_sources(self, prefix: str) -> Iterator[SourceRef]: ...
    def head(self, key: str) -> Head | None: ...
    def get_json(self, key: str) -> dict[str, Any] | None: ...
    def put_json(self, key: str, doc: dict[str, Any], *, if_match: str | None = None,
                 if_absent: bool = False, tags: dict[str, str] | None = None) -> bool: ...
    def list_keys(self, prefix: str) -> list[str]: ...
    def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...


def doc_meta(doc: dict[str, Any]) -> dict[str, str]:
    """The fields kept as object metadata, so idempotency checks need a HEAD, not a GET."""
    meta = {STATUS_KEY: str(doc.get("status", "")), FINGERPRINT_KEY: str(doc.get("source", {}).get("fingerprint") or "")}
    return {k: v for k, v in meta.items() if v}


def mirror_key(source_key: str, input_prefix: str, results_prefix: str) -> str:
    """`incoming/a/b.png` -> `results/a/b.png.json`; refuses keys outside the input prefix."""
    if not source_key.startswith(input_prefix) or source_key == input_prefix:
        raise ValueError(f"key {source_key!r} is not under the input prefix {input_prefix!r}")
    return results_prefix + source_key[len(input_prefix):] + ".json"


def check_separation(input_bucket: str, input_prefix: str, results_bucket: str, results_prefix: str) -> None:
    """Refuse a configuration where results could be read back as inputs (an endless loop)."""
    if input_bucket != results_bucket:
        return
    if not input_prefix or not results_prefix:
        raise ValueError("with one bucket for inputs and results, both prefixes must be set and disjoint")
    if input_prefix.startswith(results_prefix) or results_prefix.startswith(input_prefix):
        raise ValueError(f"input prefix {input_prefix!r} and results prefix {results_prefix!r} overlap in bucket {input_bucket!r}")


def _norm_prefix(prefix: str) -> str:
    prefix = prefix.strip("/")
    return prefix + "/" if prefix else ""


# ---------------------------------------------------------------------------------------------- S3
class S3Store:
    """Results in S3: a separate bucket (recommended, as in the template) or a disjoint prefix."""

    def __init__(self, input_bucket: str, results_bucket: str | None = None, *, input_prefix: str = "incoming/",
                 results_prefix: str = "results/", client: Any = None) -> None:
        self.input_bucket = input_bucket
        self.results_bucket = results_bucket or input_bucket
        self.input_prefix = _norm_prefix(input_prefix)
        self.results_prefix = _norm_prefix(results_prefix)
        check_separation(self.input_bucket, self.input_prefix, self.results_bucket, self.results_prefix)
        self.s3 = client or s3_client()

    @classmethod
    def from_env(cls, input_bucket: str, client: Any = None) -> S3Store:
        """Configuration of the Lambda function (see BatchFunction in template.yaml)."""
        return cls(input_bucket, os.environ.get("RESULTS_BUCKET") or None,
                   input_prefix=os.environ.get("INPUT_PREFIX", "incoming/"),
                   results_prefix=os.environ.get("RESULTS_PREFIX", "results/"), client=client)

    def location(self, key: str) -> str:
        return f"s3://{self.results_bucket}/{key}"

    def result_key(self, source_key: str) -> str:
        return mirror_key(source_key, self.input_prefix, self.results_prefix)

    # -- inputs
    def read_source(self, ref: SourceRef) -> Source:
        """GET the object the event names; If-Match its ETag so a stale event never reads newer bytes."""
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {"Bucket": ref.bucket, "Key": ref.key}
        if ref.etag:
            kwargs["IfMatch"] = ref.etag
        try:
            obj = self.s3.get_object(**kwargs)
        except ClientError as err:
            code = error_code(err)
            if code in NOT_FOUND_CODES:
                raise SourceMissing(ref.key) from None
            if code in ("PreconditionFailed", "412"):
                raise SourceSuperseded(ref.key) from None
            raise
        data = obj["Body"].read()
        resolved = replace(ref, version_id=obj.get("VersionId") or ref.version_id,
                           etag=obj["ETag"].strip('"'), size=len(data))
        modified = obj.get("LastModified")
        return Source(resolved, data, dict(obj.get("Metadata") or {}), modified.isoformat() if modified else None)

    def source_tags(self, ref: SourceRef) -> dict[str, str]:
        kwargs: dict[str, Any] = {"Bucket": ref.bucket, "Key": ref.key}
        if ref.version_id:
            kwargs["VersionId"] = ref.version_id
        tags = self.s3.get_object_tagging(**kwargs).get("TagSet", [])
        return {t["Key"]: t["Value"] for t in tags}

    def list_sources(self, prefix: str) -> Iterator[SourceRef]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.input_bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                if not obj["Key"].endswith("/"):
                    yield SourceRef(self.input_bucket, obj["Key"], etag=obj["ETag"].strip('"'), size=obj["Size"])

    # -- results
    def head(self, key: str) -> Head | None:
        from botocore.exceptions import ClientError

        try:
            h = self.s3.head_object(Bucket=self.results_bucket, Key=key)
        except ClientError as err:
            if error_code(err) in NOT_FOUND_CODES:
                return None
            raise
        return Head(h["ETag"].strip('"'), dict(h.get("Metadata") or {}))

    def get_json(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            body = self.s3.get_object(Bucket=self.results_bucket, Key=key)["Body"].read()
        except ClientError as err:
            if error_code(err) in NOT_FOUND_CODES:
                return None
            raise
        return json.loads(body)

    def put_json(self, key: str, doc: dict[str, Any], *, if_match: str | None = None,
                 if_absent: bool = False, tags: dict[str, str] | None = None) -> bool:
        """One atomic PutObject; False when the If-Match / If-None-Match condition failed."""
        from botocore.exceptions import ClientError

        if key.startswith(self.input_prefix) and self.results_bucket == self.input_bucket:
            raise ValueError(f"refusing to write {key!r} under the input prefix")  # would re-trigger processing
        kwargs: dict[str, Any] = {
            "Bucket": self.results_bucket, "Key": key, "ContentType": "application/json; charset=utf-8",
            "Body": json.dumps(doc, ensure_ascii=False, indent=1).encode(), "Metadata": doc_meta(doc),
        }  # encryption: the bucket default (SSE-S3 in the template, or the owner's KMS key)
        if tags:
            kwargs["Tagging"] = "&".join(f"{quote(k)}={quote(v)}" for k, v in tags.items())
        if if_match:
            kwargs["IfMatch"] = if_match
        elif if_absent:
            kwargs["IfNoneMatch"] = "*"
        try:
            self.s3.put_object(**kwargs)
        except ClientError as err:
            if error_code(err) in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                return False
            raise
        return True

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """A rendition beside the JSON answer (hOCR, ALTO, PDF...): a plain PutObject, overwritten on a redo."""
        if key.startswith(self.input_prefix) and self.results_bucket == self.input_bucket:
            raise ValueError(f"refusing to write {key!r} under the input prefix")
        self.s3.put_object(Bucket=self.results_bucket, Key=key, Body=data, ContentType=content_type)

    def list_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.results_bucket, Prefix=prefix):
            keys.extend(o["Key"] for o in page.get("Contents", []))
        return keys


# ------------------------------------------------------------------------------------------ local
class LocalStore:
    """`ocr batch ./in --out ./out`: the same keys and JSON, files instead of objects.

    Keys are POSIX paths relative to the input folder ("" input prefix), results mirror them under
    the output folder. The fingerprint is the sha256 of the bytes.
    """

    input_prefix = ""
    results_prefix = ""

    def __init__(self, in_dir: Path, out_dir: Path) -> None:
        self.in_dir = in_dir.resolve()
        self.out_dir = out_dir.resolve()
        if self.out_dir == self.in_dir:
            raise ValueError("the output folder must differ from the input folder")

    @staticmethod
    def _inside(root: Path, key: str) -> Path:
        """`root/key`, refusing keys (from job manifests) that climb out of the folder."""
        path = (root / key).resolve()
        if not path.is_relative_to(root):
            raise ValueError(f"key {key!r} points outside {root}")
        return path

    def location(self, key: str) -> str:
        return str(self._inside(self.out_dir, key))

    def result_key(self, source_key: str) -> str:
        return source_key + ".json"

    def read_source(self, ref: SourceRef) -> Source:
        try:
            path = self._inside(self.in_dir, ref.key)
            data = path.read_bytes()
            stat = path.stat()
        except (FileNotFoundError, ValueError):
            raise SourceMissing(ref.key) from None
        from datetime import UTC, datetime

        digest = hashlib.sha256(data).hexdigest()
        modified = datetime.fromtimestamp(stat.st_mtime, UTC).isoformat()
        return Source(replace(ref, etag=digest, size=len(data)), data, {}, modified)

    def source_tags(self, ref: SourceRef) -> dict[str, str]:
        return {}

    def list_sources(self, prefix: str = "") -> Iterator[SourceRef]:
        """Every regular file below the input folder, sorted, skipping hidden files and the output folder."""
        for dirpath, dirnames, filenames in os.walk(self.in_dir):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and (here / d).resolve() != self.out_dir)
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                rel = (here / name).relative_to(self.in_dir).as_posix()
                if rel.startswith(prefix):
                    yield SourceRef("", rel, size=(here / name).stat().st_size)

    def head(self, key: str) -> Head | None:
        doc = self.get_json(key)
        if doc is None:
            return None
        path = self._inside(self.out_dir, key)
        return Head(f"{path.stat().st_mtime_ns}-{path.stat().st_size}", doc_meta(doc))

    def get_json(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._inside(self.out_dir, key).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except json.JSONDecodeError:
            return None  # not ours (or hand-edited): it gets replaced

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        path = self._inside(self.out_dir, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_json(self, key: str, doc: dict[str, Any], *, if_match: str | None = None,
                 if_absent: bool = False, tags: dict[str, str] | None = None) -> bool:
        """Write a temp file next to the target, then rename: readers see the old or the new file."""
        path = self._inside(self.out_dir, key)
        current = self.head(key)
        if (if_absent and current is not None) or (if_match and (current is None or current.etag != if_match)):
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(doc, f, ensure_ascii=False, indent=1)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    def list_keys(self, prefix: str) -> list[str]:
        base = self.out_dir / posixpath.dirname(prefix)
        if not base.is_dir():
            return []
        keys = (p.relative_to(self.out_dir).as_posix() for p in base.rglob("*") if p.is_file())
        return sorted(k for k in keys if k.startswith(prefix) and not posixpath.basename(k).startswith(".tmp-"))
