#!/usr/bin/env bash
# One entry point for a fresh machine: installs what is missing, then runs the asked job.
#   ./dev.sh demo [IMAGE...]   set up, then OCR the sample images with the shipped models
#   ./dev.sh test [PYTEST ARGS] set up, then run the test suite (what CI runs)
#   ./dev.sh setup             only set up (.venv with pinned packages, system packages)
set -euo pipefail
cd "$(dirname "$0")"
VENV=${VENV:-.venv}
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3

apt_install() {  # system packages: Tesseract (peer/fallback engine), fonts and word lists (training data)
  local want=() pkg
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || want+=("$pkg"); done
  [ ${#want[@]} -eq 0 ] && return 0
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo ">> installing system packages: ${want[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
}

setup() {
  apt_install tesseract-ocr tesseract-ocr-eng $(grep -v '^#' training/apt-packages.txt)
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
}

job=${1:-demo}; shift || true
case "$job" in
  setup) setup ;;
  demo)
    setup
    if [ $# -eq 0 ]; then set -- samples/printed-letter.png samples/handwritten-note.png; fi
    "$VENV/bin/ocr" --mode auto "$@" ;;
  test)
    setup
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@" ;;
  *) echo "usage: $0 demo [IMAGE...] | test [PYTEST ARGS] | setup" >&2; exit 2 ;;
esac
