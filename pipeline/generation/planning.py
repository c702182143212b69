"""The dry-run token plan: the real prompts of a month, counted, with no model call.

For each model it runs the month engine, with the run's own settings, up to its first
model call and reports what that round would send: prompt tokens, retrieved context
kept, the computed ``max_tokens`` and the chunks of days per call.

- With the outline on (the default), its first round is exact: the outline calls
  ``generate`` sends first.
- The writing round depends on what the outline writes, so it is a bound: the engine
  plans it as if every outline line were at its caps (:func:`~pipeline.generation.
  outline.replies.lines_at_caps`) and each call's own examples filled their budget
  (:func:`~pipeline.generation.month.grounding.day_examples_room`). A writing call of
  the first round sends at most its ``prompt_bound`` tokens, with the ``max_tokens``
  shown. With the outline off, the writing round is exact.

Models are built but never invoked (hosted models get a placeholder API key for that
reason).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable

from pipeline.config import Settings
from pipeline.generation.month.engine import CalendarEngine
from pipeline.generation.month.grounding import day_examples_room, default_retriever
from pipeline.generation.outline.replies import lines_at_caps
from pipeline.generation.requests import read_request, span_request
from pipeline.generation.state import schedule_of
from pipeline.models.chat import PROVIDERS, load_chat_model, split_key


@dataclass(frozen=True)
class CallPlan:
    days: list[int]
    prompt_tokens: int
    max_tokens: int
    #: The most prompt tokens the call can send (its own examples at their budget, and
    #: outline lines at their caps when the outline is on); ``prompt_tokens`` without them.
    prompt_bound: int | None = None


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
    #: Whether ``calls`` are planned with outline lines at their caps (a bound), not from
    #: lines already written.
    bounded: bool = False

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


WRITING_NODES = ("write_outline", "write")


def first_round(
    engine: CalendarEngine, inputs: dict[str, Any], *, node: str = "write"
) -> tuple[list[CallPlan], dict[str, Any], int]:
    """The calls of the engine's first ``node`` round (``write`` or ``write_outline``), as
    ``generate`` sends them (a probe call first when the writer has not learned its
    tokens per day, then the chunks held back for after it), the state they are planned
    from and how many are probes: the graph runs up to that node and stops."""
    from langgraph.checkpoint.memory import InMemorySaver

    # stopped before either writing node: a run whose outline is off (or done) never
    # reaches write_outline, and must not go on to call the model
    graph = engine.graph(checkpointer=InMemorySaver(), interrupt_before=list(WRITING_NODES))
    config = {"configurable": {"thread_id": "plan"}}
    graph.invoke(inputs, config)
    state = graph.get_state(config).values
    if node not in {task.name for task in graph.get_state(config).tasks}:
        return [], state, 0  # the run never gets there (e.g. the outline is off)
    tasks = list(state["planned"])
    tasks += [{**tasks[0], "days": days} for days in state.get("deferred") or []]
    calls = []
    for task in tasks:  # the tasks, as Send hands them over (deferred ones after)
        writer = engine.writer(task["role"])
        request = engine.chunk_request(task)
        prepared = writer.prepare_call(request)
        extra = day_examples_room(
            writer,
            request,
            engine.settings.chunk_rag_token_budget,
            prompt_tokens=prepared.prompt_tokens,
        )
        calls.append(
            CallPlan(
                request.days,
                prepared.prompt_tokens,
                prepared.max_tokens,
                prompt_bound=prepared.prompt_tokens + extra if node == "write" else None,
            )
        )
    probe = len(state["planned"]) if state.get("deferred") else 0
    return calls, state, probe


def writing_inputs(engine: CalendarEngine, inputs: dict[str, Any]) -> dict[str, Any]:
    """``inputs`` with every day outlined at its caps (:func:`lines_at_caps`): the outline
    is then done, and the writing round is planned with the longest lines it can have."""
    schedule, settings = schedule_of(inputs), engine.settings
    dates = schedule.special_dates(
        country=settings.country,
        subdivision=settings.subdivision,
        awareness_file=settings.awareness_file,
    )
    lines = lines_at_caps(
        range(1, schedule.count + 1),
        formats=engine.outline.writer.formats if engine.outline else [],
        uses=[*(inputs.get("trends") or []), *(found.name for found in dates)],
    )
    return {**inputs, "given_outline": [line.model_dump(mode="json") for line in lines]}


def plan_month(
    month: str | None,
    trends: list[str],
    niche: str | None,
    *,
    models: list[str | BaseChatModel],
    settings: Settings,
    retriever: Runnable[dict[str, Any], list[Document]] | None = None,
    **when: Any,
) -> list[ModelPlan]:
    """The first round of ``month`` (or any span and cadence by keyword, as
    :func:`~pipeline.generation.requests.span_request` takes them) for each model, counted;
    no model is called."""
    request = {**span_request(month, **when), "trends": list(trends), "niche": niche}
    inputs = {k: v for k, v in read_request(request, settings).items() if v is not None}
    # every model key first: a bad one fails before the vector store and embeddings load
    built = [planning_model(key, settings) if isinstance(key, str) else key for key in models]
    retriever = retriever or default_retriever(settings)
    plans = []
    for key, model in zip(models, built):
        engine = CalendarEngine(settings, model=model, retriever=retriever)
        outline_calls = (
            first_round(engine, inputs, node="write_outline")[0] if engine.outline else []
        )
        writing = writing_inputs(engine, inputs) if engine.outline else inputs
        calls, state, probe = first_round(engine, writing)
        examples = state.get("examples") or ""
        first_task = (state.get("planned") or [None])[0]
        writer = engine.main
        plans.append(
            ModelPlan(
                model=key if isinstance(key, str) else writer.label,
                context_window=writer.limits.context_window,
                max_output_tokens=writer.limits.max_output_tokens,
                tokenizer=writer.counter.name,
                rag_tokens=writer.counter.count(examples) if examples else 0,
                margin=writer.budget.margin,
                tokens_per_day=(state.get("tokens_per_day") or {}).get(
                    "main", writer.budget.tokens_per_day
                ),
                calls=calls,
                reasoning_reserve=writer.budget.reasoning_reserve,
                schema_tokens=writer.schema_tokens(engine.chunk_request(first_task))
                if first_task
                else 0,
                probe_calls=probe,
                outline_calls=outline_calls,
                bounded=engine.outline is not None,
            )
        )
    return plans
