"""Lexicon correction: re-read out-of-vocabulary words against dictionary words, scored by CTC.

The recognizer's greedy path can misspell a word it is unsure about ("lagy" for "lazy"). For
each word not in the lexicon, dictionary words within a small edit distance are scored by the
CTC probability of producing them from the same time steps; one replaces the reading only when
the model itself finds it about as likely (within `MARGIN` nats): a word the model is sure of
keeps its reading, since no respelling comes close. Words with digits and short words are
never touched, so codes and amounts survive.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np

MARGIN = 5.0  # nats: how much less likely than the greedy word a dictionary word may be
MIN_LEN = 3
MAX_CANDIDATES = 12
_PUNCT = "\"'“”„‘’«»()[]{}<>.,;:!?…-–—"


class Lexicon:
    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.vocab = set(words)

    @classmethod
    @lru_cache(maxsize=4)
    def load(cls, path: Path) -> Lexicon:
        return cls([w for w in path.read_text(encoding="utf-8").split() if w])

    def candidates(self, word: str) -> list[str]:
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        limit = 1 if len(word) <= 4 else 2
        hits = process.extract(word, self.words, scorer=Levenshtein.distance, score_cutoff=limit, limit=MAX_CANDIDATES)
        return [h[0] for h in hits]


def ctc_log_prob(probs: np.ndarray, label: list[int]) -> float:
    """log P(label | probs) summed over all CTC alignments (blank = last class)."""
    blank = probs.shape[1] - 1
    ext = [blank]
    for k in label:
        ext += [k, blank]
    s_len, t_len = len(ext), probs.shape[0]
    if t_len == 0:
        return -math.inf
    logp = np.log(np.maximum(probs, 1e-12))
    alpha = np.full(s_len, -np.inf)
    alpha[0] = logp[0, ext[0]]
    if s_len > 1:
        alpha[1] = logp[0, ext[1]]
    ext_arr = np.array(ext)
    skip = np.zeros(s_len, bool)
    skip[2:] = (ext_arr[2:] != blank) & (ext_arr[2:] != ext_arr[:-2])
    for t in range(1, t_len):
        prev1 = np.concatenate(([-np.inf], alpha[:-1]))
        prev2 = np.concatenate(([-np.inf, -np.inf], alpha[:-2]))
        prev2 = np.where(skip, prev2, -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, prev1), prev2) + logp[t, ext_arr]
    return float(np.logaddexp(alpha[-1], alpha[-2]) if s_len > 1 else alpha[-1])


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
        base = ctc_log_prob(window, [index[c] for c in core])
        best, best_score = core, base
        for cand in lexicon.candidates(core.lower()):
            cand = _match_case(core, cand)
            if any(c not in index for c in cand):
                continue
            score = ctc_log_prob(window, [index[c] for c in cand])
            if score > base - MARGIN and (best == core or score > best_score):
                best, best_score = cand, score
        out.append(token[:lead] + best + token[lead + len(core):])
    return " ".join(out)
