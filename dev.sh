#!/usr/bin/env bash
# One entry point for a fresh machine: installs what is missing, then runs the asked job.
#   ./dev.sh demo [IMAGE...]   set up, then OCR the sample images with the shipped models
#   ./dev.sh test [PYTEST ARGS] set up, then run the test suite (what CI runs)
#   ./dev.sh serve [--port N]  set up, then serve the HTTP API on 127.0.0.1:3000 (functions under the Lambda RIE)
#   ./dev.sh setup             only set up (.venv + .venv-sam with pinned packages, system packages)
set -euo pipefail
cd "$(dirname "$0")"
VENV=${VENV:-.venv}
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3

apt_install() {  # system packages (Debian names), only those not installed yet
  local want=() pkg
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || want+=("$pkg"); done
  [ ${#want[@]} -eq 0 ] && return 0
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo ">> installing system packages: ${want[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
}

setup() {  # Tesseract (peer/fallback engine), fonts, word lists and npm (training data)
  apt_install tesseract-ocr tesseract-ocr-eng tesseract-ocr-fra curl nodejs $(grep -v '^#' training/apt-packages.txt)
  command -v npm >/dev/null || apt_install npm
  if [ ! -x "$VENV/bin/python" ]; then "$PY" -m venv "$VENV"; fi
  local stamp="$VENV/.installed" want
  want=$(cat requirements/*.txt pyproject.toml | sha256sum | cut -c1-16)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo ">> installing Python packages (pinned by requirements/constraints.txt)"
    "$VENV/bin/pip" install -q --upgrade pip
    bash requirements/install.sh "$VENV/bin/pip" dev
    "$VENV/bin/pip" install -q --no-deps -e .
    echo "$want" > "$stamp"
  fi
  bash training/install-fonts.sh "$VENV/bin/python"  # pinned handwriting fonts from npm (training/handwriting-fonts.tsv)
  # aws-sam-cli (sam validate --lint, and the Lambda Runtime Interface Emulator its wheel ships) in
  # its own venv: its exact pins (click, Flask, boto3) conflict with the runtime set.
  local sam_stamp=".venv-sam/.installed" sam_want
  sam_want=$(cat requirements/sam.txt requirements/sam-constraints.txt | sha256sum | cut -c1-16)
  if [ "$(cat "$sam_stamp" 2>/dev/null)" != "$sam_want" ]; then
    echo ">> installing aws-sam-cli into .venv-sam (pinned by requirements/sam-constraints.txt)"
    [ -x .venv-sam/bin/python ] || "$PY" -m venv .venv-sam
    .venv-sam/bin/pip install -q -c requirements/sam-constraints.txt -r requirements/sam.txt
    echo "$sam_want" > "$sam_stamp"
  fi
}
export SAM_CLI_TELEMETRY=0

job=${1:-demo}; shift || true
case "$job" in
  setup) setup ;;
  demo)
    setup
    if [ $# -eq 0 ]; then set -- samples/printed-letter.png samples/handwritten-note.png; fi
    "$VENV/bin/ocr" --mode auto --verbose "$@" ;;  # text on stdout (form feed between files), a summary per file on stderr
  serve)
    setup
    exec "$VENV/bin/python" -m functions.local_api "$@" ;;
  test)
    setup
    # Chromium and its driver only for the tests (tests/test_web.py drives the web page headless);
    # on Ubuntu they are packaged as chromium-browser and chromium-chromedriver (snap wrappers).
    apt_install chromium chromium-driver
    "$VENV/bin/ruff" check .
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@" ;;
  *) echo "usage: $0 demo [IMAGE...] | serve [--port N] | test [PYTEST ARGS] | setup" >&2; exit 2 ;;
esac
