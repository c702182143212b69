"""What the engine keeps of a round's rows: the content rules of each call, then the
titles of the whole round.

A ``write`` task checks its own rows against the content rules
(:class:`~pipeline.generation.rules.ContentRules`) and the titles already taken
(:func:`rows_written`). Chunks of one round are written at the same time and cannot see
each other's titles, so ``merge`` then reviews the titles new since the last review
against every title kept before, by meaning (:func:`review_row_titles`, with
:class:`~pipeline.generation.titles.TitleGuard`): a later day whose title repeats an
earlier one is dropped and asked again with why (``strict``), or kept and flagged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from pipeline.generation.rules import ContentRules
from pipeline.generation.state import ChunkTask
from pipeline.generation.titles import TitleGuard

logger = logging.getLogger("reelcal")


def rows_written(
    result: Any,
    task: ChunkTask,
    rules: ContentRules,
    day_examples: str = "",
    day_sources: Sequence[str] = (),
) -> dict[str, Any]:
    """The state update of a writing call: the rows the content rules keep (with the
    source ids of the examples the call was given: the shared ones, then its own
    ``day_sources``), its usage record (with the breaks) and the days not kept, with why."""
    kept, dropped, breaks = rules.review(
        result.plans,
        taken_titles=task.get("taken_titles") or [],
        examples="\n".join(filter(None, [task["context"].get("examples"), day_examples])),
    )
    usage = result.usage.model_copy(update={"rule_breaks": breaks})
    logger.info(usage.summary())
    sources = [*(task["context"].get("sources") or []), *day_sources]
    return {
        "rows": {plan.date.isoformat(): plan.model_dump(mode="json") for plan in kept},
        "sources": {plan.date.isoformat(): sources for plan in kept},
        "usage": [usage.model_dump(mode="json")],
        "rule_breaks": [
            {"day": day, "reasons": reasons, "round": task["round"]}
            for day, reasons in sorted(dropped.items())
        ],
    }


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
    rewriting = set(state["dates"])
    kept_rows = sorted(
        (r for r in state.get("kept") or [] if r["date"] not in rewriting), key=lambda r: r["date"]
    )
    taken = [r["title"] for r in kept_rows] + [rows[d]["title"] for d in sorted(checked)]
    repeats = {
        new[i]: match
        for i, match in titles.repeats([rows[d]["title"] for d in new], taken=taken).items()
    }
    breaks = [
        {
            "day": dt.date.fromisoformat(d).day,
            "reasons": [f"title {rows[d]['title']!r} repeats {match!r}: pick a new idea"],
            "round": state["round"],
            **({} if strict else {"kept": True}),
        }
        for d, match in repeats.items()
    ]
    for entry in breaks:
        logger.info("Day %d: %s", entry["day"], entry["reasons"][0])
    dropped = set(repeats) if strict else set()
    return {
        "rows": {d: None for d in dropped},
        "sources": {d: None for d in dropped},
        "rows_checked": sorted({*checked, *(d for d in new if d not in dropped)}),
        "rule_breaks": breaks,
    }
