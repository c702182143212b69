"""What the prompts are grounded in: the month's retrieved examples, and each chunk's own.

Every call of a month shares one block of retrieved examples, at the start of the prompt
and byte-identical across chunks so that prompt caching applies: the graph's ``retrieve``
step (:func:`retrieve_documents`: one query per trend, plus the niche) and its ``fit``
step (:func:`fit_examples`: trimmed to ``rag_token_budget``, then further until the
largest prompt of the run fits).

Any LangChain retriever fits: it is asked with string queries (:func:`ask`), one per
trend and per outline title; reelcal's ``MentorRetriever`` answers them in one batch. A
write chunk whose days have outline lines also gets the transcripts closest to those
lines' titles (:func:`with_day_examples`: one query per title, the shared examples left
out), after the shared part, within ``chunk_rag_token_budget`` and within the room the
call has left, so that they never lower its ``max_tokens``. Their source ids join the
days' ``sources`` (the Sources column), and the copy rule checks the days' scripts
against them too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from langchain_core.documents import Document
from langchain_core.runnables import Runnable, RunnableConfig

from pipeline.config import Settings
from pipeline.errors import TokenBudgetError
from pipeline.generation.state import schedule_of
from pipeline.generation.writing.budget import shrink_rag_budget
from pipeline.generation.writing.writer import ChunkRequest, DayWriter, MonthContext

logger = logging.getLogger("reelcal")

#: Tokens of the day-examples block's own wording (its heading and tags).
SECTION_TOKENS = 40
#: Transcripts fetched per outline title before trimming.
EXAMPLES_PER_TITLE = 2


def default_retriever(settings: Settings) -> Runnable[Any, list[Document]]:
    """The mentor retriever over ``settings.vectorstore`` (or the bundled index): what a
    run, ``reelcal plan`` and the public builders use when no retriever is given."""
    from pipeline.knowledge.index import load_vectorstore
    from pipeline.knowledge.retriever import MentorRetriever

    return MentorRetriever.from_settings(settings, vectorstore=load_vectorstore(settings))


def ask(
    retriever: Runnable[str, list[Document]],
    queries: Sequence[str],
    config: RunnableConfig | None = None,
    *,
    k: int | None = None,
) -> list[Document]:
    """What ``retriever`` finds for string ``queries``, merged in order: reelcal's
    :class:`~pipeline.knowledge.retriever.MentorRetriever` in one batched call (its
    per-creator cap and dedupe; ``k`` per query), any other LangChain retriever (or
    Runnable from a string to documents) once per query, its first ``k`` each, deduped by
    source id (else text)."""
    from pipeline.knowledge.retriever import MentorRetriever, source_id

    queries = list(dict.fromkeys(q.strip() for q in queries if q and q.strip()))
    if not queries:
        return []
    if isinstance(retriever, MentorRetriever):
        extra = {"k": k} if k else {}
        return retriever.invoke(" | ".join(queries), config, queries=queries, **extra)
    seen: set[str] = set()
    merged: list[Document] = []
    for found in retriever.batch(queries, config):
        for document in list(found)[:k]:
            key = source_id(document) or document.page_content
            if key not in seen:
                seen.add(key)
                merged.append(document)
    return merged


def retrieve_documents(
    retriever: Runnable[str, list[Document]], state: dict[str, Any], config: RunnableConfig
) -> dict[str, Any]:
    """The ``retrieve`` step: the month's documents (one string query per trend, and the
    niche), as plain JSON."""
    queries = [*state["trends"], state.get("niche") or ""]
    documents = ask(retriever.with_config(run_name="retrieve"), queries, config)
    return {
        "documents": [
            {"page_content": d.page_content, "metadata": dict(d.metadata)} for d in documents
        ]
    }


def fit_examples(
    state: dict[str, Any],
    config: RunnableConfig,
    *,
    writer_of: Callable[[str], DayWriter],
    settings: Settings,
) -> dict[str, Any]:
    """The ``fit`` step: the shared examples trimmed to ``rag_token_budget``, then that
    budget halved until the largest prompt of the run (every day named) fits each writer;
    raises TokenBudgetError, before any call, when not even one day fits without them."""
    from pipeline.knowledge.retriever import format_documents, source_id
    from pipeline.knowledge.trimming import TokenBudgetTrimmer

    documents = [Document(**d) for d in state.get("documents") or []]
    schedule = schedule_of(state)
    days = [schedule.number_of(d) for d in state["dates"]]
    roles = ["main", "supplement"] if state["first_role"] == "main" else ["supplement"]
    budget = settings.rag_token_budget
    while True:
        trimmer = TokenBudgetTrimmer(budget=budget, counter=writer_of("main").counter)
        kept = trimmer.as_runnable().invoke(documents, config) if budget else []
        context = MonthContext.from_data({**state, "examples": format_documents(kept)}, settings)
        try:
            for role in roles:
                writer_of(role).plan(
                    ChunkRequest(
                        role,
                        days,
                        context,
                        tokens_per_day=state["tokens_per_day"][role],
                        reasoning_reserve=state["reasoning_reserve"][role],
                    )
                )
            # one id per example, in order ("" when it has none): a request whose shared
            # examples give way keeps the ids of those it kept (pipeline.generation.writing.fitting)
            return {"examples": context.examples, "example_sources": [source_id(d) for d in kept]}
        except TokenBudgetError:
            if not kept:
                raise
            budget = shrink_rag_budget(budget)
            logger.warning("prompt too large: retrieved context trimmed to %d tokens", budget)


def day_examples_room(
    writer: DayWriter, request: ChunkRequest, budget: int, *, prompt_tokens: int | None = None
) -> int:
    """The most prompt tokens a chunk's own examples may add: ``min(budget +
    SECTION_TOKENS, input_room)``, 0 without outline lines or budget. The room is what the
    call could add without lowering its ``max_tokens``; ``reelcal plan`` bounds writing
    prompts with it."""
    if not (request.outline and budget > 0):
        return 0
    if prompt_tokens is None:
        prompt_tokens = writer.prompt_tokens(request)
    room = writer.budget_for(request).input_room(prompt_tokens, len(request.days))
    return max(0, min(budget + SECTION_TOKENS, room))


def with_day_examples(
    request: ChunkRequest,
    writer: DayWriter,
    retriever: Any,
    *,
    budget: int,
    given: list[str],
    config: RunnableConfig | None = None,
) -> tuple[ChunkRequest, list[str]]:
    """``request`` with the transcripts closest to its outline lines (one string query
    per title, any retriever: :func:`ask`), and their source ids; or as it is when it has
    no lines, the budget or the room is 0, or nothing new is found. ``given``: the source
    ids every call already carries."""
    from pipeline.knowledge.retriever import format_documents, source_id
    from pipeline.knowledge.trimming import TokenBudgetTrimmer

    if not (request.outline and budget > 0):
        return request, []
    prompt_tokens = writer.prompt_tokens(request)
    room = day_examples_room(writer, request, budget, prompt_tokens=prompt_tokens)
    budget = room - SECTION_TOKENS
    if budget <= 0:
        return request, []
    titles = [line.title for line in request.outline]
    found = ask(retriever, titles, config, k=EXAMPLES_PER_TITLE)
    taken = set(given)
    fresh = [d for d in found if source_id(d) not in taken]
    kept = TokenBudgetTrimmer(budget=budget, counter=writer.counter).transform_documents(fresh)
    if not kept:
        return request, []
    grounded = replace(request, day_examples=format_documents(kept))
    if writer.prompt_tokens(grounded) - prompt_tokens > room:  # never at the reply's cost
        return request, []  # (nor past the budget: reelcal plan states this bound)
    return grounded, [i for i in (source_id(d) for d in kept) if i]
