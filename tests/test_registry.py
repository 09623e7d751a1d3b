"""Train -> publish -> gated promote -> services load from S3, against a real moto server on 127.0.0.1.

Models here are tiny (a few CPU steps) and read garbage: the tests assert which version was
served and what the gate decided, not the text.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import boto3
import cv2
import numpy as np
import ocr_http
import pytest
import requests

from ocr_core import storage
from ocr_core.engine import OcrEngine
from ocr_core.model_store import REPO_MODELS, ModelStore, cache_root
from training import evaluation, iam, registry
from training.train import TrainConfig, train

BUCKET = "ocr-models-test"
ROOT = f"s3://{BUCKET}/models"


@pytest.fixture()
def s3(aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An empty model bucket on the moto server, and a fresh model download cache."""
    monkeypatch.setenv("OCR_MODEL_CACHE", str(tmp_path / "model-cache"))
    monkeypatch.setenv("OCR_DATA_CACHE", str(tmp_path / "data-cache"))
    monkeypatch.delenv("MODEL_URI", raising=False)
    monkeypatch.delenv("OCR_MODEL_DIR", raising=False)
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def _png(text: str = "hello") -> bytes:
    line = np.full((48, 300), 255, np.uint8)
    cv2.putText(line, text, (10, 35), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 2)
    return cv2.imencode(".png", line)[1].tobytes()


def _baked_copy(tmp_path: Path, version: str) -> Path:
    """The shipped handwritten model re-labelled as `version` (a real, decent model to publish)."""
    out = tmp_path / f"export-{version}"
    shutil.copytree(REPO_MODELS / "handwritten", out)
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "version": version}))
    return out


def _latest(s3, kind: str = "handwritten") -> str:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=f"models/{kind}/latest.json")["Body"].read())["version"]


def test_train_publish_promote_serve_gate_and_rollback(s3, tmp_path: Path, capsys: pytest.CaptureFixture,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = TrainConfig(kind="handwritten", epochs=1, steps_per_epoch=2, batch_size=4, val_samples=4, workers=0,
                      threads=2, out=ROOT, workdir=str(tmp_path / "work"), version="tiny-1", test_samples=8,
                      promote=True, checkpoint_uri=f"s3://{BUCKET}/checkpoints/tiny-1")
    train(cfg)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    for key in ("model.keras", "model.onnx", "manifest.json", "reports/curves.png", "reports/test.json"):
        assert f"models/handwritten/tiny-1/{key}" in keys
    assert {"checkpoints/tiny-1/state.json", "checkpoints/tiny-1/last.keras"} <= keys
    png = s3.get_object(Bucket=BUCKET, Key="models/handwritten/tiny-1/reports/curves.png")["Body"].read()
    assert png.startswith(b"\x89PNG")
    manifest = registry.read_manifest(ROOT, "handwritten", "tiny-1")
    assert manifest["kind"] == "handwritten" and manifest["data"]["source"] == "synthetic" and len(manifest["data"]["hash"]) == 64
    assert manifest["code_version"] and manifest["history"] and manifest["input_shape"][0] == 32
    test = manifest["metrics"]["test"]
    assert 0 <= test["cer"] and test["eval_set"]["lines"] > 0 and test["eval_set"]["id"]
    # the first version is gated against the baked model (what the functions serve until then): refused
    assert "latest.json" not in {k.rsplit("/", 1)[-1] for k in keys}
    reports = [k for k in keys if k.startswith("models/handwritten/tiny-1/reports/promotion-")]
    decision = json.loads(s3.get_object(Bucket=BUCKET, Key=reports[0])["Body"].read())
    assert not decision["promoted"] and decision["baseline"].startswith("baked@"), decision
    assert decision["cer"]["tiny-1"] > decision["cer"][decision["baseline"]]
    assert registry.main(["promote", "--root", ROOT, "--kind", "handwritten", "--version", "tiny-1", "--force"]) == 0
    assert _latest(s3) == "tiny-1"

    # a service (MODEL_URI) resolves latest from S3 at cold start and reads an image with it
    store = ModelStore(model_uri=ROOT)
    engine = OcrEngine(store, detector="opencv")
    result = engine.read(_png(), mode="handwritten")
    assert result.models["handwritten"] == "handwritten@tiny-1"
    baked_printed = json.loads((REPO_MODELS / "printed" / "manifest.json").read_text())["version"]
    assert store.local_dir("handwritten") == cache_root() / BUCKET / "models" / "handwritten" / "tiny-1"
    assert engine.model_versions()["printed"] == baked_printed  # nothing published for printed: the baked model
    monkeypatch.setenv("MODEL_URI", ROOT)  # /api/health names the same versions as the results
    assert ocr_http.model_versions() == {"handwritten": "tiny-1", "printed": baked_printed}

    # a better model (the shipped one) beats it on the same test set; tiny-1's recorded score is reused
    registry.publish(_baked_copy(tmp_path, "good-2"), ROOT)
    decision = registry.promote(ROOT, "handwritten", "good-2", eval_samples=8)
    assert decision["promoted"] and decision["measured_now"] == ["good-2"], decision
    assert decision["cer"]["good-2"] < decision["cer"]["tiny-1"]
    assert _latest(s3) == "good-2"

    # the worse model is refused by the gate (CLI exit code 3) and latest does not move
    assert registry.main(["promote", "--root", ROOT, "--kind", "handwritten", "--version", "tiny-1", "--eval-samples", "8"]) == 3
    assert _latest(s3) == "good-2"
    assert ModelStore(model_uri=ROOT).manifest("handwritten")["version"] == "good-2"
    with pytest.raises(registry.RegistryError, match="immutable"):
        registry.publish(_baked_copy(tmp_path / "again", "good-2"), ROOT)

    # rollback moves latest back; both versions stay published
    assert registry.main(["rollback", "--root", ROOT, "--kind", "handwritten"]) == 0
    assert _latest(s3) == "tiny-1"
    assert ModelStore(model_uri=ROOT).load("handwritten").version == "tiny-1"
    capsys.readouterr()
    registry.main(["list", "--root", ROOT, "--kind", "handwritten"])
    listed = capsys.readouterr().out.splitlines()
    assert [ln.split()[:2] for ln in listed if ln.startswith("*")] == [["*", "tiny-1"]]
    assert any("good-2" in ln and not ln.startswith("*") for ln in listed)
    assert registry.main(["rollback", "--root", ROOT, "--kind", "handwritten"]) == 2  # nothing left to roll back to


def test_corrupt_upload_is_refused_and_the_baked_model_is_served(s3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    registry.publish(_baked_copy(tmp_path, "ok-1"), ROOT)
    registry.publish(_baked_copy(tmp_path, "bad-2"), ROOT)
    assert registry.promote(ROOT, "handwritten", "ok-1", eval_samples=8)["promoted"]  # as good as the baked model
    registry.promote(ROOT, "handwritten", "bad-2", force=True)
    key = "models/handwritten/bad-2/model.onnx"  # the file the functions serve
    data = bytearray(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    data[len(data) // 2] ^= 0xFF
    s3.put_object(Bucket=BUCKET, Key=key, Body=bytes(data))

    monkeypatch.setenv("MODEL_URI", ROOT)  # how the functions are configured
    store = ModelStore()
    baked = json.loads((REPO_MODELS / "handwritten" / "manifest.json").read_text())["version"]
    loaded = store.load("handwritten")
    assert loaded.version == baked and loaded.path == REPO_MODELS / "handwritten"
    assert "sha256" in caplog.text  # the warning says why the registry's model is not served
    assert ocr_http.model_versions()["handwritten"] == baked  # and /api/health does not name bad-2
    result = OcrEngine(store, detector="opencv").read(_png(), mode="handwritten")
    assert result.models["handwritten"] == f"handwritten@{baked}"

    monkeypatch.setenv("MODEL_VERSION_HANDWRITTEN", "ok-1")  # a pinned version instead of latest
    assert ModelStore().load("handwritten").version == "ok-1"
    unreachable = ModelStore(model_uri="s3://no-such-bucket/models")
    assert unreachable.manifest("handwritten")["version"] == baked


def _fake_iam(root: Path) -> dict[str, list[str]]:
    """IAM layout: lines.txt, lines/<a>/<a-b>/<id>.png, and the standard task's split files."""
    forms = {"train": ["a01-000u", "a02-000", "b01-010"], "val": ["c01-000"], "test": ["d01-000", "d02-010"]}
    rows, split_rows = [], {"train": [], "val": [], "test": []}
    for split, names in forms.items():
        for form in names:
            for n in range(3):
                sample = f"{form}-{n:02d}"
                folder = root / "lines" / form.split("-")[0] / form
                folder.mkdir(parents=True, exist_ok=True)
                img = np.full((40, 260), 255, np.uint8)
                cv2.putText(img, f"{split} {n}", (5, 30), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
                cv2.imwrite(str(folder / f"{sample}.png"), img)
                rows.append(f"{sample} ok 154 19 408 746 1661 89 {split}|line|{n}")
                if n < 2:  # the standard task leaves some lines out
                    split_rows[split].append(sample)
    (root / "ascii").mkdir()
    (root / "ascii" / "lines.txt").write_text("# IAM lines\n" + "\n".join(rows) + "\n")
    task = root / "largeWriterIndependentTextLineRecognitionTask"
    task.mkdir()
    (task / "trainset.txt").write_text("\n".join(split_rows["train"]) + "\n")
    (task / "validationset1.txt").write_text("\n".join(split_rows["val"][:1]) + "\n")
    (task / "validationset2.txt").write_text("\n".join(split_rows["val"][1:]) + "\n")
    (task / "testset.txt").write_text("\n".join(split_rows["test"]) + "\n")
    return split_rows


def test_iam_from_s3_standard_split_and_spot_resume(s3, tmp_path: Path) -> None:
    local = tmp_path / "iam"
    expected = _fake_iam(local)
    parts, how = iam.splits(local, seed=1)
    assert how == "iam-standard"
    assert {s: sorted(p.stem for p, _ in items) for s, items in parts.items()} == {s: sorted(v) for s, v in expected.items()}
    assert all(text.startswith(split) for split, items in parts.items() for _, text in items)
    (local / "largeWriterIndependentTextLineRecognitionTask" / "testset.txt").unlink()
    fallback, how = iam.splits(local, seed=1)
    assert how == "form-hash" and sum(map(len, fallback.values())) == 18  # every ok line, split by writer group
    for items in fallback.values():
        for other in fallback.values():
            if items is not other:
                assert not {p.name.split("-")[0] for p, _ in items} & {p.name.split("-")[0] for p, _ in other}
    (local / "largeWriterIndependentTextLineRecognitionTask" / "testset.txt").write_text("\n".join(expected["test"]) + "\n")

    for rel in storage.list_files(str(local)):
        s3.upload_file(str(local / rel), BUCKET, f"datasets/iam/{rel}")
    data = f"s3://{BUCKET}/datasets/iam/"
    batches, info = evaluation.test_set("handwritten", data, batch_size=2)
    assert info["split"] == "iam-standard" and info["lines"] == 4
    assert sorted(t for b in batches for t in b.texts) == ["test line 0", "test line 0", "test line 1", "test line 1"]
    assert evaluation.test_set("handwritten", data, batch_size=3)[1]["id"] == info["id"]  # batching does not matter

    # a Spot interruption: epoch 1 ran on one machine, the restarted job (empty disk) resumes from S3
    common = dict(kind="handwritten", data=data, steps_per_epoch=1, batch_size=2, workers=0, threads=2,
                  version="iam-1", checkpoint_uri=f"s3://{BUCKET}/checkpoints/iam-1")
    train(TrainConfig(**common, epochs=1, out=str(tmp_path / "machine-1" / "handwritten")))
    train(TrainConfig(**common, epochs=2, out=ROOT, workdir=str(tmp_path / "machine-2")))
    manifest = registry.read_manifest(ROOT, "handwritten", "iam-1")
    assert [h["epoch"] for h in manifest["history"]] == [1, 2] and manifest["training"]["steps"] == 2
    assert manifest["metrics"]["test"]["eval_set"]["split"] == "iam-standard"
    assert manifest["data"] == {"source": data, "hash": iam.data_hash(storage.local_copy(data))}
    assert manifest["training"]["data"]["train_items"] == 6 and "val_iam" in manifest["metrics"]


STACK = Path(__file__).resolve().parent.parent / "training" / "batch-stack.yaml"


def test_batch_stack_lints_and_its_job_runs_the_training_cli() -> None:
    """The job definition's command, with its parameter defaults, is a valid `python -m training.train` call."""
    from cfnlint.api import lint_file
    from cfnlint.decode import cfn_yaml

    from training.train import parse_args

    assert [str(m) for m in lint_file(STACK)] == []
    resources = cfn_yaml.load(str(STACK))["Resources"]
    job = resources["JobDefinition"]["Properties"]
    container = job["ContainerProperties"]
    assert {r["Type"]: r["Value"] for r in container["ResourceRequirements"]}["GPU"] == "1"
    assert {"VCPU", "MEMORY"} <= {r["Type"] for r in container["ResourceRequirements"]}
    params = {k: str(v) if isinstance(v, str) else "s3://bucket/models" for k, v in job["Parameters"].items()}
    argv = [params[a[len("Ref::"):]] if a.startswith("Ref::") else a for a in container["Command"]]
    cfg = parse_args(argv)
    assert (cfg.kind, cfg.data, cfg.out, cfg.version, cfg.checkpoint_uri, cfg.init_from) == (
        "handwritten", "synthetic", "s3://bucket/models", "", "", "")
    assert cfg.promote and not cfg.force_promote and cfg.epochs == int(params["epochs"])
    # the job writes only under the model prefix
    statements = resources["JobRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    writes = [s for s in statements if any(a.startswith("s3:Put") or a.startswith("s3:Delete") for a in
                                           ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))]
    assert len(writes) == 1 and str(writes[0]["Resource"]).count("${ModelPrefix}/*") == 1
    compute = resources["ComputeEnvironment"]["Properties"]["ComputeResources"]
    assert compute["InstanceTypes"] == {"Ref": "InstanceTypes"}


def test_submit_script_passes_the_job_parameters(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parent.parent / "scripts" / "submit-training.sh"
    out = subprocess.run(["bash", str(script), "--dry-run", "--kind", "printed", "--data", "s3://b/datasets/iam/",
                          "--epochs", "7", "--batch-size", "48", "--out", "s3://b/models", "--version", "v9",
                          "--queue", "q", "--definition", "d"], capture_output=True, text=True, check=True).stdout
    argv = shlex.split(out)
    assert argv[:3] == ["aws", "batch", "submit-job"] and argv[argv.index("--job-queue") + 1] == "q"
    params = json.loads(argv[argv.index("--parameters") + 1])
    assert params == {"kind": "printed", "data": "s3://b/datasets/iam/", "epochs": "7", "stepsPerEpoch": "500",
                      "batchSize": "48", "learningRate": "0.001", "out": "s3://b/models", "version": "v9",
                      "checkpointUri": "auto", "initFrom": "none", "promote": "gate"}
    from cfnlint.decode import cfn_yaml

    assert set(params) == set(cfn_yaml.load(str(STACK))["Resources"]["JobDefinition"]["Properties"]["Parameters"])


def test_the_api_functions_serve_the_promoted_model(s3, aws: str, tmp_path: Path) -> None:
    """The deployed shape: OCR functions under the Lambda RIE with MODEL_URI load latest from S3."""
    from functions.local_api import LocalApi

    registry.publish(_baked_copy(tmp_path, "from-s3-7"), ROOT)
    assert registry.promote(ROOT, "handwritten", "from-s3-7", force=True)["promoted"]
    env = {"MODEL_URI": ROOT, "AWS_ENDPOINT_URL": aws, "OCR_MODEL_CACHE": str(tmp_path / "function-cache"),
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    with LocalApi(port=0, env=env) as api:
        health = requests.get(api.url + "/api/health", timeout=60).json()
        baked_printed = json.loads((REPO_MODELS / "printed" / "manifest.json").read_text())["version"]
        assert health["models"] == {"handwritten": "from-s3-7", "printed": baked_printed}, health
        body = requests.post(api.url + "/api/ocr", data=_png("hello"), headers={"Content-Type": "image/png"},
                             timeout=120).json()
        # health names what the results name: the registry's handwriting model, the baked printed one
        assert body["models"] == {"handwritten": "handwritten@from-s3-7", "printed": f"printed@{baked_printed}"}, body
    assert (tmp_path / "function-cache").exists()  # downloaded by the function, not read from the repo
