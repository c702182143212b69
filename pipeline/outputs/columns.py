"""The column layout every tabular export shares, and how a cell is written as text.

Day, Date, then the :data:`~pipeline.calendar.COLUMN_TITLES` in order; for a calendar
written from an outline its Pillar, Format, Series and Uses; Sources when it records them;
then, appended, Time and Time Zone, and for each platform after the primary one its copy:
"<Name> Caption", "<Name> Hashtags" and, where the platform has titles, "<Name> Title".
The writers (:mod:`.xlsx`, :mod:`.text`), the readers (:mod:`.readers`, :mod:`.rows`)
and the notebook view (:mod:`.display`) all take their columns from here, and the
Markdown and notebook headings the names of the posts still missing.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from pydantic import ValidationError

from pipeline.plans import COLUMN_TITLES, OUTLINE_COLUMN_TITLES, CalendarData, DayPlan
from pipeline.platforms import PLATFORMS

#: (DayPlan field, column title) of the tabular exports, in order: Day, Date, the rest.
TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("day", COLUMN_TITLES["day"]),
    ("date", "Date"),
    *((field, title) for field, title in COLUMN_TITLES.items() if field != "day"),
)

#: (OutlineDay field, column title): after the day's columns when the calendar has an outline.
OUTLINE_COLUMNS: tuple[tuple[str, str], ...] = tuple(OUTLINE_COLUMN_TITLES.items())

#: The column of the examples' source ids, last, when the calendar records them.
SOURCES_COLUMN: tuple[str, str] = ("sources", "Sources")

#: The post's local time and its zone: always there, after every column above.
TIME_COLUMNS: tuple[tuple[str, str], ...] = (("time", "Time"), ("timezone", "Time Zone"))

#: (PlatformCopy field, column title suffix) of a platform's copy, in column order.
COPY_PARTS: tuple[tuple[str, str], ...] = (
    ("caption", "Caption"),
    ("hashtags", "Hashtags"),
    ("title", "Title"),
)


def copy_columns(platform: str) -> tuple[tuple[str, str], ...]:
    """The columns of one platform's copy: ("tiktok.caption", "TikTok Caption"), its
    hashtags, and its title when the platform has titles (YouTube Shorts)."""
    known = PLATFORMS.get(platform)
    name = known.name if known else platform
    parts = COPY_PARTS if known and known.has_title else COPY_PARTS[:2]
    return tuple((f"{platform}.{part}", f"{name} {suffix}") for part, suffix in parts)


TITLE_OF: dict[str, str] = dict(
    (
        *TABLE_COLUMNS,
        *OUTLINE_COLUMNS,
        SOURCES_COLUMN,
        *TIME_COLUMNS,
        *(column for key in PLATFORMS for column in copy_columns(key)),
    )
)


def table_columns(calendar: CalendarData) -> tuple[tuple[str, str], ...]:
    """The columns of ``calendar``'s table: the day's, the outline's if it has one, the
    sources if it records them, Time and Time Zone, and the other platforms' copies."""
    return (
        TABLE_COLUMNS
        + (OUTLINE_COLUMNS if calendar.outline else ())
        + ((SOURCES_COLUMN,) if calendar.sources else ())
        + TIME_COLUMNS
        + tuple(column for key in calendar.platforms[1:] for column in copy_columns(key))
    )


def table_rows(calendar: CalendarData) -> list[tuple[DayPlan, list[Any]]]:
    """Each plan and its cells in :func:`table_columns` order (no line, no copy: blank
    cells; the time is a :class:`datetime.time`, None when the plan has none)."""
    lines = {line.day: line for line in calendar.outline}  # by post number
    rows = []
    for plan in calendar.days:
        cells = row_values(plan)
        if calendar.outline:
            line = lines.get(calendar.post_number(plan) or 0)
            cells += [getattr(line, field) if line else "" for field, _ in OUTLINE_COLUMNS]
        if calendar.sources:
            cells.append("; ".join(calendar.sources.get(calendar.post_number(plan) or 0, [])))
        cells += [clock(plan), calendar.timezone if plan.time else ""]
        for key in calendar.platforms[1:]:
            cells += copy_values(plan, key)
        rows.append((plan, cells))
    return rows


def clock(plan: DayPlan) -> time | None:
    """The plan's local time as a time of day (None for a plan written without one)."""
    return time.fromisoformat(plan.time) if plan.time else None


def copy_values(plan: DayPlan, platform: str) -> list[str]:
    """The cells of ``plan``'s copy for ``platform``, in :func:`copy_columns` order
    (blank when the plan has no copy there)."""
    copy = plan.copies.get(platform)
    cells = {
        "caption": copy.caption if copy else "",
        "hashtags": copy.hashtags_text if copy else "",
        "title": copy.title if copy else "",
    }
    return [cells[field.rsplit(".", 1)[1]] for field, _ in copy_columns(platform)]


def row_values(plan: DayPlan) -> list[Any]:
    """One plan's cells in :data:`TABLE_COLUMNS` order (date as a date, tags as text)."""
    return [plan.hashtags_text if f == "hashtags" else getattr(plan, f) for f, _ in TABLE_COLUMNS]


def cell_text(value: Any) -> str:
    """A cell as text: None is "", 5.0 is "5", dates are ISO, a time is "HH:MM"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, time):
        return f"{value:%H:%M}"
    return str(value)


def missing_names(calendar: CalendarData) -> list[str]:
    """The posts not written yet as headings name them: day numbers ("3") in a month
    with one post a day, local date-times ("2027-03-03 18:00") otherwise."""
    if calendar.plan_schedule.daily_month:
        return [str(day) for day in calendar.missing_days]
    missing = set(calendar.missing_posts)
    posts = calendar.plan_schedule.posts
    return [f"{post.date.isoformat()} {post.time}" for post in posts if post.key in missing]


def first_error(exc: ValidationError) -> str:
    """The first of a pydantic error's problems, as "field: message (and N more)"."""
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    text = first["msg"].removeprefix("Value error, ")
    return f"{where}: {text}{more}" if where else f"{text}{more}"
