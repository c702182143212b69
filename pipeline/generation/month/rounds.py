"""When a run ends: its spend cap, set once per run (or resume), and the status a round
leaves it in.

- **spend cap** (``max_calls``): the setting, else the calls the days need at the starting
  estimate plus one per day (each day may be asked for once more on its own), plus the
  outline's share (:func:`~pipeline.generation.outline.stage.outline_call_allowance`) while it
  is still to plan; ``outline_max_calls``: the outline stops when the run's calls reach it.
- **learning**: what a round's calls teach each writer (tokens per day, the reasoning
  reserve; a reply cut with nothing parsed grows the budget, splits the chunk, or names
  its one day as not asked for).
- **status**: ``complete`` when every day has a row; else the run ends with ``no_room``
  (every day left cannot be asked for within the model's limits), ``stalled``
  (``max_stalled_rounds`` rounds in a row added no day) or ``spend_cap``; else
  ``running``, another round.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pipeline.config import Settings
from pipeline.generation.outline.stage import outline_call_allowance
from pipeline.generation.state import (
    ROLES,
    MonthState,
    Status,
    missing_copies,
    missing_dates,
    not_asked_entry,
    schedule_of,
)
from pipeline.generation.writing.budget import (
    TokenBudget,
    answer_length_cuts,
    learn_from_round,
    split_days,
)
from pipeline.generation.writing.writer import DayWriter

logger = logging.getLogger("reelcal")


def spend_caps(
    state: MonthState,
    *,
    max_calls: int | None,
    main_budget: TokenBudget,
    outline_first_round: int | None,
    max_days: int | None = None,
) -> dict[str, int]:
    """``{"max_calls", "outline_max_calls"}``, as counts of the run's calls (those made
    before this run or resume included). ``outline_first_round``: the chunks of the
    outline's next round, None when the outline is done or off; ``max_days``: the most
    posts the main writer puts in one call (local models), None for the budget's."""
    if state.get("max_calls") is not None:
        return {
            "max_calls": state["max_calls"],
            "outline_max_calls": state.get("outline_max_calls") or 0,
        }
    made = len(state.get("usage") or [])
    days = len(missing_dates(state))
    writing = main_budget.chunks_needed(days, max_days=max_days) + days
    outlining = outline_first_round is not None
    if state.get("outline_only"):
        total = max_calls or writing
        return {"max_calls": made + total, "outline_max_calls": made + total}
    if max_calls:
        total = max_calls
        share = (
            min(total, outline_call_allowance(total, outline_first_round or 0)) if outlining else 0
        )
    else:
        share = outline_call_allowance(writing, outline_first_round or 0) if outlining else 0
        total = writing + share
    return {"max_calls": made + total, "outline_max_calls": made + share}


def run_status(
    state: MonthState,
    rows: dict[str, Any],
    not_asked: dict[str, Any],
    stalled: int,
    calls: int,
    settings: Settings,
) -> Status:
    """The status after a round: complete; the end of the run (no room for the days left,
    stalled, spend cap); or another round (``running``). Platform copies still missing
    keep a run going, never end it incomplete: with every post written, the end is
    ``complete`` and the calendar's notes name the copies left out."""
    missing = missing_dates(state, rows)
    copies = missing_copies(state, rows, max_reasks=settings.max_reasks)
    if not missing and not copies:
        return "complete"
    if missing and all(d in not_asked for d in missing) and not copies:
        return "no_room"
    end = (
        "stalled"
        if stalled >= settings.max_stalled_rounds
        else "spend_cap"
        if calls >= state["max_calls"]
        else None
    )
    if end and not missing:  # every post is written: the copies left are named in the notes
        return "complete"
    return end or "running"


def learn_round(
    state: MonthState,
    this_round: list[dict[str, Any]],
    *,
    budget_of: Callable[[str], TokenBudget],
    cap_chunks: Callable[[str, int], bool],
    same_model: Callable[[str, str], bool],
    max_reasks: int = 1,
) -> tuple[dict[str, int], dict[str, int], dict[str, Any], list[dict[str, Any]], bool]:
    """Each writer's ``(tokens_per_day, reasoning_reserve)`` after this round's calls
    (learned from every call of its model, ``same_model(role, other_role)``); what to do
    with a day whose one-day reply was cut at the most its call could ask for: asked again
    with why and with more room (a ``rule_breaks`` entry with ``cut``: the request changes,
    never sent unchanged; see :func:`~pipeline.generation.writing.fitting.plan_with_more_room`) up
    to ``max_reasks + 1`` times, then a ``not_asked`` entry (an outline line is given up at
    once); and whether a budget grew or a chunk cap shrank (``cap_chunks(role, days)``)."""
    usage = state.get("usage") or []
    learned, reserves = dict(state["tokens_per_day"]), dict(state["reasoning_reserve"])
    schedule = schedule_of(state)
    no_room: dict[str, Any] = {}
    reasks: list[dict[str, Any]] = []
    changed = False
    for role in {u["role"] for u in this_round}:
        mine = [u for u in this_round if u["role"] == role]
        history = [
            u
            for u in usage
            if u["role"] == role
            or (role in ROLES and u["role"] in ROLES and same_model(role, u["role"]))
        ]
        tokens_per_day, reserve = learn_from_round(history, mine, learned[role], reserves[role])
        if tokens_per_day != learned[role]:
            logger.info("tokens_per_day re-estimated: %d -> %d", learned[role], tokens_per_day)
        answer = answer_length_cuts(
            budget_of(role).with_tokens_per_day(tokens_per_day).with_reasoning_reserve(reserve),
            mine,
        )
        learned[role], reserves[role] = answer.tokens_per_day, answer.reasoning_reserve
        changed |= answer.grew
        for days in answer.split_to:
            changed |= cap_chunks(role, days)
        for day, reason in answer.not_asked.items():
            cut = next(u for u in mine if u["days_requested"] == [day])["max_tokens"]
            times = _cut_reasks(state, day) + 1
            if role != "outline" and times <= max_reasks + 1:
                replies = "the last reply" if times == 1 else f"{times} replies in a row"
                why = (
                    f"{replies} ran past {cut:,} tokens before ending: keep the whole reel "
                    f"under {cut // 2:,} words"
                )
                # "cut": the next ask gets more room (pipeline.generation.writing.fitting)
                reasks.append({"day": day, "reasons": [why], "round": state["round"], "cut": cut})
                continue
            logger.warning("%s is not asked for again: %s", schedule.short_name(day), reason)
            no_room[schedule.key_of(day)] = not_asked_entry(day, reason, state)
    return learned, reserves, no_room, reasks, changed


def learn_from_calls(
    state: MonthState,
    roles: list[str],
    *,
    writer_of: Callable[[str], DayWriter],
    max_reasks: int,
) -> tuple[dict[str, Any], bool, dict[str, Any], list[dict[str, Any]]]:
    """What this round's calls of ``roles`` teach the writers (:func:`learn_round`, and a
    context overflow halves its chunk): the state update (chunk caps, tokens per day,
    reasoning reserves), whether the plan changed (a cap shrank, a budget grew, a day is
    asked again with more room), the days no call can ask for, and the re-asks."""
    round_no = state["round"]
    this_round = [
        u for u in state.get("usage") or [] if u["round"] == round_no and u["role"] in roles
    ]
    max_days = dict(state["max_days"])

    def cap_chunks(role: str, days: int) -> bool:
        """Cap chunk size for ``role`` (and the other writing role when it shares the
        model; outline lines are a tenth of a reel, so the outline's cap is its own)."""
        changed = False
        model = writer_of(role).model
        for other in [role] if role == "outline" else ROLES:
            if writer_of(other).model is model and days < max_days.get(other, 10**6):
                max_days[other] = days
                changed = True
        return changed

    shrunk = False
    for overflow in state.get("overflows") or []:
        if overflow["round"] == round_no and overflow["role"] in roles:
            shrunk |= cap_chunks(overflow["role"], split_days(len(overflow["days"])))
    learned, reserves, no_room, reasks, grew = learn_round(
        state,
        this_round,
        budget_of=lambda role: writer_of(role).budget,
        cap_chunks=cap_chunks,
        same_model=lambda one, other: writer_of(one).model is writer_of(other).model,
        max_reasks=max_reasks,
    )
    update = {"max_days": max_days, "tokens_per_day": learned, "reasoning_reserve": reserves}
    return update, shrunk or grew or bool(reasks), no_room, reasks


def _cut_reasks(state: MonthState, day: int) -> int:
    """How many times ``day`` was asked again after a one-day reply cut at the cap."""
    return sum(1 for e in state.get("rule_breaks") or [] if e["day"] == day and e.get("cut"))
