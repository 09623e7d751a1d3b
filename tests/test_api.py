"""The HTTP API end to end: the functions run under the real Lambda Runtime Interface Emulator
(functions/local_api.py), S3 is a moto server on 127.0.0.1, the images are the repo's samples
read by the shipped models. Clients are the README's own curl, Python and JavaScript examples.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
import requests
from conftest import TEST_DATA, alto_schema, assert_documented, local_api_with_upload_bucket

from benchmarks import poison
from functions.local_api import invoke, route_for
from ocr_core.metrics import cer

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
EVENTS = REPO / "events"
BUCKET = "ocr-uploads-test"


def expected(name: str) -> str:
    return (SAMPLES / f"{name}.txt").read_text().strip()


@pytest.fixture(scope="module")
def api(moto_endpoint: str) -> Any:
    """The local API (all template functions under the RIE) wired to the moto server."""
    with local_api_with_upload_bucket(moto_endpoint, BUCKET) as local:
        yield local


def post(api: Any, path: str, **kwargs: Any) -> requests.Response:
    return requests.post(api.url + path, timeout=120, **kwargs)


# ----------------------------------------------------------------------------- events/ under the RIE
def invoke_event(api: Any, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """POST events/<name>.json straight to the emulator of the function its route belongs to (through
    local_api.invoke, which waits for an emulator still starting: a single POST was refused on a busy CI run)."""
    event = json.loads((EVENTS / f"{name}.json").read_text())
    method, path = event["routeKey"].split(" ", 1)
    fn, _ = route_for(api.functions, method, path)
    reply = invoke(fn, event)
    assert "statusCode" in reply, reply
    return reply, json.loads(reply["body"])


def test_every_event_file_is_current() -> None:
    """events/ is what scripts/make_events_api.py writes (so the samples and the events agree)."""
    import scripts.make_events_api as make

    for name, event in make.all_events().items():
        assert json.loads((EVENTS / f"{name}.json").read_text()) == json.loads(json.dumps(event)), name


def test_events_under_the_rie(api: Any) -> None:
    api.s3.put_object(Bucket=BUCKET, Key="uploads/public/example/handwritten-note.png", Body=(SAMPLES / "handwritten-note.png").read_bytes())
    results = {name.stem: invoke_event(api, name.stem) for name in sorted(EVENTS.glob("api-*.json"))}
    assert set(results) >= {"api-health", "api-ocr-multipart", "api-ocr-raw-image", "api-ocr-json-base64",
                            "api-ocr-s3-key", "api-ocr-handwritten-multipart", "api-ocr-batch-multipart", "api-uploads"}
    reply, health = results["api-health"]
    assert reply["statusCode"] == 200 and health["status"] == "ok" and health["models"]["handwritten"] != "unavailable"
    for name in ("api-ocr-multipart", "api-ocr-raw-image"):
        reply, body = results[name]
        assert reply["statusCode"] == 200, body
        assert cer(expected("printed-letter"), body["text"]) < 0.08, body["text"]
        assert body["filename"] == "printed-letter.png" and body["lines"][0]["box"] and body["lines"][0]["words"]
    reply, body = results["api-ocr-json-base64"]
    assert reply["statusCode"] == 200 and body["mode"] == "handwritten" and cer("Tuesday", body["text"]) < 0.3, body
    for name in ("api-ocr-s3-key", "api-ocr-handwritten-multipart"):
        reply, body = results[name]
        assert reply["statusCode"] == 200 and body["mode_used"] == "handwritten", body
        assert cer(expected("handwritten-note"), body["text"]) < 0.3, body["text"]
    reply, body = results["api-ocr-batch-multipart"]
    assert [r["filename"] for r in body["results"]] == ["handwritten-word.png", "not-an-image.png", "printed-letter.png"]
    assert body["results"][1]["error"] == "unsupported_format" and body["results"][1]["status"] == 415
    assert cer("Tuesday", body["results"][0]["text"]) < 0.3
    assert cer(expected("printed-letter"), body["results"][2]["text"]) < 0.08
    assert body["count"] == 3 and body["failed"] == 1
    reply, body = results["api-uploads"]
    assert reply["statusCode"] == 201 and body["s3_key"].startswith("uploads/") and BUCKET in body["upload_url"]


# ----------------------------------------------------------------------------- README examples
def readme_block(lang: str, marker: str) -> str:
    """The README code block in `lang` that contains `marker` (the docs are what we test)."""
    blocks = re.findall(rf"```{lang}\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    found = [b for b in blocks if marker in b]
    assert found, f"README has no {lang} block with {marker!r}"
    return found[0]


def at(api: Any, code: str) -> str:
    return code.replace("http://127.0.0.1:3000", api.url)


def test_readme_curl_examples(api: Any) -> None:
    lines = at(api, readme_block("bash", "curl -s -F")).strip().splitlines()
    bodies = [json.loads(subprocess.run(["bash", "-c", cmd], cwd=REPO, capture_output=True, text=True,
                                        timeout=120, check=True).stdout) for cmd in lines]
    assert len(bodies) == 3
    assert bodies[0]["mode"] == "handwritten" and cer(expected("handwritten-note"), bodies[0]["text"]) < 0.3, bodies[0]
    assert bodies[1]["mode"] == "printed" and cer(expected("printed-letter"), bodies[1]["text"]) < 0.08, bodies[1]
    assert [r["filename"] for r in bodies[2]["results"]] == ["printed-letter.png", "handwritten-note.png"]
    assert cer(expected("handwritten-note"), bodies[2]["results"][1]["text"]) < 0.3


def test_readme_python_example(api: Any) -> None:
    code = at(api, readme_block("python", "requests.post"))
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=True).stdout
    assert cer(expected("handwritten-note"), out.strip()) < 0.3, out


def test_readme_javascript_example(api: Any) -> None:
    node = shutil.which("node")
    assert node, "node is needed for the JavaScript example test (./dev.sh installs nodejs)"
    code = at(api, readme_block("javascript", "FormData"))
    script = code + """
const fs = require("fs");
ocr(new Blob([fs.readFileSync("samples/handwritten-note.png")], {type: "image/png"}), "handwritten")
  .then(r => console.log(JSON.stringify(r)), e => { console.error(e); process.exit(1); });
"""
    out = subprocess.run([node, "-e", script], cwd=REPO, capture_output=True, text=True, timeout=120, check=True).stdout
    body = json.loads(out)
    assert cer(expected("handwritten-note"), body["text"]) < 0.3, body


# ----------------------------------------------------------------------------- body formats
def test_body_formats_agree(api: Any) -> None:
    """multipart, raw image/* and JSON base64 give the same reading of the same image."""
    data = (SAMPLES / "handwritten-word.png").read_bytes()
    texts = [
        post(api, "/api/ocr", files={"image": ("w.png", data)}, data={"mode": "handwritten"}).json()["text"],
        post(api, "/api/ocr?mode=handwritten", data=data, headers={"Content-Type": "image/png"}).json()["text"],
        post(api, "/api/ocr", json={"image": base64.b64encode(data).decode(), "mode": "handwritten"}).json()["text"],
        post(api, "/api/ocr", json={"image": "data:image/png;base64," + base64.b64encode(data).decode(), "mode": "handwritten"}).json()["text"],
        post(api, "/api/ocr/handwritten", files={"image": ("w.png", data)}, data={"mode": "printed"}).json()["text"],
    ]
    assert len(set(texts)) == 1 and cer("Tuesday", texts[0]) < 0.3, texts


def test_multipage_pdf_in_every_answer_format(api: Any) -> None:
    """A two-page PDF: JSON by default, and the format parameter (query, form field, JSON key) for the others."""
    from lxml import etree

    data = (TEST_DATA / "two-pages.pdf").read_bytes()
    truth = [t.strip() for t in (TEST_DATA / "two-pages.txt").read_text().split("\f")]
    body = post(api, "/api/ocr", files={"image": ("report.pdf", data)}, data={"mode": "printed"}).json()
    assert body["page_count"] == 2 and body["filename"] == "report.pdf"
    assert all(cer(t, p["text"]) < 0.05 for t, p in zip(truth, body["pages"])), body["pages"]

    txt = post(api, "/api/ocr?mode=printed&format=txt", data=data, headers={"Content-Type": "application/pdf"})
    assert txt.status_code == 200 and txt.headers["Content-Type"].startswith("text/plain")
    assert [" ".join(t.split()) for t in txt.text.split("\f")] == [p["text"] for p in body["pages"]]

    hocr = post(api, "/api/ocr", files={"image": ("report.pdf", data)}, data={"mode": "printed", "format": "hocr"})
    assert hocr.headers["Content-Type"].startswith("application/xhtml+xml")
    assert len(etree.fromstring(hocr.content).findall(".//{http://www.w3.org/1999/xhtml}div[@class='ocr_page']")) == 2

    alto = post(api, "/api/ocr", json={"image": base64.b64encode(data).decode(), "mode": "printed", "format": "alto"})
    assert alto.headers["Content-Type"].startswith("application/xml") and alto_schema().validate(etree.fromstring(alto.content))

    pdf = post(api, "/api/ocr?mode=printed&format=pdf", data=data, headers={"Content-Type": "application/pdf"})
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    doc = pdfium.PdfDocument(pdf.content)
    assert [" ".join(doc[i].get_textpage().get_text_range().split()) for i in range(len(doc))] == \
        [p["text"] for p in body["pages"]]


def test_pdf_dpi_parameter_on_every_ocr_route(api: Any) -> None:
    """`dpi` (query, form field or JSON key, as `ocr --dpi`) sets the PDF render resolution on every OCR route,
    and the searchable PDF keeps the input's paper size at any dpi."""
    data = (TEST_DATA / "two-pages.pdf").read_bytes()
    source = pdfium.PdfDocument(data)
    sizes_pt = [source[i].get_size() for i in range(len(source))]

    def rendered_at(pages: list[dict[str, Any]], dpi: int) -> bool:
        return len(pages) == len(sizes_pt) and all(
            abs(p["width"] - w * dpi / 72) <= 1 and abs(p["height"] - h * dpi / 72) <= 1 for p, (w, h) in zip(pages, sizes_pt))

    default = post(api, "/api/ocr?mode=printed", data=data, headers={"Content-Type": "application/pdf"}).json()
    assert rendered_at(default["pages"], 300), default["pages"]  # OCR_PDF_DPI's default
    query = post(api, "/api/ocr?mode=printed&dpi=100", data=data, headers={"Content-Type": "application/pdf"}).json()
    assert rendered_at(query["pages"], 100), query["pages"]
    form = post(api, "/api/ocr/handwritten", files={"image": ("report.pdf", data)}, data={"dpi": "150"}).json()
    assert rendered_at(form["pages"], 150), form["pages"]
    batch = post(api, "/api/ocr/batch", json={"images": [{"image": base64.b64encode(data).decode()}], "mode": "printed",
                                              "dpi": 120}).json()
    assert rendered_at(batch["results"][0]["pages"], 120), batch["results"]

    pdf = post(api, "/api/ocr?mode=printed&format=pdf&dpi=100", data=data, headers={"Content-Type": "application/pdf"})
    out = pdfium.PdfDocument(pdf.content)
    assert pdf.status_code == 200 and len(out) == len(sizes_pt)
    assert all(abs(a - b) <= 1 for i, size in enumerate(sizes_pt) for a, b in zip(out[i].get_size(), size))


def test_pdf_upload_then_ocr_by_key(api: Any) -> None:
    up = post(api, "/api/uploads", json={"filename": "report.pdf", "content_type": "application/pdf"})
    assert up.status_code == 201, up.text
    ticket = up.json()
    form = requests.post(ticket["upload_url"], data=ticket["fields"], timeout=30,
                         files={"file": ("report.pdf", (TEST_DATA / "two-pages.pdf").read_bytes())})
    assert form.status_code in (200, 201, 204), form.text
    body = post(api, "/api/ocr", json={"s3_key": ticket["s3_key"], "mode": "printed", "format": "jsonl"})
    assert body.status_code == 200 and [json.loads(r)["page"] for r in body.text.splitlines()] == [1, 2]


def test_upload_then_ocr_by_key(api: Any) -> None:
    up = post(api, "/api/uploads", json={"filename": "my scan (1).png", "content_type": "image/png"})
    assert up.status_code == 201, up.text
    ticket = up.json()
    assert ticket["method"] == "POST" and ticket["s3_key"].startswith("uploads/public/")  # no auth here: the public prefix
    assert_documented("POST", "/api/uploads", up.status_code, ticket)
    # What S3 enforces (moto accepts any form, so the policy itself is checked): key, type, size, expiry.
    policy = json.loads(base64.b64decode(ticket["fields"]["policy"]))
    assert {"key": ticket["s3_key"]} in policy["conditions"] and {"Content-Type": "image/png"} in policy["conditions"]
    assert ["content-length-range", 1, 20 * 1024 * 1024] in policy["conditions"] and policy["expiration"]
    form = requests.post(ticket["upload_url"], data=ticket["fields"], timeout=30,
                         files={"file": ("scan.png", (SAMPLES / "printed-letter.png").read_bytes())})
    assert form.status_code in (200, 201, 204), form.text
    body = post(api, "/api/ocr", json={"s3_key": ticket["s3_key"], "mode": "printed"}).json()
    assert cer(expected("printed-letter"), body["text"]) < 0.08, body
    batch = post(api, "/api/ocr/batch", json={"images": [{"s3_key": ticket["s3_key"]}, {"image": "***"}]}).json()
    assert cer(expected("printed-letter"), batch["results"][0]["text"]) < 0.08
    assert batch["results"][1]["error"] == "bad_base64" and batch["failed"] == 1


def test_health_and_cors(api: Any) -> None:
    health = requests.get(api.url + "/api/health", timeout=30)
    assert health.status_code == 200 and health.json()["version"] == __import__("ocr_core").__version__
    pre = requests.options(api.url + "/api/ocr", headers={"Origin": "https://app.example.com",
                                                          "Access-Control-Request-Method": "POST"}, timeout=30)
    assert pre.status_code == 204 and pre.headers["Access-Control-Allow-Origin"] in ("*", "https://app.example.com")
    res = post(api, "/api/ocr", headers={"Origin": "https://app.example.com", "Content-Type": "image/png"},
               data=(SAMPLES / "handwritten-word.png").read_bytes())
    assert res.status_code == 200 and res.headers.get("Access-Control-Allow-Origin")


# ----------------------------------------------------------------------------- bad requests
BAD_REQUESTS = [
    # (name, method, path, requests kwargs, status, error code)
    ("missing file", "POST", "/api/ocr", {"data": {"mode": "auto"}, "files": {"other": ("x.txt", b"x")}}, 400, "missing_image"),
    ("wrong field", "POST", "/api/ocr", {"files": {"file": ("n.png", (SAMPLES / "handwritten-word.png").read_bytes())}}, 400, "missing_image"),
    ("bad mode", "POST", "/api/ocr", {"files": {"image": ("n.png", b"x")}, "data": {"mode": "cursive"}}, 422, "bad_mode"),
    ("empty body", "POST", "/api/ocr", {"headers": {"Content-Type": "image/png"}}, 400, "empty_body"),
    ("non-image", "POST", "/api/ocr", {"files": {"image": ("doc.png", b"just some text, not an image")}}, 415, "unsupported_format"),
    ("broken pdf", "POST", "/api/ocr", {"files": {"image": ("doc.pdf", b"%PDF-1.7 not really a pdf")}}, 422, "corrupt_pdf"),
    ("bad format", "POST", "/api/ocr?format=docx", {"files": {"image": ("n.png", b"x")}}, 422, "bad_format"),
    ("dpi below the range", "POST", "/api/ocr?dpi=10", {"files": {"image": ("n.png", b"x")}}, 422, "bad_dpi"),
    ("dpi a superscript two", "POST", "/api/ocr", {"files": {"image": ("n.pdf", b"x")}, "data": {"dpi": "²"}}, 422, "bad_dpi"),
    ("dpi not a number", "POST", "/api/ocr/handwritten", {"files": {"image": ("n.pdf", b"x")}, "data": {"dpi": "high"}}, 422, "bad_dpi"),
    ("dpi above the range in a batch", "POST", "/api/ocr/batch", {"json": {"images": [{"image": "eA=="}], "dpi": 601}}, 422, "bad_dpi"),
    ("batch other than json", "POST", "/api/ocr/batch", {"files": {"images": ("n.png", b"x")}, "data": {"format": "txt"}},
     422, "bad_format"),
    ("truncated image", "POST", "/api/ocr", {"data": (SAMPLES / "handwritten-word.png").read_bytes()[:300],
                                            "headers": {"Content-Type": "image/png"}}, 422, "corrupt_image"),
    ("bad base64", "POST", "/api/ocr", {"json": {"image": "not base64!!"}}, 400, "bad_base64"),
    ("bad json", "POST", "/api/ocr", {"data": b"{nope", "headers": {"Content-Type": "application/json"}}, 400, "bad_json"),
    ("json without image", "POST", "/api/ocr", {"json": {"mode": "auto"}}, 400, "missing_image"),
    ("form-urlencoded", "POST", "/api/ocr", {"data": {"image": "abc"}}, 415, "unsupported_media_type"),
    ("unknown key", "POST", "/api/ocr", {"json": {"s3_key": "uploads/public/none/x.png"}}, 404, "upload_not_found"),
    ("key outside uploads", "POST", "/api/ocr", {"json": {"s3_key": "results/x.json"}}, 400, "bad_s3_key"),
    ("oversized body", "POST", "/api/ocr", {"data": b"\x89PNG" + b"0" * 4_500_000, "headers": {"Content-Type": "image/png"}}, 413, "payload_too_large"),
    ("too many images", "POST", "/api/ocr/batch", {"files": [("images", (f"{i}.png", b"x")) for i in range(11)]}, 413, "too_many_images"),
    ("two images on /api/ocr", "POST", "/api/ocr", {"files": [("image", ("a.png", b"x")), ("image", ("b.png", b"y"))]}, 413, "too_many_images"),
    ("unknown route", "GET", "/api/nothing", {}, 404, "not_found"),
    ("trailing slash", "POST", "/api/ocr/", {"files": {"image": ("n.png", b"x")}}, 404, "not_found"),
    ("json batch too large", "POST", "/api/ocr/batch", {"json": {"images": [{"s3_key": "uploads/public/none/x.png"}] * 11}}, 413, "too_many_images"),
    ("wrong method", "GET", "/api/ocr", {}, 405, "method_not_allowed"),
    ("wrong method on health", "POST", "/api/health", {}, 405, "method_not_allowed"),
    ("bad upload type", "POST", "/api/uploads", {"json": {"content_type": "text/html"}}, 415, "unsupported_media_type"),
    ("another caller's upload", "POST", "/api/ocr", {"json": {"s3_key": "uploads/3f2a9c/x/scan.png"}}, 400, "bad_s3_key"),
    # issue 14: each of these was a 500 (or a 500 "retry")
    ("tiff page without dimensions", "POST", "/api/ocr", {"data": poison.tiff_second_page_without_size(),
                                                         "headers": {"Content-Type": "image/tiff"}}, 422, "corrupt_image"),
    ("12 blank 7000px pages", "POST", "/api/ocr", {"data": poison.blank_pages_tiff(),
                                                  "headers": {"Content-Type": "image/tiff"}}, 413, "too_many_pixels"),
    ("json nested 100,000 deep", "POST", "/api/ocr", {"data": poison.nested_json(),
                                                      "headers": {"Content-Type": "application/json"}}, 400, "bad_json"),
    ("json nested 100,000 deep on uploads", "POST", "/api/uploads", {"data": poison.nested_json(),
                                                                     "headers": {"Content-Type": "application/json"}}, 400, "bad_json"),
]


@pytest.mark.parametrize("name,method,path,kwargs,status,code", BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
def test_bad_requests(api: Any, name: str, method: str, path: str, kwargs: dict, status: int, code: str) -> None:
    res = requests.request(method, api.url + path, timeout=60, **kwargs)
    assert res.status_code == status, res.text
    body = res.json()
    assert body["error"] == code and body["message"] and body["request_id"], body
    assert "Traceback" not in res.text


def test_poison_in_a_batch_fails_only_its_entry(api: Any) -> None:
    files = [("images", ("poison.tif", poison.tiff_second_page_without_size())),
             ("images", ("strip.png", poison.strip(40000, 12))),
             ("images", ("word.png", (SAMPLES / "handwritten-word.png").read_bytes()))]
    res = post(api, "/api/ocr/batch", files=files, data={"mode": "handwritten"})
    assert res.status_code == 200, res.text
    body = res.json()
    assert [r.get("error") for r in body["results"]] == ["corrupt_image", None, None] and body["failed"] == 1
    assert cer(expected("handwritten-word"), body["results"][2]["text"]) < 0.3


def test_huge_mode_is_refused_without_echoing_it(api: Any) -> None:
    res = post(api, "/api/ocr", files={"image": ("w.png", b"x")}, data={"mode": "m" * 1_000_000})
    assert res.status_code == 422 and res.json()["error"] == "bad_mode" and len(res.content) < 1000


def test_many_multipart_parts_stop_at_the_first_one_too_many(api: Any) -> None:
    boundary = "b0undary"
    part = f'--{boundary}\r\nContent-Disposition: form-data; name="f"\r\n\r\nx\r\n'
    body = (part * 20_000 + f"--{boundary}--\r\n").encode()
    res = post(api, "/api/ocr/batch", data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert res.status_code == 413 and res.json()["error"] == "too_many_fields", res.text


def test_upload_prefixes_are_per_caller() -> None:
    from ocr_http import caller_id

    def event(authorizer: dict[str, Any]) -> dict[str, Any]:
        return {"requestContext": {"authorizer": authorizer}}

    alice, bob = (caller_id(event({"jwt": {"claims": {"sub": s}}})) for s in ("alice", "bob"))
    role = caller_id(event({"iam": {"userArn": "arn:aws:sts::123456789012:assumed-role/app/x"}}))
    assert len({alice, bob, role, "public"}) == 4 and "alice" not in alice and "123456789012" not in role
    assert caller_id({"requestContext": {}}) == caller_id({}) == "public"


def test_s3_key_without_an_upload_bucket_is_503(monkeypatch: pytest.MonkeyPatch) -> None:
    """As POST /api/uploads answers without a bucket (the spec's 503 `uploads_disabled`), not a 400."""
    from ocr_http import ApiError

    from functions.api.inputs import read_upload

    monkeypatch.delenv("UPLOAD_BUCKET", raising=False)
    with pytest.raises(ApiError) as refused:
        read_upload("uploads/public/x/scan.png", "uploads/public/")
    assert (refused.value.status, refused.value.code) == (503, "uploads_disabled")
    assert_documented("POST", "/api/ocr", refused.value.status, {"error": refused.value.code, "message": refused.value.message})


def test_body_over_the_lambda_payload_limit(api: Any) -> None:
    """Over 6 MB of event, API Gateway itself answers 413 (the function never runs)."""
    res = post(api, "/api/ocr", data=b"0" * 5_000_000, headers={"Content-Type": "image/png"})
    assert res.status_code == 413



# ----------------------------------------------------------------------------- saying when unsure
def test_turned_and_blurred_scans_carry_rotation_and_warnings(api: Any) -> None:
    """A scan sent upside down is read and says so (pages[].rotation, warnings); a blurred one is flagged
    (low_confidence lines, blurred, mostly_unreadable), in the one-image answer and in the batch route's entries."""
    import cv2

    gray = cv2.imread(str(TEST_DATA / "printed-scan.tif"), cv2.IMREAD_GRAYSCALE)
    truth = (TEST_DATA / "printed-scan.txt").read_text()
    upside_down = cv2.imencode(".png", cv2.rotate(gray, cv2.ROTATE_180))[1].tobytes()
    blurred = cv2.imencode(".png", cv2.GaussianBlur(gray, (0, 0), 3))[1].tobytes()
    res = post(api, "/api/ocr", files={"image": ("upside-down.png", upside_down)}, data={"mode": "printed"})
    body = res.json()
    assert_documented("POST", "/api/ocr", res.status_code, body)
    assert body["pages"][0]["rotation"] == 180 and body["warnings"] == ["rotated"] and cer(truth, body["text"]) < 0.03
    assert not any(line["low_confidence"] for line in body["lines"])
    res = post(api, "/api/ocr/batch", files=[("images", ("upside-down.png", upside_down)), ("images", ("blurred.png", blurred))],
               data={"mode": "printed"})
    turned, fuzzy = res.json()["results"]
    assert turned["warnings"] == ["rotated"] and turned["pages"][0]["rotation"] == 180
    assert fuzzy["warnings"] == ["blurred", "mostly_unreadable"] and all(line["low_confidence"] for line in fuzzy["lines"])
