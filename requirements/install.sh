#!/usr/bin/env bash
# Install a requirement set, always under the one constraints file.
#   bash requirements/install.sh PIP runtime|dev
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$1" install -q -c "$here/constraints.txt" -r "$here/$2.txt"
