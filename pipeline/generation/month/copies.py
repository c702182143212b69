"""The copies round of ``plan_chunks``: posts written whose copy for another platform is
missing or broke its platform's limits are asked for those copies only (role
``"copies"``, :class:`~pipeline.generation.writing.copy_writer.CopyWriter`), with why,
until each copy is kept or has been asked ``max_reasks + 1`` times (then the post goes
without it, and the calendar's notes say so).
"""

from __future__ import annotations

import logging
from typing import Any

from pipeline.generation.state import ChunkTask, MonthState, missing_copies, schedule_of
from pipeline.generation.writing.copy_writer import CopyWriter
from pipeline.generation.writing.fitting import chunk_task, plan_requests
from pipeline.generation.writing.writer import ChunkRequest, MonthContext

logger = logging.getLogger("reelcal")

#: Posts one copies call writes for (a copy is a tenth of a reel).
COPIES_PER_CALL = 8


def copy_tasks(
    state: MonthState,
    context: dict[str, Any],
    month_context: MonthContext,
    writer: CopyWriter,
    *,
    max_reasks: int,
) -> list[ChunkTask]:
    """One ``write`` task per chunk of the posts whose copies are still wanted."""
    wanted = missing_copies(state, max_reasks=max_reasks)
    if not wanted:
        return []
    schedule, rows = schedule_of(state), state.get("rows") or {}
    numbers = {schedule.number_of(key): key for key in wanted}
    feedback: dict[int, list[str]] = {}
    for entry in state.get("copy_breaks") or []:
        if entry["day"] in numbers and entry["platform"] in wanted[numbers[entry["day"]]]:
            feedback.setdefault(entry["day"], []).extend(entry["reasons"])
    request = ChunkRequest(
        "copies",
        sorted(numbers),
        month_context,
        round=state["round"],
        tokens_per_day=state["tokens_per_day"].get("copies", writer.budget.tokens_per_day),
        reasoning_reserve=writer.budget.reasoning_reserve,
        feedback={n: why[-3:] for n, why in feedback.items()},
        posts={n: rows[key] for n, key in numbers.items()},
        wanted={n: wanted[key] for n, key in numbers.items()},
    )
    plan = plan_requests(writer, request, max_days=COPIES_PER_CALL)
    for number, reason in plan.not_asked.items():
        logger.warning("%s's copies are not asked for: %s", schedule.short_name(number), reason)
    return [chunk_task(r, context) for r in plan.requests]


def copies_tokens_per_post(state: MonthState, current: int, output_cap: int) -> int:
    """The copies writer's tokens per post after this round's copies calls: doubled when a
    reply was cut (never re-sent with the same room), else at least 1.25 times the most a
    post took."""
    this_round = [
        u
        for u in state.get("usage") or []
        if u["role"] == "copies" and u["round"] == state["round"]
    ]
    if any(u["finish_reason"] == "length" for u in this_round):
        return min(current * 2, output_cap)
    took = [
        u["output_tokens"] / len(u["days_requested"])
        for u in this_round
        if u["output_tokens"] and u["days_parsed"] and u["days_requested"]
    ]
    return max(current, int(max(took) * 1.25)) if took else current


def copy_notes(values: dict[str, Any]) -> list[str]:
    """Calendar notes for posts left without a copy (its re-asks ran out)."""
    schedule = schedule_of(values)
    notes = []
    for key, platforms in missing_copies(values).items():
        number = schedule.number_of(key)
        why = [
            "; ".join(e["reasons"])
            for e in values.get("copy_breaks") or []
            if e["day"] == number and e["platform"] in platforms
        ]
        last = f" (last: {why[-1]})" if why else ""
        notes.append(f"{schedule.short_name(number)} has no copy for {', '.join(platforms)}{last}.")
    return notes
