"""The pure metrics of benchmarks/bench_readability.py: distinct-2, the segmentation of a
hashtag into English words (wordfreq's bundled lists, no model, no network)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("wordfreq")

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_readability.py"
_SPEC = importlib.util.spec_from_file_location("bench_readability", _PATH)
bench = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench)


def test_distinct_2_counts_lowercased_word_bigrams():
    assert bench.distinct_2("the cat saw the cat") == pytest.approx(3 / 4)
    assert bench.distinct_2("The cat. the CAT, the cat!") == pytest.approx(2 / 5)
    assert bench.distinct_2("don't stop don't stop") == pytest.approx(2 / 3)


def test_distinct_2_pools_texts_without_bigrams_across_them():
    # "cat a" (the last word of one and the first of the next) is not a bigram
    assert bench.distinct_2(["a cat", "a cat"]) == pytest.approx(1 / 2)
    assert bench.distinct_2(["a cat", "a dog"]) == 1.0


def test_distinct_2_of_no_bigram_is_none():
    assert bench.distinct_2("") is None
    assert bench.distinct_2(["one", "word"]) is None


def test_segment_finds_the_fewest_known_words():
    assert bench.segment("contentcreator") == ["content", "creator"]
    assert bench.segment("aitools") == ["ai", "tools"]
    assert bench.segment("a") == ["a"]
    assert bench.segment("2026") == ["2026"]


def test_segment_refuses_what_is_not_english_words():
    assert bench.segment("sarmkdvkrp") is None
    assert bench.segment("x") is None  # single letters: only "a" and "i"


def test_split_runs_at_camel_case_digits_and_underscores():
    assert bench.split_runs("AIAgents2026_tips") == ["AI", "Agents", "2026", "tips"]
    assert bench.split_runs("contentCreator") == ["content", "Creator"]


@pytest.mark.parametrize(
    "tag", ["#AIagents", "#ContentCreator", "#automation", "#ai_tools", "#Reels2026", "#a"]
)
def test_hashtags_made_of_words(tag):
    assert bench.hashtag_is_words(tag)


@pytest.mark.parametrize("tag", ["#SARMKDVKRP", "#comirebx", "#", "#x", "#aiqzx"])
def test_hashtags_not_made_of_words(tag):
    assert not bench.hashtag_is_words(tag)


def test_short_common_words_make_a_lenient_bar():
    # two-letter pieces with Zipf >= 3 pass: the measure flags salad, not misspellings
    assert bench.segment("remesl") == ["rem", "esl"]


def test_hashtag_words_names_the_words():
    assert bench.hashtag_words("#AIAgentsForCreators") == ["ai", "agents", "for", "creators"]
