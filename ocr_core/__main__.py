"""`python -m ocr_core ...` is the `ocr` command (see cli.py)."""

import sys

from ocr_core.cli import main

sys.exit(main())
