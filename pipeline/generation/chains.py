"""The public entry points: ``generate_calendar``, ``build_calendar_chain`` and
``regenerate_days``, all driving the month engine (:mod:`pipeline.generation.month.engine`) through the
durable runner (:mod:`pipeline.generation.month.runs`).

The CLI, the notebooks and ``reelcal plan`` (:mod:`pipeline.generation.planning`) use the same
engine, so the first round that ``plan`` shows is the one ``generate`` sends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from pipeline.calendar import Calendar, DayPlan, OutlineDay
from pipeline.config import Settings
from pipeline.dates import MonthSpec
from pipeline.errors import InvalidDaysError
from pipeline.generation.month.engine import CalendarEngine
from pipeline.generation.month.grounding import default_retriever
from pipeline.generation.month.runs import Progress, ProgressCallback, run_calendar
from pipeline.generation.requests import read_request, span_request
from pipeline.schedule import Schedule

__all__ = [
    "CalendarRequest",
    "Progress",
    "build_calendar_chain",
    "build_calendar_graph",
    "build_calendar_tool",
    "check_days_to_regenerate",
    "default_retriever",
    "generate_calendar",
    "generate_outline",
    "regenerate_days",
    "resume_calendar",
    "span_request",
]


def build_calendar_graph(
    settings: Settings | None = None,
    model: BaseChatModel | str | None = None,
    *,
    supplement_model: BaseChatModel | str | None = None,
    retriever: Runnable[Any, list[Document]] | None = None,
    checkpointer: Any = None,
):
    """The month engine as a compiled LangGraph graph (input: ``{"month", "trends",
    "niche"?}``; output: the final :class:`MonthState`). ``build_calendar_chain`` wraps
    it into a Runnable that returns a :class:`~pipeline.calendar.Calendar`.

    Example:
        .. code-block:: python

            graph = build_calendar_graph(Settings(), model="openai:gpt-4o")
            graph.get_graph().draw_mermaid()
    """
    engine = CalendarEngine(
        settings or Settings.load(),
        model=model,
        supplement_model=supplement_model,
        retriever=retriever,
    )
    return engine.graph(checkpointer=checkpointer)


def _chain_input(request: Any, settings: Settings | None = None) -> dict[str, Any]:
    """The graph's input, checked (:func:`~pipeline.generation.requests.read_request`)."""
    checked = read_request(request, settings)
    return {k: v for k, v in checked.items() if k != "run_id"}


def build_calendar_chain(
    settings: Settings | None = None,
    model: BaseChatModel | str | None = None,
    *,
    supplement_model: BaseChatModel | str | None = None,
    retriever: Runnable[Any, list[Document]] | None = None,
    progress: ProgressCallback | None = None,
) -> Runnable[dict[str, Any], Calendar]:
    """The whole calendar as one Runnable: ``{"month", "trends", "niche"?} -> Calendar``.

    Each invocation is a durable run: a fresh run id, unless the input has ``"run_id"``
    or the config has ``configurable={"run_id": ...}`` (or LangGraph's usual ``thread_id``;
    either resumes that run). It works
    inside other LCEL chains and through ``ainvoke`` (the run goes to a worker thread, so
    retries never block the event loop). The engine inside is :func:`build_calendar_graph`.

    Example:
        .. code-block:: python

            chain = build_calendar_chain(Settings.load(), model="openai:gpt-4o")
            calendar = chain.invoke({"month": "2026-03", "trends": ["AI agents"]})
    """
    engine = CalendarEngine(
        settings or Settings.load(),
        model=model,
        supplement_model=supplement_model,
        retriever=retriever,
    )

    def calendar(request: dict[str, Any], config: RunnableConfig) -> Calendar:
        run_id = request.get("run_id") if isinstance(request, dict) else None
        configurable = config.get("configurable") or {}
        # LangGraph's usual name for a durable run is thread_id: either names the run
        run_id = run_id or configurable.get("run_id") or configurable.get("thread_id")
        return run_calendar(
            engine,
            _chain_input(request, engine.settings),
            run_id=run_id,
            progress=progress,
            config={k: v for k, v in config.items() if k == "callbacks"},
        )

    return RunnableLambda(calendar, name="reelcal_calendar")


class CalendarRequest(BaseModel):
    """What an agent gives the calendar tool."""

    month: str = Field(description="The month to plan, e.g. 'March 2026' or '2026-03'.")
    trends: list[str] = Field(default_factory=list, description="Trends to build on.")
    niche: str | None = Field(None, description="The account's niche.")


def build_calendar_tool(
    settings: Settings | None = None,
    model: BaseChatModel | str | None = None,
    *,
    retriever: Runnable[Any, list[Document]] | None = None,
    name: str = "plan_content_calendar",
) -> BaseTool:
    """The calendar chain as a tool for an agent: typed input (:class:`CalendarRequest`),
    and a short answer (the month, the first titles, the saved file) rather than the
    whole month, which would flood the agent's context.

    Example:
        .. code-block:: python

            tool = build_calendar_tool(Settings.load(), model="openai:gpt-4o")
            agent = create_agent("openai:gpt-4o", tools=[tool])
    """
    settings = settings or Settings.load()
    chain = build_calendar_chain(settings, model=model, retriever=retriever)

    def summary(calendar: Calendar) -> str:
        path = calendar.save(
            Path(settings.output_dir) / f"calendar-{calendar.year}-{calendar.month:02d}.json"
        )
        name = calendar.plan_schedule.short_name
        titles = "; ".join(
            f"{name(calendar.post_number(p) or 0)}: {p.title}" for p in calendar.days[:3]
        )
        return (
            f"{calendar.span_name}: {len(calendar.days)} reels planned ({titles}; ...). "
            f"The full calendar is saved at {path}."
        )

    runnable = chain | RunnableLambda(summary, name="summarise")
    return runnable.as_tool(
        args_schema=CalendarRequest,
        name=name,
        description="Plan a month of short-video reels (one per day: title, hook, caption, "
        "script, style, audio, hashtags, notes, engagement) and save it to a file.",
    )


def generate_calendar(
    month: str | MonthSpec | dt.date | None = None,
    trends: Sequence[str] | str = (),
    niche: str | None = None,
    *,
    model: BaseChatModel | str | None = None,
    settings: Settings | None = None,
    retriever: Runnable[Any, list[Document]] | None = None,
    progress: ProgressCallback | None = None,
    run_id: str | None = None,
    outline: Sequence[OutlineDay] | None = None,
    days: Sequence[int] | None = None,
    posts: Sequence[str] | None = None,
    **when: Any,
) -> Calendar:
    """Write a complete calendar for ``month`` (or only its ``days``, e.g. ``range(1, 8)``
    for the first week: the calendar then holds those days).

    Any other span and cadence by keyword (``when``, see :func:`span_request`):
    ``week="2027-W10"``, ``start="2027-03-28", end="2027-04-06"``, or ``span=`` a
    :class:`~pipeline.schedule.Schedule`; ``cadence="mon,wed,fri", times="18:00"``,
    ``posts_per_week=3`` or ``posting_slots={...}``; ``timezone="Europe/Berlin"``;
    ``platforms=["instagram", "tiktok"]``. ``days`` are post numbers (a month with one
    post a day: its days) and ``posts`` post keys ("2027-03-03T18:00").

    ``outline`` gives the month outline to write from (e.g. one a user edited, read with
    :func:`~pipeline.outputs.readers.read_outline`); days it leaves out are outlined by
    the model when the ``outline`` setting is on.

    ``run_id`` names the run: a new id starts it, the id of a saved run resumes it (the
    model is called only for days not yet written). Without it the run gets a fresh id,
    which ``IncompleteCalendarError.run_id`` carries.

    Raises:
        IncompleteCalendarError: the run ended with days missing (stalled, spend cap,
            Ctrl-C, or an error after the first call); the partial calendar is attached
            and saved, and the run can be resumed.
        ReelcalError: bad input (month, settings, model key) or a prompt that cannot fit.

    Example:
        .. code-block:: python

            cal = generate_calendar("March 2026", ["AI agents"], niche="AI tools for creators")
            cal.save("march.xlsx")
    """
    settings = settings or Settings.load()
    chosen = {"days": [int(d) for d in days or ()], "posts": list(posts or ())}
    request = _chain_input(
        {**span_request(month, **when), **chosen, "trends": trends, "niche": niche}, settings
    )
    if outline is not None:
        request["given_outline"] = [OutlineDay.model_validate(o).model_dump() for o in outline]
    engine = CalendarEngine(settings, model=model, retriever=retriever)
    return run_calendar(engine, request, run_id=run_id, progress=progress)


def generate_outline(
    month: str | MonthSpec | dt.date | None = None,
    trends: Sequence[str] | str = (),
    niche: str | None = None,
    *,
    model: BaseChatModel | str | None = None,
    settings: Settings | None = None,
    retriever: Runnable[Any, list[Document]] | None = None,
    progress: ProgressCallback | None = None,
    run_id: str | None = None,
    **when: Any,
) -> Calendar:
    """Plan ``month`` without writing it: a :class:`Calendar` whose ``outline`` has a
    line per day (and no days yet). Save it, edit it, and write the month from it with
    ``generate_calendar(..., outline=calendar.outline)`` (``reelcal outline`` and
    ``reelcal generate --outline FILE``). The run is durable like a month's. Any span
    and cadence by keyword, as :func:`generate_calendar` takes them.

    Example:
        .. code-block:: python

            plan = generate_outline("March 2026", ["AI agents"], niche="AI tools")
            plan.save_outline("march-outline.csv")
    """
    settings = (settings or Settings.load()).model_copy(update={"outline": True})
    request = _chain_input(
        {**span_request(month, **when), "trends": trends, "niche": niche}, settings
    )
    engine = CalendarEngine(settings, model=model, retriever=retriever)
    return run_calendar(engine, {**request, "outline_only": True}, run_id=run_id, progress=progress)


def resume_calendar(
    run_id: str,
    *,
    model: BaseChatModel | str | None = None,
    settings: Settings | None = None,
    retriever: Runnable[Any, list[Document]] | None = None,
    progress: ProgressCallback | None = None,
) -> Calendar:
    """Continue the saved run ``run_id`` with its own month, trends and niche."""
    settings = settings or Settings.load()
    engine = CalendarEngine(settings, model=model, retriever=retriever)
    return run_calendar(engine, None, run_id=run_id, progress=progress)


def check_days_to_regenerate(calendar: Calendar, days: Sequence[int]) -> None:
    """``InvalidDaysError`` unless ``days`` is a non-empty list of the calendar's post
    numbers (a month with one post a day: its days)."""
    schedule = calendar.plan_schedule
    bad = sorted(d for d in set(days) if not 1 <= d <= schedule.count)
    if bad or not days:
        noun = schedule.noun
        raise InvalidDaysError(
            f"Cannot regenerate {noun}s {bad or list(days)}: {schedule.name} has {noun}s 1 "
            f"to {schedule.count}."
        )


def post_numbers(calendar: Calendar, posts: Sequence[str]) -> list[int]:
    """The numbers of the posts keyed ``posts`` ("2027-03-03T18:00", or a date with one
    post); ``ScheduleError`` naming one that the calendar's schedule does not have."""
    return [calendar.plan_schedule.post_of(key).number for key in posts]


def regenerate_days(
    calendar: Calendar,
    days: Sequence[int] = (),
    *,
    posts: Sequence[str] = (),
    trends: Sequence[str] | None = None,
    model: BaseChatModel | str | None = None,
    settings: Settings | None = None,
    retriever: Runnable[Any, list[Document]] | None = None,
    progress: ProgressCallback | None = None,
    run_id: str | None = None,
) -> Calendar:
    """Rewrite exactly ``days`` (post numbers; a month with one post a day: its days)
    and ``posts`` (post keys such as "2027-03-03T18:00") with the supplement chain; every
    other post is kept as is. ``calendar.missing_days`` fills a partial calendar's gaps.

    The rest of the plan goes into the prompt as ideas already used. The run is durable
    like :func:`generate_calendar`'s (``run_id`` resumes it).
    """
    settings = settings or Settings.load()
    days = [*days, *post_numbers(calendar, posts)]
    check_days_to_regenerate(calendar, days)
    schedule = calendar.plan_schedule
    engine = CalendarEngine(settings, model=model, supplement_model=model, retriever=retriever)
    request = {
        "schedule": schedule.model_dump(mode="json"),
        "month": schedule.month.key,
        "platforms": list(calendar.platforms),
        "trends": list(trends if trends is not None else calendar.trends),
        "niche": calendar.niche or settings.niche,
        "platform": calendar.platform,
        "days": sorted(set(days)),
        "kept": [_timed(p, schedule).model_dump(mode="json") for p in calendar.days],
        "kept_usage": [u.model_dump(mode="json") for u in calendar.usage],
        "kept_sources": {
            schedule.key_of(n): ids
            for n, ids in calendar.sources.items()
            if 1 <= n <= schedule.count
        },
        "given_outline": [line.model_dump() for line in calendar.outline],
        "first_role": "supplement",
    }
    return run_calendar(engine, _chain_input(request, settings), run_id=run_id, progress=progress)


def _timed(plan: DayPlan, schedule: Schedule) -> DayPlan:
    """A post of a file written before posts had times, given its slot's time (so that it
    keys the same post)."""
    post = None if plan.time else schedule.find(plan.date.isoformat())
    return plan.model_copy(update={"time": post.time}) if post else plan
