"""Outline files: a month's outline on its own, to review and edit before it is written.

An outline file is a CSV (UTF-8, one row per day) or a JSON list with the columns
``Day, Title, Pillar, Format, Series, Uses``. :func:`read_outline` also takes any
calendar file reelcal wrote (.json, or .csv / .xlsx with Pillar and Format columns),
whose outline it returns. ``reelcal outline`` writes one; ``reelcal generate --outline
FILE`` writes the month from it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from pipeline.dates import MonthSpec
from pipeline.errors import CalendarFileError, InvalidDaysError
from pipeline.outputs.columns import first_error
from pipeline.plans import OUTLINE_COLUMN_TITLES, OutlineDay
from pipeline.schedule import Schedule

#: OutlineDay field -> column title of an outline file, in order.
OUTLINE_FILE_COLUMNS: dict[str, str] = {"day": "Day", "title": "Title", **OUTLINE_COLUMN_TITLES}


def write_outline(lines: Sequence[OutlineDay], path: str | Path) -> Path:
    """Write ``lines`` as .csv or .json (by the suffix); returns the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise CalendarFileError(
            f"{path}: an outline is written as .csv or .json; change the suffix"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".json":
        data = [
            {title: getattr(line, f) for f, title in OUTLINE_FILE_COLUMNS.items()} for line in lines
        ]
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return path
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(OUTLINE_FILE_COLUMNS.values())
        writer.writerows([getattr(line, f) for f in OUTLINE_FILE_COLUMNS] for line in lines)
    return path


def read_outline(path: str | Path) -> list[OutlineDay]:
    """The outline lines in an outline file, or in a calendar file reelcal wrote."""
    from pipeline.outputs.readers import load

    path = Path(path)
    if not path.is_file():
        raise CalendarFileError(f"no outline file at {path}; check the path")
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig") if suffix in (".csv", ".json") else ""
    except UnicodeDecodeError:
        raise CalendarFileError(f"{path} is not UTF-8 text; save it as UTF-8") from None
    if suffix == ".json" and text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CalendarFileError(
                f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})"
            ) from None
    elif suffix == ".csv" and _is_outline_header(text.split("\n", 1)[0]):
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    else:
        lines = load(path).outline
        if not lines:
            raise CalendarFileError(
                f"{path} has no outline: give an outline file (reelcal outline --out FILE) "
                f"or a calendar written from one (with Pillar and Format columns)"
            )
        return lines
    return [_line(path, number, row) for number, row in enumerate(rows, start=2)]


def check_outline_days(lines: Sequence[OutlineDay], month: MonthSpec | Schedule) -> None:
    """``InvalidDaysError`` for an outline line of a day (a post) the month (the
    schedule) does not have."""
    count = month.count if isinstance(month, Schedule) else month.days_in_month
    bad = sorted({line.day for line in lines if line.day > count})
    if bad:
        raise InvalidDaysError(
            f"The outline has days {bad}, which {month.name} does not have: use 1 to "
            f"{count} (or an outline of this span)."
        )


def _is_outline_header(first_line: str) -> bool:
    titles = {cell.strip().casefold() for cell in next(csv.reader([first_line]), [])}
    return {"day", "title", "pillar", "format"} <= titles


def _line(path: Path, number: int, row: object) -> OutlineDay:
    if not isinstance(row, dict):
        raise CalendarFileError(
            f"{path}, entry {number - 1}: expected an object with Day, Title, ..."
        )
    by_title = {str(k).strip().casefold(): v for k, v in row.items() if k is not None}
    values = {
        f: by_title.get(title.casefold(), by_title.get(f))
        for f, title in OUTLINE_FILE_COLUMNS.items()
    }
    values = {f: v for f, v in values.items() if v is not None}
    try:
        return OutlineDay(**values)
    except ValidationError as exc:
        raise CalendarFileError(
            f"{path}, row {number}: {first_error(exc)}; correct the row"
        ) from None
