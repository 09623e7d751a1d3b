"""Lexicon correction: re-read out-of-vocabulary words against dictionary words, scored by CTC.

The word lists are per language (models/lexicon/<lang>.txt, built by scripts/build_lexicon.py);
`OCR_LEXICON` picks them ('en' by default, 'en+fr' for French text, '0' for none), like Tesseract's `-l`.
The recognizer's greedy path can misspell a word it is unsure about ("lagy" for "lazy"). For
each word not in the lexicon, dictionary words within a small edit distance are scored by the
CTC probability of producing them from the same time steps; one replaces the reading only when
the model itself finds it about as likely (within `MARGIN` nats): a word the model is sure of
keeps its reading, since no respelling comes close. Words with digits and short words are
never touched, so codes and amounts survive.

Each listed word also has its frequency (a Zipf value, from wordfreq), which makes the lists a
unigram word language model (`WordModel`): the handwriting decoder's beam search ranks its readings
with it (`ctc.word_beam_decode`, settings `WORD_LM`), and then respells as above.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ocr_core.errors import ModelError

DEFAULT_LANGUAGES = ("en",)  # like Tesseract's eng; French text wants "en+fr" (English-only respells "dans" as "dams")
MARGIN = 5.0  # nats: how much less likely than the greedy word a dictionary word may be
MIN_LEN = 3
MAX_CANDIDATES = 12
_PUNCT = "\"'“”„‘’«»()[]{}<>.,;:!?…-–—"


class Lexicon:
    def __init__(self, words: list[str], zipf: dict[str, float] | None = None) -> None:
        self.words = words
        self.vocab = set(words)
        self.zipf = zipf or {}  # word -> Zipf frequency (log10 of uses per billion words); 0 when unknown
        # Levenshtein distance >= length difference: a query is compared only with words of a length
        # within its limit, in the list's own order (so ties among candidates break as before)
        self._lengths: np.ndarray | None = None  # built on first use: start-up stays cheap
        self._choices: dict[tuple[int, int], list[str]] = {}
        self._candidates: dict[str, list[str]] = {}  # a page repeats its words
        self._respellings: dict[tuple[str, str], list[str]] = {}
        self._word_model: WordModel | None = None

    @classmethod
    @lru_cache(maxsize=4)
    def load(cls, path: Path) -> Lexicon:
        """A `word<TAB>zipf` file (one word a line, as scripts/build_lexicon.py writes it)."""
        fields = path.read_text(encoding="utf-8").split()  # word, zipf, word, zipf, ...
        zipf = dict(zip(fields[0::2], map(float, fields[1::2])))
        return cls(list(zipf), zipf)

    @classmethod
    @lru_cache(maxsize=4)
    def load_languages(cls, folder: Path, languages: tuple[str, ...]) -> Lexicon:
        """The union of `folder/<lang>.txt` word lists, in the order given (earlier lists win ties)."""
        missing = [lang for lang in languages if not (folder / f"{lang}.txt").is_file()]
        if missing:
            have = sorted(p.stem for p in folder.glob("*.txt"))
            raise ModelError(f"no word list for {', '.join(missing)} in {folder} (have: {', '.join(have)})")
        zipf: dict[str, float] = {}
        for lang in languages:  # a word in several lists: its frequency in the language that uses it most
            for word, freq in cls.load(folder / f"{lang}.txt").zipf.items():
                zipf[word] = max(freq, zipf.get(word, freq))
        return cls(list(zipf), zipf)

    def word_model(self) -> WordModel:
        """The unigram language model over these words (`WORD_LM` settings), made on first use."""
        if self._word_model is None:
            self._word_model = WordModel(self)
        return self._word_model

    def candidates(self, word: str) -> list[str]:
        if word not in self._candidates:
            from rapidfuzz import process
            from rapidfuzz.distance import Levenshtein

            limit = 1 if len(word) <= 4 else 2
            key = (len(word), limit)
            if key not in self._choices:
                if self._lengths is None:
                    self._lengths = np.fromiter(map(len, self.words), np.int32, len(self.words))
                near = np.abs(self._lengths - len(word)) <= limit
                self._choices[key] = [self.words[i] for i in np.flatnonzero(near)]
            hits = process.extract(word, self._choices[key], scorer=Levenshtein.distance, score_cutoff=limit,
                                   limit=MAX_CANDIDATES)
            if len(self._candidates) > 50_000:  # bounded: a long-lived Lambda container reads many pages
                self._candidates.clear()
            self._candidates[word] = [h[0] for h in hits]
        return self._candidates[word]

    def respellings(self, word: str, alphabet: str) -> list[str]:
        """`candidates` in the word's case, only those a model with `alphabet` can write."""
        key = (word, alphabet)
        if key not in self._respellings:
            if len(self._respellings) > 50_000:
                self._respellings.clear()
            self._respellings[key] = [c for c in (_match_case(word, w) for w in self.candidates(word.lower()))
                                      if all(ch in alphabet for ch in c)]
        return self._respellings[key]


def lexicon_languages(setting: str) -> tuple[str, ...]:
    """The word lists an `OCR_LEXICON` value asks for: '' or '1' the default, '0'/'off' none, 'en+fr'."""
    setting = setting.strip().lower()
    if setting in ("0", "off", "none"):
        return ()
    if setting in ("", "1", "on"):
        return DEFAULT_LANGUAGES
    return tuple(lang for lang in setting.replace(",", "+").split("+") if lang)


def ctc_log_prob(probs: np.ndarray, label: list[int]) -> float:
    """log P(label | probs) summed over all CTC alignments (blank = last class)."""
    return float(ctc_log_probs(probs, [label])[0])


def ctc_log_probs(probs: np.ndarray, labels: list[list[int]]) -> np.ndarray:
    """log P(label | probs) for several labels at once (one forward pass over time for all of them).

    Each label's blank-extended sequence is padded with blanks to the longest; the forward variables
    only flow towards later positions, so padding never changes a label's own positions.
    """
    blank = probs.shape[1] - 1
    t_len = probs.shape[0]
    if t_len == 0:
        return np.full(len(labels), -np.inf)
    exts = [[blank] + [x for k in label for x in (k, blank)] for label in labels]
    lengths = np.array([len(e) for e in exts])
    s_len = int(lengths.max())
    ext = np.full((len(exts), s_len), blank)
    for i, e in enumerate(exts):
        ext[i, : len(e)] = e
    emit = np.log(np.maximum(probs[:, ext], 1e-12))  # (T, labels, positions): every step's emissions at once
    # alpha lives at columns 2.. of a row padded with two -inf columns, so the previous position
    # and the one before it are plain views; a skip is allowed where `skip_penalty` is 0 (else -inf)
    padded = np.full((len(exts), s_len + 2), -np.inf)
    alpha = padded[:, 2:]
    alpha[:, 0] = emit[0, :, 0]
    if s_len > 1:
        alpha[:, 1] = emit[0, :, 1]
    skip_penalty = np.full(ext.shape, -np.inf)
    skip_penalty[:, 2:][(ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])] = 0.0
    for t in range(1, t_len):
        new = np.logaddexp(np.logaddexp(alpha, padded[:, 1:-1]), padded[:, :-2] + skip_penalty)
        alpha[...] = new + emit[t]
    rows = np.arange(len(exts))
    last = alpha[rows, lengths - 1]
    return np.where(lengths > 1, np.logaddexp(last, alpha[rows, np.maximum(lengths - 2, 0)]), last)


def _match_case(template: str, word: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def correct_line(text: str, char_steps: list[int], probs: np.ndarray, alphabet: str, lexicon: Lexicon) -> str:
    """Return the line with out-of-lexicon words replaced where the CTC evidence allows."""
    index = {ch: i for i, ch in enumerate(alphabet)}
    out = []
    pos = 0
    for token in text.split(" "):
        start, end = pos, pos + len(token)  # character range of the token in `text`
        pos = end + 1
        core = token.strip(_PUNCT)
        if len(core) < MIN_LEN or not core.isalpha() or core.lower() in lexicon.vocab:
            out.append(token)
            continue
        lead = len(token) - len(token.lstrip(_PUNCT))
        c0, c1 = start + lead, start + lead + len(core)
        # time steps that belong to this word: after the previous char, before the next one
        t0 = char_steps[c0 - 1] + 1 if c0 > 0 else 0
        t1 = char_steps[c1] if c1 < len(char_steps) else probs.shape[0]
        window = probs[t0:t1]
        cands = lexicon.respellings(core, alphabet)
        if not cands:  # nothing to respell it as
            out.append(token)
            continue
        base, *scores = ctc_log_probs(window, [[index[c] for c in word] for word in [core, *cands]])
        best, best_score = core, base
        for cand, score in zip(cands, scores):
            if score > base - MARGIN and (best == core or score > best_score):
                best, best_score = cand, score
        out.append(token[:lead] + best + token[lead + len(core):])
    return " ".join(out)


_LN10 = math.log(10.0)
_JOINERS = re.compile(r"['’\-]")  # split a word into the parts a word list holds: "l'eau", "sous-sol"


@dataclass(frozen=True)
class WordLMSettings:
    """How much the word model counts against the recognizer (`WordModel`), and the beam it ranks."""

    weight: float  # times ln P(word)
    bonus: float  # per finished word (offsets the weight's pull towards fewer, longer words)
    oov_zipf: float  # the frequency a word outside the lists is taken to have
    other_zipf: float  # ... a token without letters: digits, punctuation
    prefix_penalty: float  # an unfinished token that can no longer become a listed word
    beam_width: int  # prefixes kept per step
    prune: float  # characters under this probability at a step extend no prefix there


# chosen on the htr-real val split (benchmarks/reports/word_lm.md: `python -m benchmarks.word_lm --tune`)
WORD_LM = WordLMSettings(weight=0.2, bonus=1.0, oov_zipf=0.0, other_zipf=4.0, prefix_penalty=-5.0, beam_width=16,
                         prune=0.01)


class WordModel:
    """A unigram word language model over a `Lexicon`'s frequencies, for `ctc.word_beam_decode`.

    A finished token scores `weight * ln P(word) + bonus`, P from the word's Zipf frequency
    (case folded, punctuation around it stripped; "l'eau" and "sous-sol" as their parts). A word
    outside the lists, or letters mixed with digits ("Alcara3"), scores as if it had `oov_zipf`, so an
    unknown name stays readable when the model reads it clearly; a token without letters (numbers,
    codes of digits, punctuation alone) scores as `other_zipf`, so amounts survive. An unfinished token costs `prefix_penalty` once it cannot
    begin any listed word any more, so the search keeps word-like readings alive until their end.
    """

    def __init__(self, lexicon: Lexicon, settings: WordLMSettings = WORD_LM) -> None:
        self.lexicon = lexicon
        self.weight, self.bonus = settings.weight, settings.bonus
        self.oov_zipf, self.other_zipf, self.prefix_penalty = settings.oov_zipf, settings.other_zipf, settings.prefix_penalty
        self._sorted = sorted(lexicon.words)
        self._words: dict[str, float] = {}  # token -> score, bounded like the lexicon's caches
        self._partials: dict[str, float] = {}

    def _ln_p(self, zipf: float) -> float:
        return (zipf - 9.0) * _LN10  # Zipf = log10 of uses per 10^9 words

    def _part_zipf(self, part: str) -> float:
        zipf = self.lexicon.zipf.get(part)
        return self.oov_zipf if zipf is None else max(zipf, self.oov_zipf)

    def word_score(self, token: str) -> float:
        score = self._words.get(token)
        if score is None:
            core = token.strip(_PUNCT).lower().replace("’", "'")
            if not any(ch.isalpha() for ch in core):  # a number, a code of digits, punctuation alone
                ln_p = self._ln_p(self.other_zipf)
            elif not core.replace("'", "").replace("-", "").isalpha():  # letters mixed with digits or symbols
                ln_p = self._ln_p(self.oov_zipf)
            elif core in self.lexicon.zipf:
                ln_p = self._ln_p(self._part_zipf(core))
            else:
                ln_p = sum(self._ln_p(self._part_zipf(p)) for p in _JOINERS.split(core) if p)
            score = self.weight * ln_p + self.bonus
            if len(self._words) > 50_000:
                self._words.clear()
            self._words[token] = score
        return score

    def partial_score(self, token: str) -> float:
        score = self._partials.get(token)
        if score is None:
            core = token.lstrip(_PUNCT).lower().replace("’", "'")
            score = 0.0 if self._could_be_word(core) else self.prefix_penalty
            if len(self._partials) > 50_000:
                self._partials.clear()
            self._partials[token] = score
        return score

    def _could_be_word(self, core: str) -> bool:
        stem = core.rstrip(_PUNCT)
        if not any(ch.isalpha() for ch in stem) or self._begins_word(stem):
            return True
        if not stem.replace("'", "").replace("’", "").replace("-", "").isalpha():
            return False  # letters mixed with digits or symbols: no word
        *done, last = _JOINERS.split(stem)
        if any(p not in self.lexicon.vocab for p in done if p):
            return False
        return (not last or self._begins_word(last)) if stem == core else last in self.lexicon.vocab

    def _begins_word(self, prefix: str) -> bool:
        i = bisect.bisect_left(self._sorted, prefix)
        return i < len(self._sorted) and self._sorted[i].startswith(prefix)
