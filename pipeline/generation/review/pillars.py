"""The month's content pillars: which names an outline line may use, and how many days
each gets.

With ``content_pillars`` set, the outline's schema makes a line's pillar one of them (the
same enum in every chunk's tool, so prompt caching still applies), and its first review
re-plans the days of a pillar over its share: each pillar's share of the days is
``pillar_mix`` (pillars it leaves out split what remains) or an equal one; a pillar on
more than ``ceil(share * days) + PILLAR_SLACK`` days has its latest new lines dropped down
to ``ceil(share * days)`` and planned again with the pillar furthest under its share named
in why. Without ``content_pillars`` the outline call picks the pillars and nothing is
counted. After the last round, a pillar still off its share is named in the calendar's
notes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from pipeline.generation.review.rules import normalized

#: Days a pillar may be over its share before its latest lines are planned again.
PILLAR_SLACK = 1


def pillar_shares(pillars: Sequence[str], mix: dict[str, float] | None) -> dict[str, float]:
    """Each pillar's share of the days (they add up to 1): ``mix`` as given, the pillars
    it leaves out splitting what remains of 1 (an equal share each without a mix)."""
    mix = {p: s for p, s in (mix or {}).items() if p in pillars}
    rest = [p for p in pillars if p not in mix]
    left = max(0.0, 1.0 - sum(mix.values())) if mix else 1.0
    weights = {**mix, **{p: left / len(rest) for p in rest}} if rest else dict(mix)
    total = sum(weights.values()) or 1.0
    return {p: weights.get(p, 0.0) / total for p in pillars}


def over_share(
    lines: dict[str, dict[str, Any]],
    new: Iterable[str],
    pillars: Sequence[str],
    mix: dict[str, float] | None,
    days: int,
    *,
    fixed: Iterable[str] = (),
) -> dict[str, str]:
    """Post key -> why, for the new lines (dates in ``new``, latest first) to plan again:
    a pillar that is not one of ``pillars``, or a pillar over its share of ``days`` by
    more than :data:`PILLAR_SLACK`. ``lines`` are every line kept so far (new ones too);
    dates in ``fixed`` are never named."""
    names = _names(pillars)
    target = {p: math.ceil(share * days) for p, share in pillar_shares(pillars, mix).items()}
    count = _counts(lines.values(), pillars)
    movable = [d for d in sorted(new, reverse=True) if d in lines and d not in set(fixed)]
    why: dict[str, str] = {}
    for date in movable:
        if names.get(normalized(lines[date]["pillar"])) is None:
            why[date] = f"pillar {lines[date]['pillar']!r} is not one of {_listed(pillars)}"
    for pillar in pillars:
        if count[pillar] <= target[pillar] + PILLAR_SLACK:
            continue
        mine = [d for d in movable if d not in why and _is(lines[d], pillar, names)]
        for date in mine[: count[pillar] - target[pillar]]:
            under = max(pillars, key=lambda p: target[p] - count[p])
            why[date] = (
                f"pillar {pillar!r} is on {count[pillar]} days, its share is about "
                f"{target[pillar]}: plan this day for {under!r}"
            )
            count[pillar] -= 1
            count[under] += 1  # the day it will be planned for
    return why


def pillar_notes(
    lines: Iterable[dict[str, Any]], pillars: Sequence[str], mix: dict[str, float] | None, days: int
) -> list[str]:
    """Notes for the pillars the outline ends with off their share by more than
    :data:`PILLAR_SLACK` days (none without ``content_pillars``)."""
    count = _counts(lines, pillars)
    notes = []
    for pillar, share in pillar_shares(pillars, mix).items():
        target = math.ceil(share * days)
        if abs(count[pillar] - target) > PILLAR_SLACK:
            notes.append(
                f"The outline puts the pillar {pillar!r} on {count[pillar]} days "
                f"(its share is about {target})."
            )
    return notes


def spelled(lines: dict[str, dict[str, Any]], pillars: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The lines whose pillar names one of ``pillars`` in another case or spacing, with
    the settings' spelling."""
    names = _names(pillars)
    return {
        date: {**line, "pillar": names[key]}
        for date, line in lines.items()
        if (key := normalized(line["pillar"])) in names and line["pillar"] != names[key]
    }


def _names(pillars: Sequence[str]) -> dict[str, str]:
    """Each pillar by its normalized name (case, punctuation and spacing ignored)."""
    return {normalized(p): p for p in pillars}


def _counts(lines: Iterable[dict[str, Any]], pillars: Sequence[str]) -> dict[str, int]:
    """Days per pillar (lines naming no pillar are not counted)."""
    names = _names(pillars)
    count = dict.fromkeys(pillars, 0)
    for line in lines:
        if (name := names.get(normalized(line["pillar"]))) is not None:
            count[name] += 1
    return count


def _is(line: dict[str, Any], pillar: str, names: dict[str, str]) -> bool:
    return names.get(normalized(line["pillar"])) == pillar


def _listed(pillars: Sequence[str]) -> str:
    return ", ".join(repr(p) for p in pillars)
