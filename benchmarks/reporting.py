"""Where every benchmark's Markdown report goes: printed, and written to its committed file."""

from __future__ import annotations

from pathlib import Path


def publish(report: str, out: Path) -> int:
    """Print the report, write it to `out` (folders made), return the command's exit code (0)."""
    print(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    return 0
