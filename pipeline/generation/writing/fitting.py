"""Fitting requests into a model's window: what gives way, in what order, and how the days
still to ask for are cut into requests that fit.

A chunk's prompt is a fixed part (the instructions, mentor patterns and mentors, the
special dates and outline lines of its days, the answer format) and optional parts that
help the model but are not needed to ask for a day. When a request does not leave room
for the days it asks for (:meth:`~pipeline.generation.writing.writer.DayWriter.days_per_call`),
its optional parts give way in this order, each counted with the model's tokenizer:

1. ``day_examples``: the transcripts retrieved for the chunk's outline lines (the engine
   adds them only within the room a call has left, so they never cost a reply);
2. ``already_used``: the list of ideas taken this month, the oldest first;
3. ``examples``: the month's shared example transcripts, the last ones first, down to none;
4. ``feedback``: why the days were not kept last time, down to each day's first reason
   (a day always keeps its own reason).

Parts 1 and 2 give way for a chunk of several days, and part 3 too for re-asks (days
asked for again carry their outline lines and reasons; sharing a call keeps re-asks cheap
on small windows); a chunk that still does not fit is split in half; the rest gives way
only for a chunk of one day. A day whose fixed prompt alone leaves no room is not asked for:
:func:`plan_requests` names it, with the reason, and the other days go on. A day whose
one-day reply was cut for want of room is asked again alone, with the room its prompt's
optional parts make (:func:`plan_with_more_room`).

Example:
    .. code-block:: python

        plan = plan_requests(writer, ChunkRequest("supplement", [4, 9, 12], context, ...))
        plan.requests      # [ChunkRequest(days=[4, 9, 12], already_used=[...last 6])]
        plan.not_asked     # {}  (day -> why it cannot be asked for)
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pipeline.calendar import days_label
from pipeline.errors import TokenBudgetError
from pipeline.generation.state import ChunkTask, schedule_of
from pipeline.generation.writing.writer import ChunkRequest, DayWriter

logger = logging.getLogger("reelcal")

#: The optional parts of a prompt, in the order they give way.
GIVE_WAY_ORDER = ("day_examples", "already_used", "examples", "feedback")
#: How many of them give way before a chunk of several days is split instead: first asks
#: keep the month's shared examples, re-asks (the supplement writer) share a call first.
SEVERAL_DAYS_GIVE_WAY = {"main": 2, "outline": 2, "supplement": 3}
#: Between two example transcripts in the shared block (see ``format_documents``).
EXAMPLE_SEPARATOR = "\n\n<example"


@dataclass(frozen=True)
class Fitted:
    """A request that fits (``request``), or None, and the parts that gave way."""

    request: ChunkRequest | None
    gave_way: tuple[str, ...] = ()


@dataclass
class RequestPlan:
    """The requests a group of days is asked in, and the days that cannot be asked for."""

    requests: list[ChunkRequest] = field(default_factory=list)
    #: day -> why not even that day alone fits, every optional part dropped
    not_asked: dict[int, str] = field(default_factory=dict)


def example_blocks(examples: str) -> list[str]:
    """The shared examples, one ``<example>`` block each."""
    if not examples:
        return []
    parts = examples.split(EXAMPLE_SEPARATOR)
    return [parts[0], *("<example" + p for p in parts[1:])]


def fit_request(writer: DayWriter, request: ChunkRequest) -> Fitted:
    """``request`` with as few of its optional parts given way (:data:`GIVE_WAY_ORDER`)
    as make all its days fit; ``Fitted(None)`` when even without them they do not (a
    chunk of several days drops only the first :data:`SEVERAL_DAYS_GIVE_WAY` parts)."""
    wanted = len(request.days)

    def fits(trial: ChunkRequest) -> bool:
        return writer.days_per_call(trial) >= wanted

    if fits(request):
        return Fitted(request)
    steps = _STEPS[: len(_STEPS) if wanted == 1 else SEVERAL_DAYS_GIVE_WAY[request.role]]
    current, gave_way = request, []
    for name, step in steps:
        trimmed = step(current, fits)
        if trimmed is not current:
            gave_way.append(name)
            current = trimmed
        if fits(current):
            logger.info("%s: %s gave way to fit", days_label(request.days), ", ".join(gave_way))
            return Fitted(current, tuple(gave_way))
    return Fitted(None, tuple(gave_way))


def plan_requests(
    writer: DayWriter, request: ChunkRequest, *, max_days: int | None = None
) -> RequestPlan:
    """``request.days`` cut into requests that each fit (at most ``max_days`` days each).

    Chunks are sized on the prompt every chunk shares (without outline lines and
    feedback), then each chunk gets its own lines and reasons and is fitted
    (:func:`fit_request`); a chunk that does not fit is split in half, and a day that does
    not fit alone is named in :attr:`RequestPlan.not_asked`.
    """
    plan = RequestPlan()
    if not request.days:
        return plan
    # sized without what gives way for several days (the already-used list): re-asks
    # share a call when that is all they cost
    shared = replace(request, outline=[], feedback={}, day_examples="", already_used=[])
    sizing = fit_request(writer, replace(shared, days=request.days[:1])).request
    chunks = [[day] for day in request.days]  # when the shared prompt leaves no room
    if sizing is not None:
        try:
            chunks = writer.plan(replace(sizing, days=request.days), max_days=max_days)
        except TokenBudgetError:  # naming every day is longer: each day is fitted alone
            pass
    queue = deque(chunks)
    while queue:
        chunk = queue.popleft()
        fitted = fit_request(writer, only_days(request, chunk))
        if fitted.request is not None:
            plan.requests.append(fitted.request)
        elif len(chunk) > 1:
            half = len(chunk) // 2
            queue.extendleft([chunk[half:], chunk[:half]])
        else:
            plan.not_asked[chunk[0]] = no_room_reason(writer, _bare(only_days(request, chunk)))
    return plan


def plan_days(
    writer: DayWriter,
    request: ChunkRequest,
    *,
    max_days: int | None = None,
    cuts: dict[int, tuple[int, int]] | None = None,
) -> RequestPlan:
    """A writer's requests for ``request.days`` (:func:`plan_requests`); days in ``cuts``
    (day -> the max_tokens its last one-day reply was cut at, and how many such cuts) are
    asked alone, with more room (:func:`plan_with_more_room`), within the writer's
    ``max_reasks``."""
    cuts = cuts or {}
    plan = plan_requests(
        writer, only_days(request, [d for d in request.days if d not in cuts]), max_days=max_days
    )
    for day in (d for d in request.days if d in cuts):
        cut_at, times = cuts[day]
        alone = plan_with_more_room(
            writer,
            only_days(request, [day]),
            cut_at=cut_at,
            same_room=times <= writer.settings.max_reasks,
        )
        plan.requests += alone.requests
        plan.not_asked |= alone.not_asked
    return plan


def plan_with_more_room(
    writer: DayWriter, request: ChunkRequest, *, cut_at: int, same_room: bool
) -> RequestPlan:
    """The request of one day whose one-day reply was cut at ``cut_at`` tokens with nothing
    parsed: asked with more room (twice as much, within the output cap and what the prompt
    leaves once its optional parts give way); or, while ``same_room`` allows (its re-asks
    within ``max_reasks``), with as much room as before and the re-ask's reason (a changed
    request); else the day is named in ``not_asked``."""
    budget = writer.budget_for(request)
    room = budget.output_cap(writer.prompt_tokens(_bare(request))) - budget.reasoning_reserve
    grown = min(2 * cut_at, room)
    if grown > cut_at or same_room:
        wanted = max(grown, min(cut_at, room))
        plan = plan_requests(writer, replace(request, tokens_per_day=wanted, reply_tokens=wanted))
        if plan.requests or not same_room:
            return plan if plan.requests else _cut_twice(request, budget, cut_at, room)
        return plan_requests(writer, request)
    return _cut_twice(request, budget, cut_at, room)


def _cut_twice(request: ChunkRequest, budget: Any, cut_at: int, room: int) -> RequestPlan:
    return RequestPlan(
        not_asked={
            request.days[0]: f"its one-day replies were cut at max_tokens={cut_at:,} with "
            f"nothing parsed, and no prompt leaves it more room (a "
            f"{budget.context_window:,}-token window, output cap {budget.max_output_tokens:,}, "
            f"{max(0, room):,} tokens left once every optional part of the prompt gives way): "
            f"resume with a model with larger limits, or raise max_reasks"
        }
    )


def chunk_task(
    request: ChunkRequest, context: dict[str, Any], taken_titles: list[str] | None = None
) -> ChunkTask:
    """The ``write`` task (plain JSON) of a fitted request: what gave way stays given way
    (``context`` with the shared examples it kept, and their source ids)."""
    if request.context.examples != context.get("examples", ""):
        kept = len(example_blocks(request.context.examples))
        sources = list(context.get("sources") or [])[:kept]
        context = {**context, "examples": request.context.examples, "sources": sources}
    return ChunkTask(
        role=request.role,
        days=list(request.days),
        round=request.round,
        tokens_per_day=request.tokens_per_day,
        reasoning_reserve=request.reasoning_reserve,
        already_used=[list(u) for u in request.already_used],
        context=context,
        taken_titles=list(taken_titles or []),
        feedback={str(d): list(reasons) for d, reasons in request.feedback.items()},
        outline={str(line.day): line.model_dump(mode="json") for line in request.outline},
        **({"reply_tokens": request.reply_tokens} if request.reply_tokens else {}),
        **(
            {
                "posts": {str(n): request.posts[n] for n in request.days},
                "wanted": {str(n): list(request.wanted.get(n, [])) for n in request.days},
            }
            if request.posts
            else {}
        ),
    )


def unfit_task(task: ChunkTask, reason: str) -> dict[str, Any]:
    """The ``write`` update of a task whose request did not fit after all (planned to fit:
    a guard, no call was made): one day is named in ``not_asked``; several split next
    round, as after a context overflow; an outline day is written without a line."""
    logger.warning("%s does not fit: %s", days_label(task["days"]), reason)
    if len(task["days"]) > 1:
        overflow = {"role": task["role"], "days": task["days"], "round": task["round"]}
        return {"overflows": [overflow]}
    if task["role"] in ("outline", "copies"):  # the post is written without the line / copy
        return {}
    day = task["days"][0]
    key = schedule_of(task["context"]).key_of(day)
    return {"not_asked": {key: {"day": day, "reason": reason, "round": task["round"]}}}


def no_room_reason(writer: DayWriter, request: ChunkRequest) -> str:
    """Why ``request`` (its optional parts dropped) cannot ask for one day: the numbers."""
    budget = writer.budget_for(request)
    prompt_tokens = writer.prompt_tokens(request)
    return (
        f"its prompt without optional parts is {prompt_tokens:,} tokens: a "
        f"{budget.context_window:,}-token window minus it and a {budget.margin:,}-token "
        f"margin leaves {max(0, budget.available(prompt_tokens)):,}, less than one day "
        f"({budget.tokens_per_day:,} tokens{_reserve(budget.reasoning_reserve)})"
    )


def _reserve(tokens: int) -> str:
    return f" plus a {tokens:,}-token reasoning reserve" if tokens else ""


def only_days(request: ChunkRequest, days: list[int]) -> ChunkRequest:
    """``request`` for ``days`` alone, with their outline lines and reasons only."""
    wanted = set(days)
    return replace(
        request,
        days=list(days),
        outline=[line for line in request.outline if line.day in wanted],
        feedback={d: r for d, r in request.feedback.items() if d in wanted},
    )


def _bare(request: ChunkRequest) -> ChunkRequest:
    """``request`` with every optional part given way."""
    context = replace(request.context, examples="")
    return replace(
        request,
        day_examples="",
        already_used=[],
        context=context,
        feedback={d: reasons[:1] for d, reasons in request.feedback.items()},
    )


Fits = Callable[[ChunkRequest], bool]


def _most_that_fit(count: int, make: Callable[[int], ChunkRequest], fits: Fits) -> int:
    """The largest ``k <= count`` with ``fits(make(k))`` (0 when none does); ``fits`` grows
    false as ``k`` grows (more text)."""
    low, high = 0, count
    while low < high:
        keep = (low + high + 1) // 2
        if fits(make(keep)):
            low = keep
        else:
            high = keep - 1
    return low


def _drop_day_examples(request: ChunkRequest, fits: Fits) -> ChunkRequest:
    return replace(request, day_examples="") if request.day_examples else request


def _trim_already_used(request: ChunkRequest, fits: Fits) -> ChunkRequest:
    used = list(request.already_used)
    if not used:
        return request

    def keeping(k: int) -> ChunkRequest:  # the newest k ideas
        return replace(request, already_used=used[len(used) - k :] if k else [])

    kept = _most_that_fit(len(used) - 1, keeping, fits)
    return keeping(kept)


def _trim_examples(request: ChunkRequest, fits: Fits) -> ChunkRequest:
    blocks = example_blocks(request.context.examples)
    if not blocks:
        return request

    def keeping(k: int) -> ChunkRequest:  # the first k examples
        examples = "\n\n".join(blocks[:k])
        return replace(request, context=replace(request.context, examples=examples))

    return keeping(_most_that_fit(len(blocks) - 1, keeping, fits))


def _trim_feedback(request: ChunkRequest, fits: Fits) -> ChunkRequest:
    if all(len(reasons) <= 1 for reasons in request.feedback.values()):
        return request
    return replace(request, feedback={d: r[:1] for d, r in request.feedback.items()})


_STEPS: tuple[tuple[str, Callable[[ChunkRequest, Fits], ChunkRequest]], ...] = (
    ("day_examples", _drop_day_examples),
    ("already_used", _trim_already_used),
    ("examples", _trim_examples),
    ("feedback", _trim_feedback),
)
assert tuple(name for name, _ in _STEPS) == GIVE_WAY_ORDER
