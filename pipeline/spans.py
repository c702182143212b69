"""A run's dates: :class:`Span` (a month, an ISO week, or a range of dates) and
:func:`read_span`, which reads one from ``month``, ``week`` or ``start`` and ``end``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from pipeline.dates import MonthSpec, parse_month
from pipeline.errors import ScheduleError

#: The longest span one run plans: longer plans are several runs (each resumable), so
#: that one run's cost and wall time stay bounded.
MAX_SPAN_DAYS = 62

SpanKind = Literal["month", "week", "range"]


def range_text(start: dt.date, end: dt.date) -> str:
    """ "8 to 14 March 2027", "28 March to 6 April 2027", "28 December 2026 to 6 January 2027"."""
    if start.year != end.year:
        return f"{start.day} {start:%B %Y} to {end.day} {end:%B %Y}"
    if start.month != end.month:
        return f"{start.day} {start:%B} to {end.day} {end:%B %Y}"
    return f"{start.day} to {end.day} {end:%B %Y}"


@dataclass(frozen=True)
class Span:
    """A run's dates, first to last (inclusive), and what kind of span they are."""

    kind: SpanKind
    start: dt.date
    end: dt.date
    note: str | None = None

    @classmethod
    def month(cls, month: MonthSpec) -> Span:
        last = dt.date(month.year, month.month, month.days_in_month)
        return cls("month", dt.date(month.year, month.month, 1), last, month.note)


_WEEK = re.compile(r"(\d{4})-?W(\d{1,2})", re.IGNORECASE)


def read_span(
    *,
    month: str | MonthSpec | dt.date | None = None,
    week: str | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
) -> Span:
    """The span of a request: ``month`` (any form :func:`~pipeline.dates.parse_month`
    reads), ``week`` ("2027-W10", an ISO week, Monday to Sunday) or ``start`` and ``end``
    (ISO dates, inclusive, at most :data:`MAX_SPAN_DAYS` days). Exactly one form."""
    given = [name for name, v in (("month", month), ("week", week), ("start", start)) if v]
    if len(given) > 1:
        raise ScheduleError(
            f"Give one span, not {' and '.join(given)}: a month, a week, or start and end."
        )
    if end and not start:
        raise ScheduleError("An end date needs a start date: give both (--from and --to).")
    if week:
        match = _WEEK.fullmatch(str(week).strip())
        if not match:
            raise ScheduleError(f"Cannot read week {week!r}: use an ISO week such as '2027-W10'.")
        year, number = int(match[1]), int(match[2])
        try:
            first = dt.date.fromisocalendar(year, number, 1)
            return Span("week", first, first + dt.timedelta(days=6))
        except (ValueError, OverflowError):
            weeks = dt.date(year, 12, 28).isocalendar()[1] if 1 <= year <= 9998 else None
            has = f"{year} has weeks 1 to {weeks}" if weeks else "use a year from 1 to 9998"
            raise ScheduleError(f"Week {week!r} does not exist: {has}.") from None
    if start:
        first = _read_date(start, "start")
        last = _read_date(end, "end") if end else first
        if last < first:
            raise ScheduleError(f"The span ends ({last}) before it starts ({first}): swap them.")
        days = (last - first).days + 1
        if days > MAX_SPAN_DAYS:
            raise ScheduleError(
                f"{first} to {last} is {days} days: one run plans at most {MAX_SPAN_DAYS}; "
                "split it into shorter spans."
            )
        return Span("range", first, last)
    if month:
        return Span.month(parse_month(month))
    raise ScheduleError("A request needs a span: a month, a week, or start and end dates.")


def _read_date(value: str | dt.date, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ScheduleError(
            f"Cannot read the {what} date {value!r}: use YYYY-MM-DD such as '2027-03-28'."
        ) from None
