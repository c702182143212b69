"""Reading a calendar back from the .json, .csv and .xlsx files reelcal writes.

Readers accept files a person edited in a spreadsheet (a BOM, ";" separators, a date
cell that lost its format, "Day 5" in the Day column, "6:00 PM" in the Time column; see
:mod:`.rows`) and raise :class:`~pipeline.errors.CalendarFileError` naming the file, row
and column that need fixing.

What each file gives back:

- .json: everything (``model_dump``); files written before posts had times or copies
  read as months with one post a day.
- .xlsx: the rows, and from its "Run" sheet the run's facts, usage, the schedule (JSON)
  and the platforms, primary first. The Run sheet's schedule wins over the Time Zone
  column. A workbook without them is read as a .csv is.
- .csv: the rows only, so the rest is implied. Without a Time column (or with every Time
  cell blank) it is a month with one post a day (no schedule). With times, the schedule
  is a month when the rows run from the 1st to the last day of one month, else a range
  from the first post's date to the last; each weekday's slots are the times its rows
  have, and the zone is the Time Zone column's ("UTC" when blank). The platforms are
  Instagram (the primary) and each platform with a "<Name> Caption" column.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pipeline.dates import expand_days
from pipeline.errors import CalendarFileError, ConfigError
from pipeline.outputs.columns import cell_text, first_error
from pipeline.outputs.formats import WRITE_FORMATS
from pipeline.outputs.rows import TableRows, implied_schedule, read_rows
from pipeline.outputs.xlsx import CALENDAR_SHEET, RUN_SHEET
from pipeline.plans import CalendarData, UsageRecord
from pipeline.platforms import read_platforms
from pipeline.schedule import Schedule

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
    table = read_rows(path, rows[0], enumerate(rows[1:], start=2))
    return _calendar_from(path, table, {})


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
        table = read_rows(path, header, enumerate(rows, start=2))
        info = _read_run_sheet(path, book[RUN_SHEET]) if RUN_SHEET in names else {}
    finally:
        book.close()
    return _calendar_from(path, table, info)


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise CalendarFileError(f"no calendar file at {path}; check the path")
    return path


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
        elif key == "schedule" and cell_text(value).strip():
            info[key] = _parse_schedule(source, number, value)
        elif key == "platforms" and cell_text(value).strip():
            info[key] = _parse_platforms(source, number, value)
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


def _parse_schedule(source: Path, number: int, value: Any) -> Schedule:
    try:
        return Schedule.model_validate_json(cell_text(value))
    except ValidationError as exc:
        raise CalendarFileError(
            f"{source}, sheet Run, row {number}: schedule is not a reelcal schedule "
            f"({first_error(exc)}); restore the cell or delete the row"
        ) from None


def _parse_platforms(source: Path, number: int, value: Any) -> list[str]:
    try:
        return read_platforms(cell_text(value))
    except ConfigError as exc:
        raise CalendarFileError(f"{source}, sheet Run, row {number}: platforms: {exc}") from None


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


def _calendar_from(source: Path, table: TableRows, info: dict[str, Any]) -> CalendarData:
    """The calendar of ``table``'s rows and the Run sheet's ``info`` (which wins)."""
    schedule = info.pop("schedule", None)
    if schedule is None and table.timed:
        schedule = implied_schedule(source, table)
    fields = {"platforms": table.platforms, **info, "schedule": schedule}
    if schedule is not None:
        fields["year"], fields["month"] = schedule.start.year, schedule.start.month
    else:
        fields.update(_legacy_month(source, table, info))
    outline, sources = table.numbered(schedule)
    fields.update(days=table.plans, outline=outline, sources=sources)
    try:
        return CalendarData(**fields)
    except ValidationError as exc:
        keep = "one row per post of its span" if schedule else "one row per day of one month"
        raise CalendarFileError(f"{source}: {first_error(exc)}; keep {keep}") from None


def _legacy_month(source: Path, table: TableRows, info: dict[str, Any]) -> dict[str, int]:
    """Year and month of rows without times: the one month of their dates."""
    months = sorted({(plan.date.year, plan.date.month) for plan in table.plans})
    if len(months) > 1:
        spans = ", ".join(f"{y:04d}-{m:02d}" for y, m in months)
        raise CalendarFileError(f"{source} has dates in several months ({spans}); keep one month")
    if months:
        return {"year": months[0][0], "month": months[0][1]}
    if "month" not in info:
        raise CalendarFileError(f"{source} has no day rows and no month; add a row per day")
    return {}
