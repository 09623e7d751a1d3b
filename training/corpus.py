"""Random but plausible text lines for synthetic training data.

Mixes common English function words with dictionary words of six Western European
languages, numbers, prices, dates, e-mail addresses and punctuation, in varied case, so the
recognizer learns characters rather than a vocabulary.
"""

from __future__ import annotations

import random
import string
from functools import cache
from pathlib import Path

from ocr_core.alphabet import normalize_text

DICTS = {
    "en": "/usr/share/dict/american-english",
    "fr": "/usr/share/dict/french",
    "de": "/usr/share/dict/ngerman",
    "es": "/usr/share/dict/spanish",
    "it": "/usr/share/dict/italian",
    "pt": "/usr/share/dict/portuguese",
}
COMMON = (
    "the of and to a in is it you that he was for on are with as I his they be at one have "
    "this from or had by not word but what some we can out other were all there when up use "
    "your how said an each she which do their time if will way about many then them write "
    "would like so these her long make thing see him two has look more day could go come did "
    "number no most people my over know water than call first who may down side been now find "
    "any new work part take get place made live where after back little only round man year "
    "came show every good me give our under name very through just form great think say help "
    "low line before turn cause same mean differ move right boy old too does tell set three "
    "want air well also play small end put home read hand port large spell add even land here "
    "must big high such follow act why ask men change went light kind off need house picture "
    "try us again animal point mother world near build self earth father Monday Friday June "
    "de la le et les des en un une du est que pour dans der die und den von zu das mit sich "
    "el los las por con para una del il che di per non sono o do da em um uma os"
).split()
_FALLBACK = ["ocr", "text", "line", "paper", "note", "letter", "report", "model"]


@cache
def _words(lang: str) -> list[str]:
    path = Path(DICTS[lang])
    if not path.exists():
        return _FALLBACK
    words = [w.strip() for w in path.read_text(encoding="utf-8", errors="ignore").splitlines()]
    return [w for w in words if w and "'" not in w[-2:] and len(w) < 18] or _FALLBACK


def _number(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.25:
        return str(rng.randint(0, 999))
    if kind < 0.45:
        return f"{rng.uniform(0, 99999):,.2f}"
    if kind < 0.55:
        return f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1950, 2030)}"
    if kind < 0.65:
        return f"{rng.randint(0, 23)}:{rng.randint(0, 59):02d}"
    if kind < 0.75:
        return f"{rng.randint(1, 100)}%"
    if kind < 0.85:
        return rng.choice("$€£") + f"{rng.randint(1, 9999)}" + rng.choice(["", f".{rng.randint(0, 99):02d}"])
    return "".join(rng.choice(string.digits) for _ in range(rng.randint(4, 10)))


def _email(rng: random.Random) -> str:
    user = rng.choice(_words("en")).lower() + rng.choice(["", ".", "_"]) + rng.choice(_words("en")).lower()
    return f"{user}@{rng.choice(_words('en')).lower()}.{rng.choice(['com', 'org', 'net', 'de', 'fr'])}"


def _word(rng: random.Random, lang: str) -> str:
    r = rng.random()
    if r < 0.35:
        w = rng.choice(COMMON)
    elif r < 0.45:
        return _number(rng)
    elif r < 0.47:
        return _email(rng)
    elif r < 0.50:
        return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(rng.randint(1, 6)))
    else:
        w = rng.choice(_words(lang))
    case = rng.random()
    if case < 0.12:
        w = w.capitalize()
    elif case < 0.17:
        w = w.upper()
    return w


_WRAPS = ["()", "[]", "{}", '""', "''", "<>", "„”", "“”", "«»", "‘’"]
_TRAIL = [",", ".", ";", ":", "!", "?", "...", ")", "%", "-"]


def text_line(rng: random.Random, max_chars: int = 60, min_words: int = 1, max_words: int = 10) -> str:
    """One line of text; about 60 characters at most."""
    lang = rng.choices(list(DICTS), weights=[5, 1, 1, 1, 1, 1])[0]
    n = rng.randint(min_words, max_words)
    words = []
    for _ in range(n):
        w = _word(rng, lang)
        r = rng.random()
        if r < 0.15:
            w += rng.choice(_TRAIL)
        elif r < 0.21:
            a, b = rng.choice(_WRAPS)
            w = a + w + b
        elif r < 0.24:
            w = w + rng.choice(["/", "-", "&", "+", "=", "#", "*", "—", "–"]) + _word(rng, lang)
        elif r < 0.25:
            w = rng.choice(["#", "@", "&", "*", "§", "°", "~", "^", "|", "\\", "_"]) + w
        words.append(w)
    if rng.random() < 0.4:
        words[0] = words[0][:1].upper() + words[0][1:]
    line = " ".join(words)
    if rng.random() < 0.3:
        line += rng.choice([".", ".", ",", "!", "?", ":"])
    line = normalize_text(line)[:max_chars].strip()
    return line or "text"


# ---------------------------------------------------------------- handwriting lines

FORTUNES = Path("/usr/share/games/fortunes")  # Debian `fortunes`: quotations, i.e. English sentences
_PROSE_SKIP = ("art", "ascii-art", "computers", "debian", "linux", "perl", "startrek", "zippy")


@cache
def _prose_words() -> list[str]:
    """English prose as one long word list (sentences in order), for lines read from running text."""
    if not FORTUNES.exists():
        return []
    words: list[str] = []
    for path in sorted(FORTUNES.iterdir()):
        if path.suffix or path.name in _PROSE_SKIP:
            continue  # .dat indexes, .u8 duplicates, code and ASCII art
        for entry in path.read_text(encoding="utf-8", errors="ignore").split("\n%\n"):
            text = " ".join(entry.split())
            letters = sum(ch.isalpha() for ch in text)
            if text and letters > 0.7 * len(text) and "--" not in text[:2]:
                words += normalize_text(text).split()
    return words


def _prose(rng: random.Random, max_chars: int) -> str:
    words = _prose_words()
    if not words:
        return text_line(rng, max_chars=max_chars)
    i = rng.randrange(len(words))
    out: list[str] = []
    length = -1
    while i < len(words) and length + 1 + len(words[i]) <= max_chars:
        out.append(words[i])
        length += 1 + len(words[i])
        i += 1
    return " ".join(out) or words[i][:max_chars]


def _dated(rng: random.Random) -> str:
    """Letter furniture: dates, addresses, salutations, sums, as old and new letters have them."""
    month = rng.choice(["January", "February", "March", "April", "May", "June", "July", "August",
                        "September", "October", "November", "December", "Jan.", "Feb.", "Aug.", "Sept.", "Oct."])
    day, year = rng.randint(1, 31), rng.randint(1850, 2030)
    street = rng.choice(_words("en")).capitalize()
    return rng.choice([
        f"{month} {day}, {year}", f"{day} {month} {year}", f"{day}th {month}", f"{day}/{rng.randint(1, 12)}/{year % 100:02d}",
        f"{rng.randint(1, 999)} {street} {rng.choice(['St.', 'Street', 'Ave.', 'Road', 'Lane'])}",
        f"Dear {rng.choice(['Sir', 'Madam', 'Mr.', 'Mrs.', 'Miss'])} {street},", f"Yours {rng.choice(['truly', 'sincerely', 'faithfully'])},",
        f"${rng.randint(1, 999)}.{rng.randint(0, 99):02d} paid {month} {day}", f"No. {rng.randint(1, 999)} - {_number(rng)}",
    ])


def handwriting_line(rng: random.Random, max_chars: int = 56) -> str:
    """A line as a hand writes it: mostly English running text, some word lists, numbers and
    letter furniture, and some French (the real training lines are mostly French already)."""
    r = rng.random()
    if r < 0.5:
        line = _prose(rng, rng.randint(12, max_chars) if rng.random() < 0.3 else max_chars)
    elif r < 0.7:
        line = " ".join(rng.choice(COMMON) if rng.random() < 0.4 else rng.choice(_words("en"))
                        for _ in range(rng.randint(1, 8)))
    elif r < 0.8:
        line = _dated(rng)
    elif r < 0.9:
        line = " ".join(rng.choice(_words("fr")) for _ in range(rng.randint(1, 6)))
    else:
        line = text_line(rng, max_chars=max_chars, max_words=8)
    return normalize_text(line)[:max_chars].strip() or "note"
