"""Posting slots: local times (:func:`parse_time`), weekdays (:func:`weekday_key`), IANA
time zones (:func:`read_timezone`) and the slots of a week (:func:`read_slots`: from
``posting_slots``, a cadence with times, or ``posts_per_week``).
"""

from __future__ import annotations

import calendar
import difflib
import re
from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pipeline.errors import ScheduleError

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_WORDS = {name.casefold(): i for i, name in enumerate(calendar.day_name)} | {
    name.casefold(): i for i, name in enumerate(calendar.day_abbr)
}
_TIME = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?")


def parse_time(text: str) -> str:
    """``"18:00"``, ``"6pm"``, ``"9:30 am"``, ``"7"`` -> "HH:MM"; :class:`ScheduleError`
    otherwise."""
    match = _TIME.fullmatch(str(text).strip().casefold())
    hour, minute = (int(match[1]), int(match[2] or 0)) if match else (-1, -1)
    if match and match[3]:
        hour = hour % 12 + (12 if match[3] == "pm" else 0) if 1 <= hour <= 12 else -1
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ScheduleError(f"Cannot read time {text!r}: use 24-hour HH:MM such as '18:00'.")
    return f"{hour:02d}:{minute:02d}"


def weekday_key(text: str) -> str:
    """``"Monday"``, ``"mon"``, ``"MON"`` -> "mon"; :class:`ScheduleError` otherwise."""
    index = _WEEKDAY_WORDS.get(str(text).strip().casefold().rstrip("."))
    if index is None:
        raise ScheduleError(f"Cannot read weekday {text!r}: use mon, tue, wed, thu, fri, sat, sun.")
    return WEEKDAYS[index]


def read_timezone(name: str | None) -> str:
    """A checked IANA zone name ("Europe/Berlin"); "UTC" when none is given."""
    if not name or not str(name).strip():
        return "UTC"
    name = str(name).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ScheduleError(
            f"Unknown time zone {name!r}{hint}: use an IANA name such as 'Europe/Berlin' or "
            "'America/New_York'."
        ) from None
    return name


def read_slots(
    *,
    posting_slots: Mapping[str, Iterable[str] | str] | None = None,
    cadence: Iterable[str] | str | None = None,
    times: Iterable[str] | str | None = None,
    posts_per_week: int | None = None,
    default_time: str = "18:00",
) -> dict[str, list[str]]:
    """Weekday -> sorted local times, from one of three forms (the first given wins):

    - ``posting_slots``: ``{"mon": ["18:00"], "wed": ["12:00", "19:00"]}``;
    - ``cadence`` (weekdays) with ``times`` (each weekday gets every time; default
      ``default_time``): ``cadence="mon,wed,fri", times="18:00"``;
    - ``posts_per_week`` (1-7): that many weekdays spread evenly from Monday
      (3: Mon, Wed, Fri), at ``times`` or ``default_time``.

    With none of them: every day at ``default_time``.
    """
    time_list = _as_list(times) or [default_time]
    clock = sorted({parse_time(t) for t in time_list})
    if posting_slots:
        if not isinstance(posting_slots, Mapping):
            raise ScheduleError(
                "posting_slots must map weekdays to times, e.g. {mon: ['18:00'], wed: ['12:00']}."
            )
        slots: dict[str, set[str]] = {}
        for day, day_times in posting_slots.items():
            found = {parse_time(t) for t in _as_list(day_times)}
            slots.setdefault(weekday_key(day), set()).update(found)
        chosen = {d: sorted(t) for d, t in slots.items() if t}
    elif cadence and _as_list(cadence):
        chosen = {weekday_key(d): clock for d in _as_list(cadence)}
    elif posts_per_week is not None:
        if not 1 <= int(posts_per_week) <= 7:
            raise ScheduleError(
                f"posts_per_week is {posts_per_week}: use 1 to 7 (for more than one post a "
                "day, set posting_slots)."
            )
        count = int(posts_per_week)
        chosen = {WEEKDAYS[i * 7 // count]: clock for i in range(count)}
    else:
        chosen = {day: clock for day in WEEKDAYS}
    if not chosen:
        raise ScheduleError("No posting slot given: name at least one weekday and time.")
    return {day: chosen[day] for day in WEEKDAYS if day in chosen}


def _as_list(value: Iterable[str] | str | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [str(v).strip() for v in value if str(v).strip()]
