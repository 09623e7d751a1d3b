"""Write functions/web/openapi.json: the OpenAPI document of every route the template's functions declare.

Each HTTP function of template.yaml is imported as Lambda imports it (zip functions from their
CodeUri with the layer on the path, image functions from the repo root) and its Powertools
resolver describes its own routes; `api_spec.openapi_spec` merges them. The web function serves
the file at /api/docs. tests/test_packaging.py fails when the file is not what this writes.

    .venv/bin/python scripts/make_openapi.py [--check]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
LAYER = REPO / "layers" / "common"


for _path in (str(LAYER), str(REPO)):  # what the Lambda runtime has on its path: the layer, the task root
    if _path not in sys.path:
        sys.path.insert(0, _path)

from functions.web.app import SPEC_FILE  # noqa: E402 - the file the web function serves; needs the paths above


def resolvers() -> list[Any]:
    """The `app` resolver of each HTTP function in template.yaml."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    from functions.local_api import functions_from_template, load_template

    found = []
    for fn in functions_from_template(load_template()):
        module_name, _ = fn.handler.rsplit(".", 1)
        if fn.cwd == REPO:  # an image function: its task root is the repo
            module = importlib.import_module(module_name)
        else:  # a zip function: `app` at the top of its CodeUri (each loaded under its own name)
            spec = importlib.util.spec_from_file_location(f"_openapi_{fn.name}", fn.cwd / f"{module_name}.py")
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        if all(module.app is not app for app in found):  # the image functions share one module
            found.append(module.app)
    return found


def render() -> str:
    import api_spec
    import ocr_http

    return json.dumps(api_spec.openapi_spec(resolvers(), ocr_http.APP_VERSION), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 if the committed file differs from what the code makes")
    args = p.parse_args(argv)
    text = render()
    if args.check:
        current = SPEC_FILE.read_text(encoding="utf-8") if SPEC_FILE.exists() else ""
        if current != text:
            print(f"{SPEC_FILE.relative_to(REPO)} is stale: run .venv/bin/python scripts/make_openapi.py", file=sys.stderr)
            return 1
        return 0
    SPEC_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {SPEC_FILE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
