"""The ``plan_chunks`` step: the days still missing split into the round's write tasks
(days never asked for to the main writer, days still missing to the supplement writer,
fitted to the window by :mod:`pipeline.generation.writing.fitting`), then the copies the
written posts still lack (:mod:`pipeline.generation.month.copies`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pipeline.calendar import OutlineDay
from pipeline.generation.month.copies import copy_tasks
from pipeline.generation.month.rounds import spend_caps
from pipeline.generation.state import (
    ROLES,
    ChunkTask,
    MonthState,
    already_used,
    copies_kept,
    latest_cuts,
    latest_rule_breaks,
    missing_dates,
    not_asked_entry,
    schedule_of,
)
from pipeline.generation.writing.budget import chunk_cap_for_speed
from pipeline.generation.writing.fitting import chunk_task, plan_days
from pipeline.generation.writing.writer import ChunkRequest

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.generation.month.engine import CalendarEngine

logger = logging.getLogger("reelcal")


def plan_round(engine: CalendarEngine, state: MonthState) -> dict[str, Any]:
    """Days never asked for go to the main writer, days still missing to the supplement
    writer (exactly those). Chunks are as large as the budget allows, capped by
    ``speed`` for first asks, fitted to the window (:mod:`pipeline.generation.writing.fitting`;
    a day that cannot fit alone is named in ``not_asked``). When the budget sets the
    chunks and the writer has not learned its tokens per day, only the first is sent
    (a probe): the rest are planned from its output."""
    context = engine.shared_context(state)
    outline = state.get("outline") or {}
    caps = spend_caps(
        state,
        max_calls=engine.settings.max_calls,
        main_budget=engine.writer("main").budget,
        max_days=engine.writer("main").days_cap,
        outline_first_round=None,
    )
    rows = state.get("rows") or {}
    usage = state.get("usage") or []
    schedule = schedule_of(state)
    missing = [schedule.number_of(d) for d in missing_dates(state)]
    asked = {d for u in usage if u["role"] in ROLES for d in u["days_requested"]}
    groups = {
        "main": [d for d in missing if d not in asked],
        "supplement": [d for d in missing if d in asked],
    }
    if state["first_role"] == "supplement":
        groups = {"main": [], "supplement": missing}
    feedback, cuts = latest_rule_breaks(state), latest_cuts(state)
    used = already_used(state)
    taken_titles = [title for title, _ in used]
    planned: list[ChunkTask] = []
    deferred: list[list[int]] = []
    no_room: dict[str, Any] = {}
    for role, days in groups.items():
        if not days:
            continue
        request = ChunkRequest(
            role,
            days,
            engine.context(context),
            round=state["round"],
            already_used=used if role == "supplement" else [],
            tokens_per_day=state["tokens_per_day"][role],
            reasoning_reserve=state["reasoning_reserve"][role],
            feedback={d: feedback[d] for d in days if d in feedback},
            outline=[
                OutlineDay(**outline[key]) for d in days if (key := schedule.key_of(d)) in outline
            ],
        )
        writer = engine.writer(role)
        # first asks spread over the speed's parallel calls; re-asks share a call
        speed_cap = (
            chunk_cap_for_speed(len(days), engine.settings.speed) if role == "main" else None
        )
        limits = [c for c in (state["max_days"].get(role), speed_cap) if c]
        plan = plan_days(writer, request, max_days=min(limits, default=None), cuts=cuts)
        for day, reason in plan.not_asked.items():
            logger.warning("%s is not asked for: %s", schedule.short_name(day), reason)
            no_room[schedule.key_of(day)] = not_asked_entry(day, reason, state)
        requests = plan.requests
        by_budget = speed_cap is None or max((len(r.days) for r in requests), default=0) < speed_cap
        if len(requests) > 1 and by_budget and not calibrated(engine, role, usage):
            # the budget sets the chunks: send one first to learn tokens per day
            requests, later = requests[:1], requests[1:]
            deferred += [r.days for r in later]
        planned += [chunk_task(r, context, taken_titles) for r in requests]
    planned += copy_tasks(
        state,
        context,
        engine.context(context),
        engine.copies,
        max_reasks=engine.settings.max_reasks,
    )
    return {
        **caps,
        "planned": planned[: max(0, caps["max_calls"] - len(usage))],
        "deferred": deferred,
        "rows_before": len(rows),
        "copies_before": copies_kept(state),
        **({"not_asked": no_room} if no_room else {}),
    }


def calibrated(engine: CalendarEngine, role: str, usage: list[dict[str, Any]]) -> bool:
    """Whether the writer's tokens per day come from real output: set by the user, or
    learned from a call of the same model that parsed days."""
    if engine.settings.tokens_per_day is not None:
        return True
    model = engine.writer(role).model
    return any(
        u["days_parsed"] and u["output_tokens"] and engine.writer(u["role"]).model is model
        for u in usage
        if u["role"] in ROLES
    )
