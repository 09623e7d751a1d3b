"""Train and export a CRNN recognizer: `python -m training.train --kind handwritten --epochs 10`.

`train(TrainConfig)` is the single entry point: the CLI below, the GPU batch job (its container's
ENTRYPOINT is `python -m training.train`) and the tests all call it. Data is synthetic (rendered on
the fly, see `training.synth`), an IAM folder (`--data ./data/iam`) or an IAM-layout S3 prefix
(`--data s3://bucket/iam/`, mirrored into a local cache first). Each epoch ends with a validation
CER/WER, a checkpoint that `--resume` continues from (mirrored to `--checkpoint-uri s3://...`, from
which a restarted Spot job resumes by itself), and the best model so far exported with its manifest;
within an epoch the progress is checkpointed every `--checkpoint-minutes` too (a slow CPU takes half
an hour an epoch). A resumed run draws new samples rather than replaying the ones its first epochs saw.
The run ends with CER/WER on the test split, a training-curve PNG, and, when `--out` is an
`s3://bucket/prefix` registry root, publishing the model (and with `--promote`, the promotion gate).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ocr_core import storage
from ocr_core.alphabet import ALPHABET
from training.evaluation import evaluate, test_set

# last.keras's optimizer state (Adam's moments) beside it: a resumed run goes on as if never stopped
CHECKPOINT_FILES = ["last.keras", "optimizer.npz", "best.keras", "average.keras", "state.json"]  # state.json last: it commits the epoch


@dataclass
class TrainConfig:
    kind: str = "handwritten"  # handwritten | printed
    data: str = "synthetic"  # synthetic | IAM-layout folder | s3://bucket/prefix of one
    epochs: int = 10
    steps_per_epoch: int = 200
    batch_size: int = 32
    learning_rate: float = 1e-3
    val_samples: int = 512
    workers: int = 1  # processes rendering synthetic data
    seed: int = 1
    out: str = ""  # export folder (default runs/<kind>/<version>), or an s3:// registry root to publish to
    version: str = ""  # default: date-based, fixed at the start of the run
    resume: bool = False
    patience: int = 6  # early stopping: epochs without validation improvement
    threads: int = 0  # TensorFlow CPU threads (0 = all cores)
    init_from: str = ""  # a .keras model of the same architecture (or base, for wide) to start from
    checkpoint_uri: str = ""  # s3:// (or folder) mirror of the checkpoints; resumes from it when present
    checkpoint_minutes: float = 10.0  # also save the progress within an epoch this often (0: at epoch ends only)
    test_samples: int = 0  # test lines: synthetic 0 = 512; IAM a cap, 0 = the whole test split
    promote: bool = False  # after publishing, run the promotion gate
    force_promote: bool = False  # promote without the gate
    precision: str = "auto"  # auto (mixed_float16 on GPU) | mixed | float32
    workdir: str = ""  # local folder for the export when --out is s3:// (default /tmp/ocr-train)
    prefetch: int = 2  # batches tf.data prepares ahead of the training step
    arch: str = "base"  # training.model.ARCHS: base | wide | tall
    preprocess: str = ""  # extra ocr_core.preprocess steps, comma-separated ("isolate"); stored in the manifest
    synthetic_fraction: float = 0.3  # with real data (an htr-real folder): share of synthetic lines per batch
    english_boost: int = 1  # with an htr-real folder: times a pass shows a line with English marks (w, k, th...)
    average_last: int = 0  # the mean weights of the last N epochs (average.keras) also compete for best
    overwrite: bool = False  # allow exporting into a folder that already holds a model (e.g. models/<kind>)
    extra: dict = field(default_factory=dict)

    @property
    def steps(self) -> tuple[str, ...]:
        return tuple(s for s in self.preprocess.split(",") if s)

    @property
    def height(self) -> int:
        """The input line height of the arch."""
        from training.model import input_height

        return input_height(self.arch)


def _train_step_fn(model, optimizer, mixed: bool):
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def step(images, labels, label_lengths, steps):
        with tf.GradientTape() as tape:
            probs = tf.cast(model(images, training=True), tf.float32)
            loss = tf.reduce_mean(
                tf.nn.ctc_loss(
                    labels=labels, logits=tf.math.log(probs + 1e-8), label_length=label_lengths,
                    logit_length=steps, logits_time_major=False, blank_index=-1,
                )
            )
            scaled = optimizer.scale_loss(loss) if mixed else loss
        grads = tape.gradient(scaled, model.trainable_variables)
        if not mixed:  # mixed: the LossScaleOptimizer unscales, then its inner Adam clips (global_clipnorm)
            grads, _ = tf.clip_by_global_norm(grads, 5.0)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return step


def _data_root(cfg: TrainConfig) -> Path | None:
    """The local IAM folder (an s3:// prefix is mirrored into OCR_DATA_CACHE first), None for synthetic."""
    return None if cfg.data == "synthetic" else storage.local_copy(cfg.data)


def _stream_seed(seed: int, steps_done: int) -> int:
    """The training stream's seed: --seed for a new run; for one resumed after `steps_done` steps a seed
    of its own (above the validation seeds, 999_997+), so that it does not replay the first batches."""
    return seed if steps_done == 0 else seed * 1_000_003 + steps_done


def _data_source(cfg: TrainConfig, root: Path | None, stream_seed: int):
    """(train batches drawn with `stream_seed`, {name: val batches} with the checkpoint-picking set first, data info)."""
    from training import data, htr_real

    synthetic_val = list(data.batches(data.synthetic_samples(cfg.kind, 999_999, cfg.val_samples, 0, cfg.steps, held_out=True,
                                                             height=cfg.height), cfg.batch_size))
    synthetic = data.synthetic_samples(cfg.kind, stream_seed, None, cfg.workers, cfg.steps, height=cfg.height)
    if root is None:
        vals = {"synthetic": synthetic_val}
        if cfg.kind == "printed":  # also watched (not picking): receipt lines in unseen till faces
            vals["receipts"] = list(data.batches(data.synthetic_samples("receipt", 999_997, cfg.val_samples // 2, 0, cfg.steps,
                                                                        held_out=True, height=cfg.height), cfg.batch_size))
        return data.batches(synthetic, cfg.batch_size, seed=stream_seed), vals, {"source": "synthetic", "kind": cfg.kind}
    if htr_real.is_htr_real(root):
        train_lines, val_lines = htr_real.read_split(root, "train"), htr_real.read_split(root, "val")
        real = (p for g, t in htr_real.samples(train_lines, stream_seed, augmented=True, english_boost=cfg.english_boost)
                if (p := data.prepared(g, t, cfg.steps, cfg.height)) is not None)
        val_real = (p for line in val_lines
                    if (p := data.prepared(htr_real.load(line), line.text, cfg.steps, cfg.height)) is not None)
        mix = data.mixed([real, synthetic], [1 - cfg.synthetic_fraction, cfg.synthetic_fraction], stream_seed)
        info = {"source": "htr-real+synthetic", "uri": cfg.data, "train_lines": len(train_lines),
                "val_lines": len(val_lines), "synthetic_fraction": cfg.synthetic_fraction,
                "english_boost": cfg.english_boost, "kind": cfg.kind}
        return data.batches(mix, cfg.batch_size, seed=stream_seed), {"htr_real": list(data.batches(val_real, cfg.batch_size)),
                                                   "synthetic": synthetic_val}, info
    from training import iam

    train, val, info = iam.train_val_batches(root, cfg.batch_size, cfg.seed, stream_seed)
    return train, {"iam": val}, {**info, "uri": cfg.data}


def _data_hash(cfg: TrainConfig, root: Path | None) -> str:
    """Identifies the training data: the IAM or htr-real files (+ the synthetic lines mixed in), or the
    renderer's code, font list and seed for synthetic data."""
    h = hashlib.sha256(f"synthetic|{cfg.kind}|seed={cfg.seed}".encode())
    for name in ("synth.py", "corpus.py", "fonts.py", "data.py", "handwriting-fonts.tsv", "printed-fonts.tsv"):
        h.update((Path(__file__).parent / name).read_bytes())
    if root is None:
        return h.hexdigest()
    from training import htr_real, iam

    if htr_real.is_htr_real(root):
        boost = f"+english_boost={cfg.english_boost}" if cfg.english_boost != 1 else ""  # earlier hashes unchanged
        return hashlib.sha256(f"{htr_real.data_hash(root)}+{cfg.synthetic_fraction}{boost}+{h.hexdigest()}".encode()).hexdigest()
    return iam.data_hash(root)


def _prefetched(batches_: Iterator, prefetch: int) -> Iterator:
    """tf.data pipeline over the batch generator: the next batches are built while the GPU trains."""
    import tensorflow as tf

    spec = (tf.TensorSpec([None, None, None, 1], tf.float32), tf.TensorSpec([None, None], tf.int32),
            tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int32))
    ds = tf.data.Dataset.from_generator(
        lambda: ((b.images, b.labels, b.label_lengths, b.steps) for b in batches_), output_signature=spec)
    return iter(ds.prefetch(prefetch))


def _use_mixed(precision: str) -> bool:
    import tensorflow as tf

    if precision == "auto":
        return bool(tf.config.list_physical_devices("GPU"))
    return precision == "mixed"


def _paths(cfg: TrainConfig) -> tuple[Path, str]:
    """(local export folder, registry root or '')."""
    if storage.is_s3(cfg.out):
        base = Path(cfg.workdir or os.environ.get("OCR_TRAIN_WORKDIR") or "/tmp/ocr-train")
        return base / cfg.kind, cfg.out
    if not cfg.out:  # runs/<kind>/<version>: a run never lands on the shipped models/<kind> by default
        runs = Path("runs") / cfg.kind
        newest = max(runs.glob(".*-checkpoints/state.json"), key=lambda p: p.stat().st_mtime, default=None)
        if cfg.resume and not cfg.version and newest:  # continue the newest run, in its own folder
            cfg.version = json.loads(newest.read_text()).get("version", "")
        cfg.version = cfg.version or dt.datetime.now(dt.UTC).strftime("%Y.%m.%d-%H%M")
    out = Path(cfg.out or f"runs/{cfg.kind}/{cfg.version}")
    if (out / "manifest.json").exists() and not (cfg.overwrite or cfg.resume or _own_export(out)):
        raise SystemExit(f"{out} already holds a model ({json.loads((out / 'manifest.json').read_text()).get('version')}); "
                         "pass --overwrite to replace it, or --out another folder")
    return out, ""


def _own_export(out: Path) -> bool:
    """Whether `out` holds the live export of the run whose checkpoints sit beside it (the same command
    run again continues that run, as it does on a machine that only has the --checkpoint-uri mirror)."""
    state = out.parent / f".{out.name}-checkpoints" / "state.json"
    return state.exists() and (json.loads(state.read_text()).get("version")
                               == json.loads((out / "manifest.json").read_text()).get("version"))


def _restore_checkpoint(uri: str, ckpt_dir: Path) -> bool:
    """Fetch a remote checkpoint newer than the local one (a Spot restart); True when there is one."""
    remote = storage.read_json(storage.join_uri(uri, "state.json"))
    if remote is None:
        return False
    local = json.loads((ckpt_dir / "state.json").read_text()) if (ckpt_dir / "state.json").exists() else {"steps": -1}
    if remote["steps"] > local["steps"]:  # steps, not epochs: a checkpoint may fall within an epoch
        for name in CHECKPOINT_FILES[:-1]:
            if storage.exists(storage.join_uri(uri, name)):
                storage.fetch_uri(storage.join_uri(uri, name), ckpt_dir / name)
        (ckpt_dir / "state.json").write_text(json.dumps(remote, indent=1))
        print(f"restored checkpoint of epoch {remote['epoch']} (step {remote['steps']}) from {uri}", flush=True)
    return True


def _float32_copy(src: Path, dest: Path, kind: str, arch: str) -> Path:
    """Rebuild a mixed-precision model in float32 for serving on CPU (same weights)."""
    import keras

    from training.model import build_crnn

    keras.mixed_precision.set_global_policy("float32")
    model = build_crnn(len(ALPHABET) + 1, name=f"{kind}_crnn", arch=arch)
    model.set_weights(keras.models.load_model(src, compile=False).get_weights())
    model.save(dest)
    return dest


def train(cfg: TrainConfig) -> Path:
    """Train, checkpoint every epoch, export the best model + manifest + reports; returns the export dir."""
    import keras

    _set_threads(cfg.threads)
    if not cfg.checkpoint_uri and storage.is_s3(cfg.out) and os.environ.get("AWS_BATCH_JOB_ID"):
        # a Batch job keeps its id across retries (Spot reclaims), so this prefix is where it resumes from
        cfg.checkpoint_uri = storage.join_uri(cfg.out, "_checkpoints", cfg.kind, os.environ["AWS_BATCH_JOB_ID"])
    mixed = _use_mixed(cfg.precision)
    if mixed:
        keras.mixed_precision.set_global_policy("mixed_float16")
    out, registry = _paths(cfg)
    ckpt_dir = out.parent / f".{out.name}-checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    model, state = _start_or_resume(cfg, ckpt_dir)
    # one version per run, kept across resumes so a restarted job publishes what it started
    version = state.setdefault("version", cfg.version or dt.datetime.now(dt.UTC).strftime("%Y.%m.%d-%H%M"))
    optimizer = _optimizer(cfg, model, mixed, state["steps"], ckpt_dir / "optimizer.npz")
    step = _train_step_fn(model, optimizer, mixed)
    root = _data_root(cfg)
    starts = state.setdefault("stream_starts", [])  # the steps at which the training stream (re)started
    if not starts or starts[-1] != state["steps"]:
        starts.append(state["steps"])
    train_batches, val_sets, data_info = _data_source(cfg, root, _stream_seed(cfg.seed, state["steps"]))
    val_key = f"val_{next(iter(val_sets))}"  # the set that picks the best checkpoint
    started = time.time() - state.get("seconds", 0)

    def training_info() -> dict[str, Any]:
        return {**asdict(cfg), "data": data_info, "version": version, "mixed_precision": mixed,
                "epochs_done": state["epoch"], "best_epoch": state.get("best_epoch"),
                "best_averaged": state.get("best_averaged", 0), "steps": state["steps"],
                "stream_starts": state["stream_starts"], "samples_seen": state["samples"],
                "seconds": round(time.time() - started)}

    def save_state(names: list[str]) -> None:
        """state.json (and its mirror, after the named files: state.json commits them)."""
        state["seconds"] = round(time.time() - started)
        (ckpt_dir / "state.json").write_text(json.dumps(state, indent=1))
        if cfg.checkpoint_uri:
            storage.sync_up(ckpt_dir, cfg.checkpoint_uri, [*names, "state.json"])

    def save_progress() -> None:
        model.save(ckpt_dir / "last.keras")
        _save_optimizer(optimizer, ckpt_dir / "optimizer.npz")
        save_state(["last.keras", "optimizer.npz"])

    batches_tf = None
    while state["epoch"] < cfg.epochs and not state.get("stopped"):
        batches_tf = batches_tf or _prefetched(train_batches, cfg.prefetch)
        losses = _train_epoch(cfg, step, batches_tf, state, save_progress)
        improved = _end_epoch(cfg, model, val_sets, val_key, losses, state, ckpt_dir)
        if improved and not mixed:  # live export of the best model so far (mixed: exported once, as float32, at the end)
            from training.export import export_model

            export_model(ckpt_dir / "best.keras", out, kind=cfg.kind, version=version, training=training_info(),
                         metrics={val_key: state["best_metrics"]}, history=state["history"], preprocess=cfg.steps, arch=cfg.arch)
        _save_optimizer(optimizer, ckpt_dir / "optimizer.npz")  # beside _end_epoch's last.keras
        save_state(["last.keras", "optimizer.npz", *(["best.keras"] if improved else []), "average.keras"])
    return finish(cfg, out, registry, ckpt_dir, state, training_info(), val_key, root, mixed)


def _set_threads(threads: int) -> None:
    """TensorFlow's CPU thread pools (0: all cores)."""
    if not threads:
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already ran in this process (tests): its pools are fixed
        print(f"note: TensorFlow is already initialized; --threads {threads} not applied")


def _start_or_resume(cfg: TrainConfig, ckpt_dir: Path) -> tuple[Any, dict[str, Any]]:
    """(model, run state): the last checkpoint when resuming, else a new model (optionally from --init-from)."""
    import keras

    from training.model import arch_of, build_crnn, transfer_weights

    state_path = ckpt_dir / "state.json"
    resume = cfg.resume or bool(cfg.checkpoint_uri and _restore_checkpoint(cfg.checkpoint_uri, ckpt_dir))
    state: dict[str, Any] = {"epoch": 0, "best_cer": 1e9, "history": [], "steps": 0, "samples": 0}
    if resume and state_path.exists():
        state = json.loads(state_path.read_text())
        model = keras.models.load_model(ckpt_dir / "last.keras")
        cfg.arch = arch_of(model)  # the checkpoint decides; the preprocessing must be the one it trained with
        if state.get("preprocess", cfg.preprocess) != cfg.preprocess:
            raise SystemExit(f"{ckpt_dir} was trained with --preprocess '{state['preprocess']}': resume with it")
        within = f", step {state['epoch_step']} of its next" if state.get("epoch_step") else ""
        print(f"resumed at epoch {state['epoch']}{within} (best val CER {state['best_cer']:.4f})")
    else:
        model = build_crnn(len(ALPHABET) + 1, name=f"{cfg.kind}_crnn", arch=cfg.arch)
        if cfg.init_from:  # transfer: e.g. start handwriting from the printed model's weights
            init = cfg.init_from
            if storage.is_s3(init):
                init = str(storage.fetch_uri(init, ckpt_dir / "init-from.keras"))
            copied = transfer_weights(keras.models.load_model(init, compile=False), model)
            print(f"initialized {len(copied)} of {len(model.layers)} layers from {cfg.init_from}")
    state.update(arch=cfg.arch, preprocess=cfg.preprocess)  # recorded for --resume
    return model, state


def _optimizer(cfg: TrainConfig, model: Any, mixed: bool, steps_done: int, saved: Path) -> Any:
    """Adam on a cosine schedule over the whole run, at the step a resumed run stopped at, with the
    moments it had there (`saved`, when it holds that step's): fresh moments would make the first
    steps after each resume full-size, sign-of-the-gradient updates."""
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, cfg.epochs * cfg.steps_per_epoch, alpha=0.05)
    optimizer = keras.optimizers.Adam(schedule, global_clipnorm=5.0 if mixed else None)
    if mixed:
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    optimizer.build(model.trainable_variables)
    optimizer.iterations.assign(steps_done)
    if steps_done and saved.exists():
        with np.load(saved) as arrays:
            values = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
        shapes_match = [v.shape for v in values] == [tuple(v.shape) for v in optimizer.variables]
        if shapes_match and values[0].shape == () and int(values[0]) == steps_done:
            for variable, value in zip(optimizer.variables, values):
                variable.assign(value)
            print(f"restored the optimizer's state at step {steps_done}")
        else:
            print(f"note: {saved} is not the optimizer of step {steps_done}; its moments start afresh")
    return optimizer


def _save_optimizer(optimizer: Any, path: Path) -> None:
    """The optimizer's variables (its step count first), for `_optimizer` to restore."""
    np.savez(path, *[np.asarray(v.numpy()) for v in optimizer.variables])


def _train_epoch(cfg: TrainConfig, step: Any, batches_tf: Iterator, state: dict[str, Any],
                 save_progress: Callable[[], None]) -> list[float]:
    """One epoch of training steps, from where a mid-epoch checkpoint stopped; the losses.

    Every `cfg.checkpoint_minutes` the weights and the state, with the step reached in this epoch and
    its losses so far, are saved by `save_progress`: an interrupted run loses minutes, not an epoch.
    """
    losses: list[float] = state.pop("epoch_losses", [])
    first = state.pop("epoch_step", 0)
    saved = time.monotonic()
    bar = tqdm(range(first, cfg.steps_per_epoch), initial=first, total=cfg.steps_per_epoch,
               desc=f"epoch {state['epoch'] + 1}/{cfg.epochs}", unit="step")
    for i in bar:
        images, labels, lengths, steps = next(batches_tf)
        losses.append(float(step(images, labels, lengths, steps)))
        state["samples"] += int(images.shape[0])
        state["steps"] += 1
        bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
        due = cfg.checkpoint_minutes and time.monotonic() - saved >= cfg.checkpoint_minutes * 60
        if due and i + 1 < cfg.steps_per_epoch:  # the epoch's end saves its own checkpoint
            state.update(epoch_step=i + 1, epoch_losses=losses)
            save_progress()
            del state["epoch_step"], state["epoch_losses"]
            saved = time.monotonic()
    return losses


def _end_epoch(cfg: TrainConfig, model: Any, val_sets: dict[str, list], val_key: str, losses: list[float],
               state: dict[str, Any], ckpt_dir: Path) -> bool:
    """Validate, record the epoch, save the checkpoints, decide early stopping; True when the best model changed.

    With --average-last N the mean weights of the run's last N epochs so far (average.keras) are
    validated too, and saved as best.keras when they read better than every single epoch did.
    """
    epoch = state["epoch"] + 1
    scores = {name: evaluate(model, batches_) for name, batches_ in val_sets.items()}
    entry = {"epoch": epoch, "loss": float(np.mean(losses)), **_flat(scores)}
    model.save(ckpt_dir / "last.keras")
    candidates = [(scores, model, 0)]
    if cfg.average_last and epoch > cfg.epochs - cfg.average_last:
        path = ckpt_dir / "average.keras"
        members = state.get("average_members", 0) + 1 if path.exists() else 1
        average = _average_with(model, path, members)
        state["average_members"] = members
        if members >= 2:
            average_scores = {name: evaluate(average, batches_) for name, batches_ in val_sets.items()}
            entry.update({f"average_{k}": v for k, v in _flat(average_scores).items()})
            candidates.append((average_scores, average, members))
    state["epoch"] = epoch
    state["history"].append(entry)
    print(f"epoch {epoch}: " + " ".join(f"{k} {v:.4f}" for k, v in entry.items() if k == "loss" or k.endswith("_cer")),
          flush=True)
    improved = False
    for candidate_scores, candidate, averaged in candidates:
        metrics = candidate_scores[val_key[4:]]
        if metrics["cer"] < state["best_cer"]:
            state.update(best_cer=metrics["cer"], best_epoch=epoch, best_averaged=averaged, best_metrics=metrics, stale=0)
            candidate.save(ckpt_dir / "best.keras")
            improved = True
    if not improved:
        state["stale"] = state.get("stale", 0) + 1
    if state["stale"] >= cfg.patience:
        print(f"early stop: no improvement for {state['stale']} epochs")
        state["stopped"] = True
    return improved


def _flat(scores: dict[str, dict[str, float]]) -> dict[str, float]:
    """{"htr_real": {"cer": ..}} -> {"val_cer": .., "val_htr_real_cer"...}: the first (picking) set unnamed."""
    first, *others = scores
    return {**{f"val_{k}": v for k, v in scores[first].items()},
            **{f"val_{name}_{k}": v for name in others for k, v in scores[name].items()}}


def _average_with(model: Any, path: Path, members: int) -> Any:
    """The running mean of the last epochs' weights, `model` folded in as member `members`; saved to `path`."""
    import keras

    from training.model import fold_into_average

    if members == 1:
        model.save(path)
        return model
    average = keras.models.load_model(path, compile=False)
    fold_into_average(average, model, members)
    average.save(path)
    return average


def finish(cfg: TrainConfig, out: Path, registry: str, ckpt_dir: Path, state: dict[str, Any],
           training: dict[str, Any], val_key: str, root: Path | None, mixed: bool) -> Path:
    """Final export of the best model with its test-split metrics and reports; publish (and gate) when asked."""
    import keras

    from training.export import export_model
    from training.reports import curve_png

    best = ckpt_dir / "best.keras"
    if not best.exists():
        raise RuntimeError(f"no checkpoint in {ckpt_dir}: nothing to export")
    if mixed:
        best = _float32_copy(best, ckpt_dir / "best-float32.keras", cfg.kind, cfg.arch)
    batches, eval_set = test_set(cfg.kind, cfg.data, cfg.test_samples, cfg.batch_size, cfg.seed, cfg.steps, cfg.height)
    eval_set["samples"] = cfg.test_samples
    test = evaluate(keras.models.load_model(best, compile=False), batches)
    print(f"test ({eval_set['lines']} lines, {eval_set['source']}): CER {test['cer']:.4f} WER {test['wer']:.4f}", flush=True)
    version = state["version"]
    export_model(best, out, kind=cfg.kind, version=version, training=training,
                 metrics={val_key: state.get("best_metrics", {}), "test": {**test, "eval_set": eval_set}},
                 history=state["history"], data={"source": cfg.data, "hash": _data_hash(cfg, root)},
                 preprocess=cfg.steps, arch=cfg.arch)
    curve_png(state["history"], out / "reports" / "curves.png", f"{cfg.kind}@{version}: test CER {test['cer']:.4f}")
    (out / "reports" / "test.json").write_text(json.dumps({"test": test, "eval_set": eval_set}, indent=1) + "\n")
    if registry:
        from training import registry as reg

        try:
            reg.publish(out, registry)
        except reg.RegistryError as exc:  # a restarted job that had already published
            print(f"not published again: {exc}")
        if cfg.promote or cfg.force_promote:
            reg.promote(registry, cfg.kind, version, force=cfg.force_promote, batch_size=cfg.batch_size)
    return out


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    """CLI -> TrainConfig; also what the Batch job definition's Command must parse (tests check it)."""
    p = argparse.ArgumentParser(prog="python -m training.train", description=__doc__.split("\n")[0])
    p.add_argument("--kind", choices=["handwritten", "printed"], default="handwritten")
    p.add_argument("--data", default="synthetic", help="'synthetic', an IAM-layout folder, or s3://bucket/prefix of one")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--steps-per-epoch", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--val-samples", type=int, default=512)
    p.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default="", help="export folder (default runs/<kind>/<version>) or s3://bucket/prefix registry root")
    p.add_argument("--overwrite", action="store_true", help="allow --out to be a folder that already holds a model")
    p.add_argument("--version", default="", help="default (or 'auto'): the UTC date and time of the run's start")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--patience", type=int, default=6)
    p.add_argument("--threads", type=int, default=0, help="TensorFlow CPU threads (0: all)")
    p.add_argument("--init-from", default="", help="start from this .keras model's weights (same architecture, or base for --arch wide; path or s3://; 'none')")
    p.add_argument("--checkpoint-uri", default="",
                   help="s3:// prefix mirroring the checkpoints; resumes from it (in Batch, default/'auto': "
                        "<out>/_checkpoints/<kind>/<job id>)")
    p.add_argument("--checkpoint-minutes", type=float, default=10.0,
                   help="also checkpoint within an epoch this often (0: only at the end of each epoch)")
    p.add_argument("--test-samples", type=int, default=0, help="test lines: synthetic (0: 512), IAM cap (0: all)")
    p.add_argument("--promote", action="store_true", help="after publishing to --out s3://..., run the promotion gate")
    p.add_argument("--force-promote", action="store_true", help="after publishing, promote without the gate")
    p.add_argument("--promote-mode", choices=["none", "gate", "force"], default="none",
                   help="the same as a value (for the Batch job's parameter): none | gate (--promote) | force")
    p.add_argument("--precision", choices=["auto", "mixed", "float32"], default="auto",
                   help="auto: mixed_float16 when a GPU is present")
    p.add_argument("--workdir", default="", help="local export folder when --out is s3:// (default /tmp/ocr-train)")
    p.add_argument("--prefetch", type=int, default=2)
    p.add_argument("--arch", choices=["base", "wide", "tall"], default="base", help="training.model.ARCHS (kept by --resume)")
    p.add_argument("--preprocess", default="", help="extra preprocessing steps, comma-separated: isolate")
    p.add_argument("--synthetic-fraction", type=float, default=0.3,
                   help="with an htr-real folder as --data: the share of synthetic lines in each batch")
    p.add_argument("--english-boost", type=int, default=1,
                   help="with an htr-real folder: how often a pass shows the lines with w, k, th, wh or sh")
    p.add_argument("--average-last", type=int, default=0,
                   help="average the weights of the last N epochs; the mean competes with the epochs for best")
    a = p.parse_args(argv)
    mode = a.__dict__.pop("promote_mode")
    a.promote, a.force_promote = a.promote or mode == "gate", a.force_promote or mode == "force"
    # Batch job parameters cannot be left out of the command, so they say 'auto' / 'none' instead
    a.version = "" if a.version == "auto" else a.version
    a.checkpoint_uri = "" if a.checkpoint_uri == "auto" else a.checkpoint_uri
    a.init_from = "" if a.init_from == "none" else a.init_from
    return TrainConfig(**vars(a))


def main(argv: list[str] | None = None) -> None:
    print(f"exported to {train(parse_args(argv))}")


if __name__ == "__main__":
    main()
