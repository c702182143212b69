"""The calendar chain and the supplement loop.

Shape (each step a named Runnable)::

    prepare -> retrieve -> trim -> generate
                                   |- main:       prompt -> bind_max_tokens -> model -> parse
                                   '- supplement: the same, for exactly the missing days,
                                                  chunked to fit, until the month is complete

``generate_calendar`` and ``build_calendar_chain`` are the public entry points;
the CLI and the notebooks call the same chain.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda, RunnablePassthrough

from pipeline.budget import estimate_tokens_per_day
from pipeline.calendar import Calendar, DayPlan, UsageRecord
from pipeline.config import Settings
from pipeline.dates import MonthSpec, parse_month, special_dates
from pipeline.errors import IncompleteCalendarError, InvalidDaysError, ReelcalError, TokenBudgetError
from pipeline.generation import (
    ChunkRequest,
    ChunkResult,
    ContextOverflowError,
    DayWriter,
    MonthContext,
)
from pipeline.models import load_chat_model

logger = logging.getLogger("reelcal")


@dataclass(frozen=True)
class Progress:
    """What a progress display needs after each call."""

    days_done: int
    days_total: int
    usage: UsageRecord


ProgressCallback = Callable[[Progress], None]


class CalendarGenerator:
    """Main round plus supplement rounds: the loop that completes the month.

    Example:
        .. code-block:: python

            generator = CalendarGenerator(settings, model=my_chat_model)
            plans, usage = generator.fill(context, days=[3, 7, 12])
    """

    def __init__(
        self,
        settings: Settings,
        *,
        model: BaseChatModel | str | None = None,
        supplement_model: BaseChatModel | str | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.settings = settings
        main_model = _resolve_model(model or settings.model, settings)
        self.main = DayWriter(main_model, settings, role="main")
        supplement = supplement_model or settings.supplement_model
        self.supplement = (
            DayWriter(_resolve_model(supplement, settings), settings, role="supplement")
            if supplement
            else DayWriter(main_model, settings, role="supplement", library=self.main.library)
        )
        self.progress = progress

    # ------------------------------------------------------------------ the loop
    def fill(
        self,
        context: MonthContext,
        days: Sequence[int],
        *,
        existing: Sequence[DayPlan] = (),
        first_role: str = "main",
    ) -> tuple[list[DayPlan], list[UsageRecord]]:
        """Write ``days``; returns the plans written (only those days) and the usage.

        Round 0 uses the main writer (or the supplement writer when ``first_role`` is
        "supplement"); rounds 1..max_rounds rerun the supplement chain for exactly the
        days still missing. Chunks of one round run with ``max_concurrency``.
        """
        wanted = sorted(set(days))
        written: dict[int, DayPlan] = {}
        usage: list[UsageRecord] = []
        for round_no in range(self.settings.max_rounds + 1):
            missing = [d for d in wanted if d not in written]
            if not missing:
                break
            writer = self.main if round_no == 0 and first_role == "main" else self.supplement
            used = [(p.title, p.hook) for p in [*existing, *written.values()]]
            results: list[ChunkResult] = []
            fatal: list[Exception] = []
            for result in self._run_round(writer, context, missing, round_no, used):
                results.append(result)
                for plan in result.plans:
                    written.setdefault(plan.day, plan)
                if result.error is not None and not isinstance(result.error, ContextOverflowError):
                    fatal.append(result.error)
                logger.info(result.usage.summary())
                if self.progress:
                    done = len(existing) + len(written)
                    self.progress(Progress(done, context.month.days_in_month, result.usage))
            # calls finish in any order; the record keeps them in day order
            usage.extend(r.usage for r in sorted(results, key=lambda r: r.request.days[0]))
            self._reestimate(writer, results)
            if fatal and len(fatal) == len(results) and not any(r.plans for r in results):
                if len({type(e) for e in fatal}) == 1 and round_no >= 1:
                    break  # the same failure twice in a row: more rounds will not help
        return [written[d] for d in sorted(written)], usage

    def _run_round(
        self,
        writer: DayWriter,
        context: MonthContext,
        days: list[int],
        round_no: int,
        used: list[tuple[str, str]],
    ) -> Iterator[ChunkResult]:
        """Run one round's chunks; yields each result as soon as its call finishes."""
        template = ChunkRequest(writer.role, days, context, round=round_no, already_used=used)
        chunks = writer.plan(template)
        requests = [
            ChunkRequest(writer.role, chunk, context, round=round_no, already_used=used)
            for chunk in chunks
        ]
        config = RunnableConfig(
            max_concurrency=1 if writer.mode == "grammar" else self.settings.max_concurrency,
            run_name=f"{writer.role}_round_{round_no}",
        )
        outputs = writer.chain.batch_as_completed(requests, config=config, return_exceptions=True)
        for index, output in outputs:
            request = requests[index]
            if isinstance(output, ContextOverflowError) and len(request.days) > 1:
                # The provider counts differently from us: halve the chunk and retry.
                half = len(request.days) // 2
                logger.warning("context overflow for %d days; splitting", len(request.days))
                for part in (request.days[:half], request.days[half:]):
                    yield from self._run_round(writer, context, part, round_no, used)
            elif isinstance(output, ReelcalError):
                raise output
            elif isinstance(output, Exception):
                if not _is_model_failure(output):
                    raise output  # a bug of ours: never hide it
                yield writer.failed(request, output)
            else:
                yield output

    def _reestimate(self, writer: DayWriter, results: list[ChunkResult]) -> None:
        tokens = sum(r.reply_tokens for r in results if r.plans)
        parsed = sum(len(r.plans) for r in results)
        new = estimate_tokens_per_day(tokens, parsed, writer.budget.tokens_per_day)
        if new != writer.budget.tokens_per_day:
            logger.info("tokens_per_day re-estimated: %d -> %d", writer.budget.tokens_per_day, new)
            writer.budget = writer.budget.with_tokens_per_day(new)


def _is_model_failure(exc: Exception) -> bool:
    """Errors that come from calling a model (and end in IncompleteCalendarError when
    they persist), as opposed to programming errors that must surface."""
    if isinstance(exc, (TypeError, AttributeError, NameError, KeyError, IndexError, AssertionError)):
        return False
    return True


def _resolve_model(model: BaseChatModel | str, settings: Settings) -> BaseChatModel:
    return load_chat_model(model, settings) if isinstance(model, str) else model


# ---------------------------------------------------------------------- the chain
def _prepare(settings: Settings) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def prepare(request: dict[str, Any]) -> dict[str, Any]:
        if "month" not in request:
            raise ReelcalError("The chain input needs a 'month', e.g. {'month': '2026-03'}.")
        month = parse_month(request["month"])
        trends = request.get("trends") or []
        if isinstance(trends, str):
            trends = [trends]
        return {
            **request,
            "month": month,
            "trends": [t.strip() for t in trends if str(t).strip()],
            "niche": request.get("niche") or settings.niche,
            "platform": request.get("platform") or settings.platform,
        }

    return prepare


def default_retriever(settings: Settings) -> Runnable[dict[str, Any], list[Document]]:
    """The mentor retriever over ``settings.vectorstore`` (or the bundled index)."""
    from pipeline.retrieval import MentorRetriever, load_vectorstore

    return MentorRetriever.from_settings(settings, vectorstore=load_vectorstore(settings))


def build_calendar_chain(
    settings: Settings | None = None,
    model: BaseChatModel | str | None = None,
    *,
    supplement_model: BaseChatModel | str | None = None,
    retriever: Runnable[dict[str, Any], list[Document]] | None = None,
    progress: ProgressCallback | None = None,
) -> Runnable[dict[str, Any], Calendar]:
    """The whole calendar chain as one Runnable: ``{"month", "trends", "niche"?} -> Calendar``.

    Example:
        .. code-block:: python

            chain = build_calendar_chain(Settings.load(), model="openai:gpt-4o")
            calendar = chain.invoke({"month": "2026-03", "trends": ["AI agents"]})
    """
    from pipeline.retrieval import format_documents
    from pipeline.trimming import TokenBudgetTrimmer

    settings = settings or Settings.load()
    generator = CalendarGenerator(
        settings, model=model, supplement_model=supplement_model, progress=progress
    )
    retrieve = retriever or default_retriever(settings)
    trimmer = TokenBudgetTrimmer(budget=settings.rag_token_budget, counter=generator.main.counter)

    def generate(state: dict[str, Any]) -> Calendar:
        month: MonthSpec = state["month"]
        documents: list[Document] = state["documents"]
        context = _month_context(state, settings, format_documents(documents))
        context = _fit_examples(generator, context, documents, trimmer)
        return _generate(generator, context, settings, month)

    return (
        RunnableLambda(_prepare(settings), name="prepare")
        | RunnablePassthrough.assign(documents=retrieve.with_config(run_name="retrieve")
                                     | trimmer.as_runnable())
        | RunnableLambda(generate, name="generate")
    ).with_config(run_name="reelcal_calendar")


def _month_context(state: dict[str, Any], settings: Settings, examples: str) -> MonthContext:
    month: MonthSpec = state["month"]
    return MonthContext(
        month=month,
        trends=state["trends"],
        niche=state["niche"],
        platform=state["platform"],
        special_dates=special_dates(month, country=settings.country),
        examples=examples,
    )


def _fit_examples(generator: CalendarGenerator, context: MonthContext,
                  documents: list[Document], trimmer: Any) -> MonthContext:
    """When not even one day fits, trim retrieved context first (halving its budget
    down to nothing) before giving up with the TokenBudgetError."""
    from pipeline.retrieval import format_documents
    from pipeline.trimming import TokenBudgetTrimmer

    budget = trimmer.budget
    days = list(range(1, context.month.days_in_month + 1))
    while True:
        try:
            for writer in (generator.main, generator.supplement):
                writer.plan(ChunkRequest(writer.role, days, context))
            return context
        except TokenBudgetError:
            if not context.examples or budget <= 0:
                raise
            budget //= 2
            kept = TokenBudgetTrimmer(budget=budget, counter=trimmer.counter).transform_documents(
                documents
            ) if budget >= 50 else []
            logger.warning("prompt too large: retrieved context trimmed to %d tokens", budget)
            context = replace(context, examples=format_documents(kept))
            if not kept:
                budget = 0


def _generate(generator: CalendarGenerator, context: MonthContext, settings: Settings,
              month: MonthSpec) -> Calendar:
    days = list(range(1, month.days_in_month + 1))
    plans, usage = generator.fill(context, days)
    calendar = Calendar(
        year=month.year, month=month.month, days=plans, usage=usage, niche=context.niche,
        trends=context.trends, model=generator.main.label, platform=context.platform,
        notes=[month.note] if month.note else [],
    )
    if calendar.is_complete:
        logger.info(calendar.usage_summary().splitlines()[-1])
        return calendar
    raise _incomplete(calendar, settings)


def _incomplete(calendar: Calendar, settings: Settings) -> IncompleteCalendarError:
    """Save the partial calendar and build the error that carries it."""
    saved: Path | None = None
    try:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        saved = Path(settings.output_dir) / f"partial-{calendar.year}-{calendar.month:02d}-{stamp}-{os.getpid()}.json"
        calendar.save(saved)
    except OSError as exc:  # the error below still carries the calendar itself
        logger.error("could not save the partial calendar: %s", exc)
        saved = None
    missing = calendar.missing_days
    last_error = next((u.error for u in reversed(calendar.usage) if u.error), None)
    cause = f" Last error: {last_error}." if last_error else ""
    where = f" The partial calendar was saved to {saved}." if saved else ""
    return IncompleteCalendarError(
        f"{calendar.month_name} is incomplete after {settings.max_rounds} supplement rounds: "
        f"{len(missing)} days missing ({', '.join(map(str, missing))}).{cause}{where} "
        f"Rerun with more max_rounds or another model, or regenerate the missing days.",
        calendar=calendar,
        missing_days=missing,
        saved_to=saved,
    )


def generate_calendar(
    month: str | MonthSpec | dt.date,
    trends: Sequence[str] | str = (),
    niche: str | None = None,
    *,
    model: BaseChatModel | str | None = None,
    settings: Settings | None = None,
    retriever: Runnable[dict[str, Any], list[Document]] | None = None,
    progress: ProgressCallback | None = None,
) -> Calendar:
    """Write a complete calendar for ``month``.

    Raises:
        IncompleteCalendarError: days still missing after every round (the partial
            calendar is attached and saved).
        ReelcalError: bad input (month, settings, model key) or a prompt that cannot fit.

    Example:
        .. code-block:: python

            cal = generate_calendar("March 2026", ["AI agents"], niche="AI tools for creators")
            cal.save("march.xlsx")
    """
    settings = settings or Settings.load()
    chain = build_calendar_chain(settings, model=model, retriever=retriever, progress=progress)
    return chain.invoke({"month": month, "trends": list([trends] if isinstance(trends, str) else trends),
                         "niche": niche})


def regenerate_days(
    calendar: Calendar,
    days: Sequence[int],
    *,
    trends: Sequence[str] | None = None,
    model: BaseChatModel | str | None = None,
    settings: Settings | None = None,
    retriever: Runnable[dict[str, Any], list[Document]] | None = None,
    progress: ProgressCallback | None = None,
) -> Calendar:
    """Rewrite exactly ``days`` with the supplement chain; every other day is kept as is.

    The rest of the month goes into the prompt as ideas already used.
    """
    from pipeline.retrieval import format_documents
    from pipeline.trimming import TokenBudgetTrimmer

    settings = settings or Settings.load()
    month = MonthSpec(calendar.year, calendar.month)
    bad = sorted(d for d in set(days) if not 1 <= d <= month.days_in_month)
    if bad or not days:
        raise InvalidDaysError(
            f"Cannot regenerate days {bad or list(days)}: {month.name} has days 1 to "
            f"{month.days_in_month}."
        )
    generator = CalendarGenerator(settings, model=model, supplement_model=model, progress=progress)
    state = {"month": month, "trends": list(trends if trends is not None else calendar.trends),
             "niche": calendar.niche or settings.niche, "platform": calendar.platform}
    retrieve = retriever or default_retriever(settings)
    trimmer = TokenBudgetTrimmer(budget=settings.rag_token_budget, counter=generator.supplement.counter)
    retrieved = retrieve.invoke(state)
    context = _month_context(state, settings, format_documents(trimmer.transform_documents(retrieved)))
    context = _fit_examples(generator, context, retrieved, trimmer)
    keep = [p for p in calendar.days if p.day not in set(days)]
    plans, usage = generator.fill(context, days, existing=keep, first_role="supplement")
    updated = calendar.with_days(plans)
    updated = updated.model_copy(update={"usage": [*calendar.usage, *usage]})
    still = sorted(set(days) - {p.day for p in plans})
    if still:
        raise _incomplete(updated, settings)
    return updated
