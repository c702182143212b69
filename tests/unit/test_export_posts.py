"""Tests of the exports of scheduled posts: times, the zone, every platform's copy, the
calendar events, and reading them all back."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, time, timedelta, timezone

import icalendar
import openpyxl
import pytest
import vobject

from pipeline.calendar import COLUMN_TITLES, Calendar, DayPlan, UsageRecord
from pipeline.errors import CalendarFileError
from pipeline.outputs.display import calendar_html
from pipeline.outputs.events import speaking_minutes
from pipeline.outputs.ics import to_ics
from pipeline.outputs.schedulers import clock_12h
from pipeline.plans import PlatformCopy
from pipeline.schedule import Post, Schedule, read_slots, read_span

BERLIN = "Europe/Berlin"
OLD_HEADER = ["Day", "Date", *(t for f, t in COLUMN_TITLES.items() if f != "day")]
CLOCKS_CHANGE = date(2027, 3, 28)  # Europe/Berlin goes from +01:00 to +02:00 at 02:00
SPANS = {
    "week": {"week": "2027-W10"},
    "range-across-month-end": {"start": "2027-03-27", "end": "2027-04-05"},
    "range-across-year-end": {"start": "2027-12-27", "end": "2028-01-05"},
}


def _plan(post: Post, platforms: tuple[str, ...]) -> DayPlan:
    copies = {
        key: PlatformCopy(
            caption=f"{key} caption of post {post.number}, with a comma",
            hashtags=f"#{key} #post{post.number}",
            title=f"Shorts title {post.number}" if key == "youtube_shorts" else "",
        )
        for key in platforms[1:]
    }
    return DayPlan(
        day=post.date.day,
        date=post.date,
        time=post.time,
        title=f"Post {post.number}: the AI agent myth",
        hook="You're using AI wrong",
        caption=f"Caption of post {post.number} ✨",
        script="word " * 200,  # 200 words: 2 minutes at 150 words a minute
        video_style="Talking head",
        audio="Original audio",
        hashtags=["#ai", f"#post{post.number}"],
        production_notes="Film by the window.",
        engagement="Ask a question.",
        copies=copies,
    )


def make_posts(
    platforms: tuple[str, ...] = ("instagram", "tiktok"),
    *,
    cadence: str = "mon,wed,fri",
    zone: str = BERLIN,
    **span: str,
) -> Calendar:
    schedule = Schedule.build(
        span=read_span(**(span or {"month": "2027-03"})),
        slots=read_slots(cadence=cadence, times="18:00"),
        timezone=zone,
    )
    return Calendar(
        year=schedule.start.year,
        month=schedule.start.month,
        days=[_plan(post, platforms) for post in schedule.posts],
        schedule=schedule,
        platforms=list(platforms),
        model="openai:gpt-4o",
        created_at=datetime(2027, 2, 20, 9, 30, tzinfo=timezone.utc),
    )


@pytest.fixture
def march() -> Calendar:
    """Mon/Wed/Fri 18:00 Europe/Berlin, March 2027: 14 posts, on Instagram and TikTok."""
    return make_posts()


def _utc_hour(moment: datetime) -> int:
    return moment.astimezone(timezone.utc).hour


# ---------------------------------------------------------------------- ics
def test_ics_events_are_at_18_berlin_in_icalendar_and_vobject(march, tmp_path):
    data = march.save(tmp_path / "march.ics").read_bytes()
    assert march.post_count == 14
    events = list(icalendar.Calendar.from_ical(data).walk("VEVENT"))
    assert len(events) == 28  # 14 posts on 2 platforms
    for event in events:
        start = event["DTSTART"].dt
        assert event["DTSTART"].params["TZID"] == BERLIN
        assert (start.hour, start.minute) == (18, 0)
        assert _utc_hour(start) == (17 if start.date() < CLOCKS_CHANGE else 16)
    read = vobject.readOne(data.decode("utf-8")).vevent_list
    assert [(e.uid.value, e.dtstart.value.astimezone(timezone.utc)) for e in read] == [
        (str(e["UID"]), e["DTSTART"].dt.astimezone(timezone.utc)) for e in events
    ]
    assert [_utc_hour(e.dtstart.value) for e in read].count(16) == 4  # 29 and 31 March, twice
    uids = [str(e["UID"]) for e in events]
    assert uids[:2] == [
        "reelcal-2027-03-01T18:00-instagram@reelcal",  # the primary platform first
        "reelcal-2027-03-01T18:00-tiktok@reelcal",
    ]
    assert len(set(uids)) == 28
    assert "Caption: tiktok caption of post 1" in str(events[1]["DESCRIPTION"])
    assert "Hashtags: #tiktok #post1" in str(events[1]["DESCRIPTION"])
    assert str(events[0]["SUMMARY"]) == "Post 1: the AI agent myth (Instagram Reels)"


def test_ics_event_lasts_as_long_as_its_script_takes_to_say(march):
    event = icalendar.Calendar.from_ical(to_ics(march)).walk("VEVENT")[0]
    assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(minutes=2)


@pytest.mark.parametrize(
    ("words", "minutes"),
    [
        pytest.param(1, 1, id="at-least-one"),
        pytest.param(150, 1, id="exactly-one"),
        pytest.param(151, 2, id="rounds-up"),
        pytest.param(450, 3, id="three"),
    ],
)
def test_speaking_minutes(words, minutes):
    assert speaking_minutes("word " * words) == minutes


def test_ics_uids_stay_when_a_title_changes(march):
    retitled = march.with_days([march.days[3].model_copy(update={"title": "A new idea"})])
    before = list(icalendar.Calendar.from_ical(to_ics(march)).walk("VEVENT"))
    after = list(icalendar.Calendar.from_ical(to_ics(retitled)).walk("VEVENT"))
    assert [str(e["UID"]) for e in before] == [str(e["UID"]) for e in after]
    assert str(after[6]["UID"]) == "reelcal-2027-03-08T18:00-instagram@reelcal"
    assert str(after[6]["SUMMARY"]).startswith("A new idea")
    assert to_ics(march) == to_ics(march)  # the same file each time


def test_ics_vtimezone_is_the_spans_only(march):
    data = to_ics(march)
    zones = list(icalendar.Calendar.from_ical(data).walk("VTIMEZONE"))
    assert [str(z["TZID"]) for z in zones] == [BERLIN]
    starts = [part["DTSTART"].dt for part in zones[0].subcomponents]
    assert sorted(part.name for part in zones[0].subcomponents) == ["DAYLIGHT", "STANDARD"]
    assert all(date(2027, 3, 1) <= s.date() <= date(2027, 4, 1) for s in starts)
    assert b"1970" not in data and b"2038" not in data
    assert b"X-WR-TIMEZONE:Europe/Berlin" in data


def test_ics_clock_change_on_the_spans_last_day_is_in_its_vtimezone():
    """The last post is on the day the clocks change: the VTIMEZONE must still hold it."""
    sunday = make_posts(cadence="sun", start="2027-03-22", end="2027-03-28")
    events = vobject.readOne(to_ics(sunday).decode()).vevent_list
    event = events[0]
    assert event.uid.value == "reelcal-2027-03-28T18:00-instagram@reelcal"
    assert event.dtstart.value.date() == CLOCKS_CHANGE
    assert _utc_hour(event.dtstart.value) == 16


def test_ics_youtube_shorts_title_is_the_summary():
    shorts = make_posts(("instagram", "youtube_shorts"), week="2027-W10")
    events = list(icalendar.Calendar.from_ical(to_ics(shorts)).walk("VEVENT"))
    assert str(events[1]["SUMMARY"]) == "Shorts title 1 (YouTube Shorts)"
    assert str(events[0]["SUMMARY"]) == "Post 1: the AI agent myth (Instagram Reels)"


def test_ics_in_utc_is_plain_utc_without_vtimezone():
    data = to_ics(make_posts(("instagram",), zone="UTC", week="2027-W10"))
    assert b"DTSTART:20270308T180000Z" in data
    assert b"VTIMEZONE" not in data and b"TZID" not in data
    assert b"SUMMARY:Post 1: the AI agent myth\r\n" in data  # one platform: no name added


def test_a_post_without_a_copy_has_no_event_on_that_platform(march):
    bare = march.with_days([march.days[0].model_copy(update={"copies": {}})])
    uids = [str(e["UID"]) for e in icalendar.Calendar.from_ical(to_ics(bare)).walk("VEVENT")]
    assert len(uids) == 27 and "reelcal-2027-03-01T18:00-tiktok@reelcal" not in uids


# ---------------------------------------------------------------------- gcal
def test_gcal_rows_have_start_and_end_times(march, tmp_path):
    with open(march.save(tmp_path / "march.gcal.csv"), encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:6] == [
        "Subject",
        "Start Date",
        "Start Time",
        "End Date",
        "End Time",
        "All Day Event",
    ]
    assert len(rows) == 29
    assert rows[1][1:6] == ["03/01/2027", "06:00 PM", "03/01/2027", "06:02 PM", "False"]
    assert rows[2][0] == "Post 1: the AI agent myth (TikTok)"
    assert rows[-1][1:3] == ["03/31/2027", "06:00 PM"]  # wall-clock time after the change


@pytest.mark.parametrize(
    ("hour", "minute", "text"),
    [(0, 5, "12:05 AM"), (9, 30, "09:30 AM"), (12, 0, "12:00 PM"), (18, 0, "06:00 PM")],
)
def test_clock_12h(hour, minute, text):
    assert clock_12h(datetime(2027, 3, 1, hour, minute)) == text


# ---------------------------------------------------------------------- tables
def test_tables_append_time_zone_and_copy_columns(tmp_path):
    three = make_posts(("instagram", "tiktok", "youtube_shorts"), week="2027-W10")
    with open(three.save(tmp_path / "week.csv"), encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    copy_titles = ["TikTok Caption", "TikTok Hashtags"]
    copy_titles += ["YouTube Shorts Caption", "YouTube Shorts Hashtags", "YouTube Shorts Title"]
    assert rows[0] == [*OLD_HEADER, "Time", "Time Zone", *copy_titles]
    assert rows[1][len(OLD_HEADER) :] == [
        "18:00",
        BERLIN,
        "tiktok caption of post 1, with a comma",
        "#tiktok #post1",
        "youtube_shorts caption of post 1, with a comma",
        "#youtube_shorts #post1",
        "Shorts title 1",
    ]
    text = three.save(tmp_path / "week.md").read_text(encoding="utf-8")
    assert text.startswith("# Content calendar: Week 10 of 2027 (8 to 14 March 2027)\n")
    assert "- **Posts:** 3/3" in text and "- **Time zone:** Europe/Berlin" in text
    assert "| Time | Time Zone | TikTok Caption |" in text


@pytest.mark.parametrize("ext", ["csv", "xlsx", "json"])
@pytest.mark.parametrize("span", list(SPANS))
def test_posts_read_back_equal(tmp_path, span, ext):
    posts = make_posts(("instagram", "tiktok", "youtube_shorts"), **SPANS[span])
    back = Calendar.load(posts.save(tmp_path / f"posts.{ext}"))
    assert back.days == posts.days  # times and copies
    assert back.platforms == posts.platforms
    assert back.is_complete
    if ext == "csv":  # a csv has no span: an equivalent one is implied from its rows
        assert [p.key for p in back.schedule.posts] == [p.key for p in posts.schedule.posts]
        assert back.schedule.timezone == BERLIN
    else:
        assert back.schedule == posts.schedule
        assert back == posts


def test_csv_implies_a_month_from_rows_of_a_whole_month(march, tmp_path):
    daily = make_posts(cadence="mon,tue,wed,thu,fri,sat,sun", month="2027-03")
    back = Calendar.from_csv(daily.save(tmp_path / "daily.csv"))
    assert back.schedule == daily.schedule and back.schedule.daily_month
    # Mon/Wed/Fri rows of March 2027 run from Monday 1 to Wednesday 31: the month again
    assert Calendar.from_csv(march.save(tmp_path / "march.csv")).schedule == march.schedule
    # without its first post, the rows run from 3 to 31 March: a range
    later = Calendar.from_csv(
        march.model_copy(update={"days": march.days[1:]}).save(tmp_path / "later.csv")
    )
    assert later.schedule.kind == "range" and later.schedule.keys == march.schedule.keys[1:]


def test_csv_names_the_primary_platform_it_can_infer(tmp_path):
    tiktok_first = make_posts(("tiktok", "instagram"), week="2027-W10")
    back = Calendar.from_csv(tiktok_first.save(tmp_path / "week.csv"))
    assert back.platforms == ["tiktok", "instagram"] and back.days == tiktok_first.days


def test_xlsx_time_column_holds_time_cells_and_the_run_sheet_the_schedule(march, tmp_path):
    path = march.save(tmp_path / "march.xlsx")
    book = openpyxl.load_workbook(path, data_only=True)  # values, as a spreadsheet shows them
    sheet = book["Content Calendar"]
    header = [c.value for c in sheet[1]]
    assert header[-4:] == ["Time", "Time Zone", "TikTok Caption", "TikTok Hashtags"]
    time_cell = sheet.cell(row=2, column=header.index("Time") + 1)
    assert time_cell.value == time(18, 0) and time_cell.number_format == "hh:mm"
    assert sheet.cell(row=2, column=header.index("Time Zone") + 1).value == BERLIN
    run = {row[0]: row[1] for row in book["Run"].iter_rows(values_only=True) if row[0]}
    assert run["platforms"] == "instagram, tiktok"
    assert Schedule.model_validate_json(run["schedule"]) == march.schedule
    assert run["posts"] == "14/14" and run["span"] == "March 2027"


def test_xlsx_usage_keeps_the_posts_requested(march, tmp_path):
    call = UsageRecord(
        role="main",
        model="openai:gpt-4o",
        days_requested=[1, 2],
        prompt_tokens=100,
        max_tokens=200,
        posts_requested=["2027-03-01T18:00", "2027-03-03T18:00"],
    )
    with_usage = march.model_copy(update={"usage": [call]})
    assert Calendar.from_xlsx(with_usage.save(tmp_path / "usage.xlsx")) == with_usage


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("18:00:00", id="seconds"),
        pytest.param("6:00 PM", id="12-hour"),
        pytest.param("6:00:00 PM", id="12-hour-seconds"),
        pytest.param(time(18, 0), id="time-cell"),
        pytest.param(datetime(1899, 12, 30, 18, 0), id="date-time-cell"),
        pytest.param(0.75, id="time-cell-lost-its-format"),
    ],
)
def test_xlsx_time_cells_edited_in_a_spreadsheet_read_as_hh_mm(march, tmp_path, value):
    path = march.save(tmp_path / "march.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["Content Calendar"]
    column = [c.value for c in sheet[1]].index("Time") + 1
    sheet.cell(row=2, column=column).value = value
    book.save(path)
    assert Calendar.from_xlsx(path).days[0].time == "18:00"


def _edit_csv(path, row: int, title: str, value: str) -> None:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[row - 1][rows[0].index(title)] = value
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


@pytest.mark.parametrize("value", ["18:00:00", "6:00 PM", "6 pm"])
def test_csv_time_cells_edited_in_a_spreadsheet_read_as_hh_mm(march, tmp_path, value):
    path = march.save(tmp_path / "march.csv")
    _edit_csv(path, 3, "Time", value)
    assert Calendar.from_csv(path).days[1].time == "18:00"


@pytest.mark.parametrize(
    ("title", "value", "message"),
    [
        pytest.param(
            "Time", "25:00", r"march\.csv, row 3 \(Day 3\): Time '25:00' is not a time", id="time"
        ),
        pytest.param(
            "Time", "", r"march\.csv, row 3: Time is empty; fill in the post's time", id="blank"
        ),
        pytest.param(
            "Time Zone",
            "Europe/Berln",
            r"march\.csv, row 3: Time Zone: Unknown time zone 'Europe/Berln' \(did you mean",
            id="zone",
        ),
        pytest.param(
            "Time Zone", "UTC", r"march\.csv has several time zones .*; keep one", id="two-zones"
        ),
        pytest.param(
            "TikTok Caption",
            "",
            r"row 3 \(Day 3\): TikTok Caption is empty; fill in the cell",
            id="copy-caption",
        ),
    ],
)
def test_csv_bad_cells_name_file_row_and_column(march, tmp_path, title, value, message):
    path = march.save(tmp_path / "march.csv")
    _edit_csv(path, 3, title, value)
    with pytest.raises(CalendarFileError, match=message):
        Calendar.from_csv(path)


# ---------------------------------------------------------------------- legacy months
def _legacy_month() -> Calendar:
    """A month written before posts had times: no schedule, one post a day, no time."""
    posts = Schedule.for_month("2026-03").posts
    days = [_plan(p, ("instagram",)).model_copy(update={"time": ""}) for p in posts]
    return Calendar(year=2026, month=3, days=days)


def test_legacy_month_keeps_its_columns_plus_time_and_all_day_events(tmp_path):
    legacy = _legacy_month()
    with open(legacy.save(tmp_path / "old.csv"), encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [*OLD_HEADER, "Time", "Time Zone"]
    assert rows[1][-2:] == ["", ""]
    back = Calendar.from_csv(tmp_path / "old.csv")
    assert back.schedule is None and back.days == legacy.days and back.is_complete
    events = list(icalendar.Calendar.from_ical(to_ics(legacy)).walk("VEVENT"))
    assert len(events) == 31
    assert type(events[0]["DTSTART"].dt) is date
    assert str(events[0]["UID"]) == "reelcal-2026-03-01-instagram@reelcal"
    with open(legacy.save(tmp_path / "old.gcal.csv"), encoding="utf-8", newline="") as fh:
        gcal = list(csv.reader(fh))
    assert gcal[1][1:6] == ["03/01/2026", "", "03/01/2026", "", "True"]
    page = calendar_html(legacy)
    assert "<b>March 2026</b>" in page and "31/31 days" in page


def test_json_written_before_times_and_copies_still_loads():
    old = _legacy_month().model_dump(mode="json")
    for day in old["days"]:
        del day["time"], day["copies"]
    del old["schedule"], old["platforms"]
    back = Calendar.from_json(json.dumps(old))
    assert back.schedule is None and back.platforms == ["instagram"]
    assert back.days[0].time == "" and back.days[0].copies == {} and back.is_complete


# ---------------------------------------------------------------------- display
def test_html_names_the_span_zone_and_shows_times_beside_dates(march):
    page = calendar_html(march)
    assert "<b>March 2027</b> &middot; Europe/Berlin &middot; 14/14 posts" in page
    assert '<span class="rc-nowrap">2027-03-03 18:00</span>' in page
    assert "<th>Time</th>" not in page and "<th>TikTok Caption</th>" in page
    partial = march.model_copy(update={"days": march.days[2:]})
    assert "Missing posts: 2027-03-01 18:00, 2027-03-03 18:00" in calendar_html(partial)
