"""The synthetic handwriting: enough hands installed, held-out hands never trained on, and
rendered lines shaped like the real crops of ../shared/htr-real (64 px high, neighbours' strokes
at the edges)."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ocr_core.alphabet import ALPHABET
from training import fonts, synth

ROOT = Path(__file__).resolve().parents[1]


def _rendered_with_fonts(monkeypatch: pytest.MonkeyPatch, sampler, count: int, seed: int):
    """Render `count` lines, recording the font file and text each was drawn with."""
    used: list[tuple[str, str]] = []
    page_strip = synth._page_strip

    def recording(rng, font_path, text, xh):
        used.append((font_path, text))
        return page_strip(rng, font_path, text, xh)

    monkeypatch.setattr(synth, "_page_strip", recording)
    rng = random.Random(seed)
    samples = [sampler(rng) for _ in range(count)]
    return samples, used


def test_at_least_80_handwriting_families_are_installed() -> None:
    families = fonts.by_family(fonts.handwriting_fonts("all"))
    npm = {family for family, _, _ in fonts.font_list()}
    assert len(families) >= 80, f"only {len(families)} handwriting families: run ./dev.sh setup"
    assert npm <= set(families), f"pinned fonts missing from {fonts.FONT_CACHE}: {sorted(npm - set(families))}"
    assert not any("comic" in f.lower() or "havana" in f.lower() for fs in families.values() for f in fs)


def test_held_out_hands_are_used_for_validation_only(monkeypatch: pytest.MonkeyPatch) -> None:
    train = set(fonts.by_family(fonts.handwriting_fonts("train")))
    assert set(fonts.by_family(fonts.handwriting_fonts("validation"))) == fonts.VALIDATION_FAMILIES
    assert not train & fonts.VALIDATION_FAMILIES and len(train) >= 80 - len(fonts.VALIDATION_FAMILIES)
    _, used = _rendered_with_fonts(monkeypatch, synth.SAMPLERS["handwritten"], 150, seed=3)
    trained_on = {fonts.family_of(path) for path, _ in used}
    assert len(trained_on) > 40 and not trained_on & fonts.VALIDATION_FAMILIES
    _, used = _rendered_with_fonts(monkeypatch, synth.VALIDATION_SAMPLERS["handwritten"], 30, seed=4)
    assert {fonts.family_of(path) for path, _ in used} <= fonts.VALIDATION_FAMILIES


def test_rendered_lines_are_like_real_crops(monkeypatch: pytest.MonkeyPatch) -> None:
    samples, used = _rendered_with_fonts(monkeypatch, synth.SAMPLERS["handwritten"], 80, seed=11)
    fragments = inked = 0
    for (gray, text), (font_path, drawn) in zip(samples, used):
        assert gray.dtype == np.uint8 and gray.shape[0] == synth.OUT_HEIGHT and gray.shape[1] >= 16
        assert text == drawn and text.strip() and set(text) <= set(ALPHABET)
        assert set(text) - {" "} <= fonts.charset(font_path), f"{font_path} cannot draw {text!r}"
        paper = np.percentile(gray, 90)
        inked += paper - np.percentile(gray, 1) > 40  # ink on paper (real crops: a few faint pencil lines)
        edges = np.concatenate([gray[:3], gray[-3:]])
        fragments += bool((edges < paper - 60).mean() > 0.005)  # strokes cut by the top or bottom edge
    assert inked >= 0.95 * len(samples)
    assert 0.2 * len(samples) < fragments < len(samples)  # like real crops: often, not always
    assert len({len(t) for _, t in samples}) > 10  # short and long lines


def _bin_with(tmp_path: Path, *tools: str) -> str:
    """A PATH holding only these tools (so a script that needs npm would fail)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in tools:
        (bin_dir / tool).symlink_to(shutil.which(tool))
    return str(bin_dir)


def test_font_install_does_nothing_when_fonts_are_there(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": _bin_with(tmp_path, "dirname", "mkdir")}  # no npm, no tar
    done = subprocess.run(["/bin/bash", "training/install-fonts.sh"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    env["OCR_FONT_CACHE"] = str(tmp_path / "empty-cache")  # nothing there: it must fetch, and cannot
    missing = subprocess.run(["/bin/bash", "training/install-fonts.sh"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert missing.returncode != 0 and "npm is needed" in missing.stderr


def test_receipt_and_book_faces_are_installed_and_held_out_faces_never_trained_on(monkeypatch: pytest.MonkeyPatch) -> None:
    npm = {family for family, _, _, _ in fonts.printed_font_list()}
    installed = set(fonts.by_family(fonts.receipt_fonts("all") + fonts.book_fonts("all")))
    assert npm <= installed, f"pinned fonts missing from {fonts.FONT_CACHE}: {sorted(npm - installed)}"
    assert fonts.PRINTED_HELD_OUT <= npm
    train = set(fonts.by_family(fonts.receipt_fonts("train") + fonts.book_fonts("train")))
    assert len(train) >= 40 and not train & fonts.PRINTED_HELD_OUT
    held = set(fonts.by_family(fonts.receipt_fonts("validation") + fonts.book_fonts("validation")))
    assert held == fonts.PRINTED_HELD_OUT

    used: list[str] = []
    real_font = synth._font

    def recording(path: str, size: int):
        used.append(path)
        return real_font(path, size)

    monkeypatch.setattr(synth, "_font", recording)
    for i in range(120):
        synth.printed_sample(random.Random(i))
    assert {fonts.family_of(p) for p in used} & train and not {fonts.family_of(p) for p in used} & fonts.PRINTED_HELD_OUT
    used.clear()
    for i in range(30):
        synth.receipt_validation_sample(random.Random(i))
    assert {fonts.family_of(p) for p in used} <= fonts.PRINTED_HELD_OUT


def test_receipt_lines_are_small_print_with_their_text() -> None:
    samples = [synth.receipt_sample(random.Random(500 + i)) for i in range(60)]
    heights = [gray.shape[0] for gray, _ in samples]
    assert np.median(heights) < 26  # mostly small print: x-height 6-9 px, crops of ~10-25 px
    texts = [text for _, text in samples]
    assert all(t == " ".join(t.split()) and t and set(t) <= set(ALPHABET) for t in texts)
    assert sum(t.isupper() or not any(c.isalpha() for c in t) for t in texts) > 0.6 * len(texts)  # till print is upper case
    assert any("$" in t for t in texts) and any(any(c.isdigit() for c in t) for t in texts)
    page, lines = synth.receipt_page(random.Random(1))
    assert page.dtype == np.uint8 and page.shape[0] > 10 * 12 and 12 <= len(lines) <= 25
