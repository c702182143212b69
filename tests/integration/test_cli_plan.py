"""`reelcal plan` builds the real prompts (bundled index, local embeddings) and calls no model."""

from __future__ import annotations

import pytest
from langchain_core.language_models import BaseChatModel
from typer.testing import CliRunner

from pipeline.cli.app import app

pytestmark = pytest.mark.integration


def test_plan_differs_by_model_and_calls_no_model(monkeypatch):
    def no_calls(*args, **kwargs):
        raise AssertionError("plan must not call a model")

    monkeypatch.setattr(BaseChatModel, "invoke", no_calls)
    monkeypatch.setattr(BaseChatModel, "_generate_with_cache", no_calls)
    result = CliRunner().invoke(
        app,
        [
            "plan",
            "--month",
            "2026-03",
            "--trend",
            "AI agents",
            "-m",
            "openai:gpt-3.5-turbo",
            "-m",
            "openai:gpt-4o",
            "--speed",
            "economical",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "openai:gpt-3.5-turbo" in result.output and "openai:gpt-4o" in result.output
    # with the default settings: one outline call first, then the writing calls (a bound)
    assert "-> 5 calls" in result.output and "-> 2 calls" in result.output
    assert "outline 1" in result.output and "<= " in result.output
    assert "no model was called" in result.output


def test_plan_functions_agree_with_the_budget():
    from pipeline.config import Settings
    from pipeline.generation.planning import plan_month

    plans = plan_month(
        "2026-03",
        ["AI agents"],
        None,
        models=["openai:gpt-3.5-turbo", "openai:gpt-4o"],
        settings=Settings(speed="economical"),
    )
    small, large = plans
    assert len(small.calls) > len(large.calls) == 1
    for plan in plans:
        assert plan.bounded and [c.days for c in plan.outline_calls] == [list(range(1, 32))]
        assert sum(len(c.days) for c in plan.calls) == 31
        for call in [*plan.outline_calls, *plan.calls]:
            bound = call.prompt_bound or call.prompt_tokens
            assert call.prompt_tokens <= bound
            assert bound + call.max_tokens <= plan.context_window
            assert call.max_tokens <= plan.max_output_tokens
