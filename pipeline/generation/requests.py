"""What a request may hold, checked once for every entry point: its span, posting slots,
time zone and platforms (:func:`read_schedule`, :func:`span_request`), trends and niche
(:func:`check_request_text`), and the posts asked for (:func:`read_request`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pipeline.config import Settings
from pipeline.dates import MonthSpec
from pipeline.errors import ConfigError, InvalidDaysError, InvalidRequestError
from pipeline.platforms import PLATFORMS, read_platforms
from pipeline.schedule import Schedule, read_slots, read_span

#: Trends and the niche are short phrases put into every prompt (as data, in a list).
MAX_TREND_CHARS = 200
MAX_TRENDS = 20
MAX_NICHE_CHARS = 500


def check_request_text(trends: list[str], niche: str | None) -> None:
    """Reject trends and niche text that are not short phrases, naming which."""
    if len(trends) > MAX_TRENDS:
        raise InvalidRequestError(
            f"{len(trends)} trends given: use at most {MAX_TRENDS} (the strongest ones)."
        )
    for trend in trends:
        if len(trend) > MAX_TREND_CHARS:
            raise InvalidRequestError(
                f"Trend {trend[:40]!r}... is {len(trend):,} characters: a trend is a short "
                f"phrase of at most {MAX_TREND_CHARS} characters."
            )
    if niche and len(niche) > MAX_NICHE_CHARS:
        raise InvalidRequestError(
            f"The niche {niche[:40]!r}... is {len(niche):,} characters: describe it in at most "
            f"{MAX_NICHE_CHARS}."
        )


#: The request keys that say when posts go out (any may be given; see :func:`read_schedule`).
SPAN_KEYS = ("month", "week", "start", "end")
SLOT_KEYS = ("posting_slots", "cadence", "posts_per_week")


def read_schedule(data: dict[str, Any], settings: Settings | None = None) -> Schedule:
    """The request's :class:`~pipeline.schedule.Schedule`: a ``schedule`` given whole
    (JSON), else its span (``month``, ``week``, or ``start`` and ``end``), its slots (the
    request's ``posting_slots``, ``cadence`` or ``posts_per_week``, else the settings'; at
    ``times`` or the primary platform's default time) and ``timezone`` (else the
    settings')."""
    if data.get("schedule"):
        return Schedule.model_validate(data["schedule"])
    settings = settings or Settings.model_construct()
    span = read_span(**{k: data.get(k) for k in SPAN_KEYS})
    primary = PLATFORMS[read_request_platforms(data, settings)[0]]
    given = {k: data[k] for k in SLOT_KEYS if data.get(k)}
    if not given and data.get("times") and settings.posting_slots:
        given = {"cadence": list(settings.posting_slots)}  # the settings' weekdays, at times
    elif not given:
        given = {"posting_slots": settings.posting_slots, "posts_per_week": settings.posts_per_week}
    slots = read_slots(**given, times=data.get("times"), default_time=primary.default_time)
    zone = data.get("timezone") or settings.timezone
    schedule = Schedule.build(span=span, slots=slots, timezone=zone)
    return schedule


def span_request(
    month: str | MonthSpec | dt.date | None = None,
    *,
    span: Schedule | None = None,
    week: str | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    posting_slots: dict[str, list[str]] | None = None,
    cadence: Sequence[str] | str | None = None,
    times: Sequence[str] | str | None = None,
    posts_per_week: int | None = None,
    timezone: str | None = None,
    platforms: Sequence[str] | str | None = None,
) -> dict[str, Any]:
    """The request keys that say when and where posts go (see
    :func:`~pipeline.generation.requests.read_schedule`), without the ones not given."""
    given = {
        "month": month,
        "schedule": span.model_dump(mode="json") if span is not None else None,
        "week": week,
        "start": start,
        "end": end,
        "posting_slots": posting_slots,
        "cadence": cadence,
        "times": times,
        "posts_per_week": posts_per_week,
        "timezone": timezone,
        "platforms": platforms,
    }
    return {k: v for k, v in given.items() if v is not None}


def read_request_platforms(data: dict[str, Any], settings: Settings) -> list[str]:
    """The request's platform keys (primary first): its ``platforms``, else the settings',
    else the one that ``platform`` names (Instagram when it names none of the table's)."""
    if data.get("platforms") or settings.platforms:
        return read_platforms(data.get("platforms") or settings.platforms)
    try:
        return read_platforms([data.get("platform") or settings.platform])
    except ConfigError:  # a free platform name, such as "LinkedIn video": prompts say it
        return read_platforms(None)


def read_request(data: dict[str, Any], settings: Settings | None = None) -> dict[str, Any]:
    """A request as the month graph reads it, checked: its ``schedule`` (JSON, from the
    span, slot and zone keys: :func:`read_schedule`), ``month`` (the month the span
    starts in, "YYYY-MM"), ``platforms``, ``trends`` a list of stripped, non-empty short
    phrases, ``niche`` short, ``days`` (when given) sorted post numbers of the schedule
    (a daily month: days of the month), also given as ``posts`` (keys such as
    "2027-03-03T18:00", or dates). The public entry points (the chain,
    ``generate_calendar``, the CLI) and the graph's ``prepare`` all read a request
    through it. Raises a ReelcalError subclass naming the fix."""
    if not isinstance(data, dict) or not any(data.get(k) for k in (*SPAN_KEYS, "schedule")):
        raise InvalidRequestError(
            "A request needs a span: a 'month' (e.g. {'month': '2026-03'}), a 'week' "
            "('2027-W10'), or 'start' and 'end' dates."
        )
    settings = settings or Settings.model_construct()
    schedule = read_schedule(data, settings)
    trends = data.get("trends") or []
    trends = [str(t).strip() for t in ([trends] if isinstance(trends, str) else trends)]
    trends = [t for t in trends if t]
    check_request_text(trends, data.get("niche"))
    days = set(data.get("days") or [])
    days |= {schedule.post_of(key).number for key in data.get("posts") or []}
    bad = sorted(d for d in days if not 1 <= d <= schedule.count)
    if bad:
        noun = "Days" if schedule.daily_month else "Posts"
        raise InvalidDaysError(
            f"{noun} {bad} are not in {schedule.name}: use 1 to {schedule.count}."
        )
    return {
        **{
            k: v for k, v in data.items() if k not in (*SPAN_KEYS[1:], *SLOT_KEYS, "times", "posts")
        },
        "schedule": schedule.model_dump(mode="json"),
        "month": schedule.month.key,
        "platforms": read_request_platforms(data, settings),
        "trends": trends,
        "days": sorted(days) or None,
    }
