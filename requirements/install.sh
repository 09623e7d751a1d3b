#!/usr/bin/env bash
# Install requirement sets, always under the one constraints file.
#   bash requirements/install.sh PIP runtime|dev [keras] [kerasocr]
# `runtime` is the serving set (no TensorFlow); `keras` adds TensorFlow/Keras/tf2onnx (training,
# exports, OCR_RUNTIME=keras); `dev` includes both and `kerasocr`; `kerasocr` brings `keras` along.
# kerasocr.txt goes in with --no-deps, after the others (why: see the comments in that file).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pip=$1
shift
[ $# -gt 0 ] || { echo "usage: $0 PIP runtime|dev [keras] [kerasocr]" >&2; exit 2; }
kerasocr=0
for set in "$@"; do
  case $set in
    kerasocr) kerasocr=1 ;;
    dev) kerasocr=1; "$pip" install -q -c "$here/constraints.txt" -r "$here/dev.txt" ;;
    *) "$pip" install -q -c "$here/constraints.txt" -r "$here/$set.txt" ;;
  esac
done
if [ "$kerasocr" = 1 ]; then
  "$pip" install -q -c "$here/constraints.txt" -r "$here/keras.txt"  # keras-ocr runs on TensorFlow
  "$pip" install -q --no-deps -c "$here/constraints.txt" -r "$here/kerasocr.txt"
fi
