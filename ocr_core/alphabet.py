"""The character set our recognizers read (index 0..N-1; the CTC blank is index N).

One alphabet for printed and handwritten models so results are comparable and the
`auto` mode can mix them line by line. It covers ASCII printable characters, the accents
of the main Western European languages and common typographic quotes/dashes — the
characters keras-ocr's 36-symbol `kurapan` model cannot produce.
"""

from __future__ import annotations

import string

_ACCENTED = "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝßàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿŒœ"
_TYPOGRAPHIC = "„“”‘’«»–—€£¥§°©®•…"

ALPHABET: str = (
    string.digits + string.ascii_letters + string.punctuation + " " + _ACCENTED + _TYPOGRAPHIC
)

# Characters we map to an alphabet equivalent before training/evaluation.
NORMALIZE = {"\u00a0": " ", "\t": " ", "‚": ",", "′": "'", "″": '"', "−": "-", "‐": "-"}


def normalize_text(text: str) -> str:
    """Map look-alike characters onto the alphabet and drop anything it cannot represent."""
    text = "".join(NORMALIZE.get(ch, ch) for ch in text)
    return "".join(ch for ch in text if ch in _CHAR_TO_INDEX)


_CHAR_TO_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}


def encode(text: str) -> list[int]:
    """Text -> label indices (characters outside the alphabet are dropped)."""
    return [_CHAR_TO_INDEX[ch] for ch in text if ch in _CHAR_TO_INDEX]


assert len(set(ALPHABET)) == len(ALPHABET), "duplicate character in ALPHABET"
