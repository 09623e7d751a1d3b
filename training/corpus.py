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


# ---------------------------------------------------------------- receipts and book lines

_TOTALS = (
    "SUBTOTAL", "SUB-TOTAL", "SUB TOTAL", "TOTAL", "TOTAL INCL. OF GST", "TOTAL INCL GST", "TOTAL DUE", "GRAND TOTAL",
    "ROUNDING", "ROUNDING ADJ", "CASH", "CHANGE", "CHANGE DUE", "VISA", "MASTERCARD", "AMEX", "NETS", "EFTPOS",
    "DEBIT", "CREDIT CARD", "TAX", "SALES TAX", "DISCOUNT", "MEMBER DISCOUNT", "SAVINGS", "YOU SAVED", "BALANCE DUE",
    "AMOUNT", "AMOUNT PAID", "TIP", "GRATUITY", "SERVICE CHARGE 10%", "SVC CHG 10%", "DEPOSIT", "TENDERED", "NET",
)
_TAXES = ("GST 9%", "GST 7%", "GST 10%", "GST", "VAT 20%", "VAT 19%", "VAT", "MWST 19%", "TVA 20%", "HST 13%", "TAX 8.25%")
_FOOTERS = (
    "THANK YOU", "THANK YOU FOR SHOPPING WITH US", "PLEASE COME AGAIN", "THANK YOU, PLEASE COME AGAIN",
    "NO REFUND OR EXCHANGE", "GOODS SOLD ARE NOT RETURNABLE", "KEEP THIS RECEIPT", "CUSTOMER COPY", "MERCHANT COPY",
    "*** DUPLICATE ***", "TAX INVOICE", "RECEIPT", "SALES RECEIPT", "APPROVED", "SIGNATURE NOT REQUIRED",
    "Thank you for your visit!", "Have a nice day", "Prices include GST", "All prices in SGD",
)
_UNITS = ("", "", "", " 2L", " 1L", " 500G", " 1KG", " 250ML", " 6PK", " 12S", " EA", " /KG", " LG", " SM", " 330ML")
_CURRENCY = ("$", "$", "$", "", "", "S$", "RM", "€", "£", "USD ")


def _amount(rng: random.Random, big: bool = False) -> float:
    return round(rng.uniform(0.05, 999.0 if big else 60.0) if rng.random() < 0.9 else rng.uniform(0, 9999), 2)


def _price(rng: random.Random, value: float | None = None, symbol: str | None = None) -> str:
    value = _amount(rng) if value is None else value
    symbol = rng.choice(_CURRENCY) if symbol is None else symbol
    text = f"{value:,.2f}" if rng.random() < 0.85 else f"{value:.2f}".replace(".", ",")
    if rng.random() < 0.08:
        text = "-" + text
    return symbol + text + (rng.choice([" A", " B", " T", " S", " *", " F"]) if rng.random() < 0.15 else "")


def _item_name(rng: random.Random) -> str:
    words = [rng.choice(_words("en")) for _ in range(rng.randint(1, 3))]
    name = " ".join(w[: rng.randint(3, 9)] for w in words)
    name = (name.upper() if rng.random() < 0.85 else name.capitalize()) + rng.choice(_UNITS)
    if rng.random() < 0.15:
        name = f"{rng.randint(1000, 99999999)} " + name  # article number / PLU
    return name


def _receipt_date(rng: random.Random) -> str:
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2015, 2030)
    hh, mm, ss = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    mon = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"][m - 1]
    return rng.choice([
        f"{d:02d}/{m:02d}/{y} {hh:02d}:{mm:02d}", f"{y}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}",
        f"{d:02d} {mon} {y} {(hh % 12) or 12}:{mm:02d}{'PM' if hh >= 12 else 'AM'}", f"DATE: {d:02d}/{m:02d}/{y % 100:02d}",
        f"{m:02d}/{d:02d}/{y % 100:02d} {hh:02d}:{mm:02d}", f"{d:02d}.{m:02d}.{y} {hh:02d}:{mm:02d}",
    ])


def _code(rng: random.Random) -> str:
    digits = lambda n: "".join(rng.choice(string.digits) for _ in range(n))  # noqa: E731
    alnum = lambda n: "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(n))  # noqa: E731
    return rng.choice([
        f"INV#{digits(7)}", f"RECEIPT NO: {digits(6)}", f"TXN {digits(4)}-{digits(4)}", f"TERMINAL {digits(2)} CASHIER {digits(3)}",
        f"AUTH CODE: {digits(6)}", f"CARD: ************{digits(4)}", f"REF: {alnum(8)}", f"GST REG NO: M2-{digits(7)}-{alnum(1)}",
        f"UEN: {digits(9)}{alnum(1)}", f"ABN {digits(2)} {digits(3)} {digits(3)} {digits(3)}", f"TEL: {digits(4)} {digits(4)}",
        f"TABLE {rng.randint(1, 60)} PAX {rng.randint(1, 12)}", f"ORDER #{digits(4)}", f"STORE {digits(4)} POS {digits(2)}",
        f"TRN:{digits(10)}", f"VAT NO. GB{digits(9)}", f"Check #{digits(5)}", f"MID: {digits(12)}", f"TID: {alnum(8)}",
    ])


def _address(rng: random.Random) -> str:
    street = rng.choice(_words("en")).upper()[:12]
    return rng.choice([
        f"{rng.randint(1, 999)} {street} {rng.choice(['RD', 'ROAD', 'ST', 'STREET', 'AVE', 'BLVD'])}",
        f"#{rng.randint(1, 30):02d}-{rng.randint(1, 199):02d} {street} MALL", f"SINGAPORE {rng.randint(100000, 829999)}",
        f"{street} BRANCH", f"{rng.choice(_words('en')).upper()} {rng.choice(['MART', 'XTRA', 'CAFE', 'PHARMACY', 'STORE', 'BAKERY'])}",
    ])


def receipt_line(rng: random.Random) -> tuple[str, str]:
    """A till-receipt line as (left part, right-aligned part or ''): items with prices, qty x price,
    totals, taxes, rounding, dates, codes, addresses and footers; mostly upper case."""
    r = rng.random()
    if r < 0.32:
        left, right = _item_name(rng), _price(rng)
    elif r < 0.42:
        qty, unit = rng.randint(2, 12), _amount(rng)
        left = rng.choice([f"{qty} x {unit:.2f}", f"{qty} X {unit:.2f}", f"{qty} @ ${unit:.2f}", f"{qty} x ${unit:.2f} EA",
                           f"{qty}X {unit:.2f}", f"QTY {qty} @ {unit:.2f}"])
        right = _price(rng, round(qty * unit, 2)) if rng.random() < 0.7 else ""
    elif r < 0.62:
        left = rng.choice(_TOTALS) + (f" ({rng.randint(1, 30)} ITEMS)" if rng.random() < 0.05 else "")
        right = _price(rng, round(rng.uniform(-0.04, 0.04), 2) if left.startswith("ROUNDING") else _amount(rng, big=True))
    elif r < 0.68:
        left, right = rng.choice(_TAXES), _price(rng)
    elif r < 0.78:
        left, right = _receipt_date(rng), (_code(rng) if rng.random() < 0.3 else "")
    elif r < 0.88:
        left, right = _code(rng), ""
    elif r < 0.94:
        left, right = _address(rng), ""
    else:
        left, right = rng.choice(_FOOTERS), ""
    if rng.random() < 0.12:  # some tills print mixed case
        left = left.title()
    return normalize_text(left).strip() or "TOTAL", normalize_text(right).strip()


def book_line(rng: random.Random, max_chars: int = 70) -> str:
    """A line of set book text: running English prose (ligature pairs fi, fl, ff come with it),
    sometimes hyphenated at the end, or a general text line."""
    line = _prose(rng, max_chars) if rng.random() < 0.75 else text_line(rng, max_chars=max_chars)
    if rng.random() < 0.12 and len(line.split()) > 2:  # a word broken at the line end
        *head, last = line.split()
        line = " ".join(head + [last[: max(2, len(last) // 2)] + "-"])
    return line
