"""The .xlsx workbook: a styled, filterable "Content Calendar" sheet and a "Run" sheet.

The calendar sheet has a bold header row, fixed widths, wrapped text, real dates and
times (``hh:mm`` time cells), a frozen header and an autofilter, and prints landscape one
page wide. The "Run" sheet holds the run's facts (month, model, niche, trends..., the
schedule as JSON and the platforms, primary first) and one row per model call with
totals. Text is always stored as text, so a script starting with "=" never becomes a
formula. Read back by :func:`pipeline.outputs.readers.read_xlsx`.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from datetime import date, time
from pathlib import Path
from typing import Any

from pipeline.dates import compact_days
from pipeline.outputs.columns import table_columns, table_rows
from pipeline.plans import CalendarData, UsageRecord, rule_break_text

CALENDAR_SHEET = "Content Calendar"
RUN_SHEET = "Run"
_XLSX_WIDTHS = {
    "day": 5,
    "date": 11,
    "title": 24,
    "hook": 24,
    "caption": 36,
    "script": 60,
    "video_style": 14,
    "audio": 14,
    "hashtags": 20,
    "production_notes": 28,
    "engagement": 28,
    "pillar": 16,
    "format": 18,
    "series": 14,
    "uses": 18,
    "sources": 24,
    "time": 7,
    "timezone": 16,
}
_HEADER_FILL = "1F4E78"
_LINE_POINTS = 14.5  # one line of 11 pt Calibri


def write_xlsx(calendar: CalendarData, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = CALENDAR_SHEET
    columns = table_columns(calendar)
    _xlsx_header(sheet, 1, [title for _, title in columns])
    cell_alignment = Alignment(wrap_text=True, vertical="top")
    widths = [column_width(field) for field, _ in columns]
    for row, (_, values) in enumerate(table_rows(calendar), start=2):
        for col, value in enumerate(values, start=1):
            cell = _xlsx_set(sheet.cell(row=row, column=col), value)
            cell.alignment = cell_alignment
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, time):
                cell.number_format = "hh:mm"
        sheet.row_dimensions[row].height = _row_height(values, widths)
    sheet.row_dimensions[1].height = 2 * _LINE_POINTS
    for col, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    last = get_column_letter(len(columns))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{last}{len(calendar.days) + 1}"
    sheet.print_title_rows = "1:1"
    _print_landscape(sheet)
    _write_run_sheet(book.create_sheet(RUN_SHEET), calendar)
    book.save(path)


def column_width(field: str) -> float:
    """A column's width in characters; a copy column ("tiktok.caption") is as wide as
    the primary's column of the same kind."""
    return _XLSX_WIDTHS.get(field) or _XLSX_WIDTHS[field.rsplit(".", 1)[-1]]


def _print_landscape(sheet: Any) -> None:
    """Print landscape, all columns on one page wide."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _row_height(values: Sequence[Any], widths: Sequence[float]) -> float:
    """Points for a row whose wrapped text fits ``widths``.

    Spreadsheet apps do not all grow rows on open (LibreOffice keeps them one line
    high), so the height is estimated here: wide characters (CJK, emoji) count twice.
    """
    lines = 1
    for value, width in zip(values, widths, strict=False):
        if isinstance(value, str):
            per_line = max(1.0, width * 1.2 - 1)  # text averages narrower than "0"
            counts = [
                sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in part)
                for part in value.split("\n")
            ]
            lines = max(lines, sum(max(1, math.ceil(n / per_line)) for n in counts))
    return min(409.0, lines * _LINE_POINTS + 3.0)  # 409 pt is Excel's highest row


def _xlsx_header(sheet: Any, row: int, titles: Sequence[str]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    for col, title in enumerate(titles, start=1):
        cell = sheet.cell(row=row, column=col, value=title)
        cell.font = Font(name="Calibri", size=11, bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=_HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def _xlsx_set(cell: Any, value: Any) -> Any:
    """Store ``value``; text always as text, so "=SUM(A1)" never becomes a formula.

    Characters XML cannot hold (control codes) are dropped and CR LF becomes LF.
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
        cell.value = value
        cell.data_type = "s"
    else:
        cell.value = value
    return cell


#: UsageRecord fields, the column headers of the Run sheet's usage table.
_USAGE_FIELDS: tuple[str, ...] = tuple(UsageRecord.model_fields)


def run_info(calendar: CalendarData) -> list[tuple[str, str]]:
    """The run's facts as (key, value) rows, the top of the "Run" sheet."""
    rows = [
        ("month", f"{calendar.year:04d}-{calendar.month:02d}"),
        ("span", calendar.span_name),
        (f"{calendar.plan_schedule.noun}s", f"{len(calendar.days)}/{calendar.post_count}"),
        ("model", calendar.model),
        ("niche", calendar.niche),
        ("trends", "\n".join(calendar.trends)),
        ("platform", calendar.platform),
        ("created_at", calendar.created_at.isoformat()),
        ("notes", "\n".join(calendar.notes)),
        ("schedule", calendar.schedule.model_dump_json() if calendar.schedule else ""),
        ("platforms", ", ".join(calendar.platforms)),
    ]
    return rows


_RUN_WIDTHS = (16, 40, 22) + (15,) * (len(_USAGE_FIELDS) - 3)


def _write_run_sheet(sheet: Any, calendar: CalendarData) -> None:
    """Key/value rows (month, model, niche, ...), then one usage row per call and totals."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    top = Alignment(wrap_text=True, vertical="top")
    bold = Font(name="Calibri", size=11, bold=True)
    _xlsx_header(sheet, 1, ["Key", "Value"])
    row = 1
    for row, (key, value) in enumerate(run_info(calendar), start=2):
        key_cell = _xlsx_set(sheet.cell(row=row, column=1), key)
        key_cell.font, key_cell.alignment = bold, top
        _xlsx_set(sheet.cell(row=row, column=2), value).alignment = top
        sheet.row_dimensions[row].height = _row_height([key, value], _RUN_WIDTHS)
    row += 2
    sheet.cell(row=row, column=1, value="Usage").font = Font(name="Calibri", size=12, bold=True)
    header_row = row + 1
    _xlsx_header(sheet, header_row, _USAGE_FIELDS)
    row = header_row
    for row, record in enumerate(calendar.usage, start=header_row + 1):
        values = [getattr(record, field) for field in _USAGE_FIELDS]
        values[_USAGE_FIELDS.index("days_requested")] = compact_days(record.days_requested)
        values[_USAGE_FIELDS.index("rule_breaks")] = "\n".join(
            rule_break_text(note) for note in record.rule_breaks
        )
        values[_USAGE_FIELDS.index("posts_requested")] = "\n".join(record.posts_requested)
        for col, value in enumerate(values, start=1):
            _xlsx_set(sheet.cell(row=row, column=col), value).alignment = top
        sheet.row_dimensions[row].height = _row_height(values, _RUN_WIDTHS)
    totals = {
        "role": "total",
        "model": f"{len(calendar.usage)} calls",
        "input_tokens": calendar.total_input_tokens,
        "output_tokens": calendar.total_output_tokens,
        "days_parsed": sum(u.days_parsed for u in calendar.usage),
    }
    for col, field in enumerate(_USAGE_FIELDS, start=1):
        if field in totals:
            sheet.cell(row=row + 1, column=col, value=totals[field]).font = bold
    for col, width in enumerate(_RUN_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    _print_landscape(sheet)
