"""Reading a calendar back from the .json, .csv and .xlsx files reelcal writes.

Readers accept files a person edited in a spreadsheet (a BOM, ";" separators, a date
cell that lost its format, "Day 5" in the Day column) and raise
:class:`~pipeline.errors.CalendarFileError` naming the file, row and column that need
fixing. The .xlsx reader takes the run's facts and usage from its "Run" sheet.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pipeline.dates import expand_days
from pipeline.errors import CalendarFileError
from pipeline.outputs.columns import (
    OUTLINE_COLUMNS,
    SOURCES_COLUMN,
    TABLE_COLUMNS,
    TITLE_OF,
    cell_text,
    first_error,
)
from pipeline.outputs.formats import WRITE_FORMATS
from pipeline.outputs.xlsx import CALENDAR_SHEET, RUN_SHEET
from pipeline.plans import CalendarData, DayPlan, OutlineDay, UsageRecord

READ_FORMATS: tuple[str, ...] = ("xlsx", "csv", "json")


def load(path: str | Path) -> CalendarData:
    """Read a calendar reelcal wrote, choosing the reader by suffix (.json, .csv, .xlsx)."""
    path = Path(path)
    suffix = path.suffix.lower()
    fmt = "gcal" if path.name.lower().endswith(".gcal.csv") else suffix[1:]
    if fmt not in READ_FORMATS:
        what = (
            f"{fmt} files are export-only"
            if fmt in WRITE_FORMATS
            else f"unknown suffix {suffix or '(none)'!r}"
        )
        raise CalendarFileError(
            f"cannot load {path}: {what}; reelcal reads back .json, .csv and .xlsx files"
        )
    return {"json": read_json, "csv": read_csv, "xlsx": read_xlsx}[suffix[1:]](path)


def read_json(text_or_path: str | Path) -> CalendarData:
    """A calendar from JSON text or a .json file (a Path, or a str naming an existing file)."""
    if isinstance(text_or_path, Path) or os.path.isfile(text_or_path):
        path = _existing(text_or_path)
        text, source = path.read_text(encoding="utf-8-sig"), str(path)
    else:
        text, source = text_or_path, "the JSON text"
        if not text.lstrip().startswith("{"):
            raise CalendarFileError(
                f"{text[:60]!r} is neither an existing file nor calendar JSON; check the path"
            )
    try:
        return CalendarData.model_validate_json(text)
    except ValidationError as exc:
        raise CalendarFileError(
            f"{source} is not a reelcal calendar: {first_error(exc)}; "
            "write it with calendar.save('....json')"
        ) from None


def read_csv(path: str | Path) -> CalendarData:
    """A calendar from a .csv reelcal wrote (cells may have been edited; a BOM is accepted)."""
    path = _existing(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CalendarFileError(f"{path} is not UTF-8 text; save it as 'CSV UTF-8'") from None
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)  # spreadsheets in some locales save ';'
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not rows:
        raise CalendarFileError(f"{path} is empty; write it with calendar.save('....csv')")
    plans, extra = _plans_from_rows(path, rows[0], enumerate(rows[1:], start=2))
    return _calendar_from(path, plans, extra)


def read_xlsx(path: str | Path) -> CalendarData:
    """A calendar from an .xlsx reelcal wrote; run metadata comes from its "Run" sheet."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    path = _existing(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise CalendarFileError(f"{path} is not a readable .xlsx workbook ({exc})") from None
    try:
        names = book.sheetnames
        sheet = book[CALENDAR_SHEET] if CALENDAR_SHEET in names else book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, ())
        plans, extra = _plans_from_rows(path, header, enumerate(rows, start=2))
        info = _read_run_sheet(path, book[RUN_SHEET]) if RUN_SHEET in names else {}
        info.update(extra)
    finally:
        book.close()
    return _calendar_from(path, plans, info)


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise CalendarFileError(f"no calendar file at {path}; check the path")
    return path


def _plans_from_rows(
    source: Path, header: Sequence[Any], rows: Iterable[tuple[int, Sequence[Any]]]
) -> tuple[list[DayPlan], dict[str, Any]]:
    """DayPlans from spreadsheet rows, columns found by title; blank rows are skipped.
    Also the calendar fields other columns hold: with Pillar and Format, the outline
    (each line titled as its reel); with Sources, the sources ("; " between ids)."""
    position = {}
    for i, title in enumerate(header):
        position.setdefault(cell_text(title).strip().casefold(), i)
    missing = [title for _, title in TABLE_COLUMNS if title.casefold() not in position]
    if missing:
        raise CalendarFileError(
            f"{source} is missing the column(s) {', '.join(missing)}; its first row must hold "
            f"the titles reelcal writes: {', '.join(title for _, title in TABLE_COLUMNS)}"
        )
    index = {field: position[title.casefold()] for field, title in TABLE_COLUMNS}
    outline_index = {
        field: position[title.casefold()]
        for field, title in OUTLINE_COLUMNS
        if title.casefold() in position
    }
    sources_at = position.get(SOURCES_COLUMN[1].casefold())
    plans, outline, sources = [], [], {}
    for number, row in rows:
        cells = {field: row[i] if i < len(row) else None for field, i in index.items()}
        if all(cell_text(value).strip() == "" for value in cells.values()):
            continue
        plan = _plan_from_cells(source, number, cells)
        plans.append(plan)
        if sources_at is not None and sources_at < len(row):
            ids = [i.strip() for i in cell_text(row[sources_at]).split(";") if i.strip()]
            if ids:
                sources[plan.day] = ids
        line = {
            f: cell_text(row[i]).strip() if i < len(row) else "" for f, i in outline_index.items()
        }
        if line.get("pillar") and line.get("format"):
            try:
                outline.append(OutlineDay(day=plan.day, title=plan.title, **line))
            except ValidationError as exc:
                raise CalendarFileError(
                    f"{source}, row {number}: {first_error(exc)}; correct the outline cells"
                ) from None
    return plans, {"outline": outline, "sources": sources}


def _plan_from_cells(source: Path, number: int, cells: dict[str, Any]) -> DayPlan:
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
    values = {
        field: cell_text(value) for field, value in cells.items() if field not in ("day", "date")
    }
    values["date"] = when
    values["day"] = int(match[1]) if match else when.day
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


def _read_run_sheet(source: Path, sheet: Any) -> dict[str, Any]:
    """Calendar fields from the "Run" sheet: key/value rows, then the usage table."""
    info: dict[str, Any] = {}
    usage: list[UsageRecord] = []
    rows: Iterator[tuple[int, tuple[Any, ...]]] = enumerate(sheet.iter_rows(values_only=True), 1)
    for number, row in rows:
        key, value = (list(row) + [None, None])[:2]
        key = cell_text(key).strip()
        if key == "Usage":
            usage = _read_usage(source, rows)
            break
        if key in ("model", "niche", "platform"):
            info[key] = cell_text(value)
        elif key in ("trends", "notes"):
            info[key] = [line.strip() for line in cell_text(value).splitlines() if line.strip()]
        elif key == "created_at" and isinstance(value, datetime):
            info[key] = value
        elif key == "created_at" and value is not None:
            info[key] = _parse_moment(source, number, value)
        elif key == "month" and value is not None:
            match = re.fullmatch(r"(\d{4})-(\d{1,2})", cell_text(value).strip())
            if match:
                info["year"], info["month"] = int(match[1]), int(match[2])
    info["usage"] = usage
    return info


def _parse_moment(source: Path, number: int, value: Any) -> datetime:
    try:
        return datetime.fromisoformat(cell_text(value).strip())
    except ValueError:
        raise CalendarFileError(
            f"{source}, sheet Run, row {number}: created_at {value!r} is not an ISO date-time"
        ) from None


def _read_usage(source: Path, rows: Iterator[tuple[int, tuple[Any, ...]]]) -> list[UsageRecord]:
    header: list[str] = []
    records = []
    for number, row in rows:
        if not header:
            header = [cell_text(cell).strip() for cell in row]
            continue
        fields = {
            name: value
            for name, value in zip(header, row, strict=False)
            if name in UsageRecord.model_fields and cell_text(value).strip() != ""
        }
        if not fields or fields.get("role") == "total":
            break
        if "model" in fields:
            fields["model"] = cell_text(fields["model"])
        try:
            if "days_requested" in fields:
                fields["days_requested"] = expand_days(cell_text(fields["days_requested"]))
            for listed in ("rule_breaks", "posts_requested"):  # one item a line
                if listed in fields:
                    fields[listed] = cell_text(fields[listed]).splitlines()
            records.append(UsageRecord(**fields))
        except ValueError as exc:  # pydantic's ValidationError is a ValueError too
            problem = first_error(exc) if isinstance(exc, ValidationError) else exc
            raise CalendarFileError(
                f"{source}, sheet Run, row {number}: usage {problem}; fix or delete the row"
            ) from None
    return records


def _calendar_from(source: Path, plans: list[DayPlan], info: dict[str, Any]) -> CalendarData:
    months = sorted({(plan.date.year, plan.date.month) for plan in plans})
    if len(months) > 1:
        spans = ", ".join(f"{y:04d}-{m:02d}" for y, m in months)
        raise CalendarFileError(f"{source} has dates in several months ({spans}); keep one month")
    if months:
        info = {**info, "year": months[0][0], "month": months[0][1]}
    elif "month" not in info:
        raise CalendarFileError(f"{source} has no day rows and no month; add a row per day")
    try:
        return CalendarData(days=plans, **info)
    except ValidationError as exc:
        raise CalendarFileError(
            f"{source}: {first_error(exc)}; keep one row per day of one month"
        ) from None
