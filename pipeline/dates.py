"""Months and special dates: the only module that knows about the calendar.

Owns :class:`MonthSpec` and :func:`parse_month` (which reads "March 2026", "2026-03", "mar 26",
a bare "march" or a typo like "ajguzt 2025"), and the special dates of a month: holidays from
the ``holidays`` package plus awareness days from ``prompts/awareness_days.yaml`` and a user
file (:func:`special_dates`), rendered as prompt lines by :func:`format_special_dates`; and day numbers as text
(:func:`compact_days`, :func:`expand_days`: "1-3, 7", as the CLI's ``--days`` reads them).
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import holidays
import yaml

from pipeline.errors import ConfigError, InvalidDaysError, MonthParseError

MIN_YEAR, MAX_YEAR = 1900, 2200
_FORMS = "use a form like 'March 2026', '2026-03' or '03/2026'"
_MONTH_WORDS = {n.lower(): i for i, n in enumerate(calendar.month_name) if n}
_MONTH_WORDS |= {n.lower(): i for i, n in enumerate(calendar.month_abbr) if n} | {"sept": 9}
_FUZZY_CUTOFF = 0.6  # difflib ratio: "ajguzt"~"august" is 0.67; "hello" is 0.4 at best
_WEEKDAYS = [d.lower() for d in calendar.day_name]
_ENTRY_KEYS = {"name", "theme", "date", "rule", "countries"}
_RULE_KEYS = {"month", "weekday", "nth", "offset_days"}
_SCHEMA = 'name, theme and date: "MM-DD" or rule: {month, weekday, nth, offset_days}'

# The first keyword found in a holiday's name (ignoring case) gives its content theme.
_HOLIDAY_THEMES: list[tuple[str, str]] = [
    ("New Year's Eve", "countdown, reflections, resolutions, party prep"),
    ("New Year", "resolutions, goals, fresh starts"),
    ("Valentine", "love, relationships, self-care"),
    ("Washington's Birthday", "Presidents' Day: leadership lessons, history, weekend sales"),
    ("Easter", "spring, renewal, family traditions, egg hunts"),
    ("Mother's Day", "celebrating mothers and caregivers, gift ideas, family stories"),
    ("Memorial Day", "remembrance, gratitude, start of summer"),
    ("Juneteenth", "freedom, Black history and culture, community celebration"),
    ("Father's Day", "celebrating fathers and father figures, gift ideas, life lessons"),
    ("Independence Day", "freedom, national pride, summer celebrations, fireworks"),
    ("Labor Day", "work-life balance, end of summer, career lessons"),
    ("Halloween", "spooky, costumes, fear-busting content"),
    ("Thanksgiving", "gratitude, family, food, year-end reflection"),
    ("Christmas", "giving, family traditions, year-end reflection, festive fun"),
]


@dataclass(frozen=True)
class MonthSpec:
    """One calendar month; ``note`` says how the input was read when that was not literal."""

    year: int
    month: int
    note: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise MonthParseError(f"month {self.month} is not 1 to 12; {_FORMS}.")
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise MonthParseError(f"year {self.year} is outside {MIN_YEAR}..{MAX_YEAR}; {_FORMS}.")

    @property
    def days_in_month(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def name(self) -> str:
        return f"{calendar.month_name[self.month]} {self.year}"

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def dates(self) -> list[dt.date]:
        return [self.date_of(day) for day in range(1, self.days_in_month + 1)]

    def date_of(self, day: int) -> dt.date:
        if not 1 <= day <= self.days_in_month:
            raise ValueError(f"Day {day} is not in {self.name}: use 1 to {self.days_in_month}.")
        return dt.date(self.year, self.month, day)


def parse_month(text: str | MonthSpec | dt.date, *, today: dt.date | None = None) -> MonthSpec:
    """Read a month from text, a :class:`MonthSpec` or a date.

    A bare month name means the next month of that name that has not ended (the current
    month counts); a two-digit year means 20YY. A typo of a month name, a two-digit year or
    an inferred year is reported in ``note``. Anything else raises :class:`MonthParseError`.
    """
    if isinstance(text, MonthSpec):
        return text
    if isinstance(text, dt.date):
        return MonthSpec(text.year, text.month)
    if not isinstance(text, str):
        raise MonthParseError(f"Cannot read month {text!r}: pass text; {_FORMS}.")
    raw, note = text.strip(), None
    low = raw.lower()
    if m := re.fullmatch(r"(\d{4})\s*[-/.]\s*(\d{1,2})", low):
        year, month = int(m[1]), int(m[2])
    elif m := re.fullmatch(r"(\d{1,2})\s*[-/.]\s*(\d{4})", low):
        year, month = int(m[2]), int(m[1])
    elif m := re.fullmatch(r"([a-z]+)\.?[\s,/'-]*(\d{4}|\d{2})?", low):
        year, month, note = _read_words(raw, m[1], m[2], today)
    elif m := re.fullmatch(r"(\d{4})[\s,/-]+([a-z]+)\.?", low):
        year, month, note = _read_words(raw, m[2], m[1], today)
    else:
        raise MonthParseError(f"Cannot read month {text!r}: {_FORMS}.")
    try:
        return MonthSpec(year, month, note)
    except MonthParseError as exc:
        raise MonthParseError(f"Cannot read month {text!r}: {exc}") from None


def _read_words(
    raw: str, word: str, year_text: str | None, today: dt.date | None
) -> tuple[int, int, str | None]:
    """(year, month, note) from a month name, abbreviation or close typo and an optional year."""
    scored = sorted(
        (difflib.SequenceMatcher(None, word, name.lower()).ratio(), number)
        for number, name in enumerate(calendar.month_name)
        if name
    )
    (second, _), (best, closest) = scored[-2:]
    typo = len(word) >= 3 and best >= _FUZZY_CUTOFF and best > second  # close and unambiguous
    month = _MONTH_WORDS.get(word) or (closest if typo else None)
    if month is None:
        raise MonthParseError(f"Cannot read month {raw!r}: {_FORMS}.")
    if year_text is None:
        today = today or dt.date.today()
        year = today.year if month >= today.month else today.year + 1
    else:
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    note = f"Read {raw!r} as {calendar.month_name[month]} {year}."
    literal = word in _MONTH_WORDS and year_text is not None and len(year_text) == 4
    return year, month, None if literal else note


@dataclass(frozen=True)
class SpecialDate:
    """A holiday or awareness day, with a short content theme for the prompt."""

    date: dt.date
    name: str
    theme: str
    source: str  # "holiday" or "awareness"

    @property
    def day(self) -> int:
        return self.date.day


def special_dates(
    month: MonthSpec,
    *,
    country: str = "US",
    subdivision: str | None = None,
    awareness_file: str | Path | None = None,
    include_unofficial: bool = True,
) -> list[SpecialDate]:
    """Holidays and awareness days (bundled, plus ``awareness_file``'s) in ``month``, by date.

    A holiday and an awareness day on one date both appear, unless they share a name.
    """
    code, found = _holidays(month, country, subdivision, include_unofficial)
    files = [_bundled_awareness_file()] + ([Path(awareness_file)] if awareness_file else [])
    for path in files:
        for entry in _load_awareness(path):
            if entry.get("countries") and code not in {str(c).upper() for c in entry["countries"]}:
                continue
            for when in _occurrences(entry, month):
                found.append(SpecialDate(when, entry["name"], entry["theme"], "awareness"))
    unique: dict[tuple[dt.date, str], SpecialDate] = {}
    for item in found:  # holidays come first, so they win over a same-named awareness day
        unique.setdefault((item.date, item.name.casefold().replace("\u2019", "'")), item)
    return sorted(unique.values(), key=lambda s: (s.date, s.source != "holiday", s.name))


def format_special_dates(dates: list[SpecialDate], days: list[int] | None = None) -> str:
    """Prompt lines such as ``- Day 26 (Thursday): Thanksgiving Day — gratitude, ...``."""
    chosen = [s for s in dates if days is None or s.day in days]
    lines = [f"- Day {s.day} ({s.date:%A}): {s.name} — {s.theme}" for s in chosen]
    return "\n".join(lines) if lines else "- none"


def _holidays(
    month: MonthSpec, country: str, subdivision: str | None, include_unofficial: bool
) -> tuple[str, list[SpecialDate]]:
    """The country's canonical code and its holidays in ``month``, each with a theme."""
    code = country.strip().upper()
    known = holidays.utils.list_supported_countries(include_aliases=True)
    if code not in known:
        raise ConfigError(
            f"Unknown country {country!r} in setting `country`: use an ISO 3166 code "
            "supported by the holidays package, such as 'US', 'GB', 'CA', 'DE' or 'IN'."
        )
    subdiv = {s.casefold(): s for s in known[code]}.get((subdivision or "").strip().casefold())
    if subdivision and subdiv is None:
        examples = ", ".join(repr(s) for s in known[code][:5]) or "it has none"
        raise ConfigError(
            f"Unknown subdivision {subdivision!r} for country {code!r} in setting "
            f"`subdivision`: use one of that country's codes ({examples}) or leave it unset."
        )
    categories = [holidays.PUBLIC]
    if include_unofficial and holidays.UNOFFICIAL in getattr(holidays, code).supported_categories:
        categories.append(holidays.UNOFFICIAL)
    table = holidays.country_holidays(  # observed=False: a Monday off is not a content date
        code, subdiv=subdiv, years=month.year, categories=tuple(categories), observed=False
    )
    days = sorted(day for day in table if day.month == month.month)
    found = [SpecialDate(d, n, _theme_for(n), "holiday") for d in days for n in table.get_list(d)]
    return table.country, found


def _theme_for(name: str) -> str:
    folded = name.casefold().replace("\u2019", "'")
    themes = (theme for keyword, theme in _HOLIDAY_THEMES if keyword.casefold() in folded)
    return next(themes, f"{name}: timely themed content")


def _bundled_awareness_file() -> Path:
    """Where the bundled awareness list lives (the one place that knows)."""
    from pipeline.bundled import bundled_dir

    return bundled_dir("prompts") / "awareness_days.yaml"


def _load_awareness(path: Path) -> list[dict[str, Any]]:
    """Read and check an awareness file; any problem is a one-line ConfigError."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except OSError as exc:
        raise ConfigError(
            f"Cannot read awareness file '{path}' ({exc.strerror}): fix the `awareness_file` path."
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        near = f" near line {mark.line + 1}" if mark else ""
        raise ConfigError(f"Bad YAML in awareness file '{path}'{near}: fix its syntax.") from None
    if not isinstance(data, list):
        raise ConfigError(f"Awareness file '{path}' must be a YAML list of entries: see {_SCHEMA}.")
    for index, entry in enumerate(data, start=1):
        if problem := _entry_problem(entry):
            label = f" ({entry['name']!r})" if isinstance(entry, dict) and entry.get("name") else ""
            raise ConfigError(
                f"Awareness file '{path}' entry {index}{label} is malformed: {problem}; "
                "fix or remove that entry."
            )
    return data


def _entry_problem(entry: Any) -> str | None:
    """What is wrong with one awareness entry, or None when it is well formed."""
    if not isinstance(entry, dict) or set(entry) - _ENTRY_KEYS:
        return f"an entry is a mapping with keys among {sorted(_ENTRY_KEYS)}"
    if not all(isinstance(entry.get(k), str) and entry[k].strip() for k in ("name", "theme")):
        return "'name' and 'theme' must be non-empty text"
    if ("date" in entry) == ("rule" in entry):
        return f"it needs exactly one of 'date' or 'rule' ({_SCHEMA})"
    if not isinstance(entry.get("countries", []), list):
        return "'countries' must be a list of country codes such as [US]"
    if "date" in entry:
        try:
            dt.datetime.strptime(f"2000-{entry['date']}", "%Y-%m-%d")  # 2000 is a leap year
        except (TypeError, ValueError):
            return f'\'date\' must be a quoted "MM-DD" such as "10-10", got {entry["date"]!r}'
        return None
    rule = entry["rule"]
    if not isinstance(rule, dict) or set(rule) - _RULE_KEYS:
        return f"'rule' must be a mapping with keys among {sorted(_RULE_KEYS)}"
    month, nth, offset = rule.get("month"), rule.get("nth"), rule.get("offset_days", 0)
    weekday = str(rule.get("weekday", "")).lower()
    if not all(type(v) is int for v in (month, nth, offset)) or weekday not in _WEEKDAYS:
        return "'rule' needs whole-number month and nth and a weekday name such as thursday"
    if not 1 <= month <= 12 or not 1 <= abs(nth) <= 5:
        return "'rule' month must be 1 to 12 and nth 1 to 5 or -1 to -5 (-1 is the last)"
    return None


def _occurrences(entry: dict[str, Any], month: MonthSpec) -> list[dt.date]:
    """Dates of a checked entry in ``month`` (an offset may cross a month or year end)."""
    found = []
    for year in (month.year - 1, month.year, month.year + 1):
        if "date" in entry:
            mm, dd = (int(part) for part in entry["date"].split("-"))
            when = dt.date(year, mm, dd) if dd <= calendar.monthrange(year, mm)[1] else None
        else:
            rule, weekday = entry["rule"], _WEEKDAYS.index(entry["rule"]["weekday"].lower())
            days = calendar.Calendar().itermonthdates(year, rule["month"])
            matches = [d for d in days if d.month == rule["month"] and d.weekday() == weekday]
            nth, offset = rule["nth"], dt.timedelta(days=rule.get("offset_days", 0))
            index = nth - 1 if nth > 0 else nth  # nth=-1 is the last one
            when = matches[index] + offset if abs(nth) <= len(matches) else None
        if when and (when.year, when.month) == (month.year, month.month):
            found.append(when)
    return found


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
