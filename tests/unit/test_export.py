"""Tests of pipeline.outputs: every format written, read back where it can be, and the errors."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import icalendar
import openpyxl
import pandas as pd
import pytest

from pipeline.calendar import COLUMN_TITLES, Calendar, DayPlan, UsageRecord
from pipeline.dates import compact_days, expand_days
from pipeline.errors import CalendarFileError
from pipeline.outputs import formats

HEADER = ["Day", "Date", *(t for f, t in COLUMN_TITLES.items() if f != "day"), "Time", "Time Zone"]

# Text that breaks naive writers: separators, quotes, newlines, pipes, emoji, non-ASCII,
# a formula-looking cell, HTML.
NASTY = {
    1: {"title": 'Stop scrolling, "seriously"', "hook": "=SUM(A1)"},
    2: {"caption": "Pipes | inside | captions\nand a second line, with commas"},
    3: {
        "script": 'Line one, "quoted"\nLine two | piped\n\nLine four 🎬🔥 café naïve 日本語'
        "\n\tindented, with a 'single' quote"
    },
    4: {"title": "<b>bold</b> & <script>alert(1)</script>", "audio": "+1 trending sound"},
    5: {"production_notes": "-5 dB on music; @mention the editor\ttab"},
}


def _plan(year: int, month: int, day: int) -> DayPlan:
    fields = {
        "title": f"Reel {day}: the AI agent myth, part {day}",
        "hook": f"You're using AI wrong (day {day})",
        "caption": f"Day {day} caption — save this for later ✨",
        "script": " ".join(f"Sentence {i} of day {day}, with a comma." for i in range(1, 30)),
        "video_style": "Talking head",
        "audio": "Original audio",
        "hashtags": ["#ai", "#agents", f"#day{day}"],
        "production_notes": "Film by the window; captions on.",
        "engagement": "Ask: which tool do you use? Pin the best answer.",
    }
    fields.update(NASTY.get(day, {}))
    return DayPlan(day=day, date=date(year, month, day), **fields)


def make_calendar(year: int = 2026, month: int = 3, days: int = 31) -> Calendar:
    return Calendar(
        year=year,
        month=month,
        days=[_plan(year, month, d) for d in range(1, days + 1)],
        usage=[
            UsageRecord(
                role="main",
                model="openai:gpt-4o",
                days_requested=list(range(1, 32)),
                prompt_tokens=3010,
                max_tokens=16000,
                input_tokens=3050,
                output_tokens=12000,
                finish_reason="length",
                days_parsed=28,
                seconds=41.25,
            ),
            UsageRecord(
                role="supplement",
                model="openai:gpt-4o",
                days_requested=[29, 30, 31],
                prompt_tokens=1500,
                max_tokens=2400,
                finish_reason="stop",
                days_parsed=3,
                round=1,
                error='retried once, "rate limit"',
            ),
        ],
        niche="AI tools for small businesses, café owners",
        trends=["AI agents", "Faceless | reels", "=trend"],
        model="openai:gpt-4o",
        notes=["read 'march' as March 2026"],
        created_at=datetime(2026, 2, 20, 9, 30, 15, 123456, tzinfo=timezone.utc),
    )


@pytest.fixture
def cal() -> Calendar:
    return make_calendar()


# ---------------------------------------------------------------------- formats
@pytest.mark.parametrize(
    ("name", "fmt", "expected"),
    [
        pytest.param("a.xlsx", None, "xlsx", id="xlsx"),
        pytest.param("a.CSV", None, "csv", id="upper-case-suffix"),
        pytest.param("a.gcal.csv", None, "gcal", id="gcal-by-name"),
        pytest.param("a.csv", "gcal", "gcal", id="gcal-by-format"),
        pytest.param("a.txt", "md", "md", id="format-wins"),
        pytest.param("a.ics", None, "ics", id="ics"),
    ],
)
def test_resolve_format(name, fmt, expected):
    assert formats.resolve_format(Path(name), fmt) == expected


def test_unknown_suffix_names_it_and_the_valid_formats(cal, tmp_path):
    with pytest.raises(CalendarFileError, match=r"'\.docx'.*xlsx.*gcal"):
        cal.save(tmp_path / "march.docx")
    with pytest.raises(CalendarFileError, match=r"'pdf'.*xlsx, csv, json, md, ics, gcal"):
        cal.save(tmp_path / "march.csv", format="pdf")
    assert list(tmp_path.iterdir()) == []


def test_save_creates_parent_directory(cal, tmp_path):
    target = tmp_path / "out" / "deeper" / "march.json"
    assert cal.save(target) == target
    assert target.is_file()


# ---------------------------------------------------------------------- xlsx
def test_xlsx_layout(cal, tmp_path):
    path = cal.save(tmp_path / "march.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Content Calendar", "Run"]
    sheet = book["Content Calendar"]
    assert [c.value for c in sheet[1]] == HEADER
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:M32"
    assert sheet.max_row == 32
    header = sheet["A1"]
    assert header.font.b and header.font.color.rgb.endswith("FFFFFF")
    assert header.fill.fill_type == "solid"
    date_cell = sheet["B13"]
    assert date_cell.is_date and date_cell.number_format == "yyyy-mm-dd"
    assert date_cell.value.date() == date(2026, 3, 12)
    widths = {c: sheet.column_dimensions[c].width for c in "ABCDEFGHIJK"}
    assert widths["F"] == max(widths.values())  # the script column is widest
    assert all(w >= 5 for w in widths.values())
    script_cell = sheet["F4"]
    assert script_cell.alignment.wrap_text and script_cell.alignment.vertical == "top"


def test_xlsx_formula_looking_text_stays_text(cal, tmp_path):
    path = cal.save(tmp_path / "march.xlsx")
    cell = openpyxl.load_workbook(path)["Content Calendar"]["D2"]  # Day 1, Hook Cover Text
    assert cell.data_type == "s"
    assert cell.value == "=SUM(A1)"
    assert Calendar.from_xlsx(path).day(1).hook == "=SUM(A1)"


def test_xlsx_run_sheet_has_metadata_usage_and_no_secrets(cal, tmp_path):
    path = cal.save(tmp_path / "march.xlsx")
    run = openpyxl.load_workbook(path)["Run"]
    values = [[c for c in row if c is not None] for row in run.iter_rows(values_only=True)]
    values = [row for row in values if row]
    keys = [row[0] for row in values]
    for key in ("month", "model", "niche", "trends", "platform", "created_at", "notes", "Usage"):
        assert key in keys
    assert ["month", "2026-03"] in values
    usage_head = values[keys.index("Usage") + 1]
    assert usage_head[:3] == ["role", "model", "days_requested"]
    assert values[keys.index("Usage") + 2][:3] == ["main", "openai:gpt-4o", "1-31"]
    totals = next(row for row in values if row[0] == "total")
    assert 3050 + 1500 in totals and 12000 in totals
    text = " ".join(str(c) for row in values for c in row).lower()
    assert "api_key" not in text and "password" not in text


@pytest.mark.parametrize(
    ("days", "text"),
    [
        pytest.param(list(range(1, 32)), "1-31", id="month"),
        pytest.param([1, 2, 5, 7, 8, 9, 12], "1, 2, 5, 7-9, 12", id="runs"),
        pytest.param([9, 3, 4, 5, 3], "9, 3-5, 3", id="order-kept"),
        pytest.param([], "", id="none"),
    ],
)
def test_compact_days_round_trip(days, text):
    assert compact_days(days) == text
    assert expand_days(text) == days


def test_xlsx_round_trip_is_equal(cal, tmp_path):
    path = cal.save(tmp_path / "march.xlsx")
    assert Calendar.from_xlsx(path) == cal
    assert Calendar.load(path) == cal


def test_xlsx_accepts_edited_cells(cal, tmp_path):
    path = cal.save(tmp_path / "march.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["Content Calendar"]
    sheet["C6"] = "A better title, edited by hand"
    sheet["I6"] = "#edited #byhand"
    book.save(path)
    back = Calendar.from_xlsx(path)
    assert back.day(5).title == "A better title, edited by hand"
    assert back.day(5).hashtags == ["#edited", "#byhand"]
    assert back.day(6) == cal.day(6)


def test_xlsx_empty_title_names_row_day_and_field(cal, tmp_path):
    path = cal.save(tmp_path / "march.xlsx")
    book = openpyxl.load_workbook(path)
    book["Content Calendar"]["C6"] = None
    book.save(path)
    expected = r"march\.xlsx, row 6 \(Day 5\): Reel Title is empty"
    with pytest.raises(CalendarFileError, match=expected):
        Calendar.from_xlsx(path)


def test_partial_calendar_round_trips_through_xlsx(tmp_path):
    partial = make_calendar().model_copy(update={"days": make_calendar().days[:10]})
    path = partial.save(tmp_path / "partial.xlsx")
    back = Calendar.from_xlsx(path)
    assert back == partial and back.missing_days == list(range(11, 32))


# ---------------------------------------------------------------------- csv
def test_csv_is_rfc4180_utf8_without_bom(cal, tmp_path):
    raw = cal.save(tmp_path / "march.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.startswith(("Day,Date," + ",".join(HEADER[2:]) + "\r\n").encode())
    assert "🎬".encode() in raw and "日本語".encode() in raw


def test_csv_cells_identical_through_csv_and_pandas(cal, tmp_path):
    path = cal.save(tmp_path / "march.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    frame = pd.read_csv(path, keep_default_na=False, dtype=str, encoding="utf-8")
    assert rows[0] == HEADER == list(frame.columns)
    assert len(rows) == 32
    assert rows[1:] == frame.values.tolist()
    assert rows[3][5] == cal.day(3).script  # newlines, quotes, pipes, emoji intact
    assert rows[1][3] == "=SUM(A1)"
    assert rows[1][8] == "#ai #agents #day1"


def test_csv_round_trip_keeps_the_days(cal, tmp_path):
    back = Calendar.from_csv(cal.save(tmp_path / "march.csv"))
    assert (back.year, back.month) == (2026, 3)
    assert back.days == cal.days


def test_csv_with_missing_column_names_file_and_column(cal, tmp_path):
    path = cal.save(tmp_path / "march.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    drop = rows[0].index("Hook Cover Text")
    broken = tmp_path / "broken.csv"
    with open(broken, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([r[:drop] + r[drop + 1 :] for r in rows])
    expected = r"broken\.csv is missing the column\(s\) Hook Cover Text;"
    with pytest.raises(CalendarFileError, match=expected):
        Calendar.from_csv(broken)


def test_csv_edited_in_a_spreadsheet_is_read(cal, tmp_path):
    """A BOM, ';' separators, reordered columns and a blank row, as spreadsheets save them."""
    path = cal.save(tmp_path / "march.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows = [list(reversed(r)) for r in rows]
    rows.insert(5, [""] * len(rows[0]))
    edited = tmp_path / "edited.csv"
    with open(edited, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows(rows)
    assert Calendar.from_csv(edited).days == cal.days


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        pytest.param(2, "", r"row 6 \(Day 5\): Reel Title is empty", id="empty-title"),
        pytest.param(1, "5 March", r"row 6 \(Day 5\): Date '5 March' is not a date", id="bad-date"),
        pytest.param(
            1,
            "2026-03-06",
            r"row 6 \(Day 5\): date 2026-03-06 does not fall on day 5",
            id="day-date-disagree",
        ),
        pytest.param(0, "five", r"row 6: Day 'five' is not a day number", id="bad-day"),
        pytest.param(
            0,
            "45",
            r"row 6 \(Day 45\): Day: Input should be less .*; correct the cell",
            id="day-45",
        ),
    ],
)
def test_csv_invalid_cells_name_row_and_field(cal, tmp_path, column, value, message):
    path = cal.save(tmp_path / "march.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[5][column] = value
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with pytest.raises(CalendarFileError, match=message):
        Calendar.from_csv(path)


# ---------------------------------------------------------------------- json
def test_json_round_trip_from_path_and_text(cal, tmp_path):
    path = cal.save(tmp_path / "march.json")
    assert Calendar.from_json(path) == cal
    assert Calendar.from_json(str(path)) == cal
    assert Calendar.from_json(path.read_text(encoding="utf-8")) == cal
    assert Calendar.load(path) == cal


def test_json_errors_are_calendar_file_errors(tmp_path):
    with pytest.raises(CalendarFileError, match="neither an existing file nor calendar JSON"):
        Calendar.from_json(str(tmp_path / "nope.json"))
    with pytest.raises(CalendarFileError, match="is not a reelcal calendar"):
        Calendar.from_json('{"year": 2026}')


def test_load_refuses_export_only_formats(cal, tmp_path):
    for name in ("march.md", "march.ics", "march.gcal.csv"):
        path = cal.save(tmp_path / name)
        with pytest.raises(CalendarFileError, match="export-only; reelcal reads back .json, .csv"):
            Calendar.load(path)
    with pytest.raises(CalendarFileError, match="unknown suffix '.txt'"):
        Calendar.load(tmp_path / "march.txt")


# ---------------------------------------------------------------------- md, ics, gcal
def test_markdown_has_one_row_per_day_and_escapes_pipes(cal, tmp_path):
    text = cal.save(tmp_path / "march.md").read_text(encoding="utf-8")
    assert text.startswith("# Content calendar: March 2026\n")
    rows = [line for line in text.splitlines() if line.startswith("| ") and line[2:3].isdigit()]
    day_rows = [line for line in rows if line.split(" | ")[1].startswith("2026-")]
    assert len(day_rows) == 31
    day2 = day_rows[1]
    assert "Pipes \\| inside \\| captions<br>and a second line" in day2
    assert day2.count(" | ") == len(HEADER) - 1  # escaped pipes do not add columns
    assert "&lt;script&gt;" in day_rows[3]
    assert "## Usage" in text and "Total: 2 calls" in text


def test_ics_has_one_all_day_event_per_day(cal, tmp_path):
    parsed = icalendar.Calendar.from_ical(cal.save(tmp_path / "march.ics").read_bytes())
    assert str(parsed["PRODID"]) == "-//reelcal//content calendar//EN"
    assert str(parsed["VERSION"]) == "2.0"
    assert "March 2026" in str(parsed["X-WR-CALNAME"])
    events = list(parsed.walk("VEVENT"))
    assert len(events) == 31
    for day, event in enumerate(events, start=1):
        start, end = event["DTSTART"].dt, event["DTEND"].dt
        assert type(start) is date and start == date(2026, 3, day)
        assert end == start + timedelta(days=1)
        assert str(event["SUMMARY"]) == cal.day(day).title
        assert event["DTSTAMP"].dt.tzinfo is not None
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == 31
    assert uids[11].startswith("reelcal-2026-03-12-") and uids[11].endswith("@reelcal")
    description = str(events[2]["DESCRIPTION"])
    assert "Hook: " in description and "Production notes: " in description
    assert cal.day(3).script in description
    assert [str(c) for c in events[0].categories] == ["Talking head"]


def test_ics_uid_is_stable_across_writes(cal, tmp_path):
    first = cal.save(tmp_path / "a.ics").read_bytes()
    second = cal.save(tmp_path / "b.ics").read_bytes()
    assert first == second


def test_gcal_csv_of_a_month_without_times_has_all_day_rows(cal, tmp_path):
    path = cal.save(tmp_path / "march.gcal.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [
        "Subject",
        "Start Date",
        "Start Time",
        "End Date",
        "End Time",
        "All Day Event",
        "Description",
    ]
    assert len(rows) == 32
    assert rows[1][:6] == [
        'Stop scrolling, "seriously"',
        "03/01/2026",
        "",
        "03/01/2026",
        "",
        "True",
    ]
    assert rows[12][1] == "03/12/2026"
    assert cal.day(3).script in rows[3][6]


# ---------------------------------------------------------------------- atomic writes
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_failed_write_leaves_old_file_intact(cal, tmp_path, monkeypatch, fmt):
    path = cal.save(tmp_path / f"march.{fmt}")
    before = path.read_bytes()

    def broken_writer(calendar, tmp):
        tmp.write_bytes(b"half a file")
        raise RuntimeError("disk full mid-way")

    monkeypatch.setitem(formats._WRITERS, fmt, broken_writer)
    with pytest.raises(RuntimeError, match="mid-way"):
        cal.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left


def test_overwrite_replaces_content(cal, tmp_path):
    path = cal.save(tmp_path / "march.json")
    smaller = cal.model_copy(update={"days": cal.days[:3]})
    smaller.save(path)
    assert len(Calendar.from_json(path).days) == 3


def _with_outline(calendar: Calendar) -> Calendar:
    from pipeline.calendar import OutlineDay

    lines = [
        OutlineDay(
            day=p.day,
            title=p.title,
            pillar=("Education", "Proof")[p.day % 2],
            format="Myth vs Fact",
            series="Myth Monday" if p.day % 7 == 2 else "",
            uses="AI agents" if p.day % 3 == 0 else "",
        )
        for p in calendar.days
        if p.day != 5  # a day without a line gets blank cells
    ]
    return calendar.model_copy(update={"outline": lines})


def test_the_outline_is_exported_as_columns_and_read_back(cal, tmp_path):
    outlined = _with_outline(cal)
    titles = ["Pillar", "Format", "Series", "Uses"]
    for ext, read in (("csv", Calendar.from_csv), ("xlsx", Calendar.from_xlsx)):
        path = outlined.save(tmp_path / f"outlined.{ext}")
        back = read(path)
        assert back.days == outlined.days and back.outline == outlined.outline, ext
    header = (tmp_path / "outlined.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.endswith(",".join([*titles, "Time", "Time Zone"]))
    sheet = openpyxl.load_workbook(tmp_path / "outlined.xlsx")["Content Calendar"]
    assert [c.value for c in sheet[1]][-6:-2] == titles
    assert sheet.cell(row=6, column=len(COLUMN_TITLES) + 2).value in (None, "")  # day 5
    assert Calendar.from_json(outlined.to_json()).outline == outlined.outline
    assert "| Pillar | Format | Series | Uses |" in (outlined.save(tmp_path / "o.md")).read_text()
    assert "<th>Pillar</th>" in outlined._repr_html_()
    assert list(outlined.to_dataframe().columns)[-6:-2] == titles
    # a calendar without an outline keeps the day columns only
    assert "Pillar" not in cal.save(tmp_path / "plain.csv").read_text(encoding="utf-8")


def test_rule_breaks_are_structured_and_old_text_files_still_read(cal, tmp_path):
    notes = [
        {"day": 3, "reason": "hook has 12 words: at most 8", "kept": False},
        {"day": 4, "reason": "title 'A' repeats 'B': pick a new idea", "kept": True},
    ]
    usage = cal.usage[0].model_copy(update={"rule_breaks": notes})
    with_notes = cal.model_copy(update={"usage": [usage]})
    for name in ("notes.json", "notes.xlsx"):
        back = Calendar.load(with_notes.save(tmp_path / name))
        assert back.usage[0].rule_breaks == notes, name
    # JSON written before breaks were structured held "Day N: why" lines
    old = with_notes.model_dump(mode="json")
    old["usage"][0]["rule_breaks"] = ["Day 3: hook has 12 words: at most 8", "Day 4 (kept): x"]
    read = Calendar.from_json(json.dumps(old))
    assert read.usage[0].rule_breaks == [notes[0], {"day": 4, "reason": "x", "kept": True}]
    assert "1 not kept by the content rules" in read.usage[0].summary()
