"""Tests for pipeline.schedule: spans, posting slots, time zones, the posts and their names.

Every expected date, time and count below can be checked on a wall calendar: 8 March 2027
is the Monday of ISO week 10; Europe/Berlin goes from UTC+1 to UTC+2 at 02:00 on Sunday
28 March 2027; America/New_York goes back from 02:00 EDT to 01:00 EST on 7 November 2027.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from pipeline.errors import ScheduleError
from pipeline.schedule import (
    MAX_POSTS,
    MAX_SPAN_DAYS,
    WEEKDAYS,
    Schedule,
    Span,
    key_date,
    parse_time,
    read_slots,
    read_span,
    read_timezone,
)

UTC = dt.timezone.utc
DAILY = {day: ["18:00"] for day in WEEKDAYS}


def build(slots: dict[str, list[str]] | None = None, zone: str = "UTC", **span) -> Schedule:
    return Schedule.build(span=read_span(**span), slots=slots or DAILY, timezone=zone)


def utc_clock(post) -> str:
    return f"{post.start.astimezone(UTC):%H:%M}"


# --- spans ---------------------------------------------------------------------------------


def test_an_iso_week_runs_monday_to_sunday():
    schedule = build(week="2027-W10")
    assert (schedule.kind, schedule.start, schedule.end) == (
        "week",
        dt.date(2027, 3, 8),
        dt.date(2027, 3, 14),
    )
    assert schedule.keys == [f"2027-03-{day:02d}T18:00" for day in range(8, 15)]
    assert schedule.name == "Week 10 of 2027 (8 to 14 March 2027)"


def test_a_ten_day_range_across_a_month_end():
    schedule = build(start="2027-03-28", end="2027-04-06")
    assert schedule.count == 10
    assert [key_date(k).day for k in schedule.keys] == [28, 29, 30, 31, 1, 2, 3, 4, 5, 6]
    assert schedule.name == "28 March to 6 April 2027"
    assert [m.key for m in schedule.months()] == ["2027-03", "2027-04"]


def test_a_range_across_a_year_end_and_its_new_years_day():
    schedule = build(start="2026-12-28", end="2027-01-06")
    assert schedule.count == 10
    assert (schedule.keys[0], schedule.keys[-1]) == ("2026-12-28T18:00", "2027-01-06T18:00")
    assert schedule.name == "28 December 2026 to 6 January 2027"
    assert [m.key for m in schedule.months()] == ["2026-12", "2027-01"]
    found = schedule.special_dates(country="US")
    assert dt.date(2027, 1, 1) in {s.date for s in found if s.name == "New Year's Day"}
    assert all(schedule.start <= s.date <= schedule.end for s in found)


def test_a_week_across_a_year_end_is_named_with_both_years():
    schedule = build(week="2026-W53")
    assert (schedule.start, schedule.end) == (dt.date(2026, 12, 28), dt.date(2027, 1, 3))
    assert schedule.name == "Week 53 of 2026 (28 December 2026 to 3 January 2027)"


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        pytest.param(
            {"month": "March 2027"},
            Span("month", dt.date(2027, 3, 1), dt.date(2027, 3, 31)),
            id="month",
        ),
        pytest.param(
            {"week": "2027w1"},
            Span("week", dt.date(2027, 1, 4), dt.date(2027, 1, 10)),
            id="week-compact",
        ),
        pytest.param(
            {"start": "2027-03-05"},
            Span("range", dt.date(2027, 3, 5), dt.date(2027, 3, 5)),
            id="start-only",
        ),
        pytest.param(
            {"start": dt.date(2027, 1, 1), "end": dt.datetime(2027, 3, 3, 9)},
            Span("range", dt.date(2027, 1, 1), dt.date(2027, 3, 3)),
            id="longest-range-from-date-objects",
        ),
    ],
)
def test_read_span_accepts(span, expected):
    assert read_span(**span) == expected


# --- slots and time zones ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18:00", "18:00"),
        ("6pm", "18:00"),
        ("9:30 am", "09:30"),
        ("7", "07:00"),
        ("12am", "00:00"),
        ("12 PM", "12:00"),
        (" 0:05 ", "00:05"),
        ("23:59", "23:59"),
    ],
)
def test_parse_time_accepts(text, expected):
    assert parse_time(text) == expected


@given(hour=st.integers(0, 23), minute=st.integers(0, 59))
def test_parse_time_reads_every_24_hour_clock_time(hour, minute):
    assert parse_time(f"{hour}:{minute:02d}") == f"{hour:02d}:{minute:02d}"


def test_posts_per_week_three_is_monday_wednesday_friday():
    assert read_slots(posts_per_week=3) == {d: ["18:00"] for d in ("mon", "wed", "fri")}
    assert read_slots(posts_per_week=7, times="9am") == {d: ["09:00"] for d in WEEKDAYS}


@given(count=st.integers(1, 7))
def test_posts_per_week_gives_that_many_weekdays_from_monday(count):
    slots = read_slots(posts_per_week=count)
    assert len(slots) == count and "mon" in slots


def test_slot_forms_are_read_alike():
    expected = {"mon": ["18:00"], "wed": ["12:00", "19:00"]}
    assert read_slots(posting_slots={"Monday": "6pm", "WED": ["19:00", "12:00", "7pm"]}) == expected
    assert read_slots(cadence="fri, mon", times=["18:00"]) == {"mon": ["18:00"], "fri": ["18:00"]}
    assert read_slots() == DAILY


def test_two_slots_a_day():
    schedule = build(
        {d: ["09:00", "18:00"] for d in WEEKDAYS}, start="2027-03-01", end="2027-03-03"
    )
    assert schedule.keys == [
        f"2027-03-0{day}T{clock}" for day in (1, 2, 3) for clock in ("09:00", "18:00")
    ]
    assert schedule.numbers_on(dt.date(2027, 3, 2)) == [3, 4]
    assert schedule.find("2027-03-02") is None  # two posts that day: a bare date is not enough
    assert schedule.number_of("2027-03-02") == 3  # ... but names its first
    assert schedule.name_of(4) == "Post 4 (Tuesday 2 March 2027, 18:00)"


def test_mon_wed_fri_in_berlin_march_2027_follow_summer_time():
    schedule = build(
        read_slots(cadence="Mon,Wed,Fri", times="18:00"), "Europe/Berlin", month="March 2027"
    )
    assert schedule.count == 14
    assert {p.key[11:] for p in schedule.posts} == {"18:00"}
    before = [p for p in schedule.posts if p.date < dt.date(2027, 3, 28)]
    after = [p for p in schedule.posts if p.date > dt.date(2027, 3, 28)]
    assert (len(before), len(after)) == (12, 2)
    assert {utc_clock(p) for p in before} == {"17:00"}
    assert {utc_clock(p) for p in after} == {"16:00"}
    assert schedule.notes == []


def test_a_slot_in_the_spring_forward_gap_moves_forward_by_the_gap():
    schedule = build(
        read_slots(times="02:30"), "Europe/Berlin", start="2027-03-27", end="2027-03-29"
    )
    assert schedule.keys == ["2027-03-27T02:30", "2027-03-28T03:30", "2027-03-29T02:30"]
    moved = schedule.posts[1]
    assert moved.start == dt.datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # 02:30 read at UTC+1
    assert moved.note == schedule.notes[0]
    assert "02:30" in moved.note and "2027-03-28" in moved.note and "03:30" in moved.note
    assert len(schedule.notes) == 1


def test_the_ambiguous_fall_back_time_stays_and_is_its_first_occurrence():
    schedule = build(read_slots(times="01:30"), "America/New_York", start="2027-11-07")
    (post,) = schedule.posts
    assert (post.key, post.note) == ("2027-11-07T01:30", None)
    assert post.start.astimezone(UTC) == dt.datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # EDT


@pytest.mark.parametrize("later", ["03:00", "03:30"], ids=["out-of-order", "duplicate"])
def test_slots_around_the_gap_keep_keys_unique_and_sorted(later):
    schedule = build({"sun": ["02:30", later]}, "Europe/Berlin", start="2027-03-28")
    assert schedule.keys == sorted(set(schedule.keys))


def test_read_timezone():
    assert read_timezone("Europe/Berlin ") == "Europe/Berlin"
    assert read_timezone(None) == read_timezone("  ") == "UTC"


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "says"),
    [
        pytest.param(
            lambda: read_timezone("Europe/Berlinn"), "did you mean 'Europe/Berlin'", id="zone-typo"
        ),
        pytest.param(lambda: read_timezone("Mars/Olympus"), "IANA name", id="zone-unknown"),
        pytest.param(lambda: read_span(week="2027-W60"), "2027 has weeks 1 to 52", id="week-60"),
        pytest.param(lambda: read_span(week="2027-W53"), "2027 has weeks 1 to 52", id="week-53"),
        pytest.param(lambda: read_span(week="W10"), "'2027-W10'", id="week-unreadable"),
        pytest.param(
            lambda: read_span(start="2027-03-10", end="2027-03-01"),
            "swap them",
            id="end-before-start",
        ),
        pytest.param(
            lambda: read_span(start="2027-01-01", end="2027-03-04"), "63 days", id="63-days"
        ),
        pytest.param(lambda: read_span(start="2027-03-32"), "YYYY-MM-DD", id="bad-date"),
        pytest.param(lambda: read_span(end="2027-03-04"), "give both", id="end-alone"),
        pytest.param(lambda: read_span(), "needs a span", id="no-span"),
        pytest.param(
            lambda: read_span(month="March 2027", week="2027-W10"),
            "not month and week",
            id="two-spans",
        ),
        pytest.param(
            lambda: read_span(week="2027-W10", start="2027-03-01"),
            "not week and start",
            id="week-and-range",
        ),
        pytest.param(lambda: read_slots(times="25:00"), "24-hour HH:MM", id="time-25"),
        pytest.param(lambda: read_slots(posting_slots={"mon": "18:60"}), "'18:60'", id="minute-60"),
        pytest.param(lambda: parse_time("13pm"), "'13pm'", id="13pm"),
        pytest.param(lambda: read_slots(cadence="mon,funday"), "'funday'", id="funday"),
        pytest.param(lambda: read_slots(posts_per_week=9), "use 1 to 7", id="9-a-week"),
        pytest.param(lambda: read_slots(posts_per_week=0), "use 1 to 7", id="0-a-week"),
        pytest.param(
            lambda: read_slots(posting_slots={"mon": []}), "at least one weekday", id="no-slot"
        ),
        pytest.param(
            lambda: read_slots(posting_slots=["mon"]), "must map weekdays", id="slots-not-a-map"
        ),
        pytest.param(
            lambda: build({"sun": ["18:00"]}, start="2027-03-02", end="2027-03-06"),
            "No posting slot falls in 2 to 6 March 2027",
            id="no-post-in-span",
        ),
        pytest.param(
            lambda: build(
                {d: ["09:00", "12:00", "18:00"] for d in WEEKDAYS},
                start="2027-01-01",
                end="2027-03-03",
            ),
            "186 posts",
            id="too-many-posts",
        ),
        pytest.param(
            lambda: build(zone="Europe/Berlinn", month="March 2027"),
            "did you mean",
            id="build-zone",
        ),
    ],
)
def test_bad_input_says_the_fix_in_one_line(call, says):
    with pytest.raises(ScheduleError) as caught:
        call()
    message = str(caught.value)
    assert says in message
    assert "\n" not in message and ": " in message  # what was wrong: what to do
    assert caught.value.exit_code == 2


def test_max_posts_is_the_limit_not_one_past_it():
    two_a_day = {d: ["09:00", "18:00"] for d in WEEKDAYS}
    assert build(two_a_day, start="2027-01-01", end="2027-03-03").count == 2 * 62 == MAX_POSTS
    one_more = two_a_day | {"mon": ["09:00", "12:00", "18:00"]}
    with pytest.raises(ScheduleError, match=f"at most {MAX_POSTS}"):
        build(one_more, start="2027-01-01", end="2027-03-03")


@pytest.mark.parametrize("week", ["0000-W10", "9999-W52"])
def test_a_week_out_of_the_date_range_is_a_schedule_error(week):
    with pytest.raises(ScheduleError):
        read_span(week=week)


# --- the Schedule model --------------------------------------------------------------------


def test_json_round_trip_gives_the_same_schedule_and_posts():
    schedule = build(
        {"mon": ["09:00", "18:00"], "sun": ["02:30"]},
        "Europe/Berlin",
        start="2027-03-22",
        end="2027-04-04",
    )
    data = schedule.model_dump(mode="json")
    assert data["start"] == "2027-03-22" and data["timezone"] == "Europe/Berlin"
    again = Schedule.model_validate(data)
    assert again == schedule
    assert again.posts == schedule.posts and again.notes == schedule.notes
    assert Schedule.model_validate_json(schedule.model_dump_json()) == schedule


def test_the_model_reads_slots_like_read_slots_and_forbids_extra_keys():
    data = {"kind": "range", "start": "2027-03-01", "end": "2027-03-07", "timezone": "UTC"}
    assert Schedule.model_validate(data | {"slots": {"Monday": ["6pm"]}}).slots == {
        "mon": ["18:00"]
    }
    with pytest.raises(ValidationError, match="funday"):
        Schedule.model_validate(data | {"slots": {"funday": ["18:00"]}})
    with pytest.raises(ValidationError):
        Schedule.model_validate(data | {"slots": DAILY, "country": "US"})


def test_the_model_checks_its_timezone():
    data = {
        "start": "2027-03-01",
        "end": "2027-03-07",
        "slots": DAILY,
        "timezone": "Europe/Berlinn",
    }
    with pytest.raises(ValidationError, match="did you mean"):
        Schedule.model_validate(data)


def test_a_copy_with_another_zone_has_that_zones_posts():
    schedule = build(month="March 2027")
    assert schedule.posts[0].zone == "UTC"
    moved = schedule.model_copy(update={"timezone": "Europe/Berlin"})
    assert moved.posts[0].zone == "Europe/Berlin"


def test_lookups():
    schedule = build(read_slots(cadence="mon,wed,fri"), month="March 2027")
    assert schedule.key_of(2) == "2027-03-03T18:00"
    assert schedule.number_of("2027-03-03T18:00") == schedule.number_of("2027-03-03") == 2
    assert schedule.find("2027-03-03") is schedule.find("2027-03-03T18:00") is schedule.post(2)
    assert schedule.find("2027-03-02") is None
    assert schedule.post(2).when() == "Wednesday 3 March 2027, 18:00"
    for missing in (0, 15):
        with pytest.raises(KeyError):
            schedule.post(missing)
    with pytest.raises(KeyError):
        schedule.number_of("2027-03-02")


# --- naming --------------------------------------------------------------------------------


def test_a_daily_month_names_days():
    schedule = Schedule.for_month("March 2027", time="6pm")
    assert schedule.daily_month and schedule.noun == "day" and schedule.count == 31
    assert schedule.name == "March 2027" and schedule.month.key == "2027-03"
    assert schedule.key_of(12) == "2027-03-12T18:00"
    assert (schedule.name_of(12), schedule.short_name(12)) == ("Day 12", "Day 12")
    assert schedule.label([12, 10, 11]) == "Day 10 to Day 12"
    assert schedule.label([3]) == "Day 3"
    assert schedule.label([3, 5, 9]) == "Day 3, Day 5 and Day 9"
    assert schedule.label([]) == schedule.short_label([]) == "no days"
    assert schedule.short_label([5, 4]) == "Day 4 to Day 5"
    assert schedule.short_label([1, 31]) == "Day 1 and Day 31"


@pytest.mark.parametrize(
    ("slots", "span"),
    [
        pytest.param(
            read_slots(cadence="mon,wed,fri"), {"month": "March 2027"}, id="month-three-a-week"
        ),
        pytest.param(
            {d: ["09:00", "18:00"] for d in WEEKDAYS}, {"month": "March 2027"}, id="month-two-a-day"
        ),
        pytest.param(DAILY, {"week": "2027-W10"}, id="week"),
        pytest.param(
            DAILY, {"start": "2027-03-01", "end": "2027-03-31"}, id="range-of-a-whole-month"
        ),
    ],
)
def test_any_other_schedule_names_posts_with_weekday_date_and_time(slots, span):
    schedule = build(slots, **span)
    assert not schedule.daily_month and schedule.noun == "post"
    post = schedule.post(2)
    expected = f"Post 2 ({post.date:%A} {post.date.day} {post.date:%B %Y}, {post.time})"
    assert schedule.name_of(2) == expected
    assert schedule.short_name(2) == "Post 2"


def test_labels_of_posts():
    schedule = build(read_slots(cadence="sun,mon"), start="2027-03-28", end="2027-04-05")
    assert schedule.label([2, 1]) == (
        "Post 1 (Sunday 28 March 2027, 18:00) and Post 2 (Monday 29 March 2027, 18:00)"
    )
    assert schedule.label([3, 1, 4]) == (
        "Post 1 (Sunday 28 March 2027, 18:00), Post 3 (Sunday 4 April 2027, 18:00) and "
        "Post 4 (Monday 5 April 2027, 18:00)"
    )
    assert schedule.label([]) == schedule.short_label([]) == "no posts"
    assert schedule.short_label([3]) == "Post 3"
    assert schedule.short_label([1, 2, 3]) == "Post 1 to Post 3"
    assert schedule.short_label([1, 3]) == "Post 1 and Post 3"
    assert schedule.short_label([4, 1, 2]) == "Post 1, Post 2 and Post 4"


# --- properties ----------------------------------------------------------------------------

ZONES = st.sampled_from(
    [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Australia/Lord_Howe",
        "America/Santiago",
        "Asia/Kolkata",
        "Pacific/Chatham",
    ]
)
# half the times in the small hours, where clocks change
HOURS = st.one_of(st.integers(0, 23), st.integers(0, 3))
CLOCKS = st.builds(lambda h, m: f"{h:02d}:{m:02d}", HOURS, st.integers(0, 59))
SLOTS = st.dictionaries(
    st.sampled_from(WEEKDAYS), st.lists(CLOCKS, min_size=1, max_size=3), min_size=1
)
YEARS = st.integers(2000, 2040)


@st.composite
def spans(draw) -> Span:
    kind = draw(st.sampled_from(["month", "week", "range"]))
    year = draw(YEARS)
    if kind == "month":
        return read_span(month=f"{year}-{draw(st.integers(1, 12)):02d}")
    if kind == "week":
        weeks = dt.date(year, 12, 28).isocalendar()[1]
        return read_span(week=f"{year}-W{draw(st.integers(1, weeks)):02d}")
    start = draw(st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31)))
    end = start + dt.timedelta(days=draw(st.integers(0, MAX_SPAN_DAYS - 1)))
    return read_span(start=start.isoformat(), end=end.isoformat())


def moved_onto_another_slot(schedule: Schedule) -> bool:
    """A day whose moved post may meet another slot (and be merged with it)."""
    return any(p.note and len(schedule.numbers_on(p.date)) > 1 for p in schedule.posts)


@given(span=spans(), slots=SLOTS, zone=ZONES)
@example(span=read_span(start="2027-03-28"), slots={"sun": ["02:30"]}, zone="Europe/Berlin")
def test_every_post_of_any_schedule_is_in_its_span_numbered_and_keyed_once(span, slots, zone):
    slots = read_slots(posting_slots=slots)
    unchecked = Schedule(kind=span.kind, start=span.start, end=span.end, slots=slots, timezone=zone)
    expected = sum(
        len(slots.get(WEEKDAYS[(span.start + dt.timedelta(n)).weekday()], []))
        for n in range((span.end - span.start).days + 1)
    )
    assert unchecked.count == expected
    if not 1 <= expected <= MAX_POSTS:
        with pytest.raises(ScheduleError):
            Schedule.build(span=span, slots=slots, timezone=zone)
        return
    schedule = Schedule.build(span=span, slots=slots, timezone=zone)
    posts = schedule.posts
    assert [p.number for p in posts] == list(range(1, schedule.count + 1))
    for post in posts:
        assert span.start <= post.date <= span.end
        assert key_date(post.key) == post.date and post.zone == zone
        assert post.time in slots[WEEKDAYS[post.date.weekday()]] or post.note
        # the key is a wall-clock time that exists: it survives a trip through UTC
        back = post.start.astimezone(UTC).astimezone(ZoneInfo(zone))
        assert f"{back:%Y-%m-%dT%H:%M}" == post.key
    assume(not moved_onto_another_slot(schedule))
    assert schedule.keys == sorted(set(schedule.keys))
    assert [p.start for p in posts] == sorted(p.start for p in posts)
    assert all(schedule.number_of(post.key) == post.number for post in posts)


@given(span=spans(), slots=SLOTS, zone=ZONES)
def test_any_schedule_survives_a_json_round_trip(span, slots, zone):
    schedule = Schedule(
        kind=span.kind,
        start=span.start,
        end=span.end,
        slots=read_slots(posting_slots=slots),
        timezone=zone,
    )
    again = Schedule.model_validate(schedule.model_dump(mode="json"))
    assert again == schedule and again.posts == schedule.posts


@given(year=YEARS, month=st.integers(1, 12), clock=CLOCKS, zone=ZONES)
def test_a_daily_months_post_number_is_its_day(year, month, clock, zone):
    span = read_span(month=f"{year}-{month:02d}")
    schedule = Schedule.build(span=span, slots={d: [clock] for d in WEEKDAYS}, timezone=zone)
    assert schedule.daily_month
    assert schedule.count == span.end.day
    assert all(post.number == post.date.day for post in schedule.posts)
    assert schedule.label(list(range(1, schedule.count + 1))) == f"Day 1 to Day {span.end.day}"


def test_a_bare_date_with_two_posts_names_its_times():
    schedule = build({"mon": ["09:00", "18:00"]}, "UTC", start="2027-03-08", end="2027-03-14")
    assert schedule.post_of("2027-03-08T18:00").number == 2
    with pytest.raises(ScheduleError, match="that date has 2027-03-08T09:00, 2027-03-08T18:00"):
        schedule.post_of("2027-03-08")
    with pytest.raises(ScheduleError, match="not a post of"):
        schedule.post_of("2027-03-09")
