"""GET / (the page to try the API), /web/<asset> (its script and style), /api/docs (the API description).

A zip function on the shared layer: static files from `static/` (plain HTML, CSS, JavaScript; no
build step) and the OpenAPI document `openapi.json`, which `scripts/make_openapi.py` generates
from the route declarations of every function. `/api/docs` is Swagger UI (Powertools' bundled
copy, nothing fetched from a CDN); `/api/docs?format=json` is the document itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api_spec import PUBLIC
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html
from aws_lambda_powertools.utilities.typing import LambdaContext
from ocr_http import ApiError, logger, make_resolver, tracer

app = make_resolver()
HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
SPEC_FILE = HERE / "openapi.json"
ASSET_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
CACHE = "public, max-age=300"
HTML = {200: {"description": "an HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}}


def _swagger_ui_files() -> tuple[str, str]:
    """Swagger UI's script and style as Powertools ships them (its enable_swagger() inlines the same)."""
    import aws_lambda_powertools.event_handler.openapi.swagger_ui as ui

    folder = Path(ui.__file__).parent
    return (folder / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"), (folder / "swagger-ui.min.css").read_text(encoding="utf-8")


@app.get("/", operation_id="page", tags=["web"], summary="A web page to try the API (pick images, see text and boxes)",
         security=PUBLIC, responses=HTML, cache_control=CACHE)
def page() -> Any:  # (Any: Powertools reads return types into the spec)
    return Response(200, "text/html; charset=utf-8", (STATIC / "index.html").read_text(encoding="utf-8"))


@app.get("/web/<name>", include_in_schema=False, cache_control=CACHE)
def asset(name: str) -> Any:
    path = STATIC / name
    if path.suffix not in ASSET_TYPES or path.parent != STATIC or not path.is_file():
        raise ApiError("not_found", f"no asset {name}")
    return Response(200, ASSET_TYPES[path.suffix], path.read_text(encoding="utf-8"))


@app.get("/api/docs", operation_id="docs", tags=["web"], compress=True, security=PUBLIC,
         summary="This description: Swagger UI, or the OpenAPI document with ?format=json",
         responses={200: {"description": "Swagger UI (text/html) or the OpenAPI 3.1 document (?format=json)",
                          "content": {"text/html": {"schema": {"type": "string"}},
                                      "application/json": {"schema": {"type": "object"}}}}})
@tracer.capture_method
def docs() -> Any:
    spec = SPEC_FILE.read_text(encoding="utf-8")
    if (app.current_event.query_string_parameters or {}).get("format") == "json":
        return Response(200, "application/json", spec)
    script, style = _swagger_ui_files()
    # "</" inside the inlined JSON must not close the <script> it sits in (as enable_swagger() does)
    return Response(200, "text/html; charset=utf-8",
                    generate_swagger_html(spec.replace("</", "<\\/"), script, style, "", None))


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
