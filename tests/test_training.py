"""Training runs end to end on CPU (a few steps), exports a model the engine loads, and reads IAM."""

from __future__ import annotations

import itertools
import json
import multiprocessing as mp
import random
import re
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from ocr_core.alphabet import ALPHABET
from ocr_core.engine import OcrEngine
from ocr_core.model_store import REPO_MODELS, ModelStore
from training import data, iam, synth
from training.train import TrainConfig, _paths, parse_args, train


def test_synthetic_samples_are_readable_lines_with_their_text() -> None:
    rng = random.Random(5)
    for sampler in (synth.printed_sample, synth.handwritten_sample):
        gray, text = sampler(rng)
        assert gray.dtype == np.uint8 and gray.ndim == 2 and gray.shape[1] > gray.shape[0] > 8
        assert text and set(text) <= set(ALPHABET)
        assert np.percentile(gray, 95) - np.percentile(gray, 1) > 40  # there is ink on paper


def test_parallel_rendering_stays_a_bounded_number_of_samples_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """A printed run grew to 7.9 GB in 35 minutes: its workers rendered an endless stream without waiting
    for training to take the samples. Rendered samples are counted (in the forked workers) while the
    consumer waits; the stream keeps the order a seed gives without workers."""
    rendered = mp.get_context("fork").Value("i", 0)
    real = data.prepared

    def counted(gray: np.ndarray, text: str, steps: tuple[str, ...] = (), height: int = 32) -> tuple | None:
        sample = real(gray, text, steps, height)
        if sample is not None:
            with rendered.get_lock():
                rendered.value += 1
        return sample

    monkeypatch.setattr(data, "prepared", counted)  # each rendered sample's last step; the workers fork after this
    stream = data.synthetic_samples("printed", 7, None, workers=1)
    taken = list(itertools.islice(stream, 5))
    bound = len(taken) + data.lookahead(1)
    last, still_since, start = -1, time.monotonic(), time.monotonic()
    while rendered.value <= bound and time.monotonic() - still_since < 1.0 and time.monotonic() - start < 20:
        if rendered.value != last:  # rendering goes on: wait until it stops (bounded) or passes the bound
            last, still_since = rendered.value, time.monotonic()
        time.sleep(0.05)
    assert rendered.value <= bound, f"{rendered.value} samples rendered for {len(taken)} taken"
    stream.close()
    alone = list(itertools.islice(data.synthetic_samples("printed", 7, None, workers=0), 5))
    assert [t for _, t in taken] == [t for _, t in alone]
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(taken, alone))


@pytest.mark.parametrize(("arch", "height"), [("base", 32), ("tall", 64)])
def test_tiny_training_run_exports_a_model_the_engine_uses(tmp_path: Path, arch: str, height: int) -> None:
    out = tmp_path / "handwritten"
    cfg = TrainConfig(kind="handwritten", epochs=1, steps_per_epoch=2, batch_size=4, val_samples=4,
                      workers=0, out=str(out), version="test-1", test_samples=4, arch=arch)
    assert train(cfg) == out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["version"] == "test-1" and manifest["alphabet"] == ALPHABET
    assert manifest["input_shape"][0] == height and manifest["architecture"] == arch  # the engine feeds what it says
    assert manifest["runtimes"]["onnx"]["parity"]["lines"] > 0 and (out / "model.onnx").exists()  # exported, parity-gated
    assert manifest["training"]["steps"] == 2 and "cer" in manifest["metrics"]["val_synthetic"]
    (tmp_path / "printed").symlink_to(ModelStore().local_dir("printed"))  # beside the new model
    engine = OcrEngine(ModelStore(tmp_path), detector="opencv")
    line = np.full((48, 300), 255, np.uint8)
    cv2.putText(line, "hello", (10, 35), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 2)
    ok, png = cv2.imencode(".png", line)
    result = engine.read(png.tobytes(), mode="handwritten")
    assert result.models["handwritten"] == "handwritten@test-1"  # the freshly trained model was used


def test_a_run_mirrored_to_a_repository_folder_resumes_there_on_another_machine(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """A CPU run longer than a session commits its checkpoint folder; a fresh clone runs the same command."""
    first, second = tmp_path / "machine-1", tmp_path / "machine-2"
    first.mkdir()
    monkeypatch.chdir(first)
    tiny = dict(kind="handwritten", steps_per_epoch=1, batch_size=2, val_samples=2, workers=0, test_samples=2,
                version="run-1", out="runs/handwritten/run-1", checkpoint_uri="training/checkpoints/run-1")
    train(TrainConfig(**tiny, epochs=1))
    shutil.copytree(first / "training", second / "training")  # what the commit carries: the mirror, not runs/
    monkeypatch.chdir(second)
    capsys.readouterr()
    train(TrainConfig(**tiny, epochs=2))
    assert "resumed at epoch 1" in capsys.readouterr().out  # it trained one more epoch, not two afresh
    manifest = json.loads((second / "runs/handwritten/run-1/manifest.json").read_text())
    epoch_1 = json.loads((first / "runs/handwritten/.run-1-checkpoints/state.json").read_text())["history"][0]
    assert manifest["history"][0] == epoch_1 and [h["epoch"] for h in manifest["history"]] == [1, 2]
    assert manifest["training"]["steps"] == 2
    assert json.loads((second / "training/checkpoints/run-1/state.json").read_text())["epoch"] == 2
    train(TrainConfig(**tiny, epochs=3))  # the same command again on this machine, where the run's export is
    assert "resumed at epoch 2" in capsys.readouterr().out


class _Stopped(Exception):
    """The machine going away in the middle of an epoch."""


def test_a_run_stopped_within_an_epoch_resumes_at_that_step_on_new_samples(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """On a slow CPU an epoch takes half an hour: --checkpoint-minutes saves the progress within one, and
    the resumed run goes on from that step (that point of the learning-rate schedule, Adam's moments as
    they were) on samples it has not trained on, instead of replaying the run's first batches."""
    import training.train as train_module

    labels_seen: list[np.ndarray] = []  # each training step's labels
    schedule_starts: list[int] = []  # the optimizer's step count when training (re)starts
    optimizer_states: list[list[np.ndarray]] = []  # when the first machine stops; when the second starts
    stop_after = [2]  # the first machine goes away after two steps
    make_step = train_module._train_step_fn

    def watched_step_fn(model: object, optimizer: object, mixed: bool) -> object:
        step = make_step(model, optimizer, mixed)
        schedule_starts.append(int(optimizer.iterations.numpy()))
        if not stop_after:
            optimizer_states.append([v.numpy().copy() for v in optimizer.variables])

        def recorded(images: object, labels: object, lengths: object, steps: object) -> object:
            if stop_after and len(labels_seen) == stop_after[0]:
                optimizer_states.append([v.numpy().copy() for v in optimizer.variables])
                raise _Stopped
            labels_seen.append(labels.numpy())
            return step(images, labels, lengths, steps)

        return recorded

    monkeypatch.setattr(train_module, "_train_step_fn", watched_step_fn)
    cfg = dict(kind="handwritten", epochs=1, steps_per_epoch=4, batch_size=2, val_samples=2, workers=0,
               test_samples=2, version="slow-1", out=str(tmp_path / "slow-1"), checkpoint_minutes=1e-9)
    with pytest.raises(_Stopped):
        train(TrainConfig(**cfg))
    state = json.loads((tmp_path / ".slow-1-checkpoints/state.json").read_text())
    assert (state["epoch"], state["epoch_step"], state["steps"], len(state["epoch_losses"])) == (0, 2, 2, 2)
    first_run = list(labels_seen)
    for record in (labels_seen, schedule_starts, stop_after):
        record.clear()
    capsys.readouterr()
    train(TrainConfig(**cfg, resume=True))
    assert "resumed at epoch 0, step 2 of its next" in capsys.readouterr().out
    assert schedule_starts == [2]  # the learning-rate schedule goes on from step 2
    stopped, resumed = optimizer_states
    assert np.abs(stopped[-1]).sum() > 0  # Adam's moments had moved from zero ...
    assert all(np.array_equal(a, b) for a, b in zip(stopped, resumed, strict=True))  # ... and come back as they were
    assert len(labels_seen) == 2  # steps 3 and 4, not the whole epoch again
    assert not any(np.array_equal(a, b) for a in labels_seen for b in first_run)  # new samples, not a replay
    manifest = json.loads((tmp_path / "slow-1/manifest.json").read_text())
    assert manifest["training"]["steps"] == 4 and manifest["training"]["stream_starts"] == [0, 2]
    assert [h["epoch"] for h in manifest["history"]] == [1]
    assert "epoch_step" not in json.loads((tmp_path / ".slow-1-checkpoints/state.json").read_text())


def test_iam_layout_is_read_and_split_by_writer_group(tmp_path: Path) -> None:
    rows = []
    for form in ("a01-000u", "b02-100", "c03-200x", "d04-010", "e05-020", "f06-030", "g07-040"):
        for n in range(3):
            sample = f"{form}-{n:02d}"
            folder = tmp_path / "lines" / form.split("-")[0] / form
            folder.mkdir(parents=True, exist_ok=True)
            img = np.full((40, 200), 255, np.uint8)
            cv2.putText(img, f"line {n}", (5, 30), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
            cv2.imwrite(str(folder / f"{sample}.png"), img)
            rows.append(f"{sample} ok 154 19 408 746 1661 89 A|MOVE|to|line|{n}")
    rows.append("a01-000u-99 err 154 19 408 746 1661 89 broken|segmentation")
    (tmp_path / "lines.txt").write_text("#comment\n" + "\n".join(rows) + "\n")
    items = iam.read_index(tmp_path)
    assert len(items) == 21  # the 'err' row is skipped
    assert items[0][1] == "A MOVE to line 0"
    splits = {}
    for path, _ in items:
        splits.setdefault(path.name.split("-")[0], set()).add(iam.split_of(path))
    assert all(len(s) == 1 for s in splits.values())  # a writer group never straddles splits
    train_batches, val_batches, info = iam.train_val_batches(tmp_path, batch_size=4, seed=1)
    batch = next(train_batches)
    assert batch.images.shape[1:] == (32, batch.images.shape[2], 1) and len(batch.texts) == 4
    assert info["train_items"] + info["val_items"] <= 21 and val_batches


def test_default_output_is_a_run_folder_and_a_model_folder_is_not_overwritten(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's first training command used to overwrite the shipped models/handwritten."""
    monkeypatch.chdir(tmp_path)
    cfg = TrainConfig(kind="handwritten")
    out, registry_root = _paths(cfg)
    assert registry_root == "" and out == Path("runs") / "handwritten" / cfg.version
    assert re.fullmatch(r"\d{4}\.\d\d\.\d\d-\d{4}", cfg.version)

    shipped = tmp_path / "models" / "handwritten"
    shutil.copytree(REPO_MODELS / "handwritten", shipped)
    before = (shipped / "model.keras").read_bytes()
    tiny = {"epochs": 1, "steps_per_epoch": 1, "batch_size": 2, "val_samples": 2, "workers": 0, "test_samples": 2}
    with pytest.raises(SystemExit, match="--overwrite"):
        train(TrainConfig(kind="handwritten", out=str(shipped), **tiny))
    assert (shipped / "model.keras").read_bytes() == before and not list(shipped.parent.glob(".*-checkpoints"))
    assert parse_args(["--out", str(shipped), "--overwrite"]).overwrite
    assert _paths(TrainConfig(kind="handwritten", out=str(shipped), overwrite=True))[0] == shipped


def test_a_wide_model_started_from_a_base_model_reads_exactly_as_it_does() -> None:
    """transfer_weights embeds base's BiLSTMs in wide's: same probabilities, yet new units that can learn.
    (The shipped printed model is a trained `base` one; handwriting 3.0.0 was started this way from 2.4.0.)"""
    import keras

    from training.model import arch_of, build_crnn, transfer_weights

    base = keras.models.load_model(REPO_MODELS / "printed" / "model.keras", compile=False)
    assert arch_of(base) == "base"
    wide = build_crnn(base.output_shape[-1], arch="wide")
    assert len(transfer_weights(base, wide)) == len([x for x in wide.layers if x.get_weights()])
    crops = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in sorted((REPO_MODELS.parent / "samples").glob("handwritten*.png"))]
    assert crops
    for crop in crops:
        h, w = crop.shape
        x = cv2.resize(crop, (max(16, round(w * 32 / h / 4) * 4), 32)).astype("float32")[None, :, :, None]
        x = 1.0 - x / 255.0
        np.testing.assert_allclose(wide.predict(x, verbose=0), base.predict(x, verbose=0), atol=1e-5)
    forward = next(x for x in wide.layers if isinstance(x, keras.layers.Bidirectional)).forward_layer
    kernel = forward.get_weights()[0]
    assert np.abs(kernel[:, 128:256]).max() > 0  # the new units' input gate weights are not all zero


def test_a_tall_model_started_from_a_wide_one_sees_its_lines_as_it_did_with_twice_the_steps() -> None:
    """The tall arch's stem hands the CNN the 64-px line averaged down to 32 px, through the wide model's
    first conv block unchanged; its one width halving fewer gives twice the CTC time steps."""
    import keras

    from training.model import arch_of, build_crnn, input_height, transfer_weights

    keras.utils.set_random_seed(3)
    wide = build_crnn(len(ALPHABET) + 1, arch="wide")  # any wide weights: the identity holds for all of them
    tall = build_crnn(len(ALPHABET) + 1, arch="tall")
    assert arch_of(wide) == "wide" and arch_of(tall) == "tall" and input_height("tall") == 64
    transfer_weights(wide, tall)
    crop = cv2.imread(str(REPO_MODELS.parent / "samples" / "handwritten-word.png"), cv2.IMREAD_GRAYSCALE)
    h, w = crop.shape
    x64 = 1.0 - cv2.resize(crop, (round(w * 64 / h / 8) * 8, 64), interpolation=cv2.INTER_AREA).astype("float32") / 255.0
    x32 = x64.reshape(32, 2, -1, 2).mean(axis=(1, 3))  # the 2x2 average the stem's pooling takes
    first_block = {m: keras.Model(m.input, next(x for x in m.layers if isinstance(x, keras.layers.MaxPooling2D)).output)
                   for m in (wide, tall)}
    np.testing.assert_allclose(first_block[tall].predict(x64[None, :, :, None], verbose=0),
                               first_block[wide].predict(x32[None, :, :, None], verbose=0), atol=1e-4)
    steps_tall = tall.predict(x64[None, :, :, None], verbose=0).shape[1]
    steps_wide = wide.predict(x32[None, :, :, None], verbose=0).shape[1]
    assert steps_tall == x64.shape[1] // 4 == 2 * steps_wide


def test_the_last_epochs_are_averaged_and_the_mean_competes_for_best(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--average-last 2 of 3 epochs: average.keras holds the mean of epochs 2 and 3 (every variable,
    batch-norm statistics too), validated beside them; best.keras is whichever read best."""
    import keras

    ends: list[list[np.ndarray]] = []  # each epoch's last.keras weights, as saved
    save = keras.Model.save

    def recording_save(self: keras.Model, path: str | Path, *args: object, **kwargs: object) -> None:
        if Path(path).name == "last.keras":
            ends.append([w.copy() for w in self.get_weights()])
        save(self, path, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "save", recording_save)
    out = tmp_path / "handwritten"
    train(TrainConfig(kind="handwritten", epochs=3, average_last=2, steps_per_epoch=2, batch_size=4, val_samples=4,
                      learning_rate=0.01, workers=0, out=str(out), version="avg-1", test_samples=4))
    ckpt = out.parent / ".handwritten-checkpoints"
    state = json.loads((ckpt / "state.json").read_text())
    average = keras.models.load_model(ckpt / "average.keras", compile=False).get_weights()
    assert len(ends) == 3 and state["average_members"] == 2
    assert not all(np.allclose(a, b) for a, b in zip(ends[1], ends[2]))  # the two epochs differ
    assert all(np.allclose(m, (a + b) / 2, atol=1e-6) for m, a, b in zip(average, ends[1], ends[2]))
    assert [("average_val_cer" in h) for h in state["history"]] == [False, False, True]
    best = keras.models.load_model(ckpt / "best.keras", compile=False).get_weights()
    chosen = {0: ends[state["best_epoch"] - 1], 2: average}[state["best_averaged"]]
    assert all(np.allclose(b, c) for b, c in zip(best, chosen))
    scores = [h["val_cer"] for h in state["history"]] + [state["history"][-1]["average_val_cer"]]
    assert state["best_cer"] == min(scores)
