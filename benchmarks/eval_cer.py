"""Per-file and mean CER of our engine and Tesseract on ../shared/dev-eval, side by side.

    python -m benchmarks.eval_cer [--sets printed handwritten ...] [--limit N] [--out FILE]

Sets: the dev-eval folders (`printed`, `handwritten`, `handwritten-warped`, `handwritten-real-en`),
`printed-rot90`, `printed-rot180` and `printed-rot270` (the printed pages turned clockwise by that
much, in memory, as a sideways or upside-down scan arrives: ours must find the way up; Tesseract
gets the same images with its default --psm 3, which does no orientation detection, as a user
running `tesseract page.png out` gets), `htr-real-val`, the val split of ../shared/htr-real (real French lines; that split picks the
handwriting model's checkpoints, so it is not a held-out test like dev-eval), and
`synthetic-receipts` (till-receipt lines) and `synthetic-receipt-pages` (whole slips), rendered by
the benchmark from fixed seeds in till faces training never sees (`benchmarks.synthetic_receipts`).
Ours runs in the mode that fits the set (printed / handwritten) and in `auto`; Tesseract 5 runs with --psm 3 on pages and
--psm 7 on single lines (ours with layout `line` there, the same instruction), `-l eng` (plus `fra`
on htr-real-val when installed; ours then gets the same languages' word lists, `OCR_LEXICON=en+fr`,
unless OCR_LEXICON is set). CER = edit distance / reference length after collapsing whitespace
(ocr_core.metrics.cer).

`--runtimes onnx keras` (the default) scores ours under each runtime (onnx: the served ONNX export;
keras: the Keras source model) and reports the CER difference in points: the export must not change
accuracy. The per-file columns are the first runtime's.

For the real handwriting sets the report also lists the letters ours reads wrong most often, beside
each letter's share of the htr-real training lines: a letter the real hands hardly show is learnt
from fonts only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image
from rapidfuzz.distance import Levenshtein
from tqdm import tqdm

from benchmarks.reporting import publish
from ocr_core.engine import OcrEngine
from ocr_core.lexicon import Lexicon, lexicon_languages
from ocr_core.metrics import cer, wer
from ocr_core.model_store import ModelStore

SHARED = Path(__file__).resolve().parents[2] / "shared"
DEV_EVAL = SHARED / "dev-eval"
HTR_REAL = SHARED / "htr-real"
SETS = {"printed": ("printed", 3), "printed-rot90": ("printed", 3), "printed-rot180": ("printed", 3),
        "printed-rot270": ("printed", 3), "handwritten": ("handwritten", 7), "handwritten-warped": ("handwritten", 7),
        "handwritten-real-en": ("handwritten", 7), "htr-real-val": ("handwritten", 7),
        "synthetic-receipts": ("printed", 7), "synthetic-receipt-pages": ("printed", 3)}
TURNED = {"printed-rot90": 90, "printed-rot180": 180, "printed-rot270": 270}  # set -> clockwise degrees
TURN_TARGET = 0.5  # CER points a turned set may lose against the upright one (issue 11)
REAL_HANDS = ("handwritten-real-en", "htr-real-val")  # sets whose letter errors the report lists
LETTER_ROWS = 15


def samples(name: str) -> list[tuple[Path, str]]:
    """(image, ground truth) of a set."""
    if name == "htr-real-val":
        from training.htr_real import read_split

        return [(line.path, line.text) for line in read_split(HTR_REAL, "val")]
    if name.startswith("synthetic-receipt"):
        from benchmarks import synthetic_receipts

        return synthetic_receipts.pages() if name.endswith("pages") else synthetic_receipts.lines()
    files = sorted(f for f in (DEV_EVAL / name.split("-rot")[0]).iterdir() if f.suffix in (".png", ".tif"))
    return [(f, f.with_suffix(".txt").read_text(encoding="utf-8")) for f in files]


def image_bytes(path: Path, turn: int) -> bytes:
    """The file's bytes, or (turn > 0) the image turned clockwise by `turn` degrees as a PNG (its dpi kept)."""
    if not turn:
        return path.read_bytes()
    with Image.open(path) as img:
        turned = img.rotate(-turn, expand=True)  # PIL turns counter-clockwise
        out = io.BytesIO()
        turned.save(out, "PNG", **({"dpi": img.info["dpi"]} if "dpi" in img.info else {}))
    return out.getvalue()


def tesseract_text(path: Path, psm: int, lang: str = "eng", data: bytes | None = None) -> str:
    """Tesseract's text of the file, or of `data` (an image in memory, through stdin)."""
    source = "stdin" if data is not None else str(path)
    try:
        out = subprocess.run(["tesseract", source, "stdout", "-l", lang, "--psm", str(psm)],
                             input=data, capture_output=True, timeout=120)
        return out.stdout.decode("utf-8", "replace")
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _tesseract_lang(name: str) -> str:
    have = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout.split()
    return "eng+fra" if name == "htr-real-val" and "fra" in have else "eng"


def _use_word_lists(engine: OcrEngine, tesseract_lang: str) -> None:
    """Ours respells with the languages Tesseract reads ('eng+fra' -> OCR_LEXICON 'en+fr'), unless OCR_LEXICON is set."""
    setting = os.environ.get("OCR_LEXICON") or "+".join({"eng": "en", "fra": "fr"}[t] for t in tesseract_lang.split("+"))
    languages = lexicon_languages(setting)
    engine.lexicon = Lexicon.load_languages(engine.store.local_dir("lexicon"), languages) if languages else None


def letter_errors(name: str, pairs: list[tuple[str, str]]) -> list[str]:
    """Markdown rows: the letters of the truths read wrong (replaced or dropped) most often, each
    with its share of this set's letters and of the htr-real training lines' letters."""
    from training.htr_real import read_split

    seen, wrong = Counter(), Counter()
    for truth, ours in pairs:
        truth, ours = " ".join(truth.split()), " ".join(ours.split())
        seen.update(truth.replace(" ", ""))
        wrong.update(truth[op.src_pos] for op in Levenshtein.editops(truth, ours)
                     if op.tag in ("replace", "delete") and truth[op.src_pos] != " ")
    trained = Counter("".join(line.text for line in read_split(HTR_REAL, "train")).replace(" ", ""))
    n_seen, n_trained = sum(seen.values()), sum(trained.values()) or 1
    return [f"| {name} | `{ch}` | {seen[ch]} | {n / seen[ch]:.0%} | {seen[ch] / n_seen:.2%} | {trained[ch] / n_trained:.2%} |"
            for ch, n in wrong.most_common(LETTER_ROWS)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    p.add_argument("--limit", type=int, default=0, help="at most N images per set (quick runs)")
    p.add_argument("--runtimes", nargs="+", default=["onnx", "keras"], choices=["onnx", "keras"],
                   help="runtimes to score ours with; the first one is the per-file columns")
    p.add_argument("--out", type=Path, default=Path("benchmarks/reports/eval_cer.md"))
    a = p.parse_args(argv)
    engines = {rt: OcrEngine(ModelStore(runtime=rt), detector="opencv") for rt in a.runtimes}
    main_rt = a.runtimes[0]
    engine = engines[main_rt]
    rows, summary, parity, set_cer, letters = [], [], [], {}, []
    for name in a.sets:
        mode, psm = SETS[name]
        files = samples(name)
        files = files[: a.limit] if a.limit else files
        lang = _tesseract_lang(name)
        for eng in engines.values():
            _use_word_lists(eng, lang)
        scores: dict[str, list[float]] = {"tesseract": [], "ours_wer": [], "tess_wer": []}
        turn = TURNED.get(name, 0)
        read: list[tuple[str, str]] = []
        for f, truth in tqdm(files, desc=name, unit="image", file=sys.stderr):
            data = image_bytes(f, turn)
            layout = "line" if psm == 7 else "auto"  # line sets: a line crop, as Tesseract's --psm 7 is told
            texts = {}
            for rt, eng in engines.items():
                texts[rt] = eng.read(data, mode=mode, layout=layout).text
                scores.setdefault(f"ours:{rt}", []).append(cer(truth, texts[rt]))
                scores.setdefault(f"auto:{rt}", []).append(cer(truth, eng.read(data, mode="auto", layout=layout).text))
            ours = texts[main_rt]
            read.append((truth, ours))
            tess = tesseract_text(f, psm, lang, data if turn else None)
            scores["tesseract"].append(cer(truth, tess))
            scores["ours_wer"].append(wer(truth, ours))
            scores["tess_wer"].append(wer(truth, tess))
            rows.append(f"| {name} | {f.parent.name}/{f.name} | {scores[f'ours:{main_rt}'][-1]:.3f} | "
                        f"{scores[f'auto:{main_rt}'][-1]:.3f} | {scores['tesseract'][-1]:.3f} | `{' '.join(ours.split())[:70]}` |")
        means = {k: float(np.mean(v)) for k, v in scores.items()}
        if name in REAL_HANDS and HTR_REAL.is_dir():
            letters += letter_errors(name, read)
        set_cer[name] = (means[f"ours:{main_rt}"], means["tesseract"])
        summary.append(f"| {name} | {len(files)} | {mode} | **{means[f'ours:{main_rt}']:.2%}** | {means[f'auto:{main_rt}']:.2%} | "
                       f"{means['tesseract']:.2%} ({lang}) | {means['ours_wer']:.2%} | {means['tess_wer']:.2%} |")
        if len(a.runtimes) > 1:
            other = a.runtimes[1]
            d, d_auto = (100 * (means[f"{k}:{main_rt}"] - means[f"{k}:{other}"]) for k in ("ours", "auto"))
            parity.append(f"| {name} | {means[f'ours:{main_rt}']:.2%} | {means[f'ours:{other}']:.2%} | {d:+.2f} | "
                          f"{means[f'auto:{main_rt}']:.2%} | {means[f'auto:{other}']:.2%} | {d_auto:+.2f} | "
                          f"{'yes' if max(abs(d), abs(d_auto)) <= 0.2 else '**no**'} |")
    turned = [f"| {name} | {set_cer[name][0]:.2%} | {set_cer['printed'][0]:.2%} | "
              f"{100 * (set_cer[name][0] - set_cer['printed'][0]):+.2f} | {set_cer[name][1]:.2%} | "
              f"{'yes' if set_cer[name][0] - set_cer['printed'][0] <= TURN_TARGET / 100 else '**no**'} |"
              for name in TURNED if name in set_cer and "printed" in set_cer]
    versions = engine.model_versions()
    report = "\n".join([
        f"# CER on ../shared/dev-eval and synthetic receipts ({dt.date.today()})", "",
        f"Command: `python -m benchmarks.eval_cer {' '.join(argv or sys.argv[1:])}`; {os.cpu_count()} cores; "
        f"models: printed {versions['printed']}, handwritten {versions['handwritten']}; detector {versions['detector']}; "
        f"lexicon correction {os.environ.get('OCR_LEXICON') or 'on, in the language Tesseract gets'}; "
        "Tesseract 5 (its language per set in the table).", "",
        "| set | images | our mode | ours CER | ours (auto) CER | Tesseract CER | ours WER | Tesseract WER |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |", *summary, "",
        *([f"Turned pages (the printed pages turned clockwise; target: ours within {TURN_TARGET} CER points of upright; "
           "Tesseract with its default --psm 3, no orientation detection):", "",
           "| set | ours CER | ours upright | diff (points) | Tesseract CER | within target |",
           "| --- | --- | --- | --- | --- | --- |", *turned, ""] if turned else []),
        *([f"Ours above: the {main_rt} runtime. Runtime parity, {a.runtimes[0]} vs {a.runtimes[1]} (difference in "
           "CER points; target: within 0.2):", "",
           f"| set | {a.runtimes[0]} | {a.runtimes[1]} | diff | auto {a.runtimes[0]} | auto {a.runtimes[1]} | diff | within 0.2 |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |", *parity, ""] if parity else []),
        *(["Letters ours reads wrong most often on real hands (replaced or dropped; spaces left out), beside each "
            "letter's share of the set's letters and of the htr-real training lines' letters:", "",
            "| set | letter | in the truths | read wrong | share of the set's letters | share of htr-real train letters |",
            "| --- | --- | --- | --- | --- | --- |", *letters, ""] if letters else []),
        "| set | file | ours | auto | Tesseract | our text |", "| --- | --- | --- | --- | --- | --- |", *rows, "",
    ])
    return publish(report, a.out)


if __name__ == "__main__":
    sys.exit(main())
