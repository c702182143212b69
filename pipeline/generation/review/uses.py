"""What each outline day builds on (its ``uses``): a special date on its own day, each
trend on at least ``floor(days / (2 * trends))`` days.

The outline's prompt asks for both (:func:`trend_days_rule`); when the outline is done
they are enforced on its lines, before any day is written, so each write chunk is told
what its days build on: :func:`place_special_dates` puts each special date on its own day
(and takes it off any other), then :func:`balance_trends` gives a trend used too little
the days that build on nothing, spread over the month, then days of a trend used more
than its share. :func:`trend_notes` names a trend still short (too few free days) in the
calendar's notes.

No model call: changing what a line uses costs nothing, and the day's reel is written
from the line. Lines the user gave are never changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pipeline.calendar import OutlineDay, days_label
from pipeline.generation.review.rules import normalized


def in_their_lists(
    lines: dict[str, dict[str, Any]],
    *,
    formats: Sequence[str],
    uses: Sequence[str],
    pillars: Sequence[str] = (),
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Outline lines whose ``format``, ``uses`` or ``pillar`` is not one of its list (the
    formats, the trends and special dates, ``content_pillars``): hosted tool calls do not
    enforce a schema's enums. A value
    that is an entry in another case or spacing takes the entry's spelling; anything else
    is dropped to empty (a day that uses no trend can then be given one). Returns the lines
    changed and ``"uses 'x'"`` for each value dropped. An empty list checks nothing."""
    changed: dict[str, dict[str, Any]] = {}
    dropped: list[str] = []
    for field, allowed in (("format", formats), ("uses", uses), ("pillar", pillars)):
        names = {normalized(v): v for v in allowed}
        for date, line in sorted(lines.items()):
            value = (changed.get(date) or line).get(field) or ""
            if not names or not value or value in allowed:
                continue
            spelled = names.get(normalized(value), "")
            changed[date] = {**(changed.get(date) or line), field: spelled}
            if not spelled:
                dropped.append(f"{field} {value!r}")
    return changed, dropped


def least_trend_days(days: int, trends: int) -> int:
    """The days each trend should be used on: ``days // (2 * trends)`` (0 without trends)."""
    return days // (2 * trends) if trends else 0


def trend_days_rule(days: int, trends: int) -> str:
    """How often each trend is used, as the outline prompt says it (for ``days``)."""
    least = least_trend_days(days, trends)
    if least < 1:
        return "use each trend at least once if the days allow"
    return f"use each trend on at least {least} of these days"


def place_special_dates(
    lines: dict[str, dict[str, Any]],
    special: dict[str, list[str]],
    *,
    fixed: Iterable[str] = (),
) -> dict[str, dict[str, Any]]:
    """Outline lines (post key -> OutlineDay JSON) changed so that a special date's post
    uses it (``special``: post key -> the names of its special dates; a day already using
    one of its own keeps it) and no other day uses it. Days in ``fixed`` stay."""
    names = {normalized(n): date for date, found in special.items() for n in found}
    changed: dict[str, dict[str, Any]] = {}
    for date, line in sorted(lines.items()):
        if date in fixed:
            continue
        uses = normalized(line["uses"])
        if date in special and names.get(uses) != date:
            changed[date] = {**line, "uses": special[date][0]}
        elif date not in special and uses in names:
            changed[date] = {**line, "uses": ""}
    return changed


def balance_trends(
    lines: dict[str, dict[str, Any]],
    trends: Sequence[str],
    dates: Sequence[str],
    *,
    fixed: Iterable[str] = (),
    label: Callable[[Sequence[int]], str] = days_label,
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Outline lines (post key -> OutlineDay JSON) changed so that each trend is used on at
    least :func:`least_trend_days` of ``dates`` (post keys), and a note per trend moved
    (``label`` names the posts given a trend).

    A trend short of its floor takes days whose line uses nothing, evenly spaced over the
    month, then days of a trend used more than the floor (its latest days). Days in
    ``fixed`` (special dates, lines the user gave) are never changed.
    """
    least = least_trend_days(len(dates), len(trends))
    if least < 1:
        return {}, []
    keys = list(dict.fromkeys(normalized(t) for t in trends))
    uses = {d: normalized(lines[d]["uses"]) for d in dates if d in lines}
    frozen = set(fixed)
    changed: dict[str, dict[str, Any]] = {}
    notes = []
    for trend in trends:
        key = normalized(trend)
        short = least - sum(u == key for u in uses.values())
        if short <= 0:
            continue
        free = [d for d, u in sorted(uses.items()) if not u and d not in frozen]
        taken = _evenly_spaced(free, short)
        for other in keys:
            surplus = sum(u == other for u in uses.values()) - least
            if other == key or surplus <= 0 or len(taken) >= short:
                continue
            theirs = [d for d, u in sorted(uses.items()) if u == other and d not in frozen]
            taken += theirs[::-1][: min(surplus, short - len(taken))]
        for d in sorted(taken):
            uses[d] = key
            changed[d] = {**lines[d], "uses": trend}
        if taken:
            days = label([lines[d]["day"] for d in taken])
            notes.append(f"The trend {trend!r} was given to {days} (at least {least} asked for).")
    return changed, notes


def _evenly_spaced(days: list[str], count: int) -> list[str]:
    if count >= len(days):
        return list(days)
    step = len(days) / count
    return [days[int(i * step + step / 2)] for i in range(count)]


def trend_notes(lines: Sequence[OutlineDay], trends: Sequence[str], days: int) -> list[str]:
    """Calendar notes for the trends the outline uses on fewer than
    :func:`least_trend_days` days (too few days were free to move them to); none without
    an outline."""
    least = least_trend_days(days, len(trends)) if lines else 0
    uses = [normalized(line.uses) for line in lines]
    notes = []
    for trend in trends:
        count = uses.count(normalized(trend))
        if count < least:
            notes.append(
                f"The outline uses the trend {trend!r} on {count} day{'s' * (count != 1)} "
                f"(asked for at least {least})."
            )
    return notes
