// The page's logic, plain JavaScript (no build step). It calls the API of the origin it was served
// from: one file -> POST /api/ocr, several -> POST /api/ocr/batch (10 per request, and no more
// bytes than the body limit), a file over the
// body limit -> POST /api/uploads, POST the file with the returned form fields to S3, then
// POST /api/ocr {"s3_key"}.
"use strict";

const MAX_BODY_BYTES = 4400000; // the API's request body limit: MAX_BODY_BYTES in ocr_core/vocabulary.py
// (tests/test_structure.py keeps the two equal; a static page cannot follow an override there, so change both)
const MAX_BATCH = 10; // images per /api/ocr/batch request: MAX_BATCH_IMAGES in ocr_core/vocabulary.py
const MULTIPART_SLACK = 64 * 1024; // room for the multipart headers of a batch body (as ocr_core/client.py)
// What each page warning code means: WARNINGS in ocr_core/quality.py (tests/test_structure.py keeps the two equal)
const WARNINGS = {
  rotated: "the page was sideways or upside down: it was turned (its rotation, degrees clockwise) to read it",
  too_small: "the text is very small (lines under 10 px tall): scan at a higher resolution",
  blurred: "the text is blurred (out of focus or moved): take a sharper photo or scan",
  mostly_unreadable: "most of the page was read with low confidence: check the text, or try a cleaner scan",
};
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

const state = { entries: [], current: -1, page: 1 };

function authHeaders() {
  const token = $("token").value.trim();
  if (!token) return {};
  return { Authorization: /^bearer /i.test(token) ? token : `Bearer ${token}` };
}

async function call(path, options) {
  const res = await fetch(path, { ...options, headers: { ...authHeaders(), ...(options.headers || {}) } });
  let body;
  try {
    body = await res.json();
  } catch (err) {
    body = { message: `HTTP ${res.status} (not JSON)` };
  }
  if (!res.ok) {
    // our errors are {"error", "message"}; API Gateway's own (auth, throttling) only {"message"}
    throw new Error(body.error ? `${body.error}: ${body.message}` : `HTTP ${res.status}: ${body.message || ""}`);
  }
  return body;
}

async function readLarge(file, mode) {
  const contentType = file.type || "image/png";
  const up = await call("/api/uploads", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ filename: file.name, content_type: contentType }),
  });
  // a presigned POST policy: its fields first, the file last (S3 ignores fields after the file)
  const form = new FormData();
  Object.entries(up.fields).forEach(([name, value]) => form.append(name, value));
  form.append("file", file, file.name);
  const sent = await fetch(up.upload_url, { method: "POST", body: form });
  if (!sent.ok) throw new Error(`upload to S3 failed: HTTP ${sent.status}`);
  return call("/api/ocr", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ s3_key: up.s3_key, filename: file.name, mode }),
  });
}

function readOne(file, mode) {
  if (file.size > MAX_BODY_BYTES) return readLarge(file, mode);
  const form = new FormData();
  form.append("image", file, file.name);
  form.append("mode", mode);
  return call("/api/ocr", { method: "POST", body: form });
}

async function readBatch(files, mode) {
  const form = new FormData();
  files.forEach((f) => form.append("images", f, f.name));
  form.append("mode", mode);
  const body = await call("/api/ocr/batch", { method: "POST", body: form });
  return body.results; // in request order; an entry with "error" failed alone
}

// Consecutive groups of entries, each at most MAX_BATCH files and (with the multipart headers) the body limit.
function batches(entries) {
  const out = [];
  let chunk = [];
  let bytes = 0;
  for (const e of entries) {
    if (chunk.length === MAX_BATCH || (chunk.length && bytes + e.file.size > MAX_BODY_BYTES - MULTIPART_SLACK)) {
      out.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(e);
    bytes += e.file.size;
  }
  if (chunk.length) out.push(chunk);
  return out;
}

function setStatus(text) {
  $("status").textContent = text;
}

async function readAll() {
  const mode = $("mode").value;
  const entries = state.entries;
  entries.forEach((e) => { e.result = null; e.error = null; });
  renderList();
  setStatus(`Reading ${entries.length} file${entries.length > 1 ? "s" : ""} (${mode})…`);
  document.body.classList.add("busy");
  const small = entries.filter((e) => e.file.size <= MAX_BODY_BYTES);
  const jobs = [];
  if (entries.length === 1) {
    jobs.push(readOne(entries[0].file, mode).then((r) => { entries[0].result = r; }, (err) => { entries[0].error = err.message; }));
  } else {
    for (const chunk of batches(small)) {
      jobs.push(readBatch(chunk.map((e) => e.file), mode).then(
        (results) => results.forEach((r, k) => {
          if (r.error) chunk[k].error = `${r.error}: ${r.message}`;
          else chunk[k].result = r;
        }),
        (err) => chunk.forEach((e) => { e.error = err.message; }),
      ));
    }
    entries.filter((e) => e.file.size > MAX_BODY_BYTES).forEach((e) => {
      jobs.push(readLarge(e.file, mode).then((r) => { e.result = r; }, (err) => { e.error = err.message; }));
    });
  }
  await Promise.all(jobs);
  document.body.classList.remove("busy");
  const failed = entries.filter((e) => e.error).length;
  const route = entries.length > 1 ? "/api/ocr/batch" : "/api/ocr";
  setStatus(`Read ${entries.length - failed} of ${entries.length} via ${route}${failed ? `; ${failed} failed` : ""}.`);
  $("read").disabled = false;
  renderList();
  show(state.current >= 0 ? state.current : 0);
}

function renderList() {
  const list = $("files-list");
  list.replaceChildren();
  $("download-all").hidden = state.entries.length < 2;
  state.entries.forEach((e, i) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = e.file.name;
    button.addEventListener("click", () => show(i));
    const note = document.createElement("span");
    note.className = e.error ? "error" : "note";
    note.textContent = e.error ? e.error : e.result ? `${e.result.lines.length} lines, confidence ${e.result.confidence.toFixed(2)}` : "…";
    li.append(button, " ", note);
    if (i === state.current) li.className = "current";
    list.append(li);
  });
}

function show(index) {
  state.current = index;
  const entry = state.entries[index];
  if (!entry) return;
  renderList();
  $("view").hidden = false;
  $("error").hidden = !entry.error;
  $("error").textContent = entry.error || "";
  const result = entry.result;
  const pages = result ? result.page_count || 1 : 1;
  state.page = 1;
  $("page-pick").hidden = pages < 2;
  $("page").replaceChildren(...Array.from({ length: pages }, (_, k) => new Option(String(k + 1), String(k + 1))));
  const img = $("image");
  img.onload = () => { img.classList.remove("unrenderable"); draw(); };
  img.onerror = () => { img.classList.add("unrenderable"); draw(); }; // TIFF, PDF: boxes on a blank page
  img.src = entry.url;
  $("text").value = result ? result.text : "";
  $("meta").textContent = result
    ? `${entry.file.name}: mode ${result.mode} (used: ${result.mode_used}), confidence ${result.confidence.toFixed(3)}, ` +
      `${result.width}×${result.height}px, ${pages} page${pages > 1 ? "s" : ""}, ${Math.round((result.timings_ms || {}).total || 0)} ms`
    : entry.file.name;
  draw();
}

// The current page's warnings (a banner, each code's meaning) and the turn it was read at.
function showWarnings(result) {
  const page = result && ((result.pages || []).find((p) => p.page === state.page) || { page: state.page, rotation: 0, warnings: result.warnings });
  const codes = page ? page.warnings || [] : [];
  $("warnings").replaceChildren(...codes.map((code) => {
    const li = document.createElement("li");
    li.dataset.code = code;
    li.textContent = WARNINGS[code] || code;
    return li;
  }));
  $("warnings").hidden = !codes.length;
  $("rotation").hidden = !(page && page.rotation);
  $("rotation").textContent = page && page.rotation
    ? `Page ${page.page} was read turned ${page.rotation}° clockwise (the boxes are drawn on the image as it was sent).` : "";
}

function pageSize(result, page) {
  const p = (result.pages || []).find((x) => x.page === page);
  return p ? [p.width, p.height] : [result.width, result.height];
}

function confidenceClass(conf, threshold) {
  if (conf < threshold) return "low";
  return conf < 0.9 ? "mid" : "high";
}

function polygon(box, cls, label) {
  const el = document.createElementNS(SVG, "polygon");
  el.setAttribute("points", box.map(([x, y]) => `${x},${y}`).join(" "));
  el.setAttribute("class", cls);
  const title = document.createElementNS(SVG, "title");
  title.textContent = label;
  el.append(title);
  return el;
}

function draw() {
  const entry = state.entries[state.current];
  const svg = $("overlay");
  const lines = $("lines");
  svg.replaceChildren();
  lines.replaceChildren();
  showWarnings(entry && entry.result);
  if (!entry || !entry.result) return;
  const result = entry.result;
  const threshold = Number($("threshold").value);
  const showWords = $("show-words").checked;
  const [width, height] = pageSize(result, state.page);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  $("stage").style.aspectRatio = `${width} / ${height}`;
  $("image").hidden = state.page !== 1; // the browser shows the first page only
  result.lines.filter((line) => (line.page || 1) === state.page).forEach((line, n) => {
    const lineClass = confidenceClass(line.confidence, threshold);
    const group = document.createElementNS(SVG, "g");
    const flagged = line.low_confidence ? " flagged" : ""; // under its model's calibrated threshold (the API says so)
    group.append(polygon(line.box, `line ${lineClass}${flagged}`, `${line.text} (${line.confidence.toFixed(2)})`));
    if (showWords) {
      (line.words || []).forEach((w) => {
        group.append(polygon(w.box, `word ${confidenceClass(w.confidence, threshold)}`, `${w.text} (${w.confidence.toFixed(2)})`));
      });
    }
    svg.append(group);

    const li = document.createElement("li");
    li.className = lineClass + flagged;
    (line.words && line.words.length ? line.words : [line]).forEach((w, k) => {
      if (k) li.append(" ");
      const span = document.createElement("span");
      span.className = `w ${confidenceClass(w.confidence, threshold)}`;
      span.textContent = w.text;
      span.title = `confidence ${w.confidence.toFixed(3)}`;
      li.append(span);
    });
    const badge = document.createElement("small");
    badge.textContent = line.confidence.toFixed(2);
    li.append(" ", badge);
    if (line.low_confidence) {
      const flag = document.createElement("strong");
      flag.className = "flag";
      flag.textContent = "check";
      flag.title = `read with low confidence for the ${line.mode} model: check this line`;
      li.append(" ", flag);
    }
    li.addEventListener("mouseenter", () => group.classList.add("hover"));
    li.addEventListener("mouseleave", () => group.classList.remove("hover"));
    li.dataset.line = String(n);
    lines.append(li);
  });
}

async function copyText() {
  const text = $("text").value;
  try {
    await navigator.clipboard.writeText(text);
  } catch (err) { // no clipboard permission (e.g. plain http off localhost): select and copy
    $("text").select();
    if (!document.execCommand("copy")) { setStatus("Copy failed: select the text and copy it yourself."); return; }
  }
  setStatus(`Copied ${text.length} characters.`);
}

function saveJson(name, data) {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function choose(files) {
  state.entries.forEach((e) => URL.revokeObjectURL(e.url));
  state.entries = Array.from(files).map((file) => ({ file, url: URL.createObjectURL(file), result: null, error: null }));
  state.current = 0;
  if (state.entries.length) readAll();
}

$("files").addEventListener("change", (ev) => choose(ev.target.files));
$("read").addEventListener("click", () => readAll());
$("mode").addEventListener("change", () => { if (state.entries.length) readAll(); });
$("threshold").addEventListener("input", draw);
$("show-words").addEventListener("change", draw);
$("page").addEventListener("change", (ev) => { state.page = Number(ev.target.value); draw(); });
$("copy").addEventListener("click", copyText);
$("download").addEventListener("click", () => {
  const e = state.entries[state.current];
  if (e && e.result) saveJson(`${e.file.name}.json`, e.result);
});
// hOCR and searchable PDF: the same file read again by /api/ocr with `format` (the JSON result has no page image)
async function saveFormat(fmt, extension) {
  const e = state.entries[state.current];
  if (!e || e.file.size > MAX_BODY_BYTES) { setStatus(`${fmt}: only for files under the request size limit`); return; }
  const form = new FormData();
  form.append("image", e.file, e.file.name);
  form.append("mode", $("mode").value);
  form.append("format", fmt);
  setStatus(`Making ${fmt} of ${e.file.name}...`);
  const res = await fetch("/api/ocr", { method: "POST", body: form, headers: authHeaders() });
  if (!res.ok) { setStatus(`${fmt} failed: HTTP ${res.status}`); return; }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(await res.blob());
  a.download = `${e.file.name}${extension}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  setStatus(`Saved ${a.download}.`);
}
$("download-hocr").addEventListener("click", () => saveFormat("hocr", ".hocr"));
$("download-pdf").addEventListener("click", () => saveFormat("pdf", ".pdf"));
$("download-all").addEventListener("click", () => {
  saveJson("ocr-results.json", state.entries.map((e) => e.result || { filename: e.file.name, error: e.error }));
});
const drop = $("drop");
["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (ev) => { ev.preventDefault(); drop.classList.add("over"); }));
["dragleave", "drop"].forEach((t) => drop.addEventListener(t, (ev) => { ev.preventDefault(); drop.classList.remove("over"); }));
drop.addEventListener("drop", (ev) => choose(ev.dataTransfer.files));
