"""What the engine keeps of a round's rows: the content rules of each call, then the
titles of the whole round.

A ``write`` task checks its own rows against the content rules
(:class:`~pipeline.generation.review.rules.ContentRules`) and the titles already taken
(:func:`rows_written`). Chunks of one round are written at the same time and cannot see
each other's titles, so the ``review`` node then reviews the titles new since the last review
against every title kept before, by meaning (:func:`review_row_titles`, with
:class:`~pipeline.generation.review.titles.TitleGuard`): a later day whose title repeats an
earlier one is dropped and asked again with why (``strict``), or kept and flagged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pipeline.generation.review.copies import copy_breaks
from pipeline.generation.review.rules import ContentRules, soft_score
from pipeline.generation.review.titles import TitleGuard
from pipeline.generation.state import Candidate, ChunkTask, missing_dates, row_key, schedule_of
from pipeline.platforms import hashtag_cap

logger = logging.getLogger("reelcal")


def rows_written(
    result: Any,
    task: ChunkTask,
    rules: ContentRules,
    day_examples: str = "",
    day_sources: Sequence[str] = (),
    copies_asked: Sequence[str] = (),
    *,
    grounded: bool = True,
) -> dict[str, Any]:
    """The state update of a writing call: the rows the content rules keep (with the
    source ids of the examples the call was given: the shared ones, then its own
    ``day_sources``; none when the call was not ``grounded``: prose questions carry no
    examples), its usage record (with the breaks) and the days not kept, with why.
    A kept row keeps the platform copies (of ``copies_asked``) within their platform's
    limits; the others are recorded in ``copy_breaks`` and asked again on their own."""
    schedule = schedule_of(task["context"])
    plans = [rules.trimmed(plan) for plan in result.plans]
    kept, dropped, breaks, soft = rules.review(
        plans,
        taken_titles=task.get("taken_titles") or [],
        examples="\n".join(filter(None, [task["context"].get("examples"), day_examples])),
        numbers=[schedule.number_of(plan.key) for plan in plans],
    )
    usage = result.usage.model_copy(update={"rule_breaks": breaks})
    logger.info(usage.summary(schedule.short_label, schedule.noun))
    given = (*(task["context"].get("sources") or []), *day_sources) if grounded else ()
    sources = [i for i in given if i]
    kept, copy_entries = _checked_copies(kept, copies_asked, schedule, task["round"])
    update: dict[str, Any] = {
        "rows": {plan.key: plan.model_dump(mode="json") for plan in kept},
        "copy_breaks": copy_entries,
        "sources": {plan.key: sources for plan in kept},
        "usage": [usage.model_dump(mode="json")],
        "rule_breaks": [
            {"day": day, "reasons": reasons, "round": task["round"]}
            for day, reasons in sorted(dropped.items())
        ],
    }
    if soft:
        update["candidates"] = {
            plan.key: candidate(
                plan.model_dump(mode="json"),
                dropped[schedule.number_of(plan.key)],
                sources,
                soft_score(found),
            )
            for plan, found in soft
        }

    return update


def _checked_copies(
    plans: list[Any], asked: Sequence[str], schedule: Any, round_no: int
) -> tuple[list[Any], list[dict[str, Any]]]:
    """The plans with only their copies within limits, and a ``copy_breaks`` entry per
    copy asked for and not kept."""
    if not asked:
        return plans, []
    checked, entries = [], []
    for plan in plans:
        broken = copy_breaks(plan.copies, asked)
        number = schedule.number_of(plan.key)
        entries += [
            {"day": number, "platform": key, "reasons": why, "round": round_no}
            for key, why in broken.items()
        ]
        good = {k: c for k, c in plan.copies.items() if k not in broken}
        checked.append(plan.model_copy(update={"copies": good}))
    return checked, entries


def copies_written(result: Any, task: ChunkTask) -> dict[str, Any]:
    """The state update of a copies call: the copies within their platform's limits
    (``copies``), the others with why (``copy_breaks``), and its usage record."""
    schedule = schedule_of(task["context"])
    wanted = {int(n): keys for n, keys in (task.get("wanted") or {}).items()}
    written = {  # extra hashtags dropped, as a post's own are (ContentRules.trimmed)
        item["day"]: {
            k: c.model_copy(update={"hashtags": c.hashtags[: hashtag_cap(k)]})
            for k, c in item["copies"].items()
        }
        for item in result.plans
    }
    copies: dict[str, dict[str, Any]] = {}
    entries = []
    cut = result.usage.finish_reason == "length"
    for number, keys in wanted.items():
        got = written.get(number, {})
        # a reply cut short is the budget's fault, not the copy's: asked again with more room
        broken = copy_breaks(got, [k for k in keys if k in got] if cut else keys)
        key = schedule.key_of(number)
        good = {
            k: c.model_dump(mode="json") for k, c in got.items() if k in keys and k not in broken
        }
        if good:
            copies[key] = good
        entries += [
            {"day": number, "platform": k, "reasons": why, "round": task["round"]}
            for k, why in broken.items()
        ]
    usage = result.usage.model_copy(update={"days_parsed": len(copies)})
    logger.info(usage.summary(schedule.short_label, schedule.noun))
    return {"copies": copies, "copy_breaks": entries, "usage": [usage.model_dump(mode="json")]}


def copies_failed(failed: dict[str, Any], task: ChunkTask) -> dict[str, Any]:
    """The update of a copies call that failed (its usage record): each copy it asked for
    counts one try (``copy_breaks``), so that failing calls end in notes, not a loop."""
    if not failed.get("usage"):  # not sent (the run is shutting down)
        return failed
    error = failed["usage"][0].get("error") or "the call failed"
    entries = [
        {
            "day": int(n),
            "platform": k,
            "reasons": [f"the call failed: {error[:120]}"],
            "round": task["round"],
        }
        for n, keys in (task.get("wanted") or {}).items()
        for k in keys
    ]
    return {**failed, "copy_breaks": entries}


def candidate(
    row: dict[str, Any], reasons: list[str], sources: Sequence[str], score: list[float]
) -> Candidate:
    """A ``candidates`` entry: a dropped row that broke only soft rules, why, and how badly
    (:func:`~pipeline.generation.review.rules.soft_score`)."""
    return {"row": row, "reasons": list(reasons), "sources": list(sources), "score": score}


def keep_stalled_days(
    state: dict[str, Any],
    review: dict[str, Any],
    rows: dict[str, Any],
    *,
    max_reasks: int | None = None,
    days: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Complete first, then flagged: the state update that keeps, flagged, the best row
    that broke only soft rules (``candidates``) of each day still missing whose re-asks
    stalled: dropped more than ``max_reasks`` times; or of each of ``days`` (post keys:
    the run is about to end). ``review`` is this round's title review (its drops count,
    and a row it drops is kept as it is). Hard breaks never make a candidate."""
    schedule = schedule_of(state)
    candidates = {**(state.get("candidates") or {})}
    for d, found in (review.get("candidates") or {}).items():
        candidates[d] = found  # the row the review just dropped is the one still in rows
    if days is None:
        drops: dict[int, int] = {}
        for entry in [*(state.get("rule_breaks") or []), *(review.get("rule_breaks") or [])]:
            if not entry.get("kept"):
                drops[entry["day"]] = drops.get(entry["day"], 0) + 1
        limit = 1 + (max_reasks or 0)
        days = [
            d for d in missing_dates(state, rows) if drops.get(schedule.number_of(d), 0) >= limit
        ]
        why = f"its re-asks stalled ({limit} rows broke rules)"
    else:
        why = "the run ended before a row kept every rule"
    chosen = [d for d in days if d not in rows and d in candidates]
    if not chosen:
        return {}
    for d in chosen:
        logger.info("%s kept with soft rule breaks: %s", d, "; ".join(candidates[d]["reasons"]))
    return {
        "rows": {d: candidates[d]["row"] for d in chosen},
        "sources": {d: candidates[d]["sources"] for d in chosen},
        "candidates": {d: None for d in chosen},
        "rows_checked": sorted({*(review.get("rows_checked") or []), *chosen}),
        "rule_breaks": [
            {
                "day": schedule.number_of(d),
                "reasons": candidates[d]["reasons"],
                "round": state["round"],
                "kept": True,
                "why_kept": why,
            }
            for d in chosen
        ],
    }


#: State keys whose updates are maps (merged key by key) and lists (appended).
_MAP_KEYS = ("rows", "sources", "candidates")
_LIST_KEYS = ("rule_breaks",)


def merge_updates(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two state updates of one node as one: maps merged (``second`` wins), lists
    appended, ``rows_checked`` united, anything else from ``second``."""
    merged = {**first, **second}
    for key in _MAP_KEYS:
        if key in first and key in second:
            merged[key] = {**first[key], **second[key]}
    for key in _LIST_KEYS:
        if key in first and key in second:
            merged[key] = [*first[key], *second[key]]
    if "rows_checked" in first and "rows_checked" in second:
        merged["rows_checked"] = sorted({*first["rows_checked"], *second["rows_checked"]})
    return merged


def review_row_titles(state: dict[str, Any], titles: TitleGuard, *, strict: bool) -> dict[str, Any]:
    """The rows new since the last review (``rows_checked``), in day order, against the
    titles kept before them: the kept calendar's days not being rewritten, then the rows
    reviewed already. A repeat is dropped (``None`` removes a row) and recorded in
    ``rule_breaks`` so that its day is asked again with why; with ``strict`` off it is
    kept and recorded as ``kept`` (a flag in the calendar's notes)."""
    rows = state.get("rows") or {}
    checked = [d for d in state.get("rows_checked") or [] if d in rows]
    new = sorted(d for d in rows if d not in set(checked))
    if not new:
        return {}
    rewriting, schedule = set(state["dates"]), schedule_of(state)
    kept_rows = sorted(
        (r for r in state.get("kept") or [] if row_key(r) not in rewriting), key=row_key
    )
    taken = [r["title"] for r in kept_rows] + [rows[d]["title"] for d in sorted(checked)]
    repeats = {
        new[i]: match
        for i, match in titles.repeats([rows[d]["title"] for d in new], taken=taken).items()
    }
    breaks = [
        {
            "day": schedule.number_of(d),
            "reasons": [f"title {rows[d]['title']!r} repeats {match!r}: pick a new idea"],
            "round": state["round"],
            **({} if strict else {"kept": True}),
        }
        for d, match in repeats.items()
    ]
    for entry in breaks:
        logger.info("%s: %s", schedule.short_name(entry["day"]), entry["reasons"][0])
    dropped = set(repeats) if strict else set()
    sources = state.get("sources") or {}
    return {
        "rows": {d: None for d in dropped},
        "sources": {d: None for d in dropped},
        "rows_checked": sorted({*checked, *(d for d in new if d not in dropped)}),
        "rule_breaks": breaks,
        # a repeated title is a soft break: the row stays a candidate for its day
        "candidates": {
            d: candidate(
                rows[d],
                [f"title {rows[d]['title']!r} repeats {repeats[d]!r}"],
                sources.get(d) or [],
                [1, 0.0],
            )
            for d in dropped
        },
    }
