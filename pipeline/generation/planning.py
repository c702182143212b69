"""The dry-run token plan: the real prompts of a month, counted, with no model call.

For each model it runs the month engine up to its first ``write`` and reports what that
round would send (and, with the ``outline`` setting on, what the outline's first round
sends before it): prompt tokens, retrieved context kept, the computed ``max_tokens`` and
the chunks of days per call (exactly what ``generate`` sends first). Models are
built but never invoked (hosted models get a placeholder API key for that reason).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable

from pipeline.config import Settings
from pipeline.dates import parse_month
from pipeline.generation.month.engine import CalendarEngine
from pipeline.generation.month.grounding import default_retriever
from pipeline.models.chat import PROVIDERS, load_chat_model, split_key


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
    reasoning_reserve: int = 0
    schema_tokens: int = 0
    #: Calls sent first, alone, to learn tokens per day; the rest is then re-planned from
    #: what they wrote (usually into fewer calls than listed).
    probe_calls: int = 0
    #: The month outline's calls, sent before the days (empty with ``outline: false``).
    outline_calls: list[CallPlan] = field(default_factory=list)

    @property
    def expected_calls(self) -> int:
        return len(self.calls) + len(self.outline_calls)

    @property
    def total_prompt_tokens(self) -> int:
        return sum(c.prompt_tokens for c in self.calls)


def planning_model(key: str, settings: Settings) -> BaseChatModel:
    """The model for ``key``, built so that it can be measured but needs no API key
    (a placeholder key is given to the client; the plan never calls the model)."""
    provider, _ = split_key(key)
    placeholder = (
        "unused-in-a-dry-run" if provider in PROVIDERS and PROVIDERS[provider][2] else None
    )
    return load_chat_model(key, settings, api_key=placeholder)


def first_round(
    engine: CalendarEngine, inputs: dict[str, Any]
) -> tuple[list[CallPlan], str, dict[str, Any] | None, int]:
    """The calls of the engine's first round, as ``generate`` will send them (a probe call
    first when the writer has not learned its tokens per day, then the chunks held back
    for after it), and the retrieved context they carry: the graph runs up to its first
    ``write`` and stops."""
    from langgraph.checkpoint.memory import InMemorySaver

    graph = engine.graph(checkpointer=InMemorySaver(), interrupt_before=["write"])
    config = {"configurable": {"thread_id": "plan"}}
    graph.invoke(inputs, config)
    state = graph.get_state(config).values
    calls = []
    tasks = list(state["planned"])
    tasks += [{**tasks[0], "days": days} for days in state.get("deferred") or []]
    for task in tasks:  # the write tasks, as Send hands them over (deferred ones after)
        writer = engine.writer(task["role"])
        request = writer.prepare_call(engine.chunk_request(task))
        calls.append(CallPlan(request.days, request.prompt_tokens, request.max_tokens))
    probe = len(state["planned"]) if state.get("deferred") else 0
    return calls, state["examples"], (state["planned"] or [None])[0], probe


def plan_month(
    month: str,
    trends: list[str],
    niche: str | None,
    *,
    models: list[str | BaseChatModel],
    settings: Settings,
    retriever: Runnable[dict[str, Any], list[Document]] | None = None,
) -> list[ModelPlan]:
    """The first round of ``month`` for each model, counted; no model is called."""
    spec = parse_month(month)
    inputs = {"month": spec.key, "trends": list(trends), "niche": niche}
    # every model key first: a bad one fails before the vector store and embeddings load
    built = [planning_model(key, settings) if isinstance(key, str) else key for key in models]
    retriever = retriever or default_retriever(settings)
    plans = []
    writing = settings.model_copy(update={"outline": False})
    for key, model in zip(models, built):
        engine = CalendarEngine(writing, model=model, retriever=retriever)
        calls, examples, first_task, probe = first_round(engine, inputs)
        outline_calls = (
            first_round(CalendarEngine(settings, model=model, retriever=retriever), inputs)[0]
            if settings.outline
            else []
        )
        writer = engine.main
        plans.append(
            ModelPlan(
                model=key if isinstance(key, str) else writer.label,
                context_window=writer.limits.context_window,
                max_output_tokens=writer.limits.max_output_tokens,
                tokenizer=writer.counter.name,
                rag_tokens=writer.counter.count(examples) if examples else 0,
                margin=writer.budget.margin,
                tokens_per_day=writer.budget.tokens_per_day,
                calls=calls,
                reasoning_reserve=writer.budget.reasoning_reserve,
                schema_tokens=writer.schema_tokens(engine.chunk_request(first_task))
                if first_task
                else 0,
                probe_calls=probe,
                outline_calls=outline_calls,
            )
        )
    return plans
