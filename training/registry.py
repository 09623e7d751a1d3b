"""Model registry: versioned models under `<root>/<kind>/<version>/`, a gated `latest` pointer, rollback.

    python -m training.registry list     --root s3://bucket/models --kind handwritten
    python -m training.registry publish  models/handwritten --root s3://bucket/models [--promote]
    python -m training.registry promote  --root s3://bucket/models --kind handwritten --version 2026.11.25-0912
    python -m training.registry rollback --root s3://bucket/models --kind handwritten [--to VERSION]

`root` is an `s3://bucket/prefix` URI or a local folder (default: env MODEL_URI). A version is
immutable once its manifest is written (the manifest is uploaded last, so a half-published version
has none and is never served). `<root>/<kind>/latest.json` names the served version; it is
rewritten with one PutObject, so readers see the old or the new pointer, never a mix. Promotion is
a gate: the candidate must have a lower CER than the current model on the same evaluation set
(measured again when their recorded test sets differ), unless forced. The first promotion of a
kind is gated too: against the model baked into the functions (their fallback, `models/<kind>/`),
which the candidate must at least match. Old versions stay, and
`latest.json` keeps the stack of promoted versions that `rollback` pops.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from ocr_core import storage
from ocr_core.model_store import check_manifest, default_model_dir, runtime_file
from ocr_core.vocabulary import REGISTRY_POINTER

LATEST_FILE = REGISTRY_POINTER  # <root>/<kind>/latest.json (ocr_core/vocabulary.py: the functions read it)


class RegistryError(RuntimeError):
    """A registry command cannot do what was asked (unknown version, immutable version, ...)."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def version_uri(root: str, kind: str, version: str) -> str:
    return storage.join_uri(root, kind, version)


def read_manifest(root: str, kind: str, version: str) -> dict[str, Any]:
    manifest = storage.read_json(storage.join_uri(version_uri(root, kind, version), "manifest.json"))
    if manifest is None:
        raise RegistryError(f"no published version {kind}/{version} under {root}")
    return manifest


def latest(root: str, kind: str) -> dict[str, Any] | None:
    """The `latest.json` pointer of a kind, or None before the first promotion."""
    return storage.read_json(storage.join_uri(root, kind, LATEST_FILE))


def publish(export_dir: Path, root: str) -> dict[str, Any]:
    """Upload an export folder (model.keras, model.onnx, reports/, then manifest.json) as `<root>/<kind>/<version>/`.

    A folder without a current ONNX export is exported first (parity-gated); a failed gate refuses the publish.
    """
    from training.export import ExportError, export_onnx, has_current_onnx

    manifest = json.loads((export_dir / "manifest.json").read_text(encoding="utf-8"))
    model_name = Path(manifest.get("file", "model.keras")).name
    check_manifest(manifest, export_dir / model_name)  # never publish what the services would refuse
    kind, version = str(manifest["kind"]), str(manifest["version"])
    dest = version_uri(root, kind, version)
    if storage.exists(storage.join_uri(dest, "manifest.json")):
        raise RegistryError(f"{kind}/{version} is already published under {root}; versions are immutable")
    if not has_current_onnx(export_dir):  # the services run the ONNX copy: export (parity-gated) before publishing
        try:
            export_onnx(export_dir)
        except ExportError as exc:
            raise RegistryError(f"{export_dir} not published: {exc}") from exc
        manifest = json.loads((export_dir / "manifest.json").read_text(encoding="utf-8"))
    onnx_name, onnx_sha256 = runtime_file(manifest, "onnx")
    check_manifest(manifest, export_dir / onnx_name, onnx_sha256)
    storage.put_file(export_dir / model_name, storage.join_uri(dest, model_name))
    storage.put_file(export_dir / onnx_name, storage.join_uri(dest, onnx_name))
    reports = export_dir / "reports"
    for path in sorted(reports.rglob("*")) if reports.is_dir() else []:
        if path.is_file():
            storage.put_file(path, storage.join_uri(dest, "reports", path.relative_to(reports).as_posix()))
    storage.put_file(export_dir / "manifest.json", storage.join_uri(dest, "manifest.json"))  # last: the commit
    print(f"published {kind}@{version} to {dest}")
    return manifest


def versions(root: str, kind: str) -> list[dict[str, Any]]:
    """Every published version of a kind, oldest first, with its test metrics and whether it is latest."""
    pointer = latest(root, kind) or {}
    rows = []
    for name in storage.list_dirs(storage.join_uri(root, kind)):
        manifest = storage.read_json(storage.join_uri(version_uri(root, kind, name), "manifest.json"))
        if manifest is None:  # an interrupted publish: no manifest, never served
            continue
        test = manifest.get("metrics", {}).get("test", {})
        rows.append({"version": name, "created": manifest.get("created", ""), "test_cer": test.get("cer"),
                     "test_wer": test.get("wer"), "eval_set": test.get("eval_set", {}).get("id"),
                     "code_version": manifest.get("code_version"), "data": manifest.get("data", {}).get("source"),
                     "latest": name == pointer.get("version")})
    return sorted(rows, key=lambda r: (r["created"], r["version"]))


def _write_latest(root: str, kind: str, version: str, stack: list[str], entry: dict[str, Any],
                  log: list[dict[str, Any]]) -> dict[str, Any]:
    pointer = {"kind": kind, "version": version, "updated": entry["at"], "stack": stack, "log": [*log, entry][-50:]}
    storage.put_bytes(json.dumps(pointer, indent=1).encode(), storage.join_uri(root, kind, LATEST_FILE))
    return pointer


def _model_file(root: str, kind: str, version: str, manifest: dict[str, Any], tmp: Path) -> Path:
    """A verified local copy of a published model (for measuring it)."""
    name = Path(manifest.get("file", "model.keras")).name
    path = storage.fetch_uri(storage.join_uri(version_uri(root, kind, version), name), tmp / version / name)
    check_manifest(manifest, path)
    return path


def _test_cer(manifest: dict[str, Any], eval_id: str) -> float | None:
    test = manifest.get("metrics", {}).get("test", {})
    return float(test["cer"]) if test.get("eval_set", {}).get("id") == eval_id and "cer" in test else None


def gate(root: str, kind: str, candidate: str, current: str | None, *, eval_data: str | None = None,
         eval_samples: int | None = None, batch_size: int = 32, baked: Path | None = None) -> dict[str, Any]:
    """Test CER of candidate and current on one evaluation set (the candidate's test set by default; the
    same lines at each model's input height when the two differ).

    With `baked` (a local model folder) instead of `current`, that model is the baseline, labelled
    `baked@<version>` in the answer's `cer` and `baseline`."""
    from training.evaluation import evaluate_file, test_set

    cand_m = read_manifest(root, kind, candidate)
    if baked is not None:
        if not (baked / "manifest.json").exists():
            raise RegistryError(f"no baked {kind} model at {baked} to gate the first version against (use --force)")
        cur_m = json.loads((baked / "manifest.json").read_text(encoding="utf-8"))
        current = f"baked@{cur_m.get('version')}"
    else:
        assert current is not None
        cur_m = read_manifest(root, kind, current)
    recorded = cand_m.get("metrics", {}).get("test", {}).get("eval_set", {})
    data = eval_data or recorded.get("source") or cand_m.get("data", {}).get("source") or "synthetic"
    samples = eval_samples if eval_samples is not None else int(recorded.get("samples") or 0)
    seed = int(cand_m.get("training", {}).get("seed", 1))
    sets: dict[int, tuple[list, dict[str, Any]]] = {}  # input height -> the same lines at that height

    def test_lines(manifest: dict[str, Any]) -> tuple[list, dict[str, Any]]:
        height = int(manifest["input_shape"][0])  # a required manifest field (32 px, 64 for `tall`)
        if height not in sets:
            sets[height] = test_set(kind, data, samples, batch_size, seed, height=height)
        return sets[height]

    info = {**test_lines(cand_m)[1], "samples": samples}
    scores: dict[str, float] = {}
    measured: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for version, manifest in ((candidate, cand_m), (current, cur_m)):
            batches, own = test_lines(manifest)
            cer = _test_cer(manifest, own["id"])
            if cer is None:  # not measured on this exact set: measure now
                if baked is not None and version == current:
                    path = baked / manifest.get("file", "model.keras")
                    check_manifest(manifest, path)
                else:
                    path = _model_file(root, kind, version, manifest, Path(tmp))
                cer = evaluate_file(path, batches)["cer"]
                measured.append(version)
            scores[version] = cer
    return {"eval_set": info, "cer": scores, "measured_now": measured, "baseline": current}


def promote(root: str, kind: str, version: str, *, force: bool = False, eval_data: str | None = None,
            eval_samples: int | None = None, min_improvement: float = 0.0, batch_size: int = 32,
            baked_dir: Path | None = None) -> dict[str, Any]:
    """Move `latest` to `version` if it beats the current model (or `force`); returns the decision.

    The first version must match the baked model (`baked_dir`, default the shipped `models/<kind>/`)."""
    read_manifest(root, kind, version)  # must exist
    pointer = latest(root, kind)
    current = pointer["version"] if pointer else None
    decision: dict[str, Any] = {"kind": kind, "candidate": version, "current": current, "forced": force, "at": _now()}
    if current == version:
        decision.update(promoted=False, reason=f"{version} is already latest")
        return decision
    if force:
        decision.update(promoted=True, reason="forced")
    elif current is None:  # nothing promoted yet: the functions serve the baked model, so that is what to beat
        baked = baked_dir or default_model_dir() / kind
        result = gate(root, kind, version, None, eval_data=eval_data, eval_samples=eval_samples,
                      batch_size=batch_size, baked=baked)
        label = result["baseline"]
        cand, base = result["cer"][version], result["cer"][label]
        better = cand <= base - min_improvement
        decision.update(result, promoted=better,
                        reason=f"first version: test CER {cand:.4f} {'<=' if better else '>'} {base:.4f} of the baked "
                               f"model {label} on eval set {result['eval_set']['id']} ({result['eval_set']['lines']} lines)")
    else:
        result = gate(root, kind, version, current, eval_data=eval_data, eval_samples=eval_samples, batch_size=batch_size)
        cand, cur = result["cer"][version], result["cer"][current]
        better = cand < cur - min_improvement
        decision.update(result, promoted=better,
                        reason=f"test CER {cand:.4f} {'<' if better else '>='} {cur:.4f}"
                               f"{f' - {min_improvement}' if min_improvement else ''} of {current} "
                               f"on eval set {result['eval_set']['id']} ({result['eval_set']['lines']} lines)")
    report = storage.join_uri(version_uri(root, kind, version), "reports", f"promotion-{decision['at'].replace(':', '')}.json")
    storage.put_bytes(json.dumps(decision, indent=1).encode(), report)
    if decision["promoted"]:
        stack = [v for v in (pointer or {}).get("stack", []) if v != version] + [version]
        _write_latest(root, kind, version, stack, {"action": "promote", "version": version, "at": decision["at"],
                                                   "reason": decision["reason"]}, (pointer or {}).get("log", []))
    print(f"{kind}: {'promoted' if decision['promoted'] else 'refused'} {version} ({decision['reason']})")
    return decision


def rollback(root: str, kind: str, to: str | None = None) -> dict[str, Any]:
    """Point `latest` back at the previously promoted version (or `to`); the current version stays published."""
    pointer = latest(root, kind)
    if not pointer:
        raise RegistryError(f"{kind} has no latest version under {root}: nothing to roll back")
    stack = list(pointer.get("stack") or [pointer["version"]])
    if to is None:
        if len(stack) < 2:
            raise RegistryError(f"{kind}@{pointer['version']} is the only promoted version: nothing to roll back to")
        stack.pop()
        to = stack[-1]
    else:
        read_manifest(root, kind, to)
        stack = stack[: stack.index(to) + 1] if to in stack else [*stack, to]
    out = _write_latest(root, kind, to, stack, {"action": "rollback", "version": to, "from": pointer["version"],
                                                 "at": _now()}, pointer.get("log", []))
    print(f"{kind}: rolled back {pointer['version']} -> {to}")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.registry", description=__doc__.split("\n")[0])
    root_help = "registry root: s3://bucket/prefix or a folder (default: $MODEL_URI)"
    sub = p.add_subparsers(dest="cmd", required=True)
    ls = sub.add_parser("list", help="published versions and which is latest")
    pub = sub.add_parser("publish", help="upload an export folder (model.keras + model.onnx + manifest.json [+ reports/])")
    pub.add_argument("export_dir", type=Path)
    pro = sub.add_parser("promote", help="move latest to a version if it beats the current one (the first: the baked model)")
    rb = sub.add_parser("rollback", help="move latest back to the previously promoted version")
    for sp in (ls, pub, pro, rb):
        sp.add_argument("--root", default=os.environ.get("MODEL_URI", ""), help=root_help)
    for sp in (ls, pro, rb):
        sp.add_argument("--kind", required=True, choices=["handwritten", "printed"])
    pro.add_argument("--version", required=True)
    rb.add_argument("--to", default=None, help="a specific published version (default: the previous one)")
    for sp in (pub, pro):
        sp.add_argument("--force", action="store_true", help="promote without the gate")
        sp.add_argument("--eval-data", default=None, help="evaluation set: synthetic | IAM folder | s3:// (default: the candidate's test set)")
        sp.add_argument("--eval-samples", type=int, default=None)
        sp.add_argument("--min-improvement", type=float, default=0.0, help="required CER gain (absolute)")
    pub.add_argument("--promote", action="store_true", help="run the promotion gate after publishing")
    a = p.parse_args(argv)
    if not a.root:
        p.error("--root or MODEL_URI is required")
    try:
        if a.cmd == "list":
            for r in versions(a.root, a.kind):
                cer = "-" if r["test_cer"] is None else f"{r['test_cer']:.4f}"
                print(f"{'*' if r['latest'] else ' '} {r['version']:<22} test CER {cer:<7} {r['created']}  "
                      f"data {r['data']}  code {r['code_version']}")
        elif a.cmd == "publish":
            m = publish(a.export_dir, a.root)
            if a.promote or a.force:
                d = promote(a.root, m["kind"], m["version"], force=a.force, eval_data=a.eval_data,
                            eval_samples=a.eval_samples, min_improvement=a.min_improvement)
                return 0 if d["promoted"] else 3
        elif a.cmd == "promote":
            d = promote(a.root, a.kind, a.version, force=a.force, eval_data=a.eval_data,
                        eval_samples=a.eval_samples, min_improvement=a.min_improvement)
            return 0 if d["promoted"] or d["candidate"] == d["current"] else 3
        else:
            rollback(a.root, a.kind, a.to)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
