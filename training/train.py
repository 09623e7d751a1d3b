"""Train and export a CRNN recognizer: `python -m training.train --kind handwritten --epochs 10`.

`train(TrainConfig)` is the single entry point: the CLI below, the GPU batch job and the
tests all call it. Data is synthetic (rendered on the fly, see `training.synth`) or an IAM
folder (`--data ./data/iam`). Each epoch ends with a validation CER, a checkpoint that
`--resume` continues from, and the best model so far exported with its manifest.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ocr_core.alphabet import ALPHABET
from ocr_core.ctc import greedy_decode
from ocr_core.metrics import cer, wer


@dataclass
class TrainConfig:
    kind: str = "handwritten"  # handwritten | printed
    data: str = "synthetic"  # synthetic | path to an IAM-layout folder
    epochs: int = 10
    steps_per_epoch: int = 200
    batch_size: int = 32
    learning_rate: float = 1e-3
    val_samples: int = 512
    workers: int = 1  # processes rendering synthetic data
    seed: int = 1
    out: str = ""  # export folder; default models/<kind>
    version: str = ""  # default: date-based
    resume: bool = False
    patience: int = 6  # early stopping: epochs without validation improvement
    threads: int = 0  # TensorFlow CPU threads (0 = all cores)
    init_from: str = ""  # a .keras model of the same architecture to start from
    extra: dict = field(default_factory=dict)


def _train_step_fn(model, optimizer):
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def step(images, labels, label_lengths, steps):
        with tf.GradientTape() as tape:
            probs = model(images, training=True)
            loss = tf.reduce_mean(
                tf.nn.ctc_loss(
                    labels=labels, logits=tf.math.log(probs + 1e-8), label_length=label_lengths,
                    logit_length=steps, logits_time_major=False, blank_index=-1,
                )
            )
        grads = tape.gradient(loss, model.trainable_variables)
        grads, _ = tf.clip_by_global_norm(grads, 5.0)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return step


def evaluate(model, batches_) -> dict[str, float]:
    """Greedy-decode every validation line; mean CER/WER and exact-line accuracy."""
    cers, wers, exact = [], [], []
    for b in batches_:
        probs = model.predict_on_batch(b.images)
        for p, n, text in zip(probs, b.steps, b.texts):
            hyp = greedy_decode(p[:n], ALPHABET).text
            cers.append(cer(text, hyp))
            wers.append(wer(text, hyp))
            exact.append(hyp == text)
    return {"cer": float(np.mean(cers)), "wer": float(np.mean(wers)), "line_accuracy": float(np.mean(exact))}


def _data_source(cfg: TrainConfig):
    from training import data

    if cfg.data == "synthetic":
        val = list(data.batches(data.synthetic_samples(cfg.kind, 999_999, cfg.val_samples, 0), cfg.batch_size))
        train = data.batches(data.synthetic_samples(cfg.kind, cfg.seed, None, cfg.workers), cfg.batch_size)
        return train, val, {"source": "synthetic", "kind": cfg.kind}
    from training import iam

    return iam.train_val_batches(Path(cfg.data), cfg.batch_size, cfg.seed)


def train(cfg: TrainConfig) -> Path:
    """Train, checkpoint every epoch, export the best model + manifest; returns the export dir."""
    import keras
    import tensorflow as tf

    from training.export import export_model

    if cfg.threads:
        tf.config.threading.set_intra_op_parallelism_threads(cfg.threads)
        tf.config.threading.set_inter_op_parallelism_threads(cfg.threads)
    from training.model import build_crnn

    out = Path(cfg.out or f"models/{cfg.kind}")
    ckpt_dir = out.parent / f".{out.name}-checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    state_path = ckpt_dir / "state.json"
    state = {"epoch": 0, "best_cer": 1e9, "history": [], "steps": 0, "samples": 0}
    if cfg.resume and state_path.exists():
        state = json.loads(state_path.read_text())
        model = keras.models.load_model(ckpt_dir / "last.keras")
        print(f"resumed at epoch {state['epoch']} (best val CER {state['best_cer']:.4f})")
    else:
        model = build_crnn(len(ALPHABET) + 1, name=f"{cfg.kind}_crnn")
        if cfg.init_from:  # transfer: e.g. start handwriting from the printed model's weights
            model.set_weights(keras.models.load_model(cfg.init_from, compile=False).get_weights())
            print(f"initialized from {cfg.init_from}")
    total_steps = cfg.epochs * cfg.steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, total_steps, alpha=0.05)
    optimizer = keras.optimizers.Adam(schedule)
    optimizer.build(model.trainable_variables)
    optimizer.iterations.assign(state["steps"])
    step = _train_step_fn(model, optimizer)
    train_batches, val_batches, data_info = _data_source(cfg)
    started = time.time()
    stale = 0
    for epoch in range(state["epoch"], cfg.epochs):
        losses = []
        bar = tqdm(range(cfg.steps_per_epoch), desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="step")
        for _ in bar:
            b = next(train_batches)
            loss = float(step(b.images, b.labels, b.label_lengths, b.steps))
            losses.append(loss)
            state["samples"] += len(b.texts)
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
        state["steps"] += cfg.steps_per_epoch
        metrics = evaluate(model, val_batches)
        state["epoch"] = epoch + 1
        state["history"].append({"epoch": epoch + 1, "loss": float(np.mean(losses)), **{f"val_{k}": v for k, v in metrics.items()}})
        print(f"epoch {epoch + 1}: loss {np.mean(losses):.3f} val CER {metrics['cer']:.4f} WER {metrics['wer']:.4f}", flush=True)
        model.save(ckpt_dir / "last.keras")
        if metrics["cer"] < state["best_cer"]:
            state["best_cer"] = metrics["cer"]
            stale = 0
            model.save(ckpt_dir / "best.keras")
            export_model(
                ckpt_dir / "best.keras", out, kind=cfg.kind, version=cfg.version,
                training={**asdict(cfg), "data": data_info, "epochs_done": epoch + 1, "steps": state["steps"],
                          "samples_seen": state["samples"], "seconds": round(time.time() - started)},
                metrics={"val_synthetic": metrics}, history=state["history"],
            )
        else:
            stale += 1
        state_path.write_text(json.dumps(state, indent=1))
        if stale >= cfg.patience:
            print(f"early stop: no improvement for {stale} epochs")
            break
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--kind", choices=["handwritten", "printed"], default="handwritten")
    p.add_argument("--data", default="synthetic", help="'synthetic' or an IAM-layout folder")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--steps-per-epoch", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--val-samples", type=int, default=512)
    p.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default="")
    p.add_argument("--version", default="")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--patience", type=int, default=6)
    p.add_argument("--threads", type=int, default=0, help="TensorFlow CPU threads (0: all)")
    p.add_argument("--init-from", default="", help="start from this .keras model's weights (same architecture)")
    a = p.parse_args(argv)
    cfg = TrainConfig(**{k: v for k, v in vars(a).items()})
    print(f"exported to {train(cfg)}")


if __name__ == "__main__":
    main()
