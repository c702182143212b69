"""Reading a calendar table's rows back (.csv, or the .xlsx calendar sheet): the plans,
the outline and sources their columns hold, and the platforms and schedule they imply.

Columns are found by their titles (:mod:`.columns`), in any order; blank rows are
skipped. Cells a spreadsheet rewrote still read: a date cell that lost its format, "Day 5"
in the Day column, and in the Time column "18:00:00", "6:00 PM", a time cell, or a day
fraction such as 0.75 (all "HH:MM"). A platform has copies when its "<Name> Caption"
column is there.

A table does not record its span, its platforms' order or its schedule, so they are
implied (see :func:`implied_platforms` and :func:`implied_schedule`). Every problem is a
one-line :class:`~pipeline.errors.CalendarFileError` naming the file, row and column.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pipeline.errors import CalendarFileError
from pipeline.outputs.columns import (
    OUTLINE_COLUMNS,
    SOURCES_COLUMN,
    TABLE_COLUMNS,
    TIME_COLUMNS,
    TITLE_OF,
    cell_text,
    copy_columns,
    first_error,
)
from pipeline.plans import DayPlan, OutlineDay, PlatformCopy
from pipeline.platforms import DEFAULT_PLATFORM, PLATFORMS
from pipeline.schedule import WEEKDAYS, Schedule, Span, parse_time, read_timezone, wall_time

_SECONDS = re.compile(r"^(\d{1,2}:\d{2}):\d{2}(?:\.\d+)?")


@dataclass(frozen=True)
class TableRows:
    """What a table's rows hold: its plans, outline and sources, the platforms its copy
    columns imply (primary first), and the zone of its Time Zone column ("" if none)."""

    plans: list[DayPlan]
    outline: list[OutlineDay]  # numbered by day of the month until :meth:`numbered`
    sources: dict[str, list[str]]  # post key -> source ids
    platforms: list[str]
    timezone: str
    outline_keys: list[str] = field(default_factory=list)  # the post key of each line

    def numbered(self, schedule: Schedule | None) -> tuple[list[OutlineDay], dict[int, list[str]]]:
        """The outline and sources keyed by post number in ``schedule`` (None: a month
        written before schedules, numbered by day)."""

        def number(key: str) -> int | None:
            if schedule is None:
                return date.fromisoformat(key[:10]).day
            post = schedule.find(key)
            return post.number if post else None

        outline = [
            line.model_copy(update={"day": n})
            for line, key in zip(self.outline, self.outline_keys)
            if (n := number(key)) is not None
        ]
        sources = {n: ids for key, ids in self.sources.items() if (n := number(key)) is not None}
        return outline, sources

    @property
    def timed(self) -> bool:
        """The rows have times: a calendar with a schedule (else a month written before)."""
        return any(plan.time for plan in self.plans)


@dataclass(frozen=True)
class _Layout:
    """Where each column is: field -> position in the row."""

    table: dict[str, int]
    outline: dict[str, int]
    sources: int | None
    time: int | None
    zone: int | None
    copies: dict[str, dict[str, int]]  # platform -> copy field -> position


def read_rows(
    source: Path, header: Sequence[Any], rows: Iterable[tuple[int, Sequence[Any]]]
) -> TableRows:
    """The plans and the rest from ``rows`` (numbered as the file numbers them)."""
    layout = _layout(source, header)
    plans, outline, outline_keys, sources = [], [], [], {}
    zones: dict[str, int] = {}
    untimed: int | None = None
    for number, row in rows:
        cells = {f: _cell(row, i) for f, i in layout.table.items()}
        if all(cell_text(value).strip() == "" for value in cells.values()):
            continue
        plan = _plan_from_row(source, number, row, layout)
        plans.append(plan)
        untimed = untimed or (None if plan.time else number)
        zone = cell_text(_cell(row, layout.zone)).strip()
        if zone:
            zones.setdefault(zone, number)
        ids = [i.strip() for i in cell_text(_cell(row, layout.sources)).split(";") if i.strip()]
        if ids:
            sources[plan.key] = ids
        line = {f: cell_text(_cell(row, i)).strip() for f, i in layout.outline.items()}
        if line.get("pillar") and line.get("format"):
            outline.append(_outline_line(source, number, plan, line))
            outline_keys.append(plan.key)
    if untimed and any(plan.time for plan in plans):
        raise CalendarFileError(
            f"{source}, row {untimed}: Time is empty; fill in the post's time (HH:MM) as the "
            "other rows have"
        )
    return TableRows(
        plans=plans,
        outline=outline,
        sources=sources,
        platforms=implied_platforms(source, list(layout.copies)),
        timezone=_one_zone(source, zones),
        outline_keys=outline_keys,
    )


def implied_platforms(source: Path, copy_keys: list[str]) -> list[str]:
    """The platforms of a table with copy columns for ``copy_keys``: a table does not
    name its primary platform, so it is Instagram unless Instagram has copy columns of its
    own, else the first platform of :data:`PLATFORMS` without them."""
    primary = next((k for k in (DEFAULT_PLATFORM, *PLATFORMS) if k not in copy_keys), None)
    if primary is None:
        raise CalendarFileError(
            f"{source} has copy columns for every platform: delete the primary platform's "
            "(its copy is the Instagram Caption and Hashtags columns)"
        )
    return [primary, *copy_keys]


def implied_schedule(source: Path, table: TableRows) -> Schedule:
    """The schedule of timed rows: a month when they run from the 1st to the last day of
    one month, else a range from the first post's date to the last; each weekday's slots
    are the times its rows have; the zone is the Time Zone column's ("UTC" if blank)."""
    dates = sorted(plan.date for plan in table.plans)
    first, last = dates[0], dates[-1]
    month_end = date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])
    kind = "month" if first.day == 1 and last == month_end else "range"
    zone = read_timezone(table.timezone or "UTC")
    slots: dict[str, set[str]] = {}
    for plan in table.plans:
        slots.setdefault(WEEKDAYS[plan.date.weekday()], set()).add(plan.time)
    # a post moved off a time the clocks skipped (02:30 -> 03:30) is its slot's, not a slot
    native: dict[str, set[str]] = {}
    for plan in table.plans:
        weekday = WEEKDAYS[plan.date.weekday()]
        moved = any(
            other != plan.time and wall_time(plan.date, other, zone) == plan.time
            for other in slots[weekday]
        )
        if not moved:
            native.setdefault(weekday, set()).add(plan.time)
    slots = {day: native.get(day) or times for day, times in slots.items()}
    try:
        return Schedule.build(
            span=Span(kind, first, last),
            slots={day: sorted(times) for day, times in slots.items()},
            timezone=zone,
        )
    except ValueError as exc:  # ScheduleError, or pydantic's ValidationError
        raise CalendarFileError(f"{source}: the rows make no schedule: {exc}") from None


def clock_text(value: Any) -> str:
    """A Time cell as "HH:MM" ("" when blank); ``ScheduleError`` when it is no time."""
    if isinstance(value, (datetime, time)):
        return f"{value:%H:%M}"
    if isinstance(value, float) and 0 <= value < 1:  # a time cell that lost its format
        minutes = min(round(value * 24 * 60), 24 * 60 - 1)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    text = cell_text(value).strip()
    return parse_time(_SECONDS.sub(r"\1", text)) if text else ""


def _layout(source: Path, header: Sequence[Any]) -> _Layout:
    position: dict[str, int] = {}
    for i, title in enumerate(header):
        position.setdefault(cell_text(title).strip().casefold(), i)
    missing = [title for _, title in TABLE_COLUMNS if title.casefold() not in position]
    if missing:
        raise CalendarFileError(
            f"{source} is missing the column(s) {', '.join(missing)}; its first row must hold "
            f"the titles reelcal writes: {', '.join(title for _, title in TABLE_COLUMNS)}"
        )

    def found(columns: Iterable[tuple[str, str]]) -> dict[str, int]:
        return {f: position[t.casefold()] for f, t in columns if t.casefold() in position}

    copies = {}
    for key in PLATFORMS:
        columns = found(copy_columns(key))
        if f"{key}.caption" in columns:
            copies[key] = {f.rsplit(".", 1)[1]: i for f, i in columns.items()}
    times = found(TIME_COLUMNS)
    return _Layout(
        table=found(TABLE_COLUMNS),
        outline=found(OUTLINE_COLUMNS),
        sources=position.get(SOURCES_COLUMN[1].casefold()),
        time=times.get("time"),
        zone=times.get("timezone"),
        copies=dict(sorted(copies.items(), key=lambda item: item[1]["caption"])),
    )


def _cell(row: Sequence[Any], at: int | None) -> Any:
    return row[at] if at is not None and at < len(row) else None


def _plan_from_row(source: Path, number: int, row: Sequence[Any], layout: _Layout) -> DayPlan:
    cells = {f: _cell(row, i) for f, i in layout.table.items()}
    where = f"{source}, row {number}"
    day_text = cell_text(cells["day"]).strip()
    match = re.fullmatch(r"(?:day\s*)?(\d{1,2})(?:\.0+)?", day_text, re.IGNORECASE)
    if match:
        where += f" (Day {match[1]})"
    elif day_text:
        raise CalendarFileError(f"{where}: Day {day_text!r} is not a day number; write 1-31")
    when = _parse_date(cells["date"])
    if when is None:
        raise CalendarFileError(
            f"{where}: Date {cell_text(cells['date'])!r} is not a date; write it as YYYY-MM-DD"
        )
    values: dict[str, Any] = {
        field: cell_text(value) for field, value in cells.items() if field not in ("day", "date")
    }
    values["date"] = when
    values["day"] = int(match[1]) if match else when.day
    values["time"] = _time(where, _cell(row, layout.time))
    values["copies"] = {
        key: copy
        for key, parts in layout.copies.items()
        if (copy := _copy(where, key, {p: _cell(row, i) for p, i in parts.items()}))
    }
    try:
        return DayPlan(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = error["loc"][0] if error["loc"] else None
        if field is None:  # a whole-row check, such as Day and Date disagreeing
            raise CalendarFileError(
                f"{where}: {error['msg'].removeprefix('Value error, ')}; make Day and Date agree"
            ) from None
        title = TITLE_OF.get(str(field), str(field))
        if not cell_text(cells.get(str(field))).strip():
            raise CalendarFileError(f"{where}: {title} is empty; fill in the cell") from None
        raise CalendarFileError(f"{where}: {title}: {error['msg']}; correct the cell") from None


def _time(where: str, value: Any) -> str:
    try:
        return clock_text(value)
    except ValueError:
        raise CalendarFileError(
            f"{where}: Time {cell_text(value)!r} is not a time; write it as HH:MM such as 18:00"
        ) from None


def _copy(where: str, platform: str, cells: dict[str, Any]) -> PlatformCopy | None:
    """The row's copy for ``platform`` (None when its cells are all blank)."""
    texts = {part: cell_text(value) for part, value in cells.items()}
    if not any(text.strip() for text in texts.values()):
        return None
    try:
        return PlatformCopy(**texts)
    except ValidationError as exc:
        part = str(exc.errors()[0]["loc"][0])
        title = TITLE_OF[f"{platform}.{part}"]
        if not texts.get(part, "").strip():
            raise CalendarFileError(
                f"{where}: {title} is empty; fill in the cell or clear the platform's others"
            ) from None
        message = exc.errors()[0]["msg"]
        raise CalendarFileError(f"{where}: {title}: {message}; correct the cell") from None


def _outline_line(source: Path, number: int, plan: DayPlan, line: dict[str, str]) -> OutlineDay:
    try:
        return OutlineDay(day=plan.day, title=plan.title, **line)
    except ValidationError as exc:
        raise CalendarFileError(
            f"{source}, row {number}: {first_error(exc)}; correct the outline cells"
        ) from None


def _one_zone(source: Path, zones: dict[str, int]) -> str:
    """The Time Zone column's one zone, checked ("" when the column is blank)."""
    checked = []
    for zone, number in zones.items():
        try:
            checked.append(read_timezone(zone))
        except ValueError as exc:
            raise CalendarFileError(f"{source}, row {number}: Time Zone: {exc}") from None
    if len(checked) > 1:
        raise CalendarFileError(
            f"{source} has several time zones in its Time Zone column ({', '.join(checked)}); "
            "keep one: a calendar has one zone"
        )
    return checked[0] if checked else ""


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and 1 <= value < 2958466:  # a date cell lost its format
        from openpyxl.utils.datetime import from_excel

        return from_excel(value).date()
    try:
        return date.fromisoformat(cell_text(value).strip()[:10])
    except ValueError:
        return None
