"""Spans other than a month, end to end through ``generate_calendar`` with scripted
models: a week, ranges across a month end and a year end, a cadence in a time zone, two
slots a day. Posts are keyed by their local date-time; prompts name them "Post N
(Weekday D Month YYYY, HH:MM)" (a month with one post a day keeps "Day N")."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from scripted import (
    FIXED_RETRIEVER,
    SCRIPTED_SCRIPT_WORDS,
    ScriptedChatModel,
    ScriptedToolModel,
    is_outline_prompt,
    requested_days,
    row,
)

from pipeline.calendar import Calendar, DayPlan, OutlineDay
from pipeline.config import Settings
from pipeline.errors import ReelcalError, RunNotFoundError, ScheduleError
from pipeline.generation.chains import generate_calendar, regenerate_days
from pipeline.generation.planning import plan_month
from pipeline.schedule import Schedule, read_slots, read_span

pytestmark = pytest.mark.usefixtures("no_backoff")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def expected_keys(first: str, last: str, slots: dict[str, list[str]]) -> list[str]:
    """The post keys of a span, worked out here with datetime (not with the library)."""
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    keys = []
    for offset in range((end - start).days + 1):
        day = start + dt.timedelta(days=offset)
        keys += [f"{day.isoformat()}T{t}" for t in sorted(slots.get(WEEKDAYS[day.weekday()], []))]
    return keys


DAILY = {d: ["18:00"] for d in WEEKDAYS}  # Instagram's default time, every day
SPANS = [
    pytest.param({"week": "2027-W10"}, expected_keys("2027-03-08", "2027-03-14", DAILY), id="week"),
    pytest.param(
        {"start": "2027-03-28", "end": "2027-04-06"},
        expected_keys("2027-03-28", "2027-04-06", DAILY),
        id="range-over-a-month-end",
    ),
    pytest.param(
        {"start": "2026-12-28", "end": "2027-01-06"},
        expected_keys("2026-12-28", "2027-01-06", DAILY),
        id="range-over-a-year-end",
    ),
    pytest.param(
        {
            "month": "2027-03",
            "cadence": "mon,wed,fri",
            "times": "18:00",
            "timezone": "Europe/Berlin",
        },
        expected_keys("2027-03-01", "2027-03-31", {d: ["18:00"] for d in ("mon", "wed", "fri")}),
        id="mon-wed-fri-berlin",
    ),
]

#: "Post 3 (Wednesday 10 March 2027, 18:00)"
POST_NAME = re.compile(r"Post (\d+) \((\w+) (\d{1,2}) (\w+) (\d{4}), (\d\d:\d\d)\)")


def settings(tmp_path, **overrides) -> Settings:
    base = {
        "context_window": 16_385,
        "max_output_tokens": 4096,
        "tokens_per_day": 120,
        "max_stalled_rounds": 4,
        "output_dir": tmp_path,
        "max_concurrency": 2,
        "speed": "economical",
        "script_words": SCRIPTED_SCRIPT_WORDS,
        "outline": False,  # the writing calls alone: their prompts and usage are checked
    }
    return Settings(**{**base, **overrides})


def well_behaved(tag: str = "") -> ScriptedChatModel:
    return ScriptedChatModel(behaviour=lambda days, i, mt: "\n".join(row(d, tag=tag) for d in days))


def run(model, tmp_path, when: dict, **keywords) -> Calendar:
    return generate_calendar(
        trends=["AI agents"],
        niche="AI tools",
        model=model,
        settings=settings(tmp_path),
        retriever=FIXED_RETRIEVER,
        **when,
        **keywords,
    )


def request_line(prompt: str) -> str:
    return next(l for l in prompt.splitlines() if l.startswith(("Plan ", "Write the missing")))


def when_of(key: str) -> tuple[str, int, str, int, str]:
    """What a prompt says of the post keyed ``key``: weekday, day, month, year, time."""
    moment = dt.datetime.fromisoformat(key)
    return (f"{moment:%A}", moment.day, f"{moment:%B}", moment.year, f"{moment:%H:%M}")


# --------------------------------------------------------------------- whole runs
@pytest.mark.parametrize(("when", "keys"), SPANS)
def test_each_span_completes_with_its_posts_named_by_date_and_time(tmp_path, when, keys):
    model = well_behaved()
    cal = run(model, tmp_path, when)
    assert cal.is_complete and cal.missing_days == [] and cal.missing_posts == []
    assert [p.key for p in cal.posts] == cal.schedule.keys == keys
    assert keys == sorted(keys) and cal.post_count == len(keys)
    assert [(p.date.isoformat(), p.time) for p in cal.posts] == [tuple(k.split("T")) for k in keys]
    assert cal.schedule.timezone == when.get("timezone", "UTC")

    named: dict[int, tuple] = {}
    for prompt in model.prompts:
        line = request_line(prompt)
        assert not re.search(r"\bDay \d+", prompt), line
        found = POST_NAME.findall(line)
        assert [int(f[0]) for f in found] == requested_days(prompt)
        named |= {int(f[0]): (f[1], int(f[2]), f[3], int(f[4]), f[5]) for f in found}
    assert named == {n: when_of(key) for n, key in enumerate(keys, 1)}

    for usage in cal.usage:
        assert usage.posts_requested == [keys[n - 1] for n in usage.days_requested]
    assert sorted(k for u in cal.usage for k in u.posts_requested) == keys


@pytest.mark.parametrize(("when", "keys"), SPANS)
def test_the_json_round_trip_keeps_schedule_times_and_completeness(tmp_path, when, keys):
    cal = run(well_behaved(), tmp_path, when)
    back = Calendar.from_json(cal.to_json())
    assert back.schedule == cal.schedule
    assert [p.key for p in back.posts] == keys and [p.time for p in back.posts] == [
        k[11:] for k in keys
    ]
    assert back.is_complete and back.missing_days == [] and back.span_name == cal.span_name
    assert [u.posts_requested for u in back.usage] == [u.posts_requested for u in cal.usage]
    assert back.days == cal.days


def test_a_plain_month_still_names_its_posts_day_n(tmp_path):
    model = well_behaved()
    cal = run(model, tmp_path, {"month": "2027-03"})
    assert cal.is_complete and [p.day for p in cal.posts] == list(range(1, 32))
    assert [p.key for p in cal.posts] == expected_keys("2027-03-01", "2027-03-31", DAILY)
    for prompt in model.prompts:
        assert re.search(r"\bDay \d+", request_line(prompt))
        assert not re.search(r"\bPost \d+", prompt)
    assert cal.usage[0].posts_requested == [
        f"2027-03-{d:02d}T18:00" for d in cal.usage[0].days_requested
    ]


def test_two_slots_a_day_are_two_posts_with_their_own_keys(tmp_path):
    model = well_behaved()
    cal = run(model, tmp_path, {"week": "2027-W10", "posting_slots": {"mon": ["18:00", "09:00"]}})
    assert cal.is_complete and cal.post_count == 2
    first, second = cal.posts
    assert (first.key, second.key) == ("2027-03-08T09:00", "2027-03-08T18:00")
    assert first.date == second.date == dt.date(2027, 3, 8) and first.day == second.day == 8
    assert first.title != second.title
    assert cal.post("2027-03-08T18:00") is second and cal.day(1) is first
    named = {m[0]: m[5] for p in model.prompts for m in POST_NAME.findall(request_line(p))}
    assert named == {"1": "09:00", "2": "18:00"}
    back = Calendar.from_json(cal.to_json())
    assert [p.key for p in back.posts] == [first.key, second.key]


def test_outline_and_tool_calls_together_over_a_year_end(tmp_path):
    """The outline, special dates of two years and a tool-calling writer, on one range."""
    model = ScriptedToolModel()
    cal = generate_calendar(
        trends=["AI agents"],
        niche="AI tools",
        model=model,
        settings=settings(tmp_path, outline=True, tokens_per_day=None, speed="balanced"),
        retriever=FIXED_RETRIEVER,
        start="2026-12-28",
        end="2027-01-06",
    )
    keys = expected_keys("2026-12-28", "2027-01-06", DAILY)
    assert cal.is_complete and [p.key for p in cal.posts] == keys
    assert [o.day for o in cal.outline] == list(range(1, 11))
    [outline_prompt] = [p for p in model.prompts if is_outline_prompt(p)]
    line = next(l for l in outline_prompt.splitlines() if l.startswith("Outline "))
    assert [int(m[0]) for m in POST_NAME.findall(line)] == list(range(1, 11))
    text = "\n".join(model.prompts)
    assert "- Post 4 (Thursday 31 December 2026, 18:00): New Year's Eve" in text
    assert "- Post 5 (Friday 1 January 2027, 18:00): New Year's Day" in text
    assert not re.search(r"\bDay \d+", text)
    assert {u.role for u in cal.usage} == {"outline", "main"}
    assert all(u.posts_requested == [keys[n - 1] for n in u.days_requested] for u in cal.usage)


def test_the_usage_summary_of_a_week_names_posts_not_days(tmp_path):
    cal = run(well_behaved(), tmp_path, {"week": "2027-W10"})
    summary = cal.usage_summary()  # what `reelcal generate` prints
    assert "7/7 posts" in summary
    assert "Post 1 to Post 7" in summary and not re.search(r"\bDay \d+", summary)


# --------------------------------------------------------------------- regenerating
@pytest.mark.parametrize(("when", "keys"), SPANS)
def test_regenerating_one_post_by_key_or_number_changes_only_that_post(tmp_path, when, keys):
    cal = run(well_behaved(), tmp_path, when)
    s = settings(tmp_path)
    number = len(keys) // 2 + 1
    key = keys[number - 1]

    fresh = well_behaved(" new")
    by_key = regenerate_days(cal, posts=[key], model=fresh, settings=s, retriever=FIXED_RETRIEVER)
    assert {d for p in fresh.prompts for d in requested_days(p)} == {number}
    assert by_key.post(key).title == f"Idea {number} new: " + cal.post(key).title.split(": ", 1)[1]
    assert [p for p in by_key.posts if p.key != key] == [p for p in cal.posts if p.key != key]
    assert by_key.is_complete and by_key.schedule == cal.schedule
    assert by_key.usage[-1].posts_requested == [key]

    again = well_behaved(" again")
    by_number = regenerate_days(cal, [number], model=again, settings=s, retriever=FIXED_RETRIEVER)
    assert by_number.post(key).title.startswith(f"Idea {number} again: ")
    assert [p for p in by_number.posts if p.key != key] == [p for p in cal.posts if p.key != key]


@pytest.mark.parametrize(("when", "keys"), SPANS)
def test_regenerating_the_missing_posts_fills_a_partial_calendar(tmp_path, when, keys):
    cal = run(well_behaved(), tmp_path, when)
    dropped = {keys[0], keys[-1], keys[len(keys) // 2]}
    partial = cal.model_copy(update={"days": [p for p in cal.days if p.key not in dropped]})
    numbers = sorted(keys.index(k) + 1 for k in dropped)
    assert partial.missing_days == numbers and partial.missing_posts == sorted(dropped)

    fresh = well_behaved(" new")
    filled = regenerate_days(
        partial,
        days=partial.missing_days,
        model=fresh,
        settings=settings(tmp_path),
        retriever=FIXED_RETRIEVER,
    )
    assert filled.is_complete and [p.key for p in filled.posts] == keys
    assert sorted(d for p in fresh.prompts for d in requested_days(p)) == numbers
    assert [p for p in filled.posts if p.key not in dropped] == partial.posts
    assert all(filled.post(k).title.startswith(f"Idea {keys.index(k) + 1} new: ") for k in dropped)


# --------------------------------------------------------------------- the dry run
@pytest.mark.parametrize(("when", "keys"), SPANS)
def test_plan_shows_the_first_round_of_each_span_without_calling_the_model(tmp_path, when, keys):
    planner = well_behaved()
    month, rest = when.get("month"), {k: v for k, v in when.items() if k != "month"}
    [plan] = plan_month(
        month,
        ["AI agents"],
        "AI tools",
        models=[planner],
        settings=settings(tmp_path),
        retriever=FIXED_RETRIEVER,
        **rest,
    )
    assert planner.prompts == []
    assert sorted(d for c in plan.calls for d in c.days) == list(range(1, len(keys) + 1))
    cal = run(well_behaved(), tmp_path, when)
    first = [(u.days_requested, u.prompt_tokens, u.max_tokens) for u in cal.usage if u.round == 0]
    assert sorted(first) == sorted((c.days, c.prompt_tokens, c.max_tokens) for c in plan.calls)


# --------------------------------------------------------------------- bad input
def assert_bad_input(err: pytest.ExceptionInfo, kind: type[ReelcalError], *words: str) -> None:
    assert isinstance(err.value, kind) and err.value.exit_code == 2
    message = str(err.value)
    assert message and "\n" not in message
    for word in words:
        assert word in message


def test_an_unknown_time_zone_is_bad_input_that_names_the_close_one(tmp_path):
    model = well_behaved()
    with pytest.raises(ReelcalError) as err:
        run(model, tmp_path, {"week": "2027-W10", "timezone": "Europe/Berln"})
    assert_bad_input(err, ScheduleError, "'Europe/Berln'", "'Europe/Berlin'")
    assert model.prompts == []


def test_a_span_of_63_days_is_bad_input(tmp_path):
    model = well_behaved()
    with pytest.raises(ReelcalError) as err:  # 31 + 28 + 4 days
        run(model, tmp_path, {"start": "2027-01-01", "end": "2027-03-04"})
    assert_bad_input(err, ScheduleError, "63 days", "62")
    assert model.prompts == []


def test_a_post_key_not_in_the_schedule_is_bad_input(tmp_path):
    model = well_behaved()
    with pytest.raises(ReelcalError) as err:  # the week after
        run(model, tmp_path, {"week": "2027-W10"}, posts=["2027-03-15T18:00"])
    assert_bad_input(err, ScheduleError, "'2027-03-15T18:00'", "Week 10 of 2027")
    assert model.prompts == []

    cal = run(model, tmp_path, {"week": "2027-W10"})
    calls = len(model.prompts)
    with pytest.raises(ReelcalError) as err:  # the right day, a time with no slot
        regenerate_days(
            cal,
            posts=["2027-03-10T09:00"],
            model=model,
            settings=settings(tmp_path),
            retriever=FIXED_RETRIEVER,
        )
    assert_bad_input(err, ScheduleError, "'2027-03-10T09:00'", "that date has 2027-03-10T18:00")
    assert len(model.prompts) == calls


# --------------------------------------------------------------------- durable runs
def test_resuming_a_finished_run_with_another_span_names_both_spans(tmp_path):
    model = well_behaved()
    cal = run(model, tmp_path, {"week": "2027-W10"}, run_id="r")
    calls = len(model.prompts)
    with pytest.raises(RunNotFoundError) as err:
        run(model, tmp_path, {"week": "2027-W11"}, run_id="r")
    assert_bad_input(
        err,
        RunNotFoundError,
        "Week 10 of 2027 (8 to 14 March 2027)",
        "Week 11 of 2027 (15 to 21 March 2027)",
    )
    with pytest.raises(RunNotFoundError) as err:  # the same week, other slots
        run(model, tmp_path, {"week": "2027-W10", "cadence": "mon"}, run_id="r")
    assert_bad_input(err, RunNotFoundError, "other posts of Week 10 of 2027")
    assert len(model.prompts) == calls

    same = run(model, tmp_path, {"week": "2027-W10"}, run_id="r")
    assert len(model.prompts) == calls and same.days == cal.days


# --------------------------------------------------------------------- read back, options
def _plan(post) -> DayPlan:
    return DayPlan(
        day=post.date.day,
        date=post.date,
        time=post.time,
        title=f"Idea {post.number}",
        hook="h",
        caption="c",
        script="s",
        video_style="v",
        audio="a",
        hashtags=["#a"],
        production_notes="n",
        engagement="e",
    )


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "json"])
def test_outline_and_sources_read_back_by_post_number_with_two_posts_a_day(tmp_path, suffix):
    schedule = Schedule.build(
        span=read_span(week="2027-W10"),
        slots=read_slots(posting_slots={"mon": ["09:00", "18:00"], "wed": ["12:00"]}),
        timezone="Europe/Berlin",
    )
    cal = Calendar(
        year=2027,
        month=3,
        schedule=schedule,
        days=[_plan(p) for p in schedule.posts],
        outline=[
            OutlineDay(day=p.number, title=f"Idea {p.number}", pillar="P", format="F")
            for p in schedule.posts
        ],
        sources={p.number: [f"r{p.number}"] for p in schedule.posts},
    )
    back = Calendar.load(cal.save(tmp_path / f"week.{suffix}"))
    assert back.outline == cal.outline and back.sources == cal.sources
    assert [back.outline_day(back.post_number(p)).title for p in back.posts] == [
        p.title for p in cal.posts
    ]


def test_a_csv_with_a_post_moved_off_a_skipped_time_reads_back_complete(tmp_path):
    schedule = Schedule.build(
        span=read_span(month="2027-03"),
        slots=read_slots(cadence="sun", times="02:30"),
        timezone="Europe/Berlin",
    )
    cal = Calendar(year=2027, month=3, schedule=schedule, days=[_plan(p) for p in schedule.posts])
    back = Calendar.load(cal.save(tmp_path / "sundays.csv"))
    assert back.plan_schedule.slots == {"sun": ["02:30"]}
    assert back.is_complete and back.posts == cal.posts


def test_times_given_with_posting_slots_in_the_settings_keep_the_settings_weekdays():
    from pipeline.generation.requests import read_schedule

    settings = Settings(posting_slots={"mon": ["18:00"], "thu": ["12:00"]})
    schedule = read_schedule({"week": "2027-W10", "times": ["09:00"]}, settings)
    assert schedule.slots == {"mon": ["09:00"], "thu": ["09:00"]}
    assert read_schedule({"week": "2027-W10"}, settings).slots == settings.posting_slots


def test_regenerate_options_pick_posts_only_by_span_cadence_or_time():
    from pipeline.cli.when import When

    schedule = Schedule.build(
        span=read_span(week="2027-W10"), slots=read_slots(), timezone="Europe/Berlin"
    )
    cal = Calendar(year=2027, month=3, schedule=schedule, days=[_plan(p) for p in schedule.posts])
    assert not When(timezone="Europe/Berlin", platforms=["instagram"]).selects
    assert When(cadence="mon,fri").select(cal) == [1, 5]
    assert When(start="2027-03-09", end="2027-03-10").select(cal) == [2, 3]
