"""`python -m functions.local_api`: the API on http://127.0.0.1:3000 without Docker.

What `sam local start-api` does, minus the containers: the routes and functions come from
`template.yaml`; every function runs as its Lambda container runs it — `awslambdaric` under
the real Lambda Runtime Interface Emulator that the aws-sam-cli wheel ships — and each HTTP
request becomes the same API Gateway HTTP API (payload 2.0) event, posted to that emulator.

    python -m functions.local_api [--port 3000] [--upload-bucket NAME]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import yaml

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "template.yaml"
LAYER_DIR = REPO / "layers" / "common"
MAX_EVENT_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invocation payload limit
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's request limit
TEXT_TYPES = re.compile(r"^(text/|application/(json|xml|javascript|x-www-form-urlencoded))")


def find_rie() -> str:
    """The Runtime Interface Emulator: $AWS_LAMBDA_RIE, on PATH, or inside the aws-sam-cli package."""
    candidates = [os.environ.get("AWS_LAMBDA_RIE", ""), shutil.which("aws-lambda-rie") or ""]
    for venv in (REPO / ".venv-sam", Path(sys.prefix)):
        candidates += [str(p) for p in venv.glob("lib/python3*/site-packages/samcli/local/rapid/aws-lambda-rie-x86_64")]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return c
    raise SystemExit("aws-lambda-rie not found: run ./dev.sh setup (installs aws-sam-cli into .venv-sam) or set AWS_LAMBDA_RIE")


# ---------------------------------------------------------------------------- the template
class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation tags (!Ref, !Sub, ...) as plain values."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    """`!Ref X` -> {"Ref": "X"}, `!Sub s` -> {"Fn::Sub": s}: the long form CloudFormation itself uses."""
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {suffix if suffix == "Ref" else f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _tagged)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@dataclass
class Function:
    name: str
    handler: str  # module.function, as awslambdaric takes it
    cwd: Path  # the task root (/var/task)
    timeout: int
    memory: int
    env: dict[str, str]
    routes: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    port: int = 0
    proc: subprocess.Popen | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def functions_from_template(template: dict[str, Any]) -> list[Function]:
    globals_ = template.get("Globals", {}).get("Function", {})
    found = []
    for name, res in template["Resources"].items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = {**globals_, **res.get("Properties", {})}
        routes = [(str(ev["Properties"].get("Method", "ANY")).upper(), str(ev["Properties"]["Path"]))
                  for ev in props.get("Events", {}).values() if ev.get("Type") == "HttpApi"]
        if not routes:
            continue
        if props.get("PackageType") == "Image":  # task root = the image's /var/task = the repo
            handler, cwd = props["ImageConfig"]["Command"][0], REPO
        else:
            handler, cwd = props["Handler"], REPO / props["CodeUri"]
        env = {k: str(v) for k, v in {**globals_.get("Environment", {}).get("Variables", {}),
                                      **props.get("Environment", {}).get("Variables", {})}.items()
               if isinstance(v, str | int | float)}
        found.append(Function(name, handler, cwd, int(props.get("Timeout", 3)), int(props.get("MemorySize", 128)), env, routes))
    return found


def route_for(functions: list[Function], method: str, path: str) -> tuple[Function, str] | None:
    """HTTP API route selection: exact path first, then the longest `{proxy+}` prefix."""
    best: tuple[int, Function, str] | None = None
    for fn in functions:
        for m, p in fn.routes:
            if m not in (method, "ANY"):
                continue
            if p == path:
                return fn, f"{m} {p}"
            if p.endswith("/{proxy+}") and path.startswith(p[: -len("{proxy+}")]):
                if best is None or len(p) > best[0]:
                    best = (len(p), fn, f"{m} {p}")
    return (best[1], best[2]) if best else None


# ---------------------------------------------------------------------------- the emulators
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_function(fn: Function, rie: str, extra_env: dict[str, str]) -> None:
    """Start `aws-lambda-rie python -m awslambdaric HANDLER` for one function (init runs at first invoke)."""
    fn.port = _free_port()
    env = {
        **os.environ, **fn.env, **extra_env,
        "PYTHONPATH": os.pathsep.join([str(fn.cwd), str(LAYER_DIR), os.environ.get("PYTHONPATH", "")]),
        "AWS_LAMBDA_FUNCTION_NAME": fn.name, "AWS_LAMBDA_FUNCTION_TIMEOUT": str(fn.timeout),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory), "LAMBDA_TASK_ROOT": str(fn.cwd),
    }
    env.setdefault("OCR_MODEL_DIR", str(REPO / "models"))
    env.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon here (as under sam local)
    env.setdefault("AWS_DEFAULT_REGION", env.get("AWS_REGION", "us-east-1"))
    fn.proc = subprocess.Popen(
        [rie, "--log-level", "error", "--runtime-interface-emulator-address", f"127.0.0.1:{fn.port}",
         "--runtime-api-address", f"127.0.0.1:{_free_port()}", sys.executable, "-m", "awslambdaric", fn.handler],
        cwd=fn.cwd, env=env, start_new_session=True,
    )


def invoke(fn: Function, event: dict[str, Any]) -> dict[str, Any]:
    """POST the event to the function's emulator, one invocation at a time (as one Lambda container)."""
    url = f"http://127.0.0.1:{fn.port}/2015-03-31/functions/function/invocations"
    with fn.lock:
        for attempt in range(100):  # the emulator may still be starting
            try:
                reply = requests.post(url, data=json.dumps(event), timeout=fn.timeout + 60)
                break
            except requests.ConnectionError:
                if attempt == 99:
                    raise
                time.sleep(0.1)
    return reply.json()


def stop_functions(functions: list[Function]) -> None:
    for fn in functions:
        if fn.proc and fn.proc.poll() is None:
            os.killpg(fn.proc.pid, signal.SIGTERM)
            fn.proc.wait(timeout=10)


# ---------------------------------------------------------------------------- HTTP -> event
def http_api_event(method: str, raw_path: str, headers: dict[str, str], body: bytes, route_key: str) -> dict[str, Any]:
    """The event API Gateway HTTP API (payload format 2.0) sends a Lambda integration."""
    split = urlsplit(raw_path)
    query = dict(parse_qsl(split.query, keep_blank_values=True))
    lowered = {k.lower(): v for k, v in headers.items()}
    binary = bool(body) and not TEXT_TYPES.match(lowered.get("content-type", ""))
    now = time.time()
    return {
        "version": "2.0", "routeKey": route_key, "rawPath": split.path, "rawQueryString": split.query,
        "headers": lowered, "queryStringParameters": query or None,
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": lowered.get("host", "127.0.0.1"),
            "domainPrefix": "local", "requestId": str(uuid.uuid4()), "routeKey": route_key, "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000),
            "http": {"method": method, "path": split.path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": lowered.get("user-agent", "")},
        },
        "body": base64.b64encode(body).decode() if binary else body.decode("utf-8", "replace"),
        "isBase64Encoded": binary,
    }


def make_handler(functions: list[Function], cors_origin: str, cors: dict[str, Any]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args: Any) -> None:
            sys.stderr.write(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}\n")

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _gateway_error(self, status: int, message: str) -> None:  # API Gateway's own answers
            self._send(status, {"Content-Type": "application/json", "Access-Control-Allow-Origin": cors_origin},
                       json.dumps({"message": message}).encode())

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_REQUEST_BYTES:
                self.rfile.read(length)
                return self._gateway_error(413, "Request Entity Too Large")
            body = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            if self.command == "OPTIONS" and "Origin" in self.headers:  # CORS preflight, as CorsConfiguration does
                return self._send(204, {"Access-Control-Allow-Origin": cors_origin,
                                        "Access-Control-Allow-Methods": ",".join(cors.get("AllowMethods", ["GET", "POST"])),
                                        "Access-Control-Allow-Headers": ",".join(cors.get("AllowHeaders", ["content-type"])),
                                        "Access-Control-Max-Age": str(cors.get("MaxAge", 600))}, b"")
            match = route_for(functions, self.command, path)
            if match is None:
                return self._gateway_error(404, "Not Found")
            fn, route_key = match
            event = http_api_event(self.command, self.path, dict(self.headers.items()), body, route_key)
            if len(json.dumps(event)) > MAX_EVENT_BYTES:
                return self._gateway_error(413, "Request Entity Too Large")
            reply = invoke(fn, event)
            if not isinstance(reply, dict) or "statusCode" not in reply:  # a crash: API Gateway hides it
                sys.stderr.write(f"{fn.name} failed: {json.dumps(reply)[:2000]}\n")
                return self._gateway_error(500, "Internal Server Error")
            out = reply.get("body") or ""
            data = base64.b64decode(out) if reply.get("isBase64Encoded") else out.encode("utf-8")
            headers = {str(k): str(v) for k, v in (reply.get("headers") or {}).items()}
            headers.setdefault("Access-Control-Allow-Origin", cors_origin)
            self._send(int(reply["statusCode"]), headers, data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _handle

    return Handler


class LocalApi:
    """The functions under their emulators plus the HTTP front; a context manager for tests."""

    def __init__(self, port: int = 3000, env: dict[str, str] | None = None, template: Path = TEMPLATE) -> None:
        tpl = load_template(template)
        self.functions = functions_from_template(tpl)
        origin = tpl.get("Parameters", {}).get("CorsAllowOrigin", {}).get("Default", "*")
        cors = next((r["Properties"].get("CorsConfiguration", {}) for r in tpl["Resources"].values()
                     if r.get("Type") == "AWS::Serverless::HttpApi"), {})
        self.env = {"CORS_ALLOW_ORIGIN": origin, **(env or {})}
        self.server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(self.functions, origin, cors))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> LocalApi:
        rie = find_rie()
        for fn in self.functions:
            start_function(fn, rie, self.env)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        stop_functions(self.functions)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m functions.local_api", description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--upload-bucket", default=os.environ.get("UPLOAD_BUCKET", ""),
                   help="S3 bucket for POST /api/uploads and s3_key requests (e.g. on a moto server via AWS_ENDPOINT_URL)")
    a = p.parse_args(argv)
    env = {"UPLOAD_BUCKET": a.upload_bucket} if a.upload_bucket else {}
    with LocalApi(a.port, env) as api:
        routes = sorted({f"{m:4} {p}" for fn in api.functions for m, p in fn.routes})
        print(f"OCR API on {api.url} (functions under the Lambda Runtime Interface Emulator)")
        for r in routes:
            print(f"  {r}")
        print(f"try: curl -F image=@samples/handwritten-note.png -F mode=handwritten {api.url}/api/ocr", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
