"""The dry-run token plan: the real prompts of a month, counted, with no model call.

For each model it reports what the generator would send: prompt tokens, retrieved
context kept, the computed ``max_tokens`` and the chunks of days per call. Models are
built but never invoked (hosted models get a placeholder API key for that reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable

from pipeline.config import Settings
from pipeline.dates import parse_month
from pipeline.generation import ChunkRequest, DayWriter, MonthContext
from pipeline.models import PROVIDERS, load_chat_model, split_key


@dataclass(frozen=True)
class CallPlan:
    days: list[int]
    prompt_tokens: int
    max_tokens: int


@dataclass(frozen=True)
class ModelPlan:
    """What generating one month would cost on one model (main round only)."""

    model: str
    context_window: int
    max_output_tokens: int
    tokenizer: str
    rag_tokens: int
    margin: int
    tokens_per_day: int
    calls: list[CallPlan]

    @property
    def expected_calls(self) -> int:
        return len(self.calls)

    @property
    def total_prompt_tokens(self) -> int:
        return sum(c.prompt_tokens for c in self.calls)


def planning_model(key: str, settings: Settings) -> BaseChatModel:
    """The model for ``key``, built so that it can be measured but needs no API key."""
    provider, _ = split_key(key)
    if provider in PROVIDERS and PROVIDERS[provider][2]:
        import os

        var = PROVIDERS[provider][2]
        if not os.environ.get(var):
            os.environ[var] = "unused-in-a-dry-run"  # the plan never calls the model
            try:
                return load_chat_model(key, settings)
            finally:
                del os.environ[var]
    return load_chat_model(key, settings)


def plan_month(
    month: str,
    trends: list[str],
    niche: str | None,
    *,
    models: list[str | BaseChatModel],
    settings: Settings,
    retriever: Runnable[dict[str, Any], list[Document]] | None = None,
) -> list[ModelPlan]:
    """Build the main prompts of ``month`` for each model and count them."""
    from pipeline.chains import default_retriever
    from pipeline.dates import special_dates
    from pipeline.retrieval import format_documents
    from pipeline.trimming import TokenBudgetTrimmer

    spec = parse_month(month)
    state = {"month": spec, "trends": trends, "niche": niche or settings.niche,
             "platform": settings.platform}
    documents = (retriever or default_retriever(settings)).invoke(state)
    plans = []
    for key in models:
        model = planning_model(key, settings) if isinstance(key, str) else key
        writer = DayWriter(model, settings, role="main")
        trimmer = TokenBudgetTrimmer(budget=settings.rag_token_budget, counter=writer.counter)
        kept, report = trimmer.trim_with_report(documents)
        context = MonthContext(month=spec, trends=trends, niche=state["niche"],
                               platform=settings.platform,
                               special_dates=special_dates(spec, country=settings.country),
                               examples=format_documents(kept))
        days = list(range(1, spec.days_in_month + 1))
        calls = []
        for chunk in writer.plan(ChunkRequest("main", days, context)):
            tokens = writer.prompt_tokens(ChunkRequest("main", chunk, context))
            calls.append(CallPlan(chunk, tokens, writer.budget.max_tokens(tokens, len(chunk))))
        plans.append(ModelPlan(
            model=key if isinstance(key, str) else writer.label,
            context_window=writer.limits.context_window,
            max_output_tokens=writer.limits.max_output_tokens,
            tokenizer=writer.counter.name,
            rag_tokens=report.total_tokens,
            margin=writer.budget.margin,
            tokens_per_day=writer.budget.tokens_per_day,
            calls=calls,
        ))
    return plans
