"""Find the fonts we render training text with.

Printed text uses the many book/UI fonts Debian ships. Handwriting uses Debian's
handwriting-style fonts plus the Google handwriting families pinned in
training/handwriting-fonts.tsv (installed by training/install-fonts.sh into FONT_CACHE).
A few handwriting families (VALIDATION_FAMILIES) are never trained on: synthetic validation
renders with them, so it measures unseen hands. Receipts and book pages render with the
monospace, pixel and dot-matrix till faces and the serif book faces pinned in
training/printed-fonts.tsv plus Debian's monospace and serif fonts; PRINTED_HELD_OUT of them are
kept for the synthetic receipts validation set and benchmark. The fonts of ../shared/dev-eval (Comic Neue,
Havana) are excluded everywhere so that evaluation stays held out.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import ImageFont

FONT_ROOTS = [Path("/usr/share/fonts"), Path("/usr/share/texmf/fonts/opentype")]
HELD_OUT = ("comic", "havana")  # dev-eval fonts: never train on them
FONT_LIST = Path(__file__).with_name("handwriting-fonts.tsv")
FONT_CACHE = Path(os.environ.get("OCR_FONT_CACHE", Path.home() / ".cache" / "ocr-fonts"))
# Handwriting families kept out of training, for synthetic validation of unseen hands:
# two neat print hands, two loose print hands, two cursives.
VALIDATION_FAMILIES = frozenset(
    {"kalam", "handlee", "reenie-beanie", "nothing-you-could-do", "marck-script", "la-belle-aurore"}
)

PRINTED_FONT_LIST = Path(__file__).with_name("printed-fonts.tsv")
# Receipt and book families never trained on: the synthetic receipts validation set and the
# `synthetic-receipts` benchmark render with them (a thermal, a dot-matrix, a pixel and a
# technical monospace face; two book serifs).
PRINTED_HELD_OUT = frozenset({"share-tech-mono", "doto", "tiny5", "b612-mono", "sorts-mill-goudy", "crimson-pro"})
# Debian fonts that also look like till print or book typesetting (file-name prefixes, lower case).
DEBIAN_RECEIPT = ("dejavusansmono", "liberationmono", "freemono", "courierprime", "gnutypewriter", "inconsolata",
                  "nimbusmonops", "texgyrecursor", "go-mono", "cousine")
DEBIAN_BOOK = ("ebgaramond", "linlibertine", "junicode", "vollkorn", "fanwood", "lindenhill", "caladea",
               "texgyretermes", "texgyrepagella", "texgyreschola", "texgyrebonum", "c059", "p052",
               "nimbusroman", "liberationserif", "dejavuserif", "freeserif", "tinos", "notoserif-")

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
REQUIRED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,'-")


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


def font_list() -> list[tuple[str, str, str]]:
    """(family, version, licence) of every pinned npm handwriting family."""
    rows = []
    for line in FONT_LIST.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            family, version, licence = line.split("\t")
            rows.append((family, version, licence))
    return rows


def _npm_font_files() -> list[Path]:
    """The installed regular face of each pinned family (missing ones: run ./dev.sh setup)."""
    files = []
    for family, version, _ in font_list():
        files += sorted((FONT_CACHE / f"{family}@{version}").glob("*-latin-400-normal.ttf"))
    return files


def family_of(path: str) -> str:
    """A font file's family: its Debian package folder, or the npm family of its cache folder."""
    return Path(path).parent.name.split("@")[0]


@functools.cache
def draws_letters(path: str) -> bool:
    """False for the few files that map Latin letters to empty glyphs (e.g. setofont-ex)."""
    left, top, right, bottom = ImageFont.truetype(path, 100).getbbox("xg")
    return bottom - top > 10 and right - left > 10


def handwriting_fonts(split: str = "train") -> list[str]:
    """Handwriting font files: 'train' (all but VALIDATION_FAMILIES), 'validation' or 'all'."""
    debian = [p for p in _all_font_files() if p.parent.name in HANDWRITING_DIRS]
    fonts = [str(p) for p in debian + _npm_font_files()
             if REQUIRED <= charset(str(p)) and not any(h in str(p).lower() for h in HELD_OUT) and draws_letters(str(p))]
    if split == "all":
        return fonts
    held_out = split == "validation"
    return [f for f in fonts if (family_of(f) in VALIDATION_FAMILIES) == held_out]


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


def printed_font_list() -> list[tuple[str, str, str, str]]:
    """(family, version, licence, use) of every pinned npm receipt or book family."""
    rows = []
    for line in PRINTED_FONT_LIST.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            family, version, licence, use = line.split("\t")
            rows.append((family, version, licence, use))
    return rows


def _split(paths: list[str], split: str) -> list[str]:
    if split == "all":
        return paths
    return [f for f in paths if (family_of(f) in PRINTED_HELD_OUT) == (split == "validation")]


def _printed_faces(use: str, debian_prefixes: tuple[str, ...], split: str) -> list[str]:
    npm = [str(p) for family, version, _, kind in printed_font_list() if kind == use
           for p in sorted((FONT_CACHE / f"{family}@{version}").glob("*-latin-400-normal.ttf"))]
    debian = [f for f in printed_fonts() if Path(f).name.lower().startswith(debian_prefixes)] if split != "validation" else []
    return _split([f for f in npm if REQUIRED <= charset(f)], split) + debian


def receipt_fonts(split: str = "train") -> list[str]:
    """Till faces (monospace, pixel, dot-matrix): 'train' (npm minus PRINTED_HELD_OUT, plus Debian's
    monospace fonts), 'validation' (the held-out npm ones only) or 'all'."""
    return _printed_faces("receipt", DEBIAN_RECEIPT, split)


def book_fonts(split: str = "train") -> list[str]:
    """Serif book faces, split like receipt_fonts."""
    return _printed_faces("book", DEBIAN_BOOK, split)


def by_family(paths: list[str]) -> dict[str, list[str]]:
    """Group font files by their package folder, so a family with 100 weights is sampled
    as often as a family with one."""
    groups: dict[str, list[str]] = {}
    for p in paths:
        groups.setdefault(family_of(p), []).append(p)
    return groups
