"""`python -m functions.local_api`: the API on http://127.0.0.1:3000 without Docker.

What `sam local start-api` does, minus the containers: the routes and functions come from
`template.yaml`; every function runs as its Lambda container runs it — `awslambdaric` under
the real Lambda Runtime Interface Emulator that the aws-sam-cli wheel ships — and each HTTP
request becomes the same API Gateway HTTP API (payload 2.0) event, posted to that emulator.

The HTTP side is uvicorn (h11): malformed requests get 400, chunked bodies are read whole, a body
that never arrives is a 400 after 30 s. Like API Gateway in front of Lambda: a function past its
timeout is a 504 (and its emulator is restarted), more than `--max-waiting` requests queued for
one function get 429. SIGTERM or Ctrl-C stops the front and every emulator with its runtime.

    python -m functions.local_api [--port 3000] [--upload-bucket NAME] [--max-waiting 8]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import errno
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import uvicorn
import yaml

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "template.yaml"
LAYER_DIR = REPO / "layers" / "common"
MAX_EVENT_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invocation payload limit
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's request limit
MAX_WAITING = 8  # requests queued per function behind the running one (then 429, like a throttle)
MAX_CONNECTIONS = 64  # open connections + tasks uvicorn takes before answering 503
BODY_SECONDS = 30  # a body must arrive within this (a short Content-Length would hang otherwise)
TIMEOUT_GRACE_SECONDS = 2  # past the function's own timeout, it is considered timed out
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
_GIVEN_PORTS: set[int] = set()


def _free_port() -> int:
    """A port free now and not handed out before by this process: the OS may offer a just-released
    port again, and two emulators given one port answer each other's requests."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _GIVEN_PORTS:
            _GIVEN_PORTS.add(port)
            return port


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


class FunctionTimedOut(Exception):
    """The function ran past its timeout: API Gateway answers 504, Lambda recycles the sandbox."""


class EmulatorExited(Exception):
    """The function's emulator is not running, or another server answers on its port: one of the free
    ports it was given was taken by another process before it could bind it (a busy test run); a
    fresh one gets new ports."""


def invoke(fn: Function, event: dict[str, Any]) -> dict[str, Any]:
    """POST the event to the function's emulator. Called from the function's one-worker executor,
    so invocations of one function run one at a time (as in one Lambda container)."""
    url = f"http://127.0.0.1:{fn.port}/2015-03-31/functions/function/invocations"
    for attempt in range(100):  # the emulator may still be starting
        try:
            reply = requests.post(url, data=json.dumps(event), timeout=(5, fn.timeout + TIMEOUT_GRACE_SECONDS))
            break
        except requests.ConnectionError:
            if fn.proc is not None and fn.proc.poll() is not None:
                raise EmulatorExited(fn.name) from None
            if attempt == 99:
                raise
            time.sleep(0.1)
        except requests.Timeout:
            raise FunctionTimedOut(fn.name) from None
    if reply.status_code == 404:  # the emulator always knows its invocation path: another server has the port
        stop_function(fn)
        raise EmulatorExited(fn.name)
    try:
        answer = reply.json()
    except ValueError:
        answer = {"errorType": "InvalidResponse", "errorMessage": reply.text[:2000]}
    if isinstance(answer, dict) and "statusCode" not in answer and \
            ("Timedout" in str(answer.get("errorType")) or "timed out" in str(answer.get("errorMessage"))):
        raise FunctionTimedOut(fn.name)
    return answer if isinstance(answer, dict) else {"errorType": "InvalidResponse", "errorMessage": str(answer)[:2000]}


def stop_function(fn: Function) -> None:
    """SIGTERM the emulator's process group (the RIE and its runtime), SIGKILL if it lingers."""
    if fn.proc and fn.proc.poll() is None:
        try:
            os.killpg(fn.proc.pid, signal.SIGTERM)
            fn.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(fn.proc.pid, signal.SIGKILL)
            fn.proc.wait(timeout=10)
        except ProcessLookupError:
            pass


def stop_functions(functions: list[Function]) -> None:
    for fn in functions:
        stop_function(fn)


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


class Front:
    """The API Gateway side, as an ASGI app under uvicorn (h11 parses HTTP: malformed requests,
    bad Content-Length and chunked bodies are its job). Per function: one invocation at a time,
    at most `max_waiting` more queued, then 429 like a throttled route; past its timeout, 504."""

    def __init__(self, functions: list[Function], cors_origin: str, cors: dict[str, Any], max_waiting: int,
                 restart: Any) -> None:
        self.functions, self.cors_origin, self.cors, self.max_waiting = functions, cors_origin, cors, max_waiting
        self.restart = restart  # fn -> None: a fresh emulator after a timeout (Lambda recycles the sandbox) or an exit
        self.executors = {fn.name: ThreadPoolExecutor(1, thread_name_prefix=fn.name) for fn in functions}
        self.busy: dict[str, int] = {fn.name: 0 for fn in functions}  # running + waiting, per function

    def _invoke(self, fn: Function, event: dict[str, Any]) -> dict[str, Any]:
        """`invoke`, once more on a fresh emulator if the function's emulator had exited."""
        try:
            return invoke(fn, event)
        except EmulatorExited:
            sys.stderr.write(f"{fn.name}'s emulator had exited (exit code {fn.proc.returncode if fn.proc else None}): restarting it\n")
            self.restart(fn)
            return invoke(fn, event)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await self._body(receive)
        if body is None:  # the client went away
            return
        status, headers, data = await self._answer(scope, body)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]})
        await send({"type": "http.response.body", "body": data})

    async def _body(self, receive: Any) -> bytes | bytearray | None:
        """The whole body, or b"" after MAX_REQUEST_BYTES (answered 413), or None on disconnect."""
        chunks, size = bytearray(), 0
        while True:
            try:
                msg = await asyncio.wait_for(receive(), BODY_SECONDS)
            except TimeoutError:  # a Content-Length longer than what was sent: do not wait forever
                return TOO_SLOW
            if msg["type"] == "http.disconnect":
                return None
            size += len(msg.get("body", b""))
            if size > MAX_REQUEST_BYTES:
                return TOO_LARGE
            chunks += msg.get("body", b"")
            if not msg.get("more_body"):
                return chunks

    def _gateway(self, status: int, message: str, **extra: str) -> tuple[int, dict[str, str], bytes]:
        """API Gateway's own answers: {"message": ...} only."""
        return status, {"content-type": "application/json", "access-control-allow-origin": self.cors_origin, **extra}, \
            json.dumps({"message": message}).encode()

    async def _answer(self, scope: dict[str, Any], body: bytes | bytearray) -> tuple[int, dict[str, str], bytes]:
        if body is TOO_LARGE:
            return self._gateway(413, "Request Entity Too Large")
        if body is TOO_SLOW:
            return self._gateway(400, "Bad Request: the body did not arrive (is Content-Length right?)", connection="close")
        method = scope["method"]
        headers: dict[str, str] = {}
        for k, v in scope["headers"]:
            name = k.decode("latin-1").lower()
            headers[name] = f"{headers[name]},{v.decode('latin-1')}" if name in headers else v.decode("latin-1")
        raw_path = scope["raw_path"].decode("latin-1") + (f"?{scope['query_string'].decode('latin-1')}" if scope["query_string"] else "")
        path = urlsplit(raw_path).path
        if method == "OPTIONS" and "origin" in headers:  # CORS preflight, as CorsConfiguration does
            return 204, {"access-control-allow-origin": self.cors_origin,
                         "access-control-allow-methods": ",".join(self.cors.get("AllowMethods", ["GET", "POST"])),
                         "access-control-allow-headers": ",".join(self.cors.get("AllowHeaders", ["content-type"])),
                         "access-control-max-age": str(self.cors.get("MaxAge", 600))}, b""
        match = route_for(self.functions, method, path)
        if match is None:
            return self._gateway(404, "Not Found")
        fn, route_key = match
        headers.pop("transfer-encoding", None)  # the body is whole now, as API Gateway passes it
        event = http_api_event(method, raw_path, headers, bytes(body), route_key)
        if len(json.dumps(event)) > MAX_EVENT_BYTES:
            return self._gateway(413, "Request Entity Too Large")
        if self.busy[fn.name] > self.max_waiting:  # one running + max_waiting queued
            return self._gateway(429, "Too Many Requests", **{"retry-after": "1"})
        self.busy[fn.name] += 1
        try:
            reply = await asyncio.get_running_loop().run_in_executor(self.executors[fn.name], self._invoke, fn, event)
        except FunctionTimedOut:
            sys.stderr.write(f"{fn.name} timed out after {fn.timeout} s: restarting its emulator\n")
            await asyncio.get_running_loop().run_in_executor(self.executors[fn.name], self.restart, fn)
            return self._gateway(504, "Endpoint request timed out")
        except requests.RequestException as err:
            sys.stderr.write(f"{fn.name} unreachable: {err}\n")
            return self._gateway(502, "Bad Gateway")
        finally:
            self.busy[fn.name] -= 1
        if "statusCode" not in reply:  # a crash: API Gateway hides it
            sys.stderr.write(f"{fn.name} failed: {json.dumps(reply)[:2000]}\n")
            return self._gateway(500, "Internal Server Error")
        out = reply.get("body") or ""
        data = base64.b64decode(out) if reply.get("isBase64Encoded") else out.encode("utf-8")
        answer_headers = {str(k).lower(): str(v) for k, v in (reply.get("headers") or {}).items()}
        answer_headers.setdefault("access-control-allow-origin", self.cors_origin)
        return int(reply["statusCode"]), answer_headers, data


TOO_LARGE, TOO_SLOW = bytearray(b"too large"), bytearray(b"too slow")  # markers, compared by identity


def bind(port: int) -> socket.socket:
    """The listening socket, bound before anything starts: a taken port is a clear message, not a traceback."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise SystemExit(f"Port {port} on 127.0.0.1 is already in use (another `./dev.sh serve`?). "
                             f"Stop it, or pick another port: ./dev.sh serve --port {port + 1}") from None
        raise
    sock.listen(128)
    return sock


class LocalApi:
    """The functions under their emulators plus the HTTP front; a context manager for tests."""

    def __init__(self, port: int = 3000, env: dict[str, str] | None = None, template: Path = TEMPLATE,
                 max_waiting: int = MAX_WAITING) -> None:
        tpl = load_template(template)
        self.functions = functions_from_template(tpl)
        origin = tpl.get("Parameters", {}).get("CorsAllowOrigin", {}).get("Default", "*")
        cors = next((r["Properties"].get("CorsConfiguration", {}) for r in tpl["Resources"].values()
                     if r.get("Type") == "AWS::Serverless::HttpApi"), {})
        self.env = {"CORS_ALLOW_ORIGIN": origin, **(env or {})}
        self.sock = bind(port)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.front = Front(self.functions, origin, cors, max_waiting, self._restart)
        self.server = uvicorn.Server(uvicorn.Config(
            self.front, lifespan="off", log_level="warning", access_log=False, timeout_keep_alive=5,
            timeout_graceful_shutdown=5, limit_concurrency=MAX_CONNECTIONS))  # over it: 503, as an overloaded gateway
        self.thread: threading.Thread | None = None
        self._rie = ""

    def _restart(self, fn: Function) -> None:
        stop_function(fn)
        start_function(fn, self._rie, self.env)

    def __enter__(self) -> LocalApi:
        self._rie = find_rie()
        try:
            for fn in self.functions:
                start_function(fn, self._rie, self.env)
            self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
            self.thread.start()
            while not self.server.started:
                if not self.thread.is_alive():
                    raise RuntimeError("the HTTP front did not start")
                time.sleep(0.02)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self.thread:
            self.thread.join(timeout=15)
        self.sock.close()
        stop_functions(self.functions)
        for pool in self.front.executors.values():
            pool.shutdown(wait=False, cancel_futures=True)


def _raise_interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m functions.local_api", description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--upload-bucket", default=os.environ.get("UPLOAD_BUCKET", ""),
                   help="S3 bucket for POST /api/uploads and s3_key requests (e.g. on a moto server via AWS_ENDPOINT_URL)")
    p.add_argument("--max-waiting", type=int, default=MAX_WAITING,
                   help="requests queued per function behind the running one; more get 429 (default %(default)s)")
    a = p.parse_args(argv)
    env = {"UPLOAD_BUCKET": a.upload_bucket} if a.upload_bucket else {}
    # SIGTERM like Ctrl-C: leave the with-block, stop every child. SIGINT set explicitly too: Python keeps
    # it ignored when the parent ignored it (a process started from a shell's background job, or a runner)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _raise_interrupt)
    try:
        with LocalApi(a.port, env, max_waiting=a.max_waiting) as api:
            routes = sorted({f"{m:4} {p}" for fn in api.functions for m, p in fn.routes})
            print(f"OCR API on {api.url} (functions under the Lambda Runtime Interface Emulator)")
            for r in routes:
                print(f"  {r}")
            print(f"try: curl -F image=@samples/handwritten-note.png -F mode=handwritten {api.url}/api/ocr", flush=True)
            while api.thread and api.thread.is_alive():
                api.thread.join(0.5)
    except KeyboardInterrupt:
        pass
    print("stopped: HTTP front and every function emulator", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
