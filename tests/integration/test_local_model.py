"""The bundled SmolLM2 model through llama.cpp: limits, tokenizer, and real generation."""

from __future__ import annotations

import pytest

pytest.importorskip("llama_cpp")

from langchain_core.exceptions import ContextOverflowError

from pipeline.config import Settings
from pipeline.dates import parse_month, special_dates
from pipeline.generation.chains import default_retriever
from pipeline.generation.month.engine import CalendarEngine
from pipeline.generation.writing.prose import PROSE_SCRIPT_WORDS
from pipeline.generation.writing.writer import ChunkRequest, MonthContext
from pipeline.knowledge.retriever import format_documents
from pipeline.models.chat import load_chat_model, model_limits, token_counter_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def model():
    return load_chat_model("llamacpp:smollm2", Settings())


def test_limits_come_from_the_gguf(model):
    limits = model_limits(model, Settings())
    assert (limits.context_window, limits.max_output_tokens) == (8192, 8192)
    assert limits.source == "gguf+profile"  # the profile holds the GGUF's loaded window


def test_counter_is_the_models_own_vocabulary(model):
    counter = token_counter_for(model)
    assert counter.exact and "gguf" in counter.name
    text = "Plan a month of reels about AI agents."
    assert counter.count(text) == len(
        model.client.tokenize(text.encode(), add_bos=False, special=True)
    )


def test_context_window_setting_caps_the_loaded_context():
    small = load_chat_model("llamacpp:smollm2", Settings(context_window=4096))
    assert model_limits(small, Settings(context_window=4096)).context_window == 4096
    assert small.client.n_ctx() == 4096


def test_streamed_usage_is_counted_as_llama_cpp_counts(model):
    ask = "Name three colours."
    reply = model.invoke(ask, temperature=0, max_tokens=40)
    chunks = list(model.stream(ask, temperature=0, max_tokens=40))
    usage = chunks[-1].usage_metadata
    assert usage["input_tokens"] == reply.usage_metadata["input_tokens"]  # the same prompt
    # an English reply streams one token per chunk
    assert usage["output_tokens"] == len([c for c in chunks if c.content])
    assert chunks[-1].response_metadata["finish_reason"] in ("stop", "length")


def test_a_prompt_over_the_window_is_a_context_overflow():
    small = load_chat_model("llamacpp:smollm2", Settings(context_window=256))
    with pytest.raises(ContextOverflowError):
        small.invoke("word " * 400)


def test_real_model_writes_typed_rows_for_the_requested_days(model, tmp_path):
    settings = Settings(output_dir=tmp_path)
    engine = CalendarEngine(settings, model=model)
    month = parse_month("2027-02")
    docs = default_retriever(settings).invoke(
        {"month": month, "trends": ["AI agents"], "niche": "AI tools"}
    )
    context = MonthContext(
        month,
        ["AI agents"],
        "AI tools",
        "Instagram Reels",
        special_dates(month),
        format_documents(docs[:2]),
    )
    result = engine.main.chain.invoke(ChunkRequest("main", [13, 14], context))
    usage = result.usage
    assert usage.input_tokens and usage.output_tokens  # reported by llama.cpp
    assert usage.prompt_tokens + usage.max_tokens <= 8192
    # prose: one record for every question of the call; prompt_tokens is the largest
    assert usage.prompt_tokens < usage.input_tokens
    assert [p.day for p in result.plans] == [13, 14]
    _, high = PROSE_SCRIPT_WORDS  # the bundled model writes in prose: sentences, no JSON
    for plan in result.plans:
        assert plan.title and plan.script and plan.hashtags
        assert len(plan.script.split()) <= high
        assert not any(c in plan.script for c in '{}[]"#')


@pytest.mark.slow
def test_full_month_offline(tmp_path):
    from pipeline import generate_calendar

    cal = generate_calendar(
        "March 2026",
        ["AI agents", "automation"],
        "AI tools for creators",
        settings=Settings(output_dir=tmp_path),
    )
    assert cal.is_complete and len(cal.days) == 31
    assert len({p.day for p in cal.days}) == 31
