"""Character and word error rates, the numbers every evaluation here reports."""

from __future__ import annotations


def edit_distance(a: str | list[str], b: str | list[str]) -> int:
    """Levenshtein distance (insertions, deletions, substitutions all cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def normalize_whitespace(text: str) -> str:
    return " ".join(text.split())


def cer(reference: str, hypothesis: str) -> float:
    """Edit distance / reference length, after collapsing runs of whitespace."""
    ref, hyp = normalize_whitespace(reference), normalize_whitespace(hypothesis)
    return edit_distance(ref, hyp) / max(len(ref), 1)


def wer(reference: str, hypothesis: str) -> float:
    ref, hyp = reference.split(), hypothesis.split()
    return edit_distance(ref, hyp) / max(len(ref), 1)
