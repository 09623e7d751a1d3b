"""CTC decoding: greedy and beam search over a recognizer's per-time-step probabilities.

Both return the text, a confidence, and for every character the time step where it was
emitted, so callers can place word boxes on the image.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass
class Decoded:
    text: str
    confidence: float  # 0..1: geometric mean of the emitted characters' probabilities
    char_steps: list[int]  # time step of each character of `text`
    char_probs: list[float]  # probability of each character of `text`


def greedy_decode(probs: np.ndarray, alphabet: str) -> Decoded:
    """Best path: argmax per step, merge repeats, drop blanks (blank = last index)."""
    blank = len(alphabet)
    best = probs.argmax(axis=1)
    chars, steps, char_probs = [], [], []
    prev = blank
    for t, k in enumerate(best):
        if k != blank and k != prev:
            chars.append(alphabet[k])
            steps.append(t)
            char_probs.append(float(probs[t, k]))
        elif k == prev and k != blank:
            char_probs[-1] = max(char_probs[-1], float(probs[t, k]))
        prev = k
    return Decoded("".join(chars), _confidence(char_probs, probs, best, blank), steps, char_probs)


def _confidence(char_probs: list[float], probs: np.ndarray, best: np.ndarray, blank: int) -> float:
    if char_probs:
        return float(math.exp(np.mean(np.log(np.maximum(char_probs, 1e-9)))))
    # No characters: how sure is the model that the line is empty?
    return float(np.mean(probs[np.arange(len(best)), best])) if len(best) else 0.0


def beam_decode(probs: np.ndarray, alphabet: str, beam_width: int = 8, prune: float = 1e-3) -> Decoded:
    """CTC prefix beam search. Slower than greedy, slightly better on ambiguous strokes.

    Character positions are those of each prefix's best alignment.
    """
    blank = len(alphabet)
    # prefix -> (p_blank, p_nonblank); steps/probs of the characters tracked per prefix.
    beams: dict[tuple[int, ...], list[float]] = {(): [1.0, 0.0]}
    info: dict[tuple[int, ...], tuple[list[int], list[float]]] = {(): ([], [])}
    for t in range(probs.shape[0]):
        row = probs[t]
        candidates = np.flatnonzero(row > prune)
        nxt: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for prefix, (pb, pnb) in beams.items():
            total = pb + pnb
            for k in candidates:
                p = float(row[k])
                if k == blank:
                    nxt[prefix][0] += total * p
                    continue
                last = prefix[-1] if prefix else None
                new = prefix + (int(k),)
                if k == last:
                    nxt[new][1] += pb * p  # repeated char needs a blank in between
                    nxt[prefix][1] += pnb * p  # collapse into the same char
                else:
                    nxt[new][1] += total * p
                if new not in info:
                    steps, cps = info[prefix]
                    info[new] = (steps + [t], cps + [p])
        ranked = sorted(nxt.items(), key=lambda kv: kv[1][0] + kv[1][1], reverse=True)[:beam_width]
        norm = sum(v[0] + v[1] for _, v in ranked) or 1.0
        beams = {k: [v[0] / norm, v[1] / norm] for k, v in ranked}
    best = max(beams, key=lambda k: beams[k][0] + beams[k][1])
    steps, cps = info[best]
    text = "".join(alphabet[k] for k in best)
    conf = float(math.exp(np.mean(np.log(np.maximum(cps, 1e-9))))) if cps else 0.0
    return Decoded(text, conf, steps, cps)


class WordScorer(Protocol):
    """What `word_beam_decode` asks of a language model (ocr_core.lexicon.WordModel is one)."""

    def word_score(self, token: str) -> float:
        """Log-score of a finished space-separated token (punctuation and case as read)."""

    def partial_score(self, token: str) -> float:
        """Log-score of an unfinished token: 0 while it can still become a word, a penalty once it cannot."""


def word_beam_decode(probs: np.ndarray, alphabet: str, scorer: WordScorer, beam_width: int = 16,
                     prune: float = 1e-2) -> Decoded:
    """CTC prefix beam search whose beams are ranked by the model's probability plus a word-level
    language model: each finished word adds `scorer.word_score`, an unfinished one `partial_score`.

    Spaces are the word boundaries, so the search may also move them. At each step only characters
    above `prune` extend a beam (blank always counts); probabilities are renormalised per step.
    Character positions are those of the alignment that first made each prefix.
    """
    blank = len(alphabet)
    beams: dict[str, tuple[float, float]] = {"": (1.0, 0.0)}  # prefix -> (p ending in blank, p ending in its last char)
    done: dict[str, float] = {"": 0.0}  # prefix -> language score of its finished words
    partial: dict[str, float] = {"": 0.0}  # prefix -> language score of its unfinished last word
    made: dict[str, tuple[str, int]] = {}  # prefix -> (the prefix it extends, step of its last char)
    for t in range(probs.shape[0]):
        row = probs[t]
        p_blank = float(row[blank])
        chars = [(alphabet[k], float(row[k])) for k in np.flatnonzero(row > prune) if k != blank]
        ends_blank: dict[str, float] = {}
        ends_char: dict[str, float] = {}
        for prefix, (pb, pnb) in beams.items():
            total = pb + pnb
            ends_blank[prefix] = ends_blank.get(prefix, 0.0) + total * p_blank
            last = prefix[-1:]
            for ch, p in chars:
                new = prefix + ch
                if ch == last:  # a repeated char needs a blank in between; without one it merges
                    ends_char[new] = ends_char.get(new, 0.0) + pb * p
                    ends_char[prefix] = ends_char.get(prefix, 0.0) + pnb * p
                else:
                    ends_char[new] = ends_char.get(new, 0.0) + total * p
                if new not in done:
                    made[new] = (prefix, t)
                    if ch == " ":
                        token = prefix[prefix.rfind(" ") + 1:]
                        done[new] = done[prefix] + (scorer.word_score(token) if token else 0.0)
                        partial[new] = 0.0
                    else:
                        done[new] = done[prefix]
                        partial[new] = scorer.partial_score(new[new.rfind(" ") + 1:])
        # (in the dicts' insertion order, not a set's: ties then break the same way in every process)
        scored = {k: math.log(ends_blank.get(k, 0.0) + ends_char.get(k, 0.0) + 1e-300) + done[k] + partial[k]
                  for k in {**ends_blank, **ends_char}}
        kept = heapq.nlargest(beam_width, scored, key=scored.__getitem__)
        norm = sum(ends_blank.get(k, 0.0) + ends_char.get(k, 0.0) for k in kept) or 1.0
        beams = {k: (ends_blank.get(k, 0.0) / norm, ends_char.get(k, 0.0) / norm) for k in kept}

    def final(prefix: str) -> float:
        token = prefix[prefix.rfind(" ") + 1:]
        return math.log(sum(beams[prefix]) + 1e-300) + done[prefix] + (scorer.word_score(token) if token else 0.0)

    best = max(beams, key=final)
    steps = []
    prefix = best
    while prefix:
        prefix, t = made[prefix]
        steps.append(t)
    steps.reverse()
    # each character's probability as greedy reports it: its best step before the next character
    index = {ch: i for i, ch in enumerate(alphabet)}
    cps = [float(probs[s:e, index[ch]].max()) for s, e, ch in zip(steps, steps[1:] + [probs.shape[0]], best)]
    conf = float(math.exp(np.mean(np.log(np.maximum(cps, 1e-9))))) if cps else 0.0
    return Decoded(best, conf, steps, cps)
