"""Turn a model's reply into typed :class:`~pipeline.calendar.DayPlan` rows.

The one place that reads model output. Models are unreliable (the bundled 135M one too), so
:func:`parse_day_plans` accepts every shape seen in practice, never raises on reply text, and
says why each row it could not use was rejected. Accepted: pipe rows (``Day 12 | title |
... | engagement``, outer pipes optional, ``12``/``Day 12:``/``**Day 12**`` as the day);
markdown tables, mapped by their header row when there is one (so re-ordered columns work);
JSON objects, arrays and lines, fenced or bare, with chatter around them, or already-parsed
data, keyed by field names, column titles or close variants (``full_speaking_script``).

Rules, in order: (1) truncation drops what touches the cut. With ``finish_reason ==
"length"`` that is the last *text* row: its last cell may be cut mid-sentence even though
the row parsed. In JSON, an object whose closing brace was reached was emitted in full before
the cut, so every complete object is kept; what touches the cut is the unclosed object after
the last complete one, rejected as "truncated" whatever the finish reason (so a JSON reply
whose container closed loses nothing). (2) The day: "outside the month", "not requested",
"duplicate" (the first *valid* row wins; a rejected row does not claim its day). (3) The
fields: "missing field 'x'", "empty field 'x'" (blank or a placeholder such as "...", "N/A",
"TBD", "-"), else "invalid: <DayPlan's message>".

Cells from text lose ``**bold**``/``*italic*`` markers and wrapping quotes; ``<br>`` becomes
a newline and a markdown-escaped ``\\|`` a pipe. JSON strings are kept as they are (DayPlan
strips surrounding whitespace), so any text round-trips. Dates are recomputed from the day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from pipeline.calendar import CONTENT_FIELDS, DayPlan
from pipeline.dates import MonthSpec
from pipeline.generation.replies.cells import (
    PLACEHOLDERS,
    clean_cell,
    day_number,
    is_blank,
    map_keys,
    text_value,
)
from pipeline.generation.replies.copies import read_copies
from pipeline.generation.replies.json_rows import (
    DAY_IN_RAW,
    dump_json,
    find_json_rows,
    looks_like_row,
    rows_in,
)
from pipeline.generation.replies.pipe_rows import PipeRow, find_pipe_rows, fit_cells
from pipeline.schedule import Schedule

__all__ = ["PLACEHOLDERS", "ParseResult", "Rejection", "describe", "parse_day_plans"]


@dataclass
class Rejection:
    """A row the parser could not use, and why."""

    day: int | None
    reason: str
    raw: str


@dataclass
class ParseResult:
    """Accepted plans (sorted by post number, one per number) and the rows rejected on
    the way; ``numbers`` are the plans' post numbers (with no schedule: their days)."""

    plans: list[DayPlan] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)

    @property
    def days(self) -> list[int]:
        return list(self.numbers)


# ----------------------------------------------------------------- assembling the result
class _Collector:
    def __init__(
        self, schedule: Schedule | MonthSpec, requested: Iterable[int], copies: Sequence[str] = ()
    ) -> None:
        self.schedule = schedule
        self.copies = tuple(copies)
        last = schedule.count if isinstance(schedule, Schedule) else schedule.days_in_month
        self.last_day = last
        self.requested = set(requested)
        self.plans: dict[int, DayPlan] = {}
        self.rejected: list[Rejection] = []

    def reject(self, day: int | None, reason: str, raw: str) -> None:
        self.rejected.append(Rejection(day, reason, raw))

    def add(self, fields: dict[str, Any], raw: str) -> None:
        day = day_number(fields.get("day"))
        if day is None:
            return self.reject(None, "no day number", raw)
        if not 1 <= day <= self.last_day:
            month = not isinstance(self.schedule, Schedule) or self.schedule.daily_month
            return self.reject(day, f"outside the {'month' if month else 'schedule'}", raw)
        if day not in self.requested:
            return self.reject(day, "not requested", raw)
        if day in self.plans:
            return self.reject(day, "duplicate", raw)
        for name in CONTENT_FIELDS:
            if name not in fields:
                return self.reject(day, f"missing field '{name}'", raw)
            if is_blank(fields[name]):
                return self.reject(day, f"empty field '{name}'", raw)
        values = {name: text_value(name, fields[name]) for name in CONTENT_FIELDS}
        try:
            copies = read_copies(fields.get("copies"), self.copies) if self.copies else {}
            self.plans[day] = DayPlan(**self._when(day), **values, copies=copies)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            self.reject(day, f"invalid: {where}: {error['msg']}"[:200], raw)

    def _when(self, number: int) -> dict[str, Any]:
        """The day, date and time of post ``number`` (a month without a schedule: day
        ``number``, no time)."""
        if isinstance(self.schedule, Schedule):
            post = self.schedule.post(number)
            return {"day": post.date.day, "date": post.date, "time": post.time}
        return {"day": number, "date": self.schedule.date_of(number)}

    def result(self) -> ParseResult:
        numbers = sorted(self.plans)
        return ParseResult([self.plans[n] for n in numbers], self.rejected, numbers)


def _guess_day(raw: str) -> int | None:
    match = DAY_IN_RAW.search(raw)
    return int(match.group(1)) if match else None


def parse_day_plans(
    reply: str | dict[str, Any] | list[Any],
    *,
    year: int | None = None,
    month: int | None = None,
    requested_days: Iterable[int],
    finish_reason: str | None = None,
    schedule: Schedule | None = None,
    copies: Sequence[str] = (),
) -> ParseResult:
    """Typed rows from a model's ``reply`` (text, or already-parsed JSON data).

    A row's number is a post of ``schedule`` (its date and time come from there), or
    without one a day of ``year``/``month`` (no time). ``finish_reason`` is the model's
    (``"length"`` when ``max_tokens`` cut the reply). Never raises on any reply text; see
    the module docstring for the rules.
    """
    if schedule is None and (year is None or month is None):
        raise TypeError("parse_day_plans needs a schedule, or a year and a month")
    span = schedule if schedule is not None else MonthSpec(year, month)  # type: ignore[arg-type]
    out = _Collector(span, requested_days, copies)
    if (
        isinstance(reply, list)
        and reply
        and all(  # a chat message's content blocks
            isinstance(b, dict) and isinstance(b.get("type"), str) and not looks_like_row(b)
            for b in reply
        )
    ):
        reply = "".join(str(b.get("text", "")) for b in reply if b["type"] == "text")
    if isinstance(reply, (dict, list)):
        for row in rows_in(reply):
            out.add(map_keys(row), dump_json(row))
        if not out.plans and not out.rejected:
            out.reject(None, "unparseable", dump_json(reply))
        return out.result()
    if not isinstance(reply, str):
        raise TypeError(f"reply must be text, a dict or a list, not {type(reply).__name__}")
    if not reply.strip():
        out.reject(None, "empty reply", reply)
        return out.result()

    json_rows, tail, broken = find_json_rows(reply)
    pipe_rows = find_pipe_rows(reply)
    as_pipes = _Collector(span, out.requested, copies)
    if pipe_rows:
        _add_pipe_rows(as_pipes, pipe_rows, cut=finish_reason == "length")
        if not json_rows:
            return as_pipes.result()
    if json_rows or tail or broken:
        for row, raw in json_rows:
            out.add(map_keys(row), raw)
        for raw in broken:
            out.reject(_guess_day(raw), "unparseable", raw)
        if tail:
            out.reject(_guess_day(tail), "truncated", tail)
        if len(as_pipes.plans) > len(out.plans):  # JSON in a cell of pipe rows
            return as_pipes.result()
    else:
        out.reject(None, "truncated" if finish_reason == "length" else "unparseable", reply)
    return out.result()


def _add_pipe_rows(out: _Collector, rows: list[PipeRow], *, cut: bool) -> None:
    """Fit and add text rows; with ``cut`` (finish_reason "length") the last is dropped."""
    for row in rows[:-1] if cut else rows:
        raw = "\n".join(row.lines)
        fitted = fit_cells(row.columns, row.parts)
        if fitted is None:
            many = len(row.parts) > len(row.columns)
            out.reject(row.day, "extra columns" if many else "missing columns", raw)
        else:
            out.add({name: clean_cell(text) for name, text in fitted.items() if name}, raw)
    if cut:
        out.reject(rows[-1].day, "truncated", "\n".join(rows[-1].lines))


def describe(result: ParseResult) -> str:
    """One line, e.g. ``8 rows: 7 accepted, 1 rejected (truncated: day 8)``."""
    total = len(result.plans) + len(result.rejected)
    line = f"{total} row{'s' if total != 1 else ''}: {len(result.plans)} accepted"
    if not result.rejected:
        return line
    groups: dict[str, list[int | None]] = {}
    for rejection in result.rejected:
        groups.setdefault(rejection.reason, []).append(rejection.day)
    parts = []
    for reason, days in groups.items():
        known = list(dict.fromkeys(str(day) for day in days if day is not None))
        shown = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
        labels = [("day " if len(known) == 1 else "days ") + shown] if known else []
        if unknown := days.count(None):
            labels.append(f"{unknown} row{'s' if unknown != 1 else ''}")
        parts.append(f"{reason}: {' and '.join(labels)}")
    return f"{line}, {len(result.rejected)} rejected ({'; '.join(parts)})"
