"""Build the word lists of models/lexicon/ (one per language) and their manifest.

- en.txt: Debian's wamerican (SCOWL): ASCII alphabetic words, lowercased, possessives dropped.
- fr.txt: pyspellchecker's French word frequencies (counted on OpenSubtitles): lowercased
  words of French letters seen at least FR_MIN_COUNT times (rarer entries are mostly misspellings),
  plus the elided forms French writes before an apostrophe (FR_ELIDED: "l'", "qu'", "aujourd'hui").

Each line is `word<TAB>zipf`: the word's frequency in its language from wordfreq (its "large" list,
data CC BY-SA 4.0), as a Zipf value (log10 of uses per billion words, 2 decimals; 0 = not seen),
for the word language model of the handwriting decoder (ocr_core.lexicon.WordModel).
Sorted, so a rebuild from the same sources gives the same bytes (the manifest's sha256).
Run: python scripts/build_lexicon.py  (needs the wamerican package and the dev requirements).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import subprocess
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "models" / "lexicon"
EN_SOURCE = Path("/usr/share/dict/american-english")
FR_MIN_COUNT = 20
FR_WORD = re.compile(r"[a-zàâäçéèêëîïôöùûüÿœæ]+")
FR_ELIDED = ("c", "d", "j", "l", "m", "n", "s", "t", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu", "presqu",
             "aujourd'hui")


def english() -> list[str]:
    raw = (w.strip() for w in EN_SOURCE.read_text(encoding="utf-8").splitlines())
    return sorted({w.lower() for w in raw if w and not w.endswith("'s") and w.isascii() and w.isalpha()})


def french() -> list[str]:
    counts = json.loads(gzip.decompress(files("spellchecker").joinpath("resources/fr.json.gz").read_bytes()))
    return sorted({w for w, n in counts.items() if n >= FR_MIN_COUNT and FR_WORD.fullmatch(w)} | set(FR_ELIDED))


def with_frequencies(words: list[str], lang: str) -> str:
    """The file's text: `word<TAB>zipf` lines."""
    from wordfreq import zipf_frequency

    return "".join(f"{w}\t{zipf_frequency(w, lang, wordlist='large'):.2f}\n" for w in words)


def _debian_version(package: str) -> str:
    return subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True).stdout


def main() -> None:
    frequencies = f"; frequencies: wordfreq {version('wordfreq')} 'large' list (data CC BY-SA 4.0), Zipf scale"
    sources = {
        "en": (english(), f"Debian wamerican {_debian_version('wamerican')} (/usr/share/dict/american-english, "
                          "SCOWL): ASCII alphabetic words, lowercased, possessives dropped" + frequencies),
        "fr": (french(), f"pyspellchecker {version('pyspellchecker')} resources/fr.json.gz (OpenSubtitles counts): "
                         f"words of French letters counted at least {FR_MIN_COUNT} times, and elided forms"
                         + frequencies),
    }
    languages = {}
    for lang, (words, source) in sources.items():
        text = with_frequencies(words, lang)
        (OUT / f"{lang}.txt").write_text(text, encoding="utf-8")
        languages[lang] = {"file": f"{lang}.txt", "sha256": hashlib.sha256(text.encode()).hexdigest(),
                           "words": len(words), "source": source}
        print(f"{lang}.txt: {len(words)} words")
    manifest = {"name": "lexicon", "version": "1.2.0", "languages": languages}
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
