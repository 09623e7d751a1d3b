"""Lexicon candidates: the length-filtered search finds exactly what a search of the whole word list finds."""

from __future__ import annotations

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ocr_core.lexicon import MAX_CANDIDATES, Lexicon
from ocr_core.model_store import REPO_MODELS


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
