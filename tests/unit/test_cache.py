"""The opt-in response cache (``cache: PATH``): a rerun of identical prompts is free."""

from __future__ import annotations

import sqlite3

import pytest
from scripted import FIXED_RETRIEVER, SCRIPTED_SCRIPT_WORDS, ScriptedChatModel, rows_for

from pipeline.config import Settings
from pipeline.generation.chains import generate_calendar

pytestmark = pytest.mark.usefixtures("no_backoff")


def _run(model, tmp_path, run_id: str, **overrides):
    settings = Settings(
        output_dir=tmp_path,
        context_window=16_385,
        max_output_tokens=4096,
        tokens_per_day=120,
        max_concurrency=1,
        script_words=SCRIPTED_SCRIPT_WORDS,
        **overrides,
    )
    return generate_calendar(
        "2026-02",
        ["AI agents"],
        "AI tools",
        model=model,
        settings=settings,
        retriever=FIXED_RETRIEVER,
        run_id=run_id,
    )


def test_a_rerun_of_identical_prompts_is_answered_from_the_cache(tmp_path):
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    cache = tmp_path / "cache" / "responses.sqlite"
    first = _run(model, tmp_path, "first", cache=cache)
    sent = len(model.prompts)
    assert first.is_complete and sent and not any(u.cached for u in first.usage)

    second = _run(model, tmp_path, "second", cache=cache)
    assert len(model.prompts) == sent, "a cached prompt reached the model"
    assert second.is_complete and all(u.cached for u in second.usage)
    assert second.total_input_tokens == second.total_output_tokens == 0
    assert "from the cache" in second.usage_summary()
    assert [p.title for p in second.days] == [p.title for p in first.days]
    assert model.cache is None, "the caller's model object was changed"


def test_without_the_setting_nothing_is_cached(tmp_path):
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    _run(model, tmp_path, "one")
    sent = len(model.prompts)
    _run(model, tmp_path, "two")
    assert len(model.prompts) == 2 * sent


def test_the_cache_holds_json_not_pickles(tmp_path):
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    cache = tmp_path / "responses.sqlite"
    _run(model, tmp_path, "json", cache=cache)
    with sqlite3.connect(cache) as db:
        responses = [row[0] for row in db.execute("SELECT response FROM full_llm_cache")]
    assert responses and all(r.lstrip().startswith("{") for r in responses)
