#!/usr/bin/env bash
# Install the pinned fonts of training/handwriting-fonts.tsv and training/printed-fonts.tsv (receipt
# and book faces) from the npm registry
# (@fontsource/<family>@<version>) into the font cache that training/fonts.py reads:
# ${OCR_FONT_CACHE:-~/.cache/ocr-fonts}/<family>@<version>/ with the Latin regular face, metadata.json
# and LICENSE. The face ships as WOFF; it is stored as plain TrueType (fontTools, in the project's
# venv) because FreeType decompresses a WOFF on every open, 70x slower than opening a .ttf.
# Idempotent: a family already in the cache is skipped, so a second run takes well under a second.
#   usage: training/install-fonts.sh [PYTHON]   (default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-.venv/bin/python}
cache=${OCR_FONT_CACHE:-$HOME/.cache/ocr-fonts}
mkdir -p "$cache"

want=()
for list in training/handwriting-fonts.tsv training/printed-fonts.tsv; do
  while IFS=$'\t' read -r family version licence _; do  # printed-fonts.tsv has a 4th column (use)
    [[ -z "$family" || "$family" == \#* ]] && continue
    [ -f "$cache/$family@$version/.complete" ] || want+=("$family $version $licence")
  done < "$list"
done
[ ${#want[@]} -eq 0 ] && exit 0

command -v npm >/dev/null || { echo "install-fonts: npm is needed (apt-get install npm)" >&2; exit 1; }
echo ">> installing ${#want[@]} fonts into $cache"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
specs=()
for row in "${want[@]}"; do
  read -r family version _ <<<"$row"
  specs+=("@fontsource/$family@$version")
done
(cd "$tmp" && npm pack --silent "${specs[@]}" >/dev/null)  # one registry round for all of them

for row in "${want[@]}"; do
  read -r family version licence <<<"$row"
  unpacked="$tmp/$family"
  mkdir -p "$unpacked"
  tar xzf "$tmp/fontsource-$family-$version.tgz" -C "$unpacked"
  got=$(sed -n 's/.*"license": *"\([^"]*\)".*/\1/p' "$unpacked/package/package.json" | head -1)
  if [ "$got" != "$licence" ]; then
    echo "install-fonts: $family@$version is licensed '$got', the list says '$licence'" >&2
    exit 1
  fi
  dest="$cache/$family@$version"
  rm -rf "$dest" && mkdir -p "$dest"
  "$python" -c 'import sys; from fontTools.ttLib import TTFont; f = TTFont(sys.argv[1]); f.flavor = None; f.save(sys.argv[2])' \
    "$unpacked/package/files/$family-latin-400-normal.woff" "$dest/$family-latin-400-normal.ttf"
  cp "$unpacked/package/metadata.json" "$dest/"
  [ -f "$unpacked/package/LICENSE" ] && cp "$unpacked/package/LICENSE" "$dest/"
  touch "$dest/.complete"
done
