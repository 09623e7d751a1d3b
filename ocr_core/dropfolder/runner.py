"""The drop folder's runner: one input object -> one JSON answer, the same for S3 and a local folder.

`DropFolderRunner.process()` is the per-object logic the SQS Lambda and `ocr batch` share: check whether
this source version is already answered, read it, pick the mode, run the engine, write a result or
an error JSON at the mirrored key. Bad images (a user's problem) are answered with an error JSON;
everything else (S3 errors, throttling, a model failing to load) is raised, so SQS retries it and
finally parks it in the dead-letter queue.

Formats: the answer is always the JSON result; metadata or a tag `ocr-format` (or `ocr batch
--format`) = txt, jsonl, tsv, hocr, alto or pdf also writes that rendition beside it
(`results/a/b.png.hocr`, ...), before the JSON, which stays the record that the upload was answered.
Metadata or a tag `ocr-dpi` sets the resolution a PDF is rendered at (as `ocr --dpi`; default OCR_PDF_DPI).

Jobs (jobs.py): an uploaded manifest (`*.ocrjob.json`) is fanned out through `enqueue` (the SQS
function sends one message per image; `ocr batch` answers them inline).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ocr_core.dropfolder import jobs
from ocr_core.dropfolder.jobs import BATCH_SCHEMA_VERSION, JobRef, Outcome, is_manifest, now_iso
from ocr_core.dropfolder.store import (
    FINGERPRINT_KEY,
    STATUS_KEY,
    ConcurrentWrite,
    Head,
    Source,
    SourceMissing,
    SourceRef,
    SourceSuperseded,
    Store,
)
from ocr_core.errors import BadRequestError, DeadlineExceeded, InvalidImageError, OcrError
from ocr_core.export import FORMATS, export, get_format
from ocr_core.image_io import MAX_IMAGE_BYTES, decode_image
from ocr_core.pdf import check_dpi
from ocr_core.vocabulary import MODES

MODE_KEY = "ocr-mode"  # object metadata (x-amz-meta-ocr-mode) or tag name
FORMAT_KEY = "ocr-format"  # object metadata or tag: a rendition written beside the JSON answer
DPI_KEY = "ocr-dpi"  # object metadata or tag: the resolution PDF pages are rendered at


@dataclass
class WorkItem:
    """One thing to answer: an uploaded object, possibly as an item of a job."""

    ref: SourceRef
    mode: str | None = None  # forced mode (job manifest); else chosen per object
    job: JobRef | None = None
    format: str | None = None  # forced rendition format (job manifest); else chosen per object


class DropFolderRunner:
    """Answers work items against one store with one engine (create both once per process)."""

    def __init__(self, engine: Any, store: Store, enqueue: Callable[[list[WorkItem]], None] | None = None,
                 default_mode: str = "auto", item_seconds: float | None = None, default_format: str = "json") -> None:
        self.engine = engine
        self.item_seconds = item_seconds  # reading one image may take this long; over it: a `timeout` answer
        self.store = store
        self.enqueue = enqueue  # None: job items are processed inline (local folder mode)
        self.default_mode = default_mode
        self.default_format = get_format(default_format).name
        self._last_tags: tuple[tuple | None, dict[str, str]] = (None, {})
        self._versions: dict[str, str] | None = None

    @property
    def model_versions(self) -> dict[str, str]:
        if self._versions is None:
            self._versions = self.engine.model_versions()
        return self._versions

    # ------------------------------------------------------------------------------------ items
    def process(self, item: WorkItem, stop_by: float | None = None) -> Outcome:
        """Answer one item; `stop_by` (time.monotonic()) is when the invocation must stop working."""
        t0 = time.perf_counter()
        ref = item.ref
        if ref.key.endswith("/"):  # a console "folder" marker, not an upload
            return Outcome(ref.key, "ignored", error="folder marker")
        try:
            rkey = self.store.result_key(ref.key)
        except ValueError as err:  # outside the input prefix (a misconfigured notification): never loop
            return Outcome(ref.key, "ignored", error=str(err))
        if is_manifest(ref.key) and item.job is None:
            return self.start_job(ref, rkey)
        head = self.store.head(rkey)  # before reading the source: see _write_answer
        if _answers(head, ref.etag):
            out = Outcome(ref.key, "duplicate", self.store.location(rkey), answer_status=head and head.meta.get(STATUS_KEY))
        else:
            out = self._answer(item, rkey, head, t0, stop_by)
        out.duration_ms = (time.perf_counter() - t0) * 1000
        if item.job is not None:
            jobs.record_part(self.store, item.job, out, self.model_versions)
        return out

    def _answer(self, item: WorkItem, rkey: str, head: Head | None, t0: float, stop_by: float | None) -> Outcome:
        ref = item.ref
        if ref.size is not None and ref.size > MAX_IMAGE_BYTES:  # do not download what we will refuse
            err = InvalidImageError(f"The image is {ref.size / 1e6:.1f} MB; the limit is {MAX_IMAGE_BYTES / 1e6:.1f} MB.",
                                    "image_too_large")
            return self._write_answer(rkey, head, self._error_doc(ref, err, {}, t0), ref.key)
        try:
            src = self.store.read_source(ref)
        except SourceSuperseded:  # overwritten since the event; the new version has its own event
            return Outcome(ref.key, "superseded", self.store.location(rkey))
        except SourceMissing:
            # Its own fingerprint: re-uploading the same bytes later must be read, not deduplicated.
            gone = f"missing:{ref.etag}"
            if _answers(head, gone):
                return Outcome(ref.key, "duplicate", self.store.location(rkey), answer_status="error")
            err = OcrError("The object was deleted before it could be read.", "source_missing")
            doc = self._error_doc(ref, err, {}, t0)
            doc["source"]["fingerprint"] = gone
            return self._write_answer(rkey, head, doc, ref.key)
        if _answers(head, src.ref.etag):
            return Outcome(ref.key, "duplicate", self.store.location(rkey), answer_status=head and head.meta.get(STATUS_KEY))
        timings = {"read": (time.perf_counter() - t0) * 1000}
        budget_end = time.monotonic() + self.item_seconds if self.item_seconds else None
        deadline = min((d for d in (budget_end, stop_by) if d is not None), default=None)
        try:
            mode, mode_source = self.choose_mode(src, item.mode)
            fmt = self.choose_format(src, item.format)
            dpi = check_dpi(src.metadata.get(DPI_KEY) or self._tags(src).get(DPI_KEY))
            t1 = time.perf_counter()
            if fmt == "json":
                result = self.engine.read(src.data, mode=mode, deadline=deadline, dpi=dpi)
            else:
                pages = decode_image(src.data, dpi=dpi)  # the searchable PDF needs the page images too
                result = self.engine.read_pages(pages, mode, deadline=deadline)
            timings["ocr"] = (time.perf_counter() - t1) * 1000
            outputs = {}
            if fmt != "json":  # written before the JSON answer: once that exists, the upload counts as done
                out_key = rkey.removesuffix(".json") + FORMATS[fmt].extension
                self.store.put_bytes(out_key, export(result, fmt, pages=pages, source=ref.key.rsplit("/", 1)[-1], dpi=dpi),
                                     FORMATS[fmt].media_type)
                outputs[fmt] = self.store.location(out_key)
        except OcrError as err:
            if err.retryable:  # our side (model store...): retry, do not answer
                raise
            if isinstance(err, DeadlineExceeded) and deadline != budget_end:
                err.transient = True  # the invocation ran out, not the image's own budget: a fresh one may do it
                raise
            return self._write_answer(rkey, head, self._error_doc(src.ref, err, timings, t0, src), ref.key)
        timings["total"] = (time.perf_counter() - t0) * 1000
        doc = {
            **result.to_dict(),
            "batch_schema_version": BATCH_SCHEMA_VERSION,
            "status": "ok",
            "source": _source_dict(src.ref, src),
            "mode_requested": mode, "mode_source": mode_source,
            **({"outputs": outputs} if outputs else {}),
            "model_versions": self.model_versions,
            "batch_timings_ms": {k: round(v, 1) for k, v in timings.items()},
            "processed_at": now_iso(),
        }
        return self._write_answer(rkey, head, doc, ref.key)

    def choose_mode(self, src: Source, forced: str | None = None) -> tuple[str, str]:
        """Per upload: forced (job manifest, `ocr batch --mode`), object metadata, tag, folder (`handwritten/...`), default."""
        candidates: list[tuple[str | None, str]] = [(forced, "forced"), (src.metadata.get(MODE_KEY), "metadata")]
        for value, where in candidates:
            if value:
                return _valid_mode(value, where), where
        tag = self._tags(src).get(MODE_KEY)
        if tag:
            return _valid_mode(tag, "tag"), "tag"
        first = src.ref.key[len(self.store.input_prefix):].split("/", 1)
        if len(first) == 2 and first[0] in MODES:
            return first[0], "prefix"
        return self.default_mode, "default"

    def _tags(self, src: Source) -> dict[str, str]:
        """The upload's S3 tags, fetched once per source (mode and format both look at them)."""
        if not src.ref.bucket:
            return {}
        ident = (src.ref.bucket, src.ref.key, src.ref.etag)
        if self._last_tags[0] != ident:
            self._last_tags = (ident, self.store.source_tags(src.ref))
        return self._last_tags[1]

    def choose_format(self, src: Source, forced: str | None = None) -> str:
        """A rendition beside the JSON answer: the job manifest's, object metadata, tag `ocr-format`, the runner's default."""
        value = forced or src.metadata.get(FORMAT_KEY) or self._tags(src).get(FORMAT_KEY)
        if not value:
            return self.default_format
        try:
            return get_format(value).name
        except BadRequestError:
            raise BadRequestError(f"{FORMAT_KEY} {value!r} is not one of {', '.join(FORMATS)}", "bad_format") from None

    def _error_doc(self, ref: SourceRef, err: OcrError, timings: dict[str, float], t0: float,
                   src: Source | None = None) -> dict[str, Any]:
        timings = {**timings, "total": (time.perf_counter() - t0) * 1000}
        return {
            "batch_schema_version": BATCH_SCHEMA_VERSION,
            "status": "error",
            **err.to_dict(),
            "http_status": err.http_status,
            "source": _source_dict(ref, src),
            "model_versions": self.model_versions,
            "batch_timings_ms": {k: round(v, 1) for k, v in timings.items()},
            "processed_at": now_iso(),
        }

    def _write_answer(self, rkey: str, head: Head | None, doc: dict[str, Any], key: str) -> Outcome:
        """Write once per source fingerprint, conditionally on what was there when we started.

        The HEAD happened before the source was read, so a stale event cannot overwrite the answer of
        a newer upload: either that answer existed at HEAD time (then the newer object existed too and
        the If-Match read failed), or it appears later and our conditional put fails.
        """
        fingerprint = doc["source"]["fingerprint"]
        status = doc["status"]
        location = self.store.location(rkey)
        if self.store.put_json(rkey, doc, if_match=head.etag if head else None, if_absent=head is None,
                               tags={STATUS_KEY: status}):
            return Outcome(key, status, location, error=doc.get("error"), answer_status=status)
        now = self.store.head(rkey)
        if _answers(now, fingerprint):  # a concurrent delivery answered the same version
            return Outcome(key, "duplicate", location, answer_status=now and now.meta.get(STATUS_KEY))
        raise ConcurrentWrite(f"{location} changed while {key} was processed")

    # ------------------------------------------------------------------------------------- jobs
    def start_job(self, ref: SourceRef, rkey: str) -> Outcome:
        """Read a manifest, remember its items, fan them out, and mark the job as running."""
        t0 = time.perf_counter()
        head = self.store.head(rkey)
        if _answers(head, ref.etag):
            return Outcome(ref.key, "duplicate", self.store.location(rkey), answer_status=head and head.meta.get(STATUS_KEY))
        try:
            src = self.store.read_source(ref)
        except SourceSuperseded:
            return Outcome(ref.key, "superseded")
        except SourceMissing:
            err = OcrError("The manifest was deleted before it could be read.", "source_missing")
            return self._write_answer(rkey, head, self._error_doc(ref, err, {}, t0), ref.key)
        try:
            mode, fmt, refs = jobs.manifest_items(src, self.store, _valid_mode)
        except BadRequestError as err:
            return self._write_answer(rkey, head, self._error_doc(src.ref, err, {}, t0, src), ref.key)
        job_id = str(src.ref.etag)
        parts = jobs.parts_prefix(rkey, job_id)
        started = now_iso()
        self.store.put_json(parts + "job.json", {"job_id": job_id, "manifest_key": ref.key, "mode": mode, "format": fmt,
                                                 "started_at": started, "items": [r.key for r in refs]}, tags=jobs.PART_TAGS)
        running = {"batch_schema_version": BATCH_SCHEMA_VERSION, "kind": "job", "status": "running", "job_id": job_id,
                   "total": len(refs), "started_at": started, "source": _source_dict(src.ref, src)}
        items = [WorkItem(r, mode, JobRef(ref.key, job_id, i, len(refs)), fmt) for i, r in enumerate(refs)]
        if not items:
            jobs.finish(self.store, rkey, job_id, 0, self.model_versions, force=True)
        elif self.enqueue is not None:
            self.enqueue(items)
        else:
            for it in items:
                self.process(it)
        if not self.store.put_json(rkey, running, if_match=head.etag if head else None, if_absent=head is None):
            now = self.store.head(rkey)  # the summary (or a parallel fan-out) got there first: fine
            if not _answers(now, job_id):
                raise ConcurrentWrite(f"{rkey} changed while job {ref.key} started")
        return Outcome(ref.key, "job", self.store.location(rkey), answer_status="running",
                       duration_ms=(time.perf_counter() - t0) * 1000)

def _answers(head: Head | None, fingerprint: str | None) -> bool:
    return bool(head and fingerprint and head.meta.get(FINGERPRINT_KEY) == fingerprint)


def _valid_mode(value: str, where: str) -> str:
    value = value.strip().lower()
    if value not in MODES:
        raise BadRequestError(f"The {where} asks for OCR mode {value!r}; use one of {', '.join(MODES)}.", "bad_mode")
    return value


def _source_dict(ref: SourceRef, src: Source | None) -> dict[str, Any]:
    return {"bucket": ref.bucket or None, "key": ref.key, "version_id": ref.version_id, "etag": ref.etag,
            "size": ref.size, "last_modified": src.last_modified if src else None, "fingerprint": ref.etag}
