"""Reading a handwritten line at several widths and keeping the surest reading: CER and cost.

    python -m benchmarks.read_widths [--every K] [--out FILE]

`ocr_core.recognize.READ_STRETCHES` is chosen from this. Each candidate set of stretches (times the
line's own aspect at the model's input height) is read through `CrnnRecognizer.read_lines`, which
keeps, per line, the reading with the highest confidence. Sets, never dev-eval: `htr-real-val`, the
val split of ../shared/htr-real (real French lines, word lists en+fr as in benchmarks.eval_cer), and
300 synthetic lines in the validation hands training never sees (fixed seed, word list en). The cost
is CPU milliseconds per line of this process (the model runs and the lexicon), on a busy machine
only comparable within one run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchmarks.eval_cer import HTR_REAL
from benchmarks.reporting import publish
from ocr_core.engine import OcrEngine
from ocr_core.lexicon import Lexicon
from ocr_core.metrics import cer
from ocr_core.recognize import READ_STRETCHES, CrnnRecognizer

CANDIDATES = [(1.0,), (1.25,), (1.0, 1.25), (1.0, 0.8, 1.25), (1.0, 0.9, 1.25, 1.5)]
SYNTHETIC_SEED = 20_261_203
SYNTHETIC_LINES = 300


def sets(every: int) -> dict[str, tuple[list[np.ndarray], list[str], tuple[str, ...]]]:
    """name -> (gray lines, truths, word-list languages)."""
    from training.htr_real import load, read_split
    from training.synth import handwritten_validation_sample

    real = read_split(HTR_REAL, "val")[::every]
    rng = random.Random(SYNTHETIC_SEED)
    synthetic = [handwritten_validation_sample(rng) for _ in range(SYNTHETIC_LINES)]
    return {"htr-real-val": ([load(line) for line in real], [line.text for line in real], ("en", "fr")),
            "synthetic validation hands": ([g for g, _ in synthetic], [t for _, t in synthetic], ("en",))}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.read_widths")
    p.add_argument("--every", type=int, default=1, help="every K-th htr-real val line")
    p.add_argument("--out", type=Path, default=Path("benchmarks/reports/read_widths.md"))
    a = p.parse_args(argv)
    engine = OcrEngine(detector="opencv")
    loaded = engine.recognizer("handwritten").loaded
    rows = []
    for name, (grays, truths, languages) in sets(a.every).items():
        shared = Lexicon.load_languages(engine.store.local_dir("lexicon"), languages)
        CrnnRecognizer(loaded, (1.0,)).read_lines(grays[:8], "greedy", shared)  # warm: the first run is dearer
        for stretches in tqdm(CANDIDATES, desc=name):
            lexicon = Lexicon(shared.words, shared.zipf)  # empty caches: each candidate pays for its own respellings
            t = time.process_time()
            readings = CrnnRecognizer(loaded, stretches).read_lines(grays, "greedy", lexicon)
            ms = 1000 * (time.process_time() - t) / len(grays)
            mark = " (chosen)" if stretches == READ_STRETCHES["handwritten"] else ""
            rows.append(f"| {name} | {len(grays)} | {', '.join(map(str, stretches))}{mark} | "
                        f"{np.mean([cer(x, r.text) for x, r in zip(truths, readings)]):.2%} | {ms:.1f} |")
    report = "\n".join([
        f"# Handwriting read at several widths ({dt.date.today()})", "",
        f"Command: `python -m benchmarks.read_widths{f' --every {a.every}' if a.every > 1 else ''}`; model "
        f"{engine.recognizer('handwritten').version} ({loaded.runtime}); decoded as served (word-model beam search, then respelling).", "",
        "| set | lines | stretches read (surest kept) | CER | CPU ms / line |", "| --- | --- | --- | --- | --- |", *rows, ""])
    return publish(report, a.out)


if __name__ == "__main__":
    raise SystemExit(main())
