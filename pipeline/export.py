"""Calendar files: writing a :class:`~pipeline.calendar.Calendar` to disk and reading it back.

Owns every on-disk format and the column layout they share (Day, Date, then the
:data:`~pipeline.calendar.COLUMN_TITLES` in order):

======  ===============================================================  =========
format  what is written                                                  read back
======  ===============================================================  =========
xlsx    sheet "Content Calendar" (styled, filterable) and sheet "Run"    yes
csv     RFC 4180, plain UTF-8 without BOM, CRLF row ends, tags joined    yes
json    ``calendar.model_dump_json(indent=2)``: rows, run data, usage    yes
md      month heading, one table row per day, usage section             no
ics     RFC 5545: one all-day VEVENT per day                             no
gcal    Google Calendar import CSV (``*.gcal.csv`` or ``format="gcal"``)  no
======  ===============================================================  =========

Every write is atomic: the file is written beside its target under a temporary
name and moved into place with :func:`os.replace`, so a failed write leaves the
old file as it was. Readers accept files a person edited in a spreadsheet and
raise :class:`~pipeline.errors.CalendarFileError` naming the file, row and column
that need fixing.

The CSV holds cells exactly (a script starting with ``=`` stays ``=...``); open
it as data, or use the .xlsx, where such text is stored as text, never a formula.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pipeline.calendar import COLUMN_TITLES, USAGE_TABLE_TITLES, Calendar, DayPlan, UsageRecord
from pipeline.errors import CalendarFileError, InvalidDaysError, OutputPathError
from pipeline.files import atomic_write

#: (DayPlan field, column title) of the tabular exports, in order: Day, Date, the rest.
TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("day", COLUMN_TITLES["day"]),
    ("date", "Date"),
    *((field, title) for field, title in COLUMN_TITLES.items() if field != "day"),
)
WRITE_FORMATS: tuple[str, ...] = ("xlsx", "csv", "json", "md", "ics", "gcal")
READ_FORMATS: tuple[str, ...] = ("xlsx", "csv", "json")
CALENDAR_SHEET = "Content Calendar"
RUN_SHEET = "Run"
ICS_PRODID = "-//reelcal//content calendar//EN"
GCAL_COLUMNS: tuple[str, ...] = ("Subject", "Start Date", "All Day Event", "Description")

_TITLE_OF = dict(TABLE_COLUMNS)
# Secret-looking names ("api_key", "OPENAI_API_KEY", "auth_token", "client_secret", "password"),
# matched as whole words so that "max_tokens" or "monkey" pass.
_SECRET_NAME = re.compile(
    r"(?:^|[\W_])"
    r"(?:api[\W_]?key|keys?|secrets?|passwords?|passwd|pwd|token|credentials?)"
    r"(?:$|[\W_])",
    re.IGNORECASE,
)


# ====================================================================== writing
def save(calendar: Calendar, path: str | Path, *, format: str | None = None) -> Path:
    """Write ``calendar`` to ``path`` atomically and return the path.

    The format is ``format`` when given, else the file name's suffix; see the module table.
    """
    path = Path(path)
    fmt = resolve_format(path, format)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = _WRITERS[fmt]
    atomic_write(path, lambda tmp: writer(calendar, tmp))
    return path


def resolve_format(path: str | Path, format: str | None = None) -> str:
    """The export format for ``path``: ``format`` if given, else from the suffix."""
    if format is not None:
        fmt = format.lower().lstrip(".")
        fmt = {"gcal.csv": "gcal", "markdown": "md"}.get(fmt, fmt)
        if fmt in WRITE_FORMATS:
            return fmt
        raise CalendarFileError(
            f"unknown calendar format {format!r}; use one of: {', '.join(WRITE_FORMATS)}"
        )
    path = Path(path)
    if path.name.lower().endswith(".gcal.csv"):
        return "gcal"
    suffix = path.suffix.lower()
    if suffix[1:] in WRITE_FORMATS and suffix != ".gcal":
        return suffix[1:]
    raise CalendarFileError(
        f"cannot write {path}: unknown suffix {suffix or '(none)'!r}; name it .xlsx, .csv, "
        f".json, .md, .ics or .gcal.csv, or pass format= one of: {', '.join(WRITE_FORMATS)}"
    )


def check_output_path(
    path: str | Path, format: str | None = None, *, inputs: Sequence[str | Path] = ()
) -> str:
    """Check, before any model call, that ``path`` can be written; returns its format.

    Raises:
        OutputPathError: an unknown suffix or format, a folder that cannot be created or
            written, a path that is a folder, or a path that is one of ``inputs``.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise OutputPathError(
            f"--out {path} is a folder: name a file, e.g. {path / 'calendar.xlsx'}."
        )
    try:
        fmt = resolve_format(path, format)
    except CalendarFileError as exc:
        raise OutputPathError(str(exc)) from None
    for source in inputs:
        if path.exists() and Path(source).exists() and path.resolve() == Path(source).resolve():
            raise OutputPathError(
                f"--out {path} is the input file: write to another file, e.g. "
                f"{path.with_name(path.stem + '-new' + path.suffix)}."
            )
    folder = path.parent
    try:  # the real test: create the folder and a file in it (os.access trusts root)
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".reelcal-probe-"):
            pass
    except OSError as exc:
        raise OutputPathError(
            f"--out {path}: cannot write to the folder {folder} ({exc.strerror or exc}): "
            f"choose another folder."
        ) from None
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputPathError(f"--out {path} is read-only: choose another file.")
    return fmt


def _row_values(plan: DayPlan) -> list[Any]:
    """One plan's cells in :data:`TABLE_COLUMNS` order (date as a date, tags as text)."""
    return [plan.hashtags_text if f == "hashtags" else getattr(plan, f) for f, _ in TABLE_COLUMNS]


def _write_csv(calendar: Calendar, path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writerow([title for _, title in TABLE_COLUMNS])
        for plan in calendar.days:
            writer.writerow([_text(value) for value in _row_values(plan)])


def _write_json(calendar: Calendar, path: Path) -> None:
    path.write_text(calendar.model_dump_json(indent=2), encoding="utf-8")


def _write_gcal(calendar: Calendar, path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writerow(GCAL_COLUMNS)
        for plan in calendar.days:
            writer.writerow(
                [plan.title, plan.date.strftime("%m/%d/%Y"), "True", event_description(plan)]
            )


def _write_md(calendar: Calendar, path: Path) -> None:
    path.write_text(to_markdown(calendar), encoding="utf-8")


def _write_ics(calendar: Calendar, path: Path) -> None:
    path.write_bytes(to_ics(calendar))


# ---------------------------------------------------------------------- xlsx
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
}
_HEADER_FILL = "1F4E78"
_LINE_POINTS = 14.5  # one line of 11 pt Calibri


def _write_xlsx(calendar: Calendar, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = CALENDAR_SHEET
    _xlsx_header(sheet, 1, [title for _, title in TABLE_COLUMNS])
    cell_alignment = Alignment(wrap_text=True, vertical="top")
    widths = [_XLSX_WIDTHS[field] for field, _ in TABLE_COLUMNS]
    for row, plan in enumerate(calendar.days, start=2):
        values = _row_values(plan)
        for col, value in enumerate(values, start=1):
            cell = _xlsx_set(sheet.cell(row=row, column=col), value)
            cell.alignment = cell_alignment
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
        sheet.row_dimensions[row].height = _row_height(values, widths)
    sheet.row_dimensions[1].height = 2 * _LINE_POINTS
    for col, (field, _) in enumerate(TABLE_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = _XLSX_WIDTHS[field]
    last = get_column_letter(len(TABLE_COLUMNS))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{last}{len(calendar.days) + 1}"
    sheet.print_title_rows = "1:1"
    _print_landscape(sheet)
    _write_run_sheet(book.create_sheet(RUN_SHEET), calendar)
    book.save(path)


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


def run_info(calendar: Calendar) -> list[tuple[str, str]]:
    """The run metadata as (key, value) rows, with secret-looking names dropped."""
    rows = [
        ("month", f"{calendar.year:04d}-{calendar.month:02d}"),
        ("days", f"{len(calendar.days)}/{calendar.days_in_month}"),
        ("model", calendar.model),
        ("niche", calendar.niche),
        ("trends", "\n".join(calendar.trends)),
        ("platform", calendar.platform),
        ("created_at", calendar.created_at.isoformat()),
        ("notes", "\n".join(calendar.notes)),
    ]
    return drop_secrets(rows)


def drop_secrets(rows: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """``rows`` without the pairs whose name looks like a secret (api_key, token, password...)."""
    return [(name, value) for name, value in rows if not _SECRET_NAME.search(str(name))]


_RUN_WIDTHS = (16, 40, 22) + (15,) * (len(_USAGE_FIELDS) - 3)


def _write_run_sheet(sheet: Any, calendar: Calendar) -> None:
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


def compact_days(days: Sequence[int]) -> str:
    """Day numbers as text, runs of three or more shortened: [1, 2, 3, 7] -> "1-3, 7"."""
    parts: list[str] = []
    i = 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] == days[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{days[i]}-{days[j]}")
        else:
            parts.extend(str(day) for day in days[i : j + 1])
        i = j + 1
    return ", ".join(parts)


def expand_days(text: str, *, max_day: int = 31) -> list[int]:
    """The inverse of :func:`compact_days`; ``ValueError`` on anything else, and
    :class:`InvalidDaysError` for a day outside 1..``max_day`` (checked before any range
    is expanded, so ``1-99999999`` answers at once)."""
    days: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, _, last = part.partition("-")
        start, end = int(first), int(last or first)
        for day in (start, end):
            if not 1 <= day <= max_day:
                raise InvalidDaysError(f"Day {day} is not a day of a month: use 1 to {max_day}.")
        days.extend(range(start, end + 1))
    return days


# ---------------------------------------------------------------------- md, ics
def _md_cell(text: Any) -> str:
    text = html.escape(_text(text), quote=False)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("|", "\\|")
    return text.replace("\n", "<br>")


def _md_row(cells: Iterable[Any]) -> str:
    return "| " + " | ".join(_md_cell(cell) for cell in cells) + " |"


def to_markdown(calendar: Calendar) -> str:
    """The calendar as markdown: heading, run facts, one table row per day, usage."""
    lines = [f"# Content calendar: {calendar.month_name}", ""]
    facts = [
        ("Niche", calendar.niche),
        ("Platform", calendar.platform),
        ("Trends", "; ".join(calendar.trends)),
        ("Model", calendar.model),
        ("Days", f"{len(calendar.days)}/{calendar.days_in_month}"),
    ]
    if calendar.missing_days:
        facts.append(("Missing days", ", ".join(map(str, calendar.missing_days))))
    lines += [f"- **{name}:** {_md_cell(value)}" for name, value in facts if value]
    lines += ["", _md_row(title for _, title in TABLE_COLUMNS)]
    lines.append("| " + " | ".join("--:" if f == "day" else "---" for f, _ in TABLE_COLUMNS) + " |")
    lines += [_md_row(_row_values(plan)) for plan in calendar.days]
    lines += ["", "## Usage", ""]
    if calendar.usage:
        lines += [
            _md_row(USAGE_TABLE_TITLES),
            "| " + " | ".join(["---"] * len(USAGE_TABLE_TITLES)) + " |",
        ]
        lines += [_md_row(u.table_cells()) for u in calendar.usage]
        lines.append("")
    lines.append(
        f"Total: {len(calendar.usage)} calls, {calendar.total_input_tokens:,} input + "
        f"{calendar.total_output_tokens:,} output tokens."
    )
    return "\n".join(lines) + "\n"


def event_description(plan: DayPlan) -> str:
    """The labelled text of a day's calendar event (ics DESCRIPTION, gcal Description)."""
    return "\n".join(
        [
            f"Hook: {plan.hook}",
            f"Caption: {plan.caption}",
            f"Hashtags: {plan.hashtags_text}",
            f"Script:\n{plan.script}",
            f"Video style: {plan.video_style}; audio: {plan.audio}",
            f"Production notes: {plan.production_notes}",
            f"Engagement: {plan.engagement}",
        ]
    )


def event_uid(plan: DayPlan) -> str:
    """A UID that stays the same for the same day and title: re-imports update, not duplicate."""
    digest = hashlib.sha1(plan.title.encode("utf-8")).hexdigest()[:10]
    return f"reelcal-{plan.date.isoformat()}-{digest}@reelcal"


def to_ics(calendar: Calendar) -> bytes:
    """The calendar as an RFC 5545 iCalendar: one all-day event per day."""
    from icalendar import Calendar as ICalendar
    from icalendar import Event

    ical = ICalendar()
    ical.add("prodid", ICS_PRODID)
    ical.add("version", "2.0")
    ical.add("calscale", "GREGORIAN")
    ical.add("x-wr-calname", f"Reels: {calendar.month_name}")
    stamp = _as_utc(calendar.created_at)
    for plan in calendar.days:
        event = Event()
        event.add("uid", event_uid(plan))
        event.add("dtstamp", stamp)
        event.add("dtstart", plan.date)
        event.add("dtend", plan.date + timedelta(days=1))
        event.add("summary", plan.title)
        event.add("description", event_description(plan))
        event.add("categories", [plan.video_style])
        event.add("transp", "TRANSPARENT")
        ical.add_component(event)
    return ical.to_ical()


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


_WRITERS: dict[str, Callable[[Calendar, Path], None]] = {
    "xlsx": _write_xlsx,
    "csv": _write_csv,
    "json": _write_json,
    "md": _write_md,
    "ics": _write_ics,
    "gcal": _write_gcal,
}


# ====================================================================== reading
def load(path: str | Path) -> Calendar:
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


def read_json(text_or_path: str | Path) -> Calendar:
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
        return Calendar.model_validate_json(text)
    except ValidationError as exc:
        raise CalendarFileError(
            f"{source} is not a reelcal calendar: {_first_error(exc)}; "
            "write it with calendar.save('....json')"
        ) from None


def read_csv(path: str | Path) -> Calendar:
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
    plans = _plans_from_rows(path, rows[0], enumerate(rows[1:], start=2))
    return _calendar_from(path, plans, {})


def read_xlsx(path: str | Path) -> Calendar:
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
        plans = _plans_from_rows(path, header, enumerate(rows, start=2))
        info = _read_run_sheet(path, book[RUN_SHEET]) if RUN_SHEET in names else {}
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
) -> list[DayPlan]:
    """DayPlans from spreadsheet rows, columns found by title; blank rows are skipped."""
    position = {}
    for i, title in enumerate(header):
        position.setdefault(_text(title).strip().casefold(), i)
    missing = [title for _, title in TABLE_COLUMNS if title.casefold() not in position]
    if missing:
        raise CalendarFileError(
            f"{source} is missing the column(s) {', '.join(missing)}; its first row must hold "
            f"the titles reelcal writes: {', '.join(title for _, title in TABLE_COLUMNS)}"
        )
    index = {field: position[title.casefold()] for field, title in TABLE_COLUMNS}
    plans = []
    for number, row in rows:
        cells = {field: row[i] if i < len(row) else None for field, i in index.items()}
        if all(_text(value).strip() == "" for value in cells.values()):
            continue
        plans.append(_plan_from_cells(source, number, cells))
    return plans


def _plan_from_cells(source: Path, number: int, cells: dict[str, Any]) -> DayPlan:
    where = f"{source}, row {number}"
    day_text = _text(cells["day"]).strip()
    match = re.fullmatch(r"(?:day\s*)?(\d{1,2})(?:\.0+)?", day_text, re.IGNORECASE)
    if match:
        where += f" (Day {match[1]})"
    elif day_text:
        raise CalendarFileError(f"{where}: Day {day_text!r} is not a day number; write 1-31")
    when = _parse_date(cells["date"])
    if when is None:
        raise CalendarFileError(
            f"{where}: Date {_text(cells['date'])!r} is not a date; write it as YYYY-MM-DD"
        )
    values = {field: _text(value) for field, value in cells.items() if field not in ("day", "date")}
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
        title = _TITLE_OF.get(str(field), str(field))
        if not _text(cells.get(str(field))).strip():
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
        return date.fromisoformat(_text(value).strip()[:10])
    except ValueError:
        return None


def _read_run_sheet(source: Path, sheet: Any) -> dict[str, Any]:
    """Calendar fields from the "Run" sheet: key/value rows, then the usage table."""
    info: dict[str, Any] = {}
    usage: list[UsageRecord] = []
    rows: Iterator[tuple[int, tuple[Any, ...]]] = enumerate(sheet.iter_rows(values_only=True), 1)
    for number, row in rows:
        key, value = (list(row) + [None, None])[:2]
        key = _text(key).strip()
        if key == "Usage":
            usage = _read_usage(source, rows)
            break
        if key in ("model", "niche", "platform"):
            info[key] = _text(value)
        elif key in ("trends", "notes"):
            info[key] = [line.strip() for line in _text(value).splitlines() if line.strip()]
        elif key == "created_at" and isinstance(value, datetime):
            info[key] = value
        elif key == "created_at" and value is not None:
            info[key] = _parse_moment(source, number, value)
        elif key == "month" and value is not None:
            match = re.fullmatch(r"(\d{4})-(\d{1,2})", _text(value).strip())
            if match:
                info["year"], info["month"] = int(match[1]), int(match[2])
    info["usage"] = usage
    return info


def _parse_moment(source: Path, number: int, value: Any) -> datetime:
    try:
        return datetime.fromisoformat(_text(value).strip())
    except ValueError:
        raise CalendarFileError(
            f"{source}, sheet Run, row {number}: created_at {value!r} is not an ISO date-time"
        ) from None


def _read_usage(source: Path, rows: Iterator[tuple[int, tuple[Any, ...]]]) -> list[UsageRecord]:
    header: list[str] = []
    records = []
    for number, row in rows:
        if not header:
            header = [_text(cell).strip() for cell in row]
            continue
        fields = {
            name: value
            for name, value in zip(header, row, strict=False)
            if name in UsageRecord.model_fields and _text(value).strip() != ""
        }
        if not fields or fields.get("role") == "total":
            break
        if "model" in fields:
            fields["model"] = _text(fields["model"])
        try:
            if "days_requested" in fields:
                fields["days_requested"] = expand_days(_text(fields["days_requested"]))
            records.append(UsageRecord(**fields))
        except ValueError as exc:  # pydantic's ValidationError is a ValueError too
            problem = _first_error(exc) if isinstance(exc, ValidationError) else exc
            raise CalendarFileError(
                f"{source}, sheet Run, row {number}: usage {problem}; fix or delete the row"
            ) from None
    return records


def _calendar_from(source: Path, plans: list[DayPlan], info: dict[str, Any]) -> Calendar:
    months = sorted({(plan.date.year, plan.date.month) for plan in plans})
    if len(months) > 1:
        spans = ", ".join(f"{y:04d}-{m:02d}" for y, m in months)
        raise CalendarFileError(f"{source} has dates in several months ({spans}); keep one month")
    if months:
        info = {**info, "year": months[0][0], "month": months[0][1]}
    elif "month" not in info:
        raise CalendarFileError(f"{source} has no day rows and no month; add a row per day")
    try:
        return Calendar(days=plans, **info)
    except ValidationError as exc:
        raise CalendarFileError(
            f"{source}: {_first_error(exc)}; keep one row per day of one month"
        ) from None


# ====================================================================== helpers
def _text(value: Any) -> str:
    """A cell as text: None is "", 5.0 is "5", dates are ISO."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    text = first["msg"].removeprefix("Value error, ")
    return f"{where}: {text}{more}" if where else f"{text}{more}"
