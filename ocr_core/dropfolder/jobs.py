"""Jobs of the drop folder: a manifest (`*.ocrjob.json`) names many images; each item records a part,
and whoever answers the last item writes the job's summary at the manifest's mirrored key.

A manifest is `{"keys": [...]}` or `{"prefix": "..."}`, optional `"mode"`, `"format"`, at most
MAX_JOB_ITEMS images. The runner (runner.py) fans the items out and answers each one.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ocr_core.dropfolder.store import FINGERPRINT_KEY, STATUS_KEY, Source, SourceRef, Store
from ocr_core.errors import BadRequestError
from ocr_core.export import FORMATS

BATCH_SCHEMA_VERSION = "1.0"  # of the answer and summary JSON the drop folder writes
MANIFEST_SUFFIX = ".ocrjob.json"
MAX_JOB_ITEMS = 1_000  # the last item reads every part to write the summary: keep that within one invocation
PART_TAGS = {"ocr-kind": "job-part"}  # job bookkeeping files: a short lifecycle rule expires them


@dataclass(frozen=True)
class JobRef:
    manifest_key: str
    job_id: str  # the manifest's fingerprint: re-uploading a changed manifest is a new job
    index: int
    total: int


@dataclass
class Outcome:
    """What happened to one item (logged by the handler, counted by the CLI)."""

    key: str
    status: str  # ok | error | duplicate | superseded | ignored | job
    location: str | None = None
    error: str | None = None
    duration_ms: float = 0.0
    answer_status: str | None = None  # ok | error | running | done: what the answer object says


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def is_manifest(key: str) -> bool:
    return key.endswith(MANIFEST_SUFFIX)



def manifest_items(src: Source, store: Store, valid_mode: Callable[[str, str], str]) -> tuple[str | None, str | None, list[SourceRef]]:
    """(mode, format, source refs) a job manifest asks for; BadRequestError when it is malformed or too large."""
    try:
        manifest = json.loads(src.data)
        if not isinstance(manifest, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        raise BadRequestError(f'A job manifest is JSON: {{"keys": [...]}} or {{"prefix": "..."}} ({exc}).', "bad_manifest") from None
    mode = manifest.get("mode")
    if mode is not None:
        mode = valid_mode(str(mode), "manifest")
    fmt = manifest.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise BadRequestError(f"The job manifest's format must be one of {', '.join(FORMATS)}, not {fmt!r}.", "bad_manifest")
    inp = store.input_prefix
    if isinstance(manifest.get("keys"), list):
        seen: dict[str, None] = {}
        for k in manifest["keys"]:
            k = str(k).lstrip("/")
            if ".." in k.split("/"):  # a local folder must not be escaped (S3 keys are literal anyway)
                raise BadRequestError(f"A job manifest key may not contain '..': {k!r}.", "bad_manifest")
            seen.setdefault(k if k.startswith(inp) else inp + k, None)
        refs = [SourceRef(src.ref.bucket, k) for k in seen if not is_manifest(k)]
    elif isinstance(manifest.get("prefix"), str):
        prefix = manifest["prefix"].lstrip("/")
        prefix = prefix if prefix.startswith(inp) else inp + prefix
        refs = []
        for r in store.list_sources(prefix):
            if not is_manifest(r.key):
                refs.append(r)
            if len(refs) > MAX_JOB_ITEMS:
                break
    else:
        raise BadRequestError('A job manifest needs "keys" (a list) or "prefix" (a string).', "bad_manifest")
    if len(refs) > MAX_JOB_ITEMS:
        raise BadRequestError(f"A job may hold at most {MAX_JOB_ITEMS} images; split the manifest.", "job_too_large")
    return mode, fmt, refs


def parts_prefix(rkey: str, job_id: str) -> str:
    """Where a job's bookkeeping lives, beside its summary."""
    return f"{rkey[:-len('.json')]}.parts/{job_id}/"


def record_part(store: Store, job: JobRef, out: Outcome, model_versions: dict[str, str]) -> None:
    """Record one item's outcome; whoever records the last one writes the summary."""
    rkey = store.result_key(job.manifest_key)
    parts = parts_prefix(rkey, job.job_id)
    status = out.answer_status if out.status == "duplicate" else out.status
    part = {"index": job.index, "key": out.key, "status": status or out.status, "error": out.error,
            "result": out.location, "duration_ms": round(out.duration_ms, 1), "finished_at": now_iso()}
    store.put_json(f"{parts}items/{job.index:06d}.json", part, tags=PART_TAGS)
    finish(store, rkey, job.job_id, job.total, model_versions)


def finish(store: Store, rkey: str, job_id: str, total: int, model_versions: dict[str, str], force: bool = False) -> None:
    """Write the summary once every item has a part; any racing finisher writes the same thing."""
    parts = parts_prefix(rkey, job_id)
    keys = store.list_keys(parts + "items/")
    if len(keys) < total and not force:
        return
    head = store.head(rkey)
    if head and head.meta.get(FINGERPRINT_KEY) == job_id and head.meta.get(STATUS_KEY) == "done":
        return
    job = store.get_json(parts + "job.json") or {}
    items = [d for d in (store.get_json(k) for k in sorted(keys)) if d]
    counts: dict[str, int] = {}
    for d in items:
        counts[d["status"]] = counts.get(d["status"], 0) + 1
    durations = [d["duration_ms"] for d in items]
    finished = now_iso()
    started = job.get("started_at") or finished
    summary = {
        "batch_schema_version": BATCH_SCHEMA_VERSION, "kind": "job", "status": "done", "job_id": job_id,
        "manifest_key": job.get("manifest_key"), "mode": job.get("mode"), "total": len(items), "counts": counts,
        "failures": [{"key": d["key"], "error": d["error"], "result": d["result"]} for d in items if d["status"] != "ok"],
        "durations_ms": {"sum": round(sum(durations), 1), "mean": round(statistics.fmean(durations), 1) if durations else 0.0,
                         "median": round(statistics.median(durations), 1) if durations else 0.0,
                         "max": round(max(durations, default=0.0), 1)},
        "started_at": started, "finished_at": finished,
        "wall_seconds": round((datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds(), 3),
        "items": [{"key": d["key"], "status": d["status"], "result": d["result"]} for d in items],
        "source": {"fingerprint": job_id, "key": job.get("manifest_key")},
        "model_versions": model_versions,
    }
    store.put_json(rkey, summary, if_match=head.etag if head else None, if_absent=head is None)
