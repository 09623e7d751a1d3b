"""The local API front (functions/local_api.py) under hostile HTTP: what API Gateway would answer.

A tiny function from a throwaway template (it sleeps as long as asked or until a file exists, echoes its body size) runs
under the real Lambda RIE; requests go over real sockets, some hand-written to be malformed.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import yaml
from conftest import assert_documented

from functions import local_api
from functions.local_api import LocalApi

REPO = Path(__file__).resolve().parents[1]
SLOW = '''
import base64, json, os, time

def handler(event, context):
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    asked = json.loads(raw or b"{}")
    time.sleep(float(asked.get("sleep", 0)))
    while asked.get("wait_for") and not os.path.exists(asked["wait_for"]):
        time.sleep(0.02)
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps({"bytes": len(raw)})}
'''


@pytest.fixture()
def slow_template(tmp_path: Path) -> Path:
    return write_template(tmp_path, timeout=2)


def write_template(tmp_path: Path, timeout: int) -> Path:
    (tmp_path / "slow.py").write_text(SLOW)
    template = {"Resources": {"SlowFunction": {"Type": "AWS::Serverless::Function", "Properties": {
        "Handler": "slow.handler", "CodeUri": str(tmp_path), "Runtime": "python3.11", "Timeout": timeout, "MemorySize": 128,
        "Events": {"Slow": {"Type": "HttpApi", "Properties": {"Path": "/slow", "Method": "POST"}}}}}}}
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump(template))
    return path


def raw(url: str, data: bytes, wait: float = 10.0) -> bytes:
    """Send bytes as they are; return everything the server answers until it closes or goes quiet."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as s:
        s.sendall(data)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
                if out.count(b"HTTP/1.1 ") >= data.count(b"HTTP/1.1\r\n") and out.endswith(b"}"):
                    break
        except TimeoutError:
            pass
    return out


def test_timeout_is_a_504_and_the_function_recovers(slow_template: Path) -> None:
    with LocalApi(port=0, template=slow_template) as api:
        started = time.monotonic()
        res = requests.post(api.url + "/slow", json={"sleep": 30}, timeout=60)
        assert res.status_code == 504 and res.json() == {"message": "Endpoint request timed out"}
        assert time.monotonic() - started < 15
        assert requests.post(api.url + "/slow", json={"sleep": 0}, timeout=60).status_code == 200


def test_an_emulator_that_exited_is_started_again(slow_template: Path) -> None:
    """An emulator can die before its first request (another process took one of its free ports in a
    busy test run: that function then answered 502 to every request); the next request restarts it."""
    with LocalApi(port=0, template=slow_template) as api:
        assert requests.post(api.url + "/slow", json={}, timeout=60).status_code == 200
        (fn,) = api.functions
        local_api.stop_function(fn)  # as if it had exited by itself
        assert fn.proc is not None and fn.proc.poll() is not None
        assert requests.post(api.url + "/slow", json={}, timeout=60).json() == {"bytes": 2}
        assert fn.proc.poll() is None  # a fresh emulator


class NotFound(http.server.BaseHTTPRequestHandler):
    """Another emulator's runtime API, as met on a taken port: 404 to the invocation path."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(404)
        self.send_header("Content-Length", "19")
        self.end_headers()
        self.wfile.write(b"404 page not found\n")

    def log_message(self, *args: object) -> None:
        pass


def test_another_server_on_the_emulator_port_gets_a_fresh_emulator(slow_template: Path) -> None:
    """Another process can take an emulator's free port before the emulator binds it (in a busy CI run
    it was another emulator, answering "404 page not found", and the page got a 500); the request
    goes to a fresh emulator on new ports instead."""
    with LocalApi(port=0, template=slow_template) as api:
        (fn,) = api.functions
        local_api.stop_function(fn)  # its port is free again, and another server binds it
        squatter = http.server.HTTPServer(("127.0.0.1", fn.port), NotFound)
        threading.Thread(target=squatter.serve_forever, daemon=True).start()
        try:
            taken = fn.port
            assert requests.post(f"http://127.0.0.1:{taken}/2015-03-31/functions/function/invocations").status_code == 404
            assert requests.post(api.url + "/slow", json={}, timeout=60).json() == {"bytes": 2}
            assert fn.port != taken and fn.proc is not None and fn.proc.poll() is None
        finally:
            squatter.shutdown()
            squatter.server_close()


def test_queue_is_bounded_with_429(tmp_path: Path) -> None:
    """Five calls while the function is busy: one runs, one waits, three are refused. The running call blocks
    until the test releases it (after the refusals arrived), so no machine is too slow to get all five in."""
    release = tmp_path / "release"
    with LocalApi(port=0, template=write_template(tmp_path, timeout=120), max_waiting=1) as api:
        requests.post(api.url + "/slow", json={}, timeout=60)  # the emulator is up
        with ThreadPoolExecutor(5) as pool:
            calls = [pool.submit(requests.post, api.url + "/slow", json={"wait_for": str(release)}, timeout=120)
                     for _ in range(5)]
            deadline = time.monotonic() + 60
            while sum(c.done() for c in calls) < 3 and time.monotonic() < deadline:  # the refusals come at once
                time.sleep(0.05)
            early = sorted(c.result().status_code for c in calls if c.done())
            release.touch()
            statuses = sorted(c.result().status_code for c in calls)
    assert early == [429, 429, 429] and statuses == [200, 200, 429, 429, 429], (early, statuses)  # one running + one waiting


def test_malformed_http_gets_400_and_no_desync(slow_template: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_api, "BODY_SECONDS", 1.0)
    with LocalApi(port=0, template=slow_template) as api:
        assert raw(api.url, b"GARBAGE\r\n\r\n").startswith(b"HTTP/1.1 400")
        assert raw(api.url, b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}").startswith(b"HTTP/1.1 400")
        short = raw(api.url, b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}", wait=5)
        assert short.startswith(b"HTTP/1.1 400") and b"Content-Length" in short
        # chunked: the chunks are the body (not a second request), and the next request on the connection is answered
        body = json.dumps({"sleep": 0, "pad": "x" * 3000}).encode()
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 1000]), body[i:i + 1000]) for i in range(0, len(body), 1000))
        request = b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        second = b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        out = raw(api.url, request + chunked + b"0\r\n\r\n" + second)
        assert out.count(b"HTTP/1.1 200") == 2, out
        assert b'{"bytes": %d}' % len(body) in out and b'{"bytes": 2}' in out


def descendants(pid: int) -> set[int]:
    """Every process below pid (from /proc; no psutil)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        return "Z" not in (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_every_child_and_uploads_without_bucket_is_503(sig: signal.Signals) -> None:
    env = {k: v for k, v in os.environ.items() if k != "UPLOAD_BUCKET"}
    # started as from a runner or a background job that ignores SIGINT (inherited across exec): it must still stop
    proc = subprocess.Popen([sys.executable, "-m", "functions.local_api", "--port", "0"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        url = proc.stdout.readline().split(" on ")[1].split()[0]  # "OCR API on http://127.0.0.1:PORT (...)"
        res = requests.post(url + "/api/uploads", json={"content_type": "image/png"}, timeout=60)
        assert res.status_code == 503 and res.json()["error"] == "uploads_disabled", res.text
        assert_documented("POST", "/api/uploads", res.status_code, res.json())
        assert requests.get(url + "/api/health", timeout=60).status_code == 200
        children = descendants(proc.pid)
        assert len(children) >= 5  # an emulator per function + the runtimes started so far
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 0
        time.sleep(0.5)
        assert not [pid for pid in children if alive(pid)]
    finally:
        if proc.poll() is None:
            proc.kill()


def test_taken_port_is_a_friendly_message() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "functions.local_api", "--port", str(port)], cwd=REPO,
                             capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "already in use" in run.stderr and "Traceback" not in run.stderr, run.stderr

