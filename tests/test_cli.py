"""The `ocr` command as users run it: stdout holds only the output, stdin, folders, -o, formats, exit codes.

Most cases run `cli.main` in-process with the library's engine (models load once); the stdout/stderr
separation and `python -m ocr_core` are checked in a real subprocess, as a shell would run them.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from conftest import REPO, TEST_DATA
from PIL import Image

import ocr_core
from ocr_core import cli
from ocr_core.metrics import cer
from ocr_core.reader import _engine

PDF = TEST_DATA / "two-pages.pdf"
SCAN = TEST_DATA / "printed-scan.tif"
SCAN_TXT = (TEST_DATA / "printed-scan.txt").read_text()
PDF_PAGES = [t.strip() for t in (TEST_DATA / "two-pages.txt").read_text().split("\f")]


@pytest.fixture(autouse=True)
def shared_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    import ocr_core.engine

    engine = _engine()  # the library's cached engine: models load once for the module
    monkeypatch.setattr(ocr_core.engine, "OcrEngine", lambda: engine)


def run_main(args: list[str], capsysbinary: pytest.CaptureFixture[bytes]) -> tuple[int, bytes, str]:
    code = cli.main(args)
    out, err = capsysbinary.readouterr()
    return code, out, err.decode()


def test_txt_to_stdout_is_only_the_text_with_form_feeds(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, err = run_main([str(PDF), "--mode", "printed"], capsysbinary)
    assert code == 0
    pages = out.decode().split("\f")
    assert len(pages) == 2 and all(cer(t, p.strip()) < 0.05 for t, p in zip(PDF_PAGES, pages)), pages
    assert "confidence" not in out.decode() and "#" not in out.decode()  # no header in the text


def test_formats_to_stdout_and_to_files(capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path) -> None:
    code, out, _ = run_main([str(SCAN), "--mode", "printed", "--format", "tsv"], capsysbinary)
    assert code == 0 and out.decode().splitlines()[0].startswith("level\tpage_num")
    code, out, _ = run_main([str(SCAN), "--mode", "printed", "--json"], capsysbinary)
    doc = json.loads(out)
    assert code == 0 and doc["file"] == str(SCAN) and cer(SCAN_TXT, doc["text"]) < 0.05
    target = tmp_path / "scan.pdf"
    code, out, err = run_main([str(PDF), "--mode", "printed", "-f", "pdf", "-o", str(target), "--dpi", "200",
                               "--overlay", str(tmp_path / "boxes.png")], capsysbinary)
    assert code == 0 and out == b"", err
    doc = pdfium.PdfDocument(target.read_bytes())
    assert [cer(t, doc[i].get_textpage().get_text_range()) < 0.05 for i, t in enumerate(PDF_PAGES)] == [True, True]
    assert Image.open(tmp_path / "boxes.png").height > 2 * 154  # both pages drawn


def test_folders_are_walked_into_an_output_folder(capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path) -> None:
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "scan.tif").write_bytes(SCAN.read_bytes())
    (src / "report.pdf").write_bytes(PDF.read_bytes())
    (src / "notes.md").write_text("not an image: skipped by the walk")
    out_dir = tmp_path / "out"
    code, out, err = run_main([str(src), "-o", str(out_dir), "-f", "alto", "--mode", "printed"], capsysbinary)
    assert code == 0 and out == b"", err
    assert sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*")) == \
        ["report.pdf.alto.xml", "sub", "sub/scan.tif.alto.xml"]
    assert b"<Page " in (out_dir / "report.pdf.alto.xml").read_bytes()


def test_exit_codes_and_messages(capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    code, out, err = run_main([str(SCAN), str(bad), str(tmp_path / "missing.png"), "--mode", "printed"], capsysbinary)
    assert code == 1  # some inputs failed, the others were still written
    assert cer(SCAN_TXT, out.decode()) < 0.05  # stdout: only the good file's text
    assert f"{bad}:" in err and "missing.png: cannot read file" in err
    with pytest.raises(SystemExit) as usage:
        cli.main(["--format", "docx", str(SCAN)])
    assert usage.value.code == 2
    for dpi in ("5000", "²", "abc"):  # checked before reading: bad usage, not an unreadable PDF (was exit 1)
        with pytest.raises(SystemExit) as usage:
            cli.main([str(PDF), "--dpi", dpi])
        assert usage.value.code == 2 and "dpi must be a whole number" in capsysbinary.readouterr().err.decode()
    code, _, err = run_main([str(SCAN), str(PDF), "-f", "hocr"], capsysbinary)
    assert code == 2 and "-o FOLDER" in err  # several hOCR documents cannot share stdout
    with pytest.raises(SystemExit) as version:
        cli.main(["--version"])
    assert version.value.code == 0 and ocr_core.__version__ in capsysbinary.readouterr().out.decode()


def test_missing_models_exit_3_with_a_hint(capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import ocr_core.engine

    engine_class = type(_engine())  # the real class (the fixture replaced the module's name)
    monkeypatch.setenv("OCR_MODEL_DIR", str(tmp_path))  # an empty model folder
    monkeypatch.setattr(ocr_core.engine, "OcrEngine", lambda: engine_class(detector="opencv"))
    code, out, err = run_main([str(SCAN), "--mode", "printed"], capsysbinary)
    assert code == 3 and out == b"" and "OCR_MODEL_DIR" in err, err


def test_stdin_and_python_m_in_a_real_process() -> None:
    """`cat scan | python -m ocr_core -` : text on stdout, nothing else; TensorFlow's chatter stays on stderr."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run([sys.executable, "-m", "ocr_core", "-", "--mode", "printed", "-v"], input=SCAN.read_bytes(),
                         capture_output=True, timeout=300, env=env, cwd=REPO)
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    assert cer(SCAN_TXT, run.stdout.decode()) < 0.05, run.stdout
    assert "-: 1 page(s), printed" in run.stderr.decode()
    assert "\x1b" not in run.stderr.decode() and "it/s" not in run.stderr.decode()  # no progress bar: not a terminal


def test_read_from_stdin_in_process(capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(PDF.read_bytes())))
    code, out, _ = run_main(["-", "--mode", "printed", "-f", "jsonl"], capsysbinary)
    rows = [json.loads(r) for r in out.decode().splitlines()]
    assert code == 0 and [r["page"] for r in rows] == [1, 2]


def test_readme_library_example_runs() -> None:
    """The README's three-line library example, run as written (the docs are what we test)."""
    import re

    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    code = next(b for b in blocks if "from ocr_core import read" in b)
    assert len(code.strip().splitlines()) <= 3
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO)
    assert run.returncode == 0, run.stderr[-2000:]
    assert cer((REPO / "samples" / "printed-letter.txt").read_text(), run.stdout) < 0.1, run.stdout
