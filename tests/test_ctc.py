"""CTC decoding on hand-built probability matrices (the model is not involved)."""

from __future__ import annotations

import numpy as np

from ocr_core.ctc import beam_decode, greedy_decode

ALPHA = "ab"  # blank is index 2


def probs_for(path: list[int], p: float = 0.9) -> np.ndarray:
    out = np.full((len(path), 3), (1 - p) / 2)
    out[np.arange(len(path)), path] = p
    return out


def test_greedy_merges_repeats_and_drops_blanks() -> None:
    d = greedy_decode(probs_for([0, 0, 2, 0, 1, 1, 2]), ALPHA)
    assert d.text == "aab"
    assert d.char_steps == [0, 3, 4]
    assert 0.85 < d.confidence <= 0.9 + 1e-6


def test_beam_finds_the_most_probable_labelling_not_the_best_path() -> None:
    # Best single path is blank,blank ("") but "a" is more probable summed over its paths.
    probs = np.array([[0.4, 0.0, 0.6], [0.4, 0.0, 0.6]])
    assert greedy_decode(probs, ALPHA).text == ""
    assert beam_decode(probs, ALPHA).text == "a"  # P("a") = .4*.6+.6*.4+.4*.4 = .64 > .36


def test_beam_agrees_with_greedy_on_confident_input() -> None:
    probs = probs_for([1, 2, 1, 0, 0, 2, 0])
    assert beam_decode(probs, ALPHA).text == greedy_decode(probs, ALPHA).text == "bbaa"


def test_empty_input_gives_empty_text() -> None:
    assert greedy_decode(np.zeros((0, 3)), ALPHA).text == ""


def test_ctc_log_probs_of_several_labels_equal_the_sum_over_all_alignments() -> None:
    """The batched forward pass (lexicon scoring) against brute force: every path of a tiny input."""
    import itertools

    from ocr_core.lexicon import ctc_log_prob, ctc_log_probs

    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(4), size=5)  # 5 steps, classes 0..2 + blank 3
    labels = [[0], [0, 0], [1, 2], [2, 1, 0], [0, 1, 0, 1, 2]]  # different lengths share one pass
    totals = {tuple(label): 0.0 for label in labels}
    for path in itertools.product(range(4), repeat=5):
        collapsed = tuple(k for i, k in enumerate(path) if k != 3 and (i == 0 or path[i - 1] != k))
        if collapsed in totals:
            totals[collapsed] += float(np.prod(probs[np.arange(5), path]))
    got = ctc_log_probs(probs, labels)
    for label, value in zip(labels, got):
        expected = np.log(totals[tuple(label)]) if totals[tuple(label)] else -np.inf
        assert np.isclose(value, expected) or value == expected == -np.inf, (label, value, expected)
        assert np.isclose(ctc_log_prob(probs, label), value) or value == -np.inf
