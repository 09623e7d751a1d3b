"""The word language model in CTC decoding: its scores, the beam search it ranks, and what it changes
on a real handwriting model reading real line images (accuracy numbers: benchmarks/word_lm.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ocr_core.ctc import greedy_decode, word_beam_decode
from ocr_core.lexicon import WORD_LM, Lexicon, WordModel, correct_line, lexicon_languages
from ocr_core.metrics import cer
from ocr_core.model_store import REPO_MODELS
from ocr_core.recognize import CrnnRecognizer

SAMPLES = REPO_MODELS.parent / "samples"

ALPHABET = "abcdeghlnorstz12357.- "  # blank is index len(ALPHABET)


@pytest.fixture(scope="module")
def english() -> Lexicon:
    return Lexicon.load_languages(REPO_MODELS / "lexicon", ("en",))


def steps_for(text_choices: list[dict[str, float]]) -> np.ndarray:
    """One emitting step per position (its characters' probabilities, the rest blank), a blank step after each."""
    rows = []
    for choice in text_choices:
        for dist in (choice, {}):
            row = np.zeros(len(ALPHABET) + 1)
            for ch, p in dist.items():
                row[ALPHABET.index(ch)] = p
            row[-1] = 1.0 - row.sum()
            rows.append(row)
    return np.array(rows)


def test_word_scores_follow_frequency_and_fold_case_and_punctuation(english: Lexicon) -> None:
    model = WordModel(english)
    assert model.word_score("the") > model.word_score("station") > model.word_score("zealous") > model.word_score("xqzv")
    assert model.word_score("The,") == model.word_score("the") == model.word_score("(THE)")
    # numbers, amounts and dashes are neither words nor unknown words: a fixed, finite score
    assert model.word_score("1905") == model.word_score("12.50") == model.word_score("—") > model.word_score("xqzv")
    # a digit inside letters is how the recognizer misreads a word ("Alcara3"): it scores as an unknown word
    assert model.word_score("Alcara3") == model.word_score("7b3") == model.word_score("xqzv")
    assert model.partial_score("stat") == 0.0 and model.partial_score("(Sta") == 0.0 and model.partial_score("12") == 0.0
    assert model.partial_score("xqz") == model.partial_score("sta7") == WORD_LM.prefix_penalty


def test_french_elisions_and_accents_are_words() -> None:
    both = Lexicon.load_languages(REPO_MODELS / "lexicon", lexicon_languages("en+fr"))
    model = WordModel(both)
    assert model.word_score("l'été") > model.word_score("l'étq")
    assert model.word_score("aujourd’hui") == model.word_score("aujourd'hui") > model.word_score("aujourd'hvi")
    assert model.partial_score("qu'") == 0.0 and model.partial_score("dép") == 0.0


def test_the_word_model_turns_a_near_miss_into_a_word_and_keeps_a_clear_code(english: Lexicon) -> None:
    # "the": the model slightly prefers "g" to "h"; "7b3" is read clearly and is no word
    probs = steps_for([{"t": 0.9}, {"g": 0.5, "h": 0.4}, {"e": 0.9}, {" ": 0.9},
                       {"7": 0.95}, {"b": 0.95}, {"3": 0.95}])
    assert greedy_decode(probs, ALPHABET).text == "tge 7b3"
    d = word_beam_decode(probs, ALPHABET, english.word_model(), WORD_LM.beam_width, WORD_LM.prune)
    assert d.text == "the 7b3"
    assert d.char_steps == [0, 2, 4, 6, 8, 10, 12]  # each character where the model wrote it
    assert d.char_probs[1] == pytest.approx(0.4)  # "h" at its own probability
    assert word_beam_decode(steps_for([{"1": 0.9}, {"2": 0.6, "z": 0.3}, {".": 0.9}, {"5": 0.9}]), ALPHABET,
                            english.word_model()).text == "12.5"  # a digit is not turned into a letter


def test_an_unknown_word_the_model_reads_clearly_stays(english: Lexicon) -> None:
    probs = steps_for([{c: 0.95} for c in "grobnash"])
    assert word_beam_decode(probs, ALPHABET, english.word_model()).text == "grobnash"


@pytest.fixture(scope="module")
def handwriting():
    from ocr_core.engine import OcrEngine
    from ocr_core.model_store import ModelStore

    return OcrEngine(ModelStore(runtime="onnx"), detector="opencv")


def test_real_handwriting_reads_closer_to_the_truth_with_the_word_model(handwriting, monkeypatch) -> None:
    """The shipped handwriting model, as served (both looks), on 100 lines in validation hands training
    never saw: with the word model (the default with word lists on) the lines come out closer to what
    was written than with greedy + respelling, and it helps more lines than it hurts. (A single sample
    line flips with each retraining, and so did 24 lines with 2.4.0: 2 helped, 4 hurt, while on
    100 lines 22 helped and 5 hurt; a sample of 100 does not flip.)"""
    import random

    from ocr_core import recognize
    from training.synth import handwritten_validation_sample

    rng = random.Random(7)
    lines = [handwritten_validation_sample(rng) for _ in range(100)]
    crops, truths = [g for g, _ in lines], [t for _, t in lines]
    assert handwriting.lexicon is not None  # OCR_LEXICON's default: English word lists
    recognizer = handwriting.recognizer("handwritten")
    with_lm = [cer(t, r.text) for t, r in zip(truths, recognizer.read_lines(crops, "greedy", handwriting.lexicon))]
    monkeypatch.setattr(recognize, "WORD_LM_KINDS", ())
    without = [cer(t, r.text) for t, r in zip(truths, recognizer.read_lines(crops, "greedy", handwriting.lexicon))]
    assert np.mean(with_lm) < np.mean(without)
    assert sum(a < b for a, b in zip(with_lm, without)) > sum(a > b for a, b in zip(with_lm, without))


def test_line_confidence_and_printed_decoding_do_not_change(handwriting) -> None:
    """The word model changes handwritten words, not the line confidence auto mode compares; the
    printed model still decodes greedily, then respells (the word model gained nothing measurable on print)."""
    from ocr_core.segment import whole_line

    with Image.open(REPO_MODELS.parent / "tests" / "data" / "handwritten-line.png") as img:
        crop = whole_line(np.asarray(img.convert("L"))).crop
    for kind in ("handwritten", "printed"):
        recognizer = CrnnRecognizer(handwriting.recognizer(kind).loaded, (1.0,))  # one look: one set of probabilities
        probs = recognizer.probabilities([crop])[0]
        greedy = greedy_decode(probs, recognizer.alphabet)
        reading = recognizer.read_lines([crop], "greedy", handwriting.lexicon)[0]
        assert reading.confidence == pytest.approx(greedy.confidence)
        respelled = correct_line(greedy.text, greedy.char_steps, probs, recognizer.alphabet, handwriting.lexicon)
        if kind == "printed":
            assert reading.text == respelled
        else:
            lm = word_beam_decode(probs, recognizer.alphabet, handwriting.lexicon.word_model(), WORD_LM.beam_width,
                                  WORD_LM.prune)
            assert reading.text == correct_line(lm.text, lm.char_steps, probs, recognizer.alphabet, handwriting.lexicon)


def test_the_benchmark_compares_every_decoder_on_the_same_lines(tmp_path) -> None:
    """benchmarks/word_lm.py end to end on three synthetic validation lines (real renderer, real model)."""
    from benchmarks import word_lm

    out = tmp_path / "word_lm.md"
    assert word_lm.main(["--sets", "synthetic-handwritten", "--limit", "3", "--out", str(out)]) == 0
    rows = [row for row in out.read_text(encoding="utf-8").splitlines() if row.startswith("| synthetic-handwritten")]
    assert [row.split(" | ")[1] for row in rows] == ["greedy", "greedy+lexicon", "beam", "beam+LM", "beam+LM+lexicon"]
    assert all(row.count("%") == 3 for row in rows)  # CER, WER, digit errors
