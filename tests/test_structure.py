"""The shape of the house: the import graph of our packages has no cycle.

Every import counts, also the ones hidden inside functions (a lazy import still makes the two
modules depend on each other). Built with the stdlib `ast`, so it needs nothing installed and
reads the source as written.
"""

from __future__ import annotations

import ast
import json
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("ocr_core", "training", "functions")


def module_name(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = REPO, packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    """module -> the modules of `packages` it imports (anywhere in its body).

    `from pkg import name` is an edge to `pkg.name` when that is a module, else to `pkg`. An edge
    from a module to one of its own parent packages is left out: Python runs a package's
    `__init__` before any of its modules, so that is never a loop of ours.
    """
    files = {module_name(p, root): p for pkg in packages for p in (root / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        edges: set[str] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            for target in targets:
                while target and target not in files:  # `import a.b.c` where only a.b is ours
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    edges.add(target)
        graph[name] = edges
    return graph


def test_the_graph_sees_lazy_imports() -> None:
    graph = import_graph()
    # finish() imports the registry inside the function: still an edge
    assert "training.registry" in graph["training.train"]
    assert "ocr_core.engine" in graph["ocr_core.reader"]


def test_no_import_cycle() -> None:
    try:
        TopologicalSorter(import_graph()).prepare()
    except CycleError as err:
        pytest.fail(f"import cycle: {' -> '.join(err.args[1])}")


def test_a_hidden_cycle_would_be_found(tmp_path: Path) -> None:
    """The check can fail: two modules importing each other, one of them inside a function."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from pkg import b\n    return b\n")
    (pkg / "b.py").write_text("from .a import f\n")
    graph = import_graph(tmp_path, ("pkg",))
    assert graph == {"pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"}}
    with pytest.raises(CycleError):
        TopologicalSorter(graph).prepare()


# ----------------------------------------------------------------------------- one vocabulary
CODE_ARG = {"ApiError": 0, "error_response": 1, "_error": 0,  # where each call takes its error code
            "OcrError": 1, "BadRequestError": 1, "InvalidImageError": 1, "ModelError": 1, "DeadlineExceeded": 1}


def error_codes_in_source() -> dict[str, str]:
    """Every error code a call in ocr_core/, functions/ or layers/ raises or answers: code -> where."""
    found: dict[str, str] = {}
    for folder in ("ocr_core", "functions", "layers"):
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if name not in CODE_ARG:
                    continue
                args = [*node.args, *(k.value for k in node.keywords if k.arg == "code")]
                index = CODE_ARG[name] if len(node.args) > CODE_ARG[name] else len(node.args)
                if index < len(args) and isinstance(args[index], ast.Constant) and isinstance(args[index].value, str):
                    found.setdefault(args[index].value, f"{path.relative_to(REPO)}:{node.lineno}")
    return found


def test_every_error_code_has_one_status() -> None:
    from ocr_core.vocabulary import ERROR_STATUS

    codes = error_codes_in_source()
    assert {"bad_mode", "corrupt_pdf", "too_many_images", "method_not_allowed"} <= set(codes)  # the scan sees them
    missing = {code: where for code, where in codes.items() if code not in ERROR_STATUS}
    assert not missing, f"error codes without a status in ocr_core/vocabulary.py ERROR_STATUS: {missing}"


def test_the_layer_carries_the_vocabulary_itself() -> None:
    """The zip functions' layer cannot import ocr_core: its ocr_vocabulary.py is a link to the one file
    (sam build copies the content), and the engine image copies that file under the same name."""
    link = REPO / "layers" / "common" / "ocr_vocabulary.py"
    assert link.is_symlink() and link.resolve() == (REPO / "ocr_core" / "vocabulary.py").resolve()
    dockerfile = (REPO / "functions" / "Dockerfile").read_text()
    assert "COPY ocr_core/vocabulary.py ${LAMBDA_TASK_ROOT}/ocr_vocabulary.py" in dockerfile


def test_the_web_page_and_the_spec_use_the_vocabulary() -> None:
    """Places that cannot import the vocabulary (JavaScript, HTML, the generated spec) say the same."""
    import re

    from ocr_core import vocabulary

    static = REPO / "functions" / "web" / "static"
    select = re.search(r'<select[^>]*id="mode"[^>]*>(.*?)</select>', (static / "index.html").read_text(), re.S)
    assert select, "the page's mode <select id=\"mode\"> is gone"
    assert sorted(re.findall(r'<option value="(\w+)"', select.group(1))) == sorted(vocabulary.MODES)
    js = (static / "app.js").read_text()
    assert re.search(r"const MAX_BODY_BYTES = (\d+);", js).group(1) == str(vocabulary.MAX_BODY_BYTES)
    assert re.search(r"const MAX_BATCH = (\d+);", js).group(1) == str(vocabulary.MAX_BATCH_IMAGES)
    from ocr_core.quality import WARNINGS

    table = re.search(r"const WARNINGS = \{\n(.*?)\n\};", js, re.S)
    assert table, "the page's WARNINGS table is gone"
    assert {k: json.loads(v) for k, v in re.findall(r'^\s*(\w+): (".*"),$', table.group(1), re.M)} == WARNINGS
    spec = json.loads((REPO / "functions" / "web" / "openapi.json").read_text())
    assert spec["components"]["schemas"]["Mode"]["enum"] == list(vocabulary.MODES)
