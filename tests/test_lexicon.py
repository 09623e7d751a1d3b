"""Lexicon: candidates equal a search of the whole list; the word lists per language and their manifest."""

from __future__ import annotations

import json

import pytest
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ocr_core.errors import ModelError
from ocr_core.lexicon import DEFAULT_LANGUAGES, MAX_CANDIDATES, Lexicon, lexicon_languages
from ocr_core.model_store import REPO_MODELS, sha256_of


def test_candidates_equal_a_search_of_the_whole_list_in_the_same_order() -> None:
    lexicon = Lexicon.load(REPO_MODELS / "lexicon" / "en.txt")
    queries = ["teh", "recieve", "quikc", "lagy", "invoise", "comittee", "ab", "xyzzyq", "thier", "seperate"]
    queries += [w[:2] + "x" + w[3:] for w in lexicon.words[::7001]]  # one substitution in real words of every length
    for query in queries:
        limit = 1 if len(query) <= 4 else 2
        whole = process.extract(query, lexicon.words, scorer=Levenshtein.distance, score_cutoff=limit, limit=MAX_CANDIDATES)
        assert lexicon.candidates(query) == [h[0] for h in whole], query
        assert lexicon.candidates(query) == [h[0] for h in whole]  # cached: same answer
    assert "lazy" in lexicon.candidates("lagy")


def test_lexicon_setting_names_the_word_lists() -> None:
    assert lexicon_languages("") == lexicon_languages("1") == DEFAULT_LANGUAGES == ("en",)
    assert lexicon_languages("0") == lexicon_languages("off") == ()
    assert lexicon_languages("fr+en") == ("fr", "en")
    with pytest.raises(ModelError, match="no word list for xx"):
        Lexicon.load_languages(REPO_MODELS / "lexicon", ("en", "xx"))


def test_en_fr_lexicon_keeps_french_words_and_still_respells_english() -> None:
    """With 'en+fr' a French word is in the vocabulary (English alone respelled 'dans' as 'dams')."""
    both = Lexicon.load_languages(REPO_MODELS / "lexicon", lexicon_languages("en+fr"))
    english = Lexicon.load_languages(REPO_MODELS / "lexicon", ("en",))
    for word in ("dans", "remporte", "poids", "américaine", "déclare"):
        assert word in both.vocab and word not in english.vocab, word
    assert set(english.words) <= both.vocab and "lazy" in both.candidates("lagy")


def test_word_lists_are_the_ones_the_manifest_names() -> None:
    """models/lexicon/manifest.json (written by scripts/build_lexicon.py) matches the shipped files."""
    folder = REPO_MODELS / "lexicon"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["languages"]) == {p.stem for p in folder.glob("*.txt")}
    for entry in manifest["languages"].values():
        rows = [row.split("\t") for row in (folder / entry["file"]).read_text(encoding="utf-8").splitlines()]
        words = [word for word, _ in rows]
        assert sha256_of(folder / entry["file"]) == entry["sha256"]
        assert len(words) == entry["words"] and words == sorted(set(words))
        assert all(0.0 <= float(zipf) < 9.0 for _, zipf in rows)  # Zipf frequencies, one per word


def test_ctc_log_probs_equal_the_sum_over_every_alignment() -> None:
    """The batched CTC forward pass against brute force: every path of a short output, collapsed."""
    import itertools

    import numpy as np

    from ocr_core.lexicon import ctc_log_probs

    rng = np.random.default_rng(7)
    classes, blank = 3, 2  # two characters and the blank
    for steps in range(1, 6):
        probs = rng.dirichlet(np.ones(classes), size=steps).astype(np.float32)
        totals: dict[tuple[int, ...], float] = {}
        for path in itertools.product(range(classes), repeat=steps):
            label = tuple(k for i, k in enumerate(path) if k != blank and (i == 0 or path[i - 1] != k))
            totals[label] = totals.get(label, 0.0) + float(np.prod(probs[np.arange(steps), path]))
        labels = [[], [0], [1, 1], [0, 1, 0], [1, 0, 1, 1, 0, 1]]  # the last one cannot fit: probability 0
        got = ctc_log_probs(probs, labels)
        for label, value in zip(labels, got):
            want = totals.get(tuple(label), 0.0)
            if want == 0.0:
                assert value == -np.inf or value < -25
            else:
                assert np.isclose(value, np.log(want), atol=1e-6), (steps, label)
