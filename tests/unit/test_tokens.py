"""Token counters for the three tokenizer kinds, all offline."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

import pipeline  # noqa: F401  (seeds the tiktoken cache)
from pipeline.models import tokens
from pipeline.models.tokens import (
    TokenCounter,
    ensure_tiktoken_cache,
    estimate_counter,
    openai_counter,
    tiktoken_counter,
)


def test_tiktoken_loads_offline_once_reelcal_has_seeded_its_cache():
    import tiktoken

    ensure_tiktoken_cache()  # done by reelcal's first token counter (not at import)
    assert tiktoken.encoding_for_model("gpt-4-turbo").name == "cl100k_base"
    assert tiktoken.encoding_for_model("gpt-4o").name == "o200k_base"


@pytest.mark.parametrize(
    ("model", "encoding"),
    [("gpt-4-turbo", "cl100k_base"), ("gpt-3.5-turbo", "cl100k_base"), ("gpt-4o", "o200k_base")],
)
def test_openai_counter_uses_the_models_encoding(model, encoding):
    counter = openai_counter(model)
    assert counter.name == f"tiktoken:{encoding}" and counter.exact
    assert counter.count("hello world") == 2


def test_known_counts():
    assert tiktoken_counter("cl100k_base").count("tiktoken is great!") == 6
    assert tiktoken_counter("cl100k_base").count("") == 0


def test_estimate_counter_says_it_is_an_estimate():
    counter = estimate_counter()
    assert not counter.exact and "estimate" in counter.name
    assert counter.count("hello world") == 2


def test_langchain_openai_counts_offline():
    from langchain_openai import ChatOpenAI

    ensure_tiktoken_cache()
    model = ChatOpenAI(model="gpt-4o", api_key="sk-test")
    assert model.get_num_tokens("hello world") == 2


def test_message_overhead():
    counter = TokenCounter("chars", list, exact=True, tokens_per_message=3, reply_priming=3)
    from langchain_core.messages import HumanMessage, SystemMessage

    assert counter.count_messages([SystemMessage("abcd"), HumanMessage("ef")]) == 3 + (3 + 4) + (
        3 + 2
    )


def test_users_cache_dir_is_not_clobbered(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    url, _ = tokens._SHIPPED_ENCODINGS["cl100k_base"]
    mine = tmp_path / hashlib.sha1(url.encode()).hexdigest()
    mine.write_bytes(b"the user's own file")
    assert ensure_tiktoken_cache() == tmp_path
    assert mine.read_bytes() == b"the user's own file"
    url2, _ = tokens._SHIPPED_ENCODINGS["o200k_base"]
    assert (tmp_path / hashlib.sha1(url2.encode()).hexdigest()).stat().st_size > 1_000_000


def test_seeded_files_match_tiktokens_expected_hashes(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    ensure_tiktoken_cache()
    for url, sha256 in tokens._SHIPPED_ENCODINGS.values():
        data = (tmp_path / hashlib.sha1(url.encode()).hexdigest()).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha256


def test_hashes_agree_with_tiktoken_itself():
    from tiktoken_ext import openai_public

    source = Path(openai_public.__file__).read_text()
    for url, sha256 in tokens._SHIPPED_ENCODINGS.values():
        assert url in source and sha256 in source


def test_default_cache_dir_is_set_when_user_has_none(tmp_path, monkeypatch):
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    monkeypatch.setattr(tokens, "DEFAULT_TIKTOKEN_CACHE", tmp_path / "cache")
    assert ensure_tiktoken_cache() == tmp_path / "cache"
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(tmp_path / "cache")
