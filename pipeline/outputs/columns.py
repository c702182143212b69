"""The column layout every tabular export shares, and how a cell is written as text.

Day, Date, then the :data:`~pipeline.calendar.COLUMN_TITLES` in order, and for a
calendar written from an outline its Pillar, Format, Series and Uses. The writers
(:mod:`.xlsx`, :mod:`.text`, :mod:`.schedulers`), the readers (:mod:`.readers`) and the
notebook view (:mod:`.display`) all take their columns from here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from pipeline.plans import COLUMN_TITLES, OUTLINE_COLUMN_TITLES, CalendarData, DayPlan

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

TITLE_OF: dict[str, str] = dict((*TABLE_COLUMNS, *OUTLINE_COLUMNS, SOURCES_COLUMN))


def table_columns(calendar: CalendarData) -> tuple[tuple[str, str], ...]:
    """The columns of ``calendar``'s table: the day's, the outline's if it has one, and
    the sources if it records them."""
    return (
        TABLE_COLUMNS
        + (OUTLINE_COLUMNS if calendar.outline else ())
        + ((SOURCES_COLUMN,) if calendar.sources else ())
    )


def table_rows(calendar: CalendarData) -> list[tuple[DayPlan, list[Any]]]:
    """Each plan and its cells in :func:`table_columns` order (no line: blank cells)."""
    lines = {line.day: line for line in calendar.outline}
    rows = []
    for plan in calendar.days:
        cells = row_values(plan)
        if calendar.outline:
            line = lines.get(plan.day)
            cells += [getattr(line, field) if line else "" for field, _ in OUTLINE_COLUMNS]
        if calendar.sources:
            cells.append("; ".join(calendar.sources.get(plan.day, [])))
        rows.append((plan, cells))
    return rows


def row_values(plan: DayPlan) -> list[Any]:
    """One plan's cells in :data:`TABLE_COLUMNS` order (date as a date, tags as text)."""
    return [plan.hashtags_text if f == "hashtags" else getattr(plan, f) for f, _ in TABLE_COLUMNS]


def cell_text(value: Any) -> str:
    """A cell as text: None is "", 5.0 is "5", dates are ISO."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def first_error(exc: ValidationError) -> str:
    """The first of a pydantic error's problems, as "field: message (and N more)"."""
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    text = first["msg"].removeprefix("Value error, ")
    return f"{where}: {text}{more}" if where else f"{text}{more}"
