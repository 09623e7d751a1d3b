"""Find the fonts we render training text with.

Printed text uses the many book/UI fonts Debian ships; handwriting uses Debian's
handwriting-style fonts. The fonts of ../shared/dev-eval (Comic Neue, Havana) are excluded
so that evaluation stays held out.
"""

from __future__ import annotations

import functools
from pathlib import Path

from fontTools.ttLib import TTFont

FONT_ROOTS = [Path("/usr/share/fonts"), Path("/usr/share/texmf/fonts/opentype")]
HELD_OUT = ("comic", "havana")  # dev-eval fonts: never train on them

HANDWRITING_DIRS = (
    "fifthhorseman", "breip", "bwht", "dancingscript", "humor-sans", "kristi", "klee",
    "femkeklaver", "ecolier-court", "rufscript", "sjfonts", "tomsontalks", "kaushanscript",
    "leckerli-one", "staypuft", "yusei-magic", "seto", "yozvox-yozfont",
)
# Symbol, decorative, monospace-pixel and non-Latin fonts that would only teach noise.
PRINTED_SKIP = (
    "symbol", "emoji", "math", "dingbat", "awesome", "icons", "music", "braille", "mathjax",
    "opensymbol", "kacst", "lohit", "samyak", "cjk", "droid", "unifont", "d050000l", "z003",
    "notosanssymbols", "notomusic", "notocoloremoji", "notosansmath", "notoserifdisplay",
    "notosansmono", "notosansdisplay",
)
_NOTO_LATIN = ("NotoSans-", "NotoSerif-", "NotoSansMono-")
REQUIRED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,")


def _all_font_files() -> list[Path]:
    files: list[Path] = []
    for root in FONT_ROOTS:
        if root.exists():
            files += [p for p in root.rglob("*") if p.suffix.lower() in (".ttf", ".otf")]
    return sorted(p for p in files if not any(h in str(p).lower() for h in HELD_OUT))


@functools.cache
def charset(path: str) -> frozenset[str]:
    """Characters a font has glyphs for (so we never train on empty boxes)."""
    try:
        font = TTFont(path, lazy=True, fontNumber=0)
        cmap = font.getBestCmap() or {}
    except Exception:  # broken or exotic font files are simply skipped
        return frozenset()
    return frozenset(chr(c) for c in cmap)


def handwriting_fonts() -> list[str]:
    fonts = [str(p) for p in _all_font_files() if p.parent.name in HANDWRITING_DIRS]
    return [f for f in fonts if REQUIRED <= charset(f)]


def printed_fonts() -> list[str]:
    out = []
    for p in _all_font_files():
        name = str(p).lower()
        if p.parent.name in HANDWRITING_DIRS or any(s in name for s in PRINTED_SKIP):
            continue
        if "noto" in name and not p.name.startswith(_NOTO_LATIN):
            continue  # Noto ships hundreds of non-Latin scripts
        if REQUIRED <= charset(str(p)):
            out.append(str(p))
    return out


def by_family(paths: list[str]) -> dict[str, list[str]]:
    """Group font files by their package folder, so a family with 100 weights is sampled
    as often as a family with one."""
    groups: dict[str, list[str]] = {}
    for p in paths:
        groups.setdefault(Path(p).parent.name, []).append(p)
    return groups
