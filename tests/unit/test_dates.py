"""Tests for pipeline.dates: month parsing, month arithmetic and special dates."""

from __future__ import annotations

import calendar
import datetime as dt
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pipeline.dates import (
    MonthSpec,
    SpecialDate,
    _bundled_awareness_file,
    format_special_dates,
    parse_month,
    special_dates,
)
from pipeline.errors import ConfigError, MonthParseError

TODAY = dt.date(2026, 5, 20)


# --- parse_month ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "year", "month"),
    [
        pytest.param("March 2026", 2026, 3, id="name-year"),
        pytest.param("2026-03", 2026, 3, id="iso"),
        pytest.param("03/2026", 2026, 3, id="mm-slash-yyyy"),
        pytest.param("3/2026", 2026, 3, id="m-slash-yyyy"),
        pytest.param("mar 26", 2026, 3, id="abbr-two-digit-year"),
        pytest.param("Mar-2026", 2026, 3, id="abbr-dash-year"),
        pytest.param("2026 March", 2026, 3, id="year-name"),
        pytest.param("  MARCH 2026 ", 2026, 3, id="caps-and-spaces"),
        pytest.param("Sept. 2026", 2026, 9, id="sept-dot"),
        pytest.param("December, 2030", 2030, 12, id="name-comma-year"),
        pytest.param("ajguzt 2025", 2025, 8, id="typo-august"),
        pytest.param("febuary 2027", 2027, 2, id="typo-february"),
        pytest.param("septmber 2026", 2026, 9, id="typo-september"),
        pytest.param("march", 2027, 3, id="bare-past-month-next-year"),
        pytest.param("may", 2026, 5, id="bare-current-month-counts"),
        pytest.param("june", 2026, 6, id="bare-future-month"),
    ],
)
def test_parse_month_accepts(text: str, year: int, month: int) -> None:
    spec = parse_month(text, today=TODAY)
    assert (spec.year, spec.month) == (year, month)


@pytest.mark.parametrize(
    ("text", "note"),
    [
        pytest.param("ajguzt 2025", "Read 'ajguzt 2025' as August 2025.", id="typo"),
        pytest.param("march", "Read 'march' as March 2027.", id="year-inferred"),
        pytest.param("mar 26", "Read 'mar 26' as March 2026.", id="two-digit-year"),
        pytest.param("March 2026", None, id="literal"),
        pytest.param("2026-03", None, id="numeric"),
    ],
)
def test_parse_month_note_says_how_input_was_read(text: str, note: str | None) -> None:
    assert parse_month(text, today=TODAY).note == note


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("hello", id="word"),
        pytest.param("2026-13", id="iso-month-13"),
        pytest.param("2026-00", id="iso-month-0"),
        pytest.param("13/2026", id="slash-month-13"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("xyz 2026", id="junk-word"),
        pytest.param("ju 2026", id="ambiguous-june-july"),
        pytest.param("March 1899", id="year-too-early"),
        pytest.param("March 2201", id="year-too-late"),
        pytest.param("1899-12", id="iso-year-too-early"),
        pytest.param("march 2026 extra", id="trailing-words"),
        pytest.param("2026-03-15", id="full-date"),
        pytest.param("March 202", id="three-digit-year"),
    ],
)
def test_parse_month_rejects(text: str) -> None:
    with pytest.raises(MonthParseError) as info:
        parse_month(text, today=TODAY)
    message = str(info.value)
    assert repr(text) in message
    assert "'March 2026'" in message and "\n" not in message
    assert isinstance(info.value, ValueError)


def test_parse_month_never_defaults_to_january() -> None:
    for text in ("hello", "xyz 2026", "2026-13"):
        with pytest.raises(MonthParseError):
            parse_month(text)


def test_parse_month_rejects_non_text() -> None:
    with pytest.raises(MonthParseError):
        parse_month(202603)  # type: ignore[arg-type]


def test_parse_month_passes_specs_and_dates_through() -> None:
    spec = MonthSpec(2026, 3)
    assert parse_month(spec) is spec
    assert parse_month(dt.date(2026, 3, 17)) == MonthSpec(2026, 3)


def test_bare_month_defaults_to_real_today() -> None:
    today = dt.date.today()
    spec = parse_month(calendar.month_name[today.month])
    assert (spec.year, spec.month) == (today.year, today.month)


# --- MonthSpec -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "days"),
    [
        pytest.param(2028, 29, id="2028-leap"),
        pytest.param(2027, 28, id="2027-common"),
        pytest.param(2100, 28, id="2100-century-not-leap"),
        pytest.param(2000, 29, id="2000-400-year-leap"),
    ],
)
def test_february_length(year: int, days: int) -> None:
    spec = parse_month(f"{year}-02")
    assert spec.days_in_month == days
    assert len(spec.dates()) == days
    assert spec.dates()[-1] == dt.date(year, 2, days)


def test_month_spec_properties() -> None:
    spec = parse_month("2025-08")
    assert spec.name == "August 2025"
    assert spec.key == "2025-08"
    assert spec.date_of(31) == dt.date(2025, 8, 31)
    assert spec.dates()[0] == dt.date(2025, 8, 1)


@pytest.mark.parametrize("day", [0, 32])
def test_date_of_rejects_days_outside_the_month(day: int) -> None:
    with pytest.raises(ValueError, match="use 1 to 31"):
        MonthSpec(2025, 8).date_of(day)


@pytest.mark.parametrize(("year", "month"), [(2026, 13), (2026, 0), (1800, 5)])
def test_month_spec_checks_its_fields(year: int, month: int) -> None:
    with pytest.raises(MonthParseError):
        MonthSpec(year, month)


@given(year=st.integers(1900, 2200), month=st.integers(1, 12))
def test_every_month_parses_and_round_trips(year: int, month: int) -> None:
    spec = parse_month(f"{year}-{month:02d}")
    assert (spec.year, spec.month) == (year, month)
    assert spec.days_in_month == calendar.monthrange(year, month)[1]
    assert spec.key == f"{year:04d}-{month:02d}"
    name = f"{calendar.month_name[month]} {year}"
    again = parse_month(name)
    assert again == spec and again.name == name and again.note is None


# --- special_dates -------------------------------------------------------------------------


def _by_name(month: str, **kwargs: object) -> dict[str, SpecialDate]:
    found = special_dates(parse_month(month), **kwargs)  # type: ignore[arg-type]
    return {s.name: s for s in found}


def test_thanksgiving_and_black_friday_2026() -> None:
    found = _by_name("November 2026")
    assert found["Thanksgiving Day"].date == dt.date(2026, 11, 26)
    assert found["Thanksgiving Day"].source == "holiday"
    assert "gratitude" in found["Thanksgiving Day"].theme
    assert found["Black Friday"].date == dt.date(2026, 11, 27)
    assert found["Black Friday"].source == "awareness"
    assert found["Small Business Saturday"].day == 28
    assert found["Cyber Monday"].day == 30
    assert found["National Entrepreneurs' Day"].day == 17  # third Tuesday


def test_offset_rule_crosses_into_next_month() -> None:
    # Thanksgiving 2024 is 28 November, so Cyber Monday is 2 December.
    assert "Cyber Monday" not in _by_name("2024-11")
    assert _by_name("2024-12")["Cyber Monday"].date == dt.date(2024, 12, 2)
    assert _by_name("2026-12")["Giving Tuesday"].date == dt.date(2026, 12, 1)


def test_valentines_day_needs_unofficial_category() -> None:
    found = _by_name("February 2026")
    assert found["Valentine's Day"].date == dt.date(2026, 2, 14)
    assert found["Valentine's Day"].theme == "love, relationships, self-care"
    assert "Valentine's Day" not in _by_name("February 2026", include_unofficial=False)
    assert "Washington's Birthday" in _by_name("February 2026", include_unofficial=False)


def test_mothers_day_2026_once() -> None:
    dates = special_dates(parse_month("May 2026"))
    mothers = [s for s in dates if s.name == "Mother's Day"]
    assert [s.date for s in mothers] == [dt.date(2026, 5, 10)]


def test_halloween_in_october() -> None:
    halloween = _by_name("2026-10")["Halloween"]
    assert halloween.date == dt.date(2026, 10, 31)
    assert "spooky" in halloween.theme


def test_holiday_and_awareness_day_on_same_date_both_appear_sorted() -> None:
    dates = special_dates(parse_month("2026-11"))
    on_11th = [s.name for s in dates if s.day == 11]
    assert on_11th == ["Veterans Day", "Singles' Day"]
    assert [s.date for s in dates] == sorted(s.date for s in dates)


def test_unmapped_holiday_gets_default_theme() -> None:
    boxing = _by_name("2026-12", country="GB")["Boxing Day"]
    assert boxing.theme == "Boxing Day: timely themed content"


def test_country_limits_apply_and_public_only_countries_work() -> None:
    found = _by_name("2026-11", country="GB")
    assert "Black Friday" not in found and "Thanksgiving Day" not in found
    assert "Singles' Day" in found
    assert _by_name("2026-11", country="us")["Black Friday"].day == 27


def test_every_bundled_entry_lands_once_in_the_year() -> None:
    bundled = yaml.safe_load(_bundled_awareness_file().read_text(encoding="utf-8"))
    assert len(bundled) >= 25
    seen = [s.name for m in range(1, 13) for s in special_dates(MonthSpec(2026, m))]
    for entry in bundled:  # same-named holidays (Mother's Day) replace the awareness entry
        assert seen.count(entry["name"]) == 1, entry["name"]


def test_user_awareness_file_adds_to_bundled(tmp_path: Path) -> None:
    user = tmp_path / "mine.yaml"
    user.write_text(
        '- name: Launch Day\n  date: "11-03"\n  theme: product launch countdown\n'
        "- name: Last Monday Live\n  rule: {month: 5, weekday: monday, nth: -1}\n"
        "  theme: live Q&A\n  countries: [US]\n"
        '- name: Leap Day Special\n  date: "02-29"\n  theme: once in four years\n',
        encoding="utf-8",
    )
    november = _by_name("2026-11", awareness_file=user)
    assert november["Launch Day"].date == dt.date(2026, 11, 3)
    assert november["Launch Day"].source == "awareness"
    assert "Black Friday" in november  # the bundled list is still there
    assert _by_name("2026-05", awareness_file=str(user))["Last Monday Live"].day == 25
    assert "Leap Day Special" in _by_name("2028-02", awareness_file=user)
    assert "Leap Day Special" not in _by_name("2027-02", awareness_file=user)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            '- name: Both\n  theme: t\n  date: "01-01"\n'
            "  rule: {month: 1, weekday: monday, nth: 1}\n",
            "'Both'",
            id="date-and-rule",
        ),
        pytest.param("- name: Neither\n  theme: t\n", "'Neither'", id="no-date-or-rule"),
        pytest.param('- name: No theme\n  date: "01-01"\n', "'No theme'", id="missing-theme"),
        pytest.param('- name: Bad\n  theme: t\n  date: "13-40"\n', "'Bad'", id="bad-mmdd"),
        pytest.param(
            "- name: Bad day\n  theme: t\n  rule: {month: 1, weekday: funday, nth: 1}\n",
            "'Bad day'",
            id="bad-weekday",
        ),
        pytest.param(
            "- name: Zero\n  theme: t\n  rule: {month: 1, weekday: monday, nth: 0}\n",
            "'Zero'",
            id="nth-zero",
        ),
        pytest.param('- name: Typo\n  theme: t\n  dates: "01-01"\n', "'Typo'", id="unknown-key"),
        pytest.param("- just a string\n", "entry 1", id="not-a-mapping"),
        pytest.param("name: x\n", "YAML list", id="not-a-list"),
        pytest.param("- name: [unclosed\n", "Bad YAML", id="invalid-yaml"),
    ],
)
def test_malformed_awareness_file_raises(tmp_path: Path, content: str, expected: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        special_dates(parse_month("2026-01"), awareness_file=bad)
    message = str(info.value)
    assert str(bad) in message and expected in message and "\n" not in message


def test_missing_awareness_file_raises(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="awareness_file"):
        special_dates(parse_month("2026-01"), awareness_file=tmp_path / "nope.yaml")


def test_unknown_country_raises_config_error() -> None:
    with pytest.raises(ConfigError, match=r"`country`.*'US'") as info:
        special_dates(parse_month("2026-01"), country="XX")
    assert "'XX'" in str(info.value)


def test_unknown_subdivision_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="`subdivision`"):
        special_dates(parse_month("2026-01"), country="US", subdivision="ZZ")
    assert special_dates(parse_month("2026-01"), country="US", subdivision="ca")


# --- format_special_dates ------------------------------------------------------------------


def test_format_special_dates_lines_and_filter() -> None:
    dates = special_dates(parse_month("2026-11"))
    text = format_special_dates(dates)
    thanksgiving = (
        "- Day 26 (Thursday): Thanksgiving Day — gratitude, family, food, year-end reflection"
    )
    assert thanksgiving in text.splitlines()
    only = format_special_dates(dates, days=[27])
    assert only == (
        "- Day 27 (Friday): Black Friday — deals, gift guides, smart shopping, launch offers"
    )
    assert format_special_dates(dates, days=[2]) == "- none"
    assert format_special_dates([]) == "- none"
