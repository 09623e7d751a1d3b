"""The web page (GET /) and the API description (/api/docs) in a real browser.

Debian's headless Chromium, driven by Selenium through Debian's chromedriver (both installed by
`./dev.sh test`; nothing downloaded), loads the page from the local API (every template
function under the Lambda RIE), uploads the repo's samples and reads what the page shows: the
text, the line and word boxes over the image, the low-confidence marks, the JSON download.
`UPDATE_SCREENSHOT=1` also writes the screenshot to docs/web-page.png.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import pypdfium2
import pytest
import requests
from conftest import TEST_DATA, local_api_with_upload_bucket
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from functions.local_api import LocalApi
from ocr_core.metrics import cer
from ocr_core.quality import WARNINGS

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
SCREENSHOT = REPO / "docs" / "web-page.png"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
BUCKET = "ocr-uploads-web-test"


def expected(name: str) -> str:
    return (SAMPLES / f"{name}.txt").read_text().strip()


@pytest.fixture(scope="module")
def api(moto_endpoint: str) -> Iterator[LocalApi]:
    """The local API, its upload bucket on the moto server (browsers POST big files there: CORS as in template.yaml)."""
    with local_api_with_upload_bucket(moto_endpoint, BUCKET, browser_cors=True) as local:
        yield local


def chromium(downloads: Path, *extra_args: str) -> Any:
    """Debian's Chromium, headless, under Debian's chromedriver (nothing downloaded), saving downloads in `downloads`."""
    assert os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK), \
        "Chromium and chromedriver come from Debian: ./dev.sh test installs chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000",
                "--disable-extensions", "--no-first-run", *extra_args):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.downloads = downloads
    driver.set_page_load_timeout(60)
    return driver


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    driver = chromium(tmp_path_factory.mktemp("downloads"))
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: Any, condition: Any, timeout: float = 120) -> Any:
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition)


def read_files(driver: Any, api: LocalApi, *names: str | Path, mode: str = "auto") -> None:
    """Open the page, pick the mode, choose the files (as a person would with the file dialog), wait for the answer."""
    driver.get(api.url + "/")
    Select(driver.find_element(By.ID, "mode")).select_by_value(mode)
    driver.find_element(By.ID, "files").send_keys("\n".join(str(SAMPLES / n) for n in names))
    wait(driver, lambda d: d.find_element(By.ID, "status").text.startswith("Read "))


def test_page_reads_an_image_and_draws_its_boxes(api: LocalApi, browser: Any, tmp_path: Path) -> None:
    read_files(browser, api, "printed-letter.png", mode="printed")
    assert "via /api/ocr" in browser.find_element(By.ID, "status").text
    text = browser.find_element(By.ID, "text").get_attribute("value")
    assert cer(expected("printed-letter"), text) < 0.08, text

    # the same request outside the browser: the page draws exactly what the API answered
    with open(SAMPLES / "printed-letter.png", "rb") as f:
        result = requests.post(api.url + "/api/ocr", files={"image": f}, data={"mode": "printed"}, timeout=120).json()
    assert text == result["text"]
    lines = browser.find_elements(By.CSS_SELECTOR, "#overlay polygon.line")
    words = browser.find_elements(By.CSS_SELECTOR, "#overlay polygon.word")
    assert len(lines) == len(result["lines"]) > 1
    assert len(words) == sum(len(line["words"]) for line in result["lines"]) > len(lines)
    first = [[float(v) for v in p.split(",")] for p in lines[0].get_attribute("points").split()]
    assert first == result["lines"][0]["box"]
    viewbox = browser.find_element(By.ID, "overlay").get_dom_attribute("viewBox")
    assert viewbox == f"0 0 {result['width']} {result['height']}"
    # the boxes lie over the picture: overlay and image share one rectangle on screen
    img, svg = (browser.find_element(By.ID, i).rect for i in ("image", "overlay"))
    assert img["width"] > 300 and all(abs(img[k] - svg[k]) < 1.5 for k in ("x", "y", "width", "height")), (img, svg)
    assert browser.execute_script("return document.getElementById('image').naturalWidth") == result["width"]

    # low confidence is marked: every word below the threshold, and only those
    confidences = [w["confidence"] for line in result["lines"] for w in line["words"]]
    threshold = statistics.median(confidences)
    field = browser.find_element(By.ID, "threshold")

    def set_threshold(value: float) -> None:  # as typing in the field does: its input event redraws
        browser.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))", field, str(value))

    set_threshold(threshold)
    low_boxes = browser.find_elements(By.CSS_SELECTOR, "#overlay polygon.word.low")
    low_words = browser.find_elements(By.CSS_SELECTOR, "#lines span.w.low")
    assert len(low_boxes) == len(low_words) == sum(c < threshold for c in confidences) > 0
    assert low_boxes[0].value_of_css_property("stroke-dasharray") not in ("none", "")

    set_threshold(0.95)  # the screenshot: a few words marked, most not
    browser.save_screenshot(str(tmp_path / "web-page.png"))
    assert (tmp_path / "web-page.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copy(tmp_path / "web-page.png", SCREENSHOT)
    assert SCREENSHOT.exists(), "docs/web-page.png: run this test once with UPDATE_SCREENSHOT=1"

    # copy the text, download the JSON
    browser.find_element(By.ID, "copy").click()
    wait(browser, lambda d: d.find_element(By.ID, "status").text.startswith("Copied"), 10)
    assert browser.find_element(By.ID, "status").text == f"Copied {len(text)} characters."
    browser.find_element(By.ID, "download").click()
    saved = browser.downloads / "printed-letter.png.json"
    assert wait(browser, lambda _: saved.exists(), 60), f"the download {saved} did not arrive"
    downloaded = json.loads(saved.read_text())
    assert downloaded["text"] == result["text"] and downloaded["lines"] == result["lines"]

    # the searchable PDF and the hOCR of the same file: their text is the OCR text
    browser.find_element(By.ID, "download-pdf").click()
    pdf = browser.downloads / "printed-letter.png.pdf"
    assert wait(browser, lambda _: pdf.exists() and pdf.stat().st_size > 0, 60), f"the download {pdf} did not arrive"
    pdf_text = pypdfium2.PdfDocument(str(pdf))[0].get_textpage().get_text_range()
    assert " ".join(pdf_text.split()) == " ".join(result["text"].split())
    browser.find_element(By.ID, "download-hocr").click()
    hocr = browser.downloads / "printed-letter.png.hocr"
    assert wait(browser, lambda _: hocr.exists() and hocr.stat().st_size > 0, 60), f"the download {hocr} did not arrive"
    assert "ocr_line" in hocr.read_text() and result["lines"][0]["words"][0]["text"] in hocr.read_text()


def test_page_reads_several_files_through_the_batch_route(api: LocalApi, browser: Any) -> None:
    read_files(browser, api, "handwritten-note.png", "printed-letter.png")
    assert browser.find_element(By.ID, "status").text == "Read 2 of 2 via /api/ocr/batch."
    names = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#files-list li button")]
    assert names == ["handwritten-note.png", "printed-letter.png"]
    texts = {}
    for index, name in enumerate(names):  # the list is redrawn on every click: find the button anew
        browser.find_elements(By.CSS_SELECTOR, "#files-list li button")[index].click()
        wait(browser, lambda d, n=name: d.find_element(By.ID, "meta").text.startswith(n + ":"), 10)
        texts[name] = browser.find_element(By.ID, "text").get_attribute("value")
        assert browser.find_elements(By.CSS_SELECTOR, "#overlay polygon.line")
    assert cer(expected("handwritten-note"), texts["handwritten-note.png"]) < 0.3, texts
    assert cer(expected("printed-letter"), texts["printed-letter.png"]) < 0.08, texts


def test_page_shows_warnings_rotation_and_flagged_lines(api: LocalApi, browser: Any, tmp_path: Path) -> None:
    """What the API says about a doubtful read is on the page: each warning's meaning in a banner, the turn a
    page was read at, the lines under their model's threshold marked in the list and over the image."""
    scan = cv2.imread(str(TEST_DATA / "printed-scan.tif"), cv2.IMREAD_GRAYSCALE)
    files = {"sharp.png": scan, "upside-down.png": cv2.rotate(scan, cv2.ROTATE_180),
             "blurred.png": cv2.GaussianBlur(scan, (0, 0), 3)}
    for name, gray in files.items():
        cv2.imwrite(str(tmp_path / name), gray)
    read_files(browser, api, *(tmp_path / name for name in files), mode="printed")
    sent = [("images", (name, (tmp_path / name).read_bytes())) for name in files]
    results = requests.post(api.url + "/api/ocr/batch", files=sent, data={"mode": "printed"}, timeout=120).json()["results"]
    pages = [r["pages"][0] for r in results]
    assert pages[0]["warnings"] == [] and not any(line["low_confidence"] for line in results[0]["lines"])
    assert pages[1]["rotation"] == 180 and pages[1]["warnings"] == ["rotated"]
    assert "blurred" in pages[2]["warnings"] and all(line["low_confidence"] for line in results[2]["lines"])
    for index, (name, result, page) in enumerate(zip(files, results, pages)):
        browser.find_elements(By.CSS_SELECTOR, "#files-list li button")[index].click()
        wait(browser, lambda d, n=name: d.find_element(By.ID, "meta").text.startswith(n + ":"), 10)
        banner = browser.find_element(By.ID, "warnings")
        items = banner.find_elements(By.TAG_NAME, "li")
        assert [li.get_dom_attribute("data-code") for li in items] == page["warnings"]
        assert [li.text for li in items] == [WARNINGS[code] for code in page["warnings"]]
        assert banner.is_displayed() == bool(page["warnings"])
        rotation = browser.find_element(By.ID, "rotation")
        assert rotation.is_displayed() == bool(page["rotation"])
        assert (f"turned {page['rotation']}° clockwise" in rotation.text) == bool(page["rotation"])
        flagged = sum(line["low_confidence"] for line in result["lines"])
        assert len(browser.find_elements(By.CSS_SELECTOR, "#lines li.flagged")) == flagged
        assert len(browser.find_elements(By.CSS_SELECTOR, "#lines li.flagged .flag")) == flagged
        assert len(browser.find_elements(By.CSS_SELECTOR, "#overlay polygon.line.flagged")) == flagged
    # the blurred page is shown last: its banner and flagged lines stand out (styled, not only classed)
    assert browser.find_element(By.ID, "warnings").value_of_css_property("border-left-style") == "solid"
    assert browser.find_element(By.CSS_SELECTOR, "#lines li.flagged").value_of_css_property("border-left-style") == "solid"
    assert browser.find_element(By.CSS_SELECTOR, "#overlay polygon.line.flagged").value_of_css_property("stroke-width") == "3px"


def test_docs_serve_the_generated_description(api: LocalApi, browser: Any) -> None:
    served = requests.get(api.url + "/api/docs?format=json", timeout=60)
    assert served.status_code == 200 and served.headers["Content-Type"].startswith("application/json")
    spec = served.json()
    assert spec == json.loads((REPO / "functions" / "web" / "openapi.json").read_text())
    browser.get(api.url + "/api/docs")
    operations = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock"), 60)
    assert len(operations) == sum(len(ops) for ops in spec["paths"].values())
    assert "/api/ocr/batch" in browser.find_element(By.CSS_SELECTOR, ".swagger-ui").text


def padded_png(source: Path, size: int) -> bytes:
    """The same picture in a PNG of `size` bytes: a private ancillary chunk (which decoders skip) before IEND."""
    data = source.read_bytes()
    end = data.rindex(b"IEND") - 4
    filler = b"\0" * (size - len(data) - 12)
    chunk = struct.pack(">I", len(filler)) + b"prVt" + filler + struct.pack(">I", zlib.crc32(b"prVt" + filler))
    return data[:end] + chunk + data[end:]


def test_page_splits_a_batch_over_the_body_limit(api: LocalApi, browser: Any, tmp_path: Path) -> None:
    """Three 2 MB files, each under the 4.4 MB limit but 6 MB together: two batch requests, every file read."""
    names = [tmp_path / f"word-{i}.png" for i in range(3)]
    for name in names:
        name.write_bytes(padded_png(SAMPLES / "handwritten-word.png", 2_000_000))
    read_files(browser, api, *names, mode="handwritten")
    assert browser.find_element(By.ID, "status").text == "Read 3 of 3 via /api/ocr/batch."
    notes = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#files-list li span")]
    assert len(notes) == 3 and all(" lines, confidence " in n for n in notes), notes  # an error would show instead


def test_page_sends_big_files_through_the_upload_bucket(api: LocalApi, tmp_path: Path) -> None:
    """POST /api/uploads, the presigned POST form to S3, POST /api/ocr {"s3_key"}. This browser skips CORS: moto
    checks the presigned signature on the CORS preflight and refuses it (S3 answers preflights unsigned)."""
    big = tmp_path / "big-letter.png"
    big.write_bytes(padded_png(SAMPLES / "printed-letter.png", 4_500_000))  # over the API's 4.4 MB body limit
    browser = chromium(tmp_path, "--disable-web-security", f"--user-data-dir={tmp_path / 'profile'}")
    try:
        read_files(browser, api, big, mode="printed")
        error = browser.find_element(By.ID, "error")
        assert error.get_dom_attribute("hidden") is not None, error.text
        assert cer(expected("printed-letter"), browser.find_element(By.ID, "text").get_attribute("value")) < 0.08
    finally:
        browser.quit()
    sizes = {o["Key"]: o["Size"] for o in api.s3.list_objects_v2(Bucket=BUCKET, Prefix="uploads/")["Contents"]}
    # under the caller's prefix (no auth on the local API: `public`), the whole file
    assert [size for key, size in sizes.items() if key.endswith("/big-letter.png")] == [4_500_000]
    assert all(key.startswith("uploads/public/") for key in sizes), sizes


def test_page_settings_are_the_apis() -> None:
    """Every OCR_* setting the page's files name is one the code reads (its hard-coded limits are the
    vocabulary's: tests/test_structure.py)."""
    static = REPO / "functions" / "web" / "static"
    code = "".join(f.read_text() for d in ("layers", "functions", "ocr_core") for f in (REPO / d).rglob("*.py"))
    named = {m for f in static.iterdir() if f.is_file() for m in re.findall(r"\bOCR_[A-Z_]+\b", f.read_text(errors="ignore"))}
    assert all(f'"{name}"' in code for name in named), named
