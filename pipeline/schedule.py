"""When posts go out: spans, posting slots, time zones, and the posts they make.

A :class:`Schedule` is a span of dates (a month, an ISO week, or a range), the posting
slots of each weekday (local wall-clock times) and an IANA time zone. Its :meth:`posts`
are the :class:`Post` s of the plan in order, each keyed by its local date-time
(``"2027-03-03T18:00"``) and numbered from 1. How a post is named in prompts and logs is
decided here too (:meth:`Schedule.name_of`, :meth:`Schedule.label`): a month with one post
a day keeps "Day N" (its number is its day of the month); any other schedule names each
post "Post N" with its weekday, date and time.

:func:`~pipeline.spans.read_span` reads the span; :func:`read_slots` reads ``posting_slots``, a cadence with times, or ``posts_per_week``; :func:`read_timezone`
checks a zone name (zone data comes from the system or the ``tzdata`` package).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, field_validator

from pipeline.dates import MonthSpec, SpecialDate, parse_month, special_dates
from pipeline.errors import ScheduleError
from pipeline.slots import WEEKDAYS, parse_time, read_slots, read_timezone, weekday_key
from pipeline.spans import MAX_SPAN_DAYS, Span, SpanKind, range_text, read_span

__all__ = [
    "MAX_POSTS",
    "MAX_SPAN_DAYS",
    "WEEKDAYS",
    "Post",
    "Schedule",
    "Span",
    "key_date",
    "parse_time",
    "read_slots",
    "read_span",
    "read_timezone",
    "wall_time",
    "weekday_key",
]

#: The most posts one run plans: longer plans are several runs (each a resumable run of
#: its own), so that one run's cost and wall time stay bounded.
MAX_POSTS = 124


@dataclass(frozen=True)
class Post:
    """One post of a schedule: its number (1 = the first), local date and wall-clock time,
    and the note when the slot was moved (a time that does not exist on a DST day)."""

    number: int
    date: dt.date
    time: str
    zone: str
    note: str | None = None

    @property
    def key(self) -> str:
        """The post's key everywhere: its local date-time, ``"2027-03-03T18:00"``."""
        return f"{self.date.isoformat()}T{self.time}"

    @property
    def start(self) -> dt.datetime:
        """The post's moment, aware (in its zone)."""
        hour, minute = map(int, self.time.split(":"))
        return dt.datetime.combine(self.date, dt.time(hour, minute), tzinfo=ZoneInfo(self.zone))

    def when(self) -> str:
        """``"Wednesday 3 March 2027, 18:00"``."""
        return f"{self.date:%A} {self.date.day} {self.date:%B %Y}, {self.time}"


def key_date(key: str) -> dt.date:
    """The date of a post key (or of a bare ISO date)."""
    return dt.date.fromisoformat(key[:10])


class Schedule(BaseModel):
    """A span of dates, its posting slots and time zone: what a run plans.

    Plain JSON (it lives in the month graph's state and in saved calendars).

    Example:
        .. code-block:: python

            s = Schedule.build(span=read_span(start="2027-03-01", end="2027-03-31"),
                               slots=read_slots(cadence="mon,wed,fri", times="18:00"),
                               timezone="Europe/Berlin")
            len(s.posts)            # 14
            s.posts[0].key          # "2027-03-01T18:00"
            s.name_of(1)            # "Post 1 (Monday 1 March 2027, 18:00)"
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: SpanKind = "month"
    start: dt.date
    end: dt.date
    slots: dict[str, list[str]]
    timezone: str = "UTC"

    @field_validator("slots")
    @classmethod
    def _known_weekdays(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if not value:
            raise ValueError("a schedule needs posting slots, e.g. {mon: ['18:00']}")
        return read_slots(posting_slots=value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            return read_timezone(value)
        except ScheduleError as exc:
            raise ValueError(str(exc)) from None

    @classmethod
    def build(
        cls, *, span: Span, slots: Mapping[str, list[str]], timezone: str = "UTC"
    ) -> Schedule:
        """A checked schedule (span length, post count, zone)."""
        schedule = cls(
            kind=span.kind,
            start=span.start,
            end=span.end,
            slots=dict(slots),
            timezone=read_timezone(timezone),
        )
        if not schedule.posts:
            raise ScheduleError(
                f"No posting slot falls in {schedule.name}: pick weekdays the span has, or a "
                "longer span."
            )
        if len(schedule.posts) > MAX_POSTS:
            raise ScheduleError(
                f"{schedule.name} has {len(schedule.posts)} posts: one run plans at most "
                f"{MAX_POSTS}; plan a shorter span or fewer slots."
            )
        return schedule

    @classmethod
    def for_month(cls, month: MonthSpec | str, *, time: str = "18:00") -> Schedule:
        """A month with one post a day at ``time`` (the default schedule)."""
        spec = parse_month(month)
        return cls.build(span=Span.month(spec), slots={d: [parse_time(time)] for d in WEEKDAYS})

    # ----------------------------------------------------------------- the posts
    @property
    def posts(self) -> list[Post]:
        """Every post of the span in date-time order, numbered from 1."""
        return _posts(self.start, self.end, _frozen(self.slots), self.timezone)

    @property
    def _by_key(self) -> dict[str, Post]:
        return _posts_by_key(self.start, self.end, _frozen(self.slots), self.timezone)

    @property
    def count(self) -> int:
        return len(self.posts)

    @property
    def keys(self) -> list[str]:
        return [post.key for post in self.posts]

    def post(self, number: int) -> Post:
        """Post ``number`` (1-based); ``KeyError`` outside the schedule."""
        if not 1 <= number <= len(self.posts):
            raise KeyError(number)
        return self.posts[number - 1]

    def key_of(self, number: int) -> str:
        return self.post(number).key

    def number_of(self, key: str) -> int:
        """The number of the post keyed ``key`` (a bare ISO date: that day's first post)."""
        if key in self._by_key:
            return self._by_key[key].number
        for post in self.posts:
            if post.date.isoformat() == key:
                return post.number
        raise KeyError(key)

    def find(self, key: str) -> Post | None:
        """The post of ``key`` ("2027-03-03T18:00"; or "2027-03-03" when that date has one
        post), None when the schedule has none."""
        if key in self._by_key:
            return self._by_key[key]
        on_date = [p for p in self.posts if p.date.isoformat() == key]
        return on_date[0] if len(on_date) == 1 else None

    def post_of(self, key: str) -> Post:
        """Like :meth:`find`, a :class:`ScheduleError` (exit code 2) when ``key`` names no
        post, saying which posts its date has, or what a key looks like."""
        post = self.find(str(key).strip())
        if post is not None:
            return post
        on_date = [p.key for p in self.posts if p.date.isoformat() == str(key).strip()[:10]]
        if on_date:
            raise ScheduleError(
                f"{key!r} is not one post of {self.name}: that date has {', '.join(on_date)}; "
                "give one of those."
            )
        raise ScheduleError(
            f"{key!r} is not a post of {self.name}: give a date-time such as "
            f"{self.posts[0].key!r} (one of its posting slots)."
        )

    @property
    def notes(self) -> list[str]:
        """What the schedule changed (slots moved on a DST day)."""
        return [post.note for post in self.posts if post.note]

    # ----------------------------------------------------------------- naming
    @property
    def daily_month(self) -> bool:
        """A whole month with one post a day: posts are named "Day N" (N its day)."""
        return (
            self.kind == "month"
            and all(len(t) == 1 for t in self.slots.values())
            and len(self.slots) == 7
        )

    @property
    def noun(self) -> str:
        """What a post is called in prompts: "day" or "post"."""
        return "day" if self.daily_month else "post"

    @property
    def slug(self) -> str:
        """A short name for run ids and files: "2026-03", "2027-W10", "2027-03-28"."""
        if self.kind == "month":
            return self.month.key
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return self.start.isoformat()

    @property
    def month(self) -> MonthSpec:
        """The month the span starts in."""
        return MonthSpec(self.start.year, self.start.month)

    @property
    def name(self) -> str:
        """ "March 2027", "Week 10 of 2027 (8 to 14 March)", "28 March to 6 April 2027"."""
        if self.kind == "month":
            return self.month.name
        dates = range_text(self.start, self.end)
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"Week {week} of {year} ({dates})"
        return dates

    def name_of(self, number: int) -> str:
        """How prompts and logs name one post: "Day 12" or "Post 3 (Wednesday 3 March
        2027, 18:00)"."""
        if self.daily_month:
            return f"Day {number}"
        return f"Post {number} ({self.post(number).when()})"

    def short_name(self, number: int) -> str:
        """ "Day 12" or "Post 3"."""
        return f"{'Day' if self.daily_month else 'Post'} {number}"

    def label(self, numbers: Sequence[int]) -> str:
        """Several posts named as prompts name them: "Day 10 to Day 18" (a daily month),
        "Post 1 (Sunday 28 March 2027, 18:00) and Post 2 (...)" otherwise."""
        numbers = sorted(numbers)
        if not numbers:
            return f"no {self.noun}s"
        if self.daily_month and numbers == list(range(numbers[0], numbers[-1] + 1)):
            if len(numbers) == 1:
                return f"Day {numbers[0]}"
            return f"Day {numbers[0]} to Day {numbers[-1]}"
        named = [self.name_of(n) for n in numbers]
        return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]

    def short_label(self, numbers: Sequence[int]) -> str:
        """Like :meth:`label` without dates: "Post 1 to Post 5" (logs, usage lines)."""
        numbers = sorted(numbers)
        word = "Day" if self.daily_month else "Post"
        if not numbers:
            return f"no {self.noun}s"
        if len(numbers) == 1:
            return f"{word} {numbers[0]}"
        if numbers == list(range(numbers[0], numbers[-1] + 1)):
            return f"{word} {numbers[0]} to {word} {numbers[-1]}"
        named = [f"{word} {n}" for n in numbers]
        return ", ".join(named[:-1]) + " and " + named[-1]

    # ----------------------------------------------------------------- dates
    def months(self) -> list[MonthSpec]:
        """The months the span touches, in order."""
        found: list[MonthSpec] = []
        day = self.start.replace(day=1)
        while day <= self.end:
            found.append(MonthSpec(day.year, day.month))
            day = (day + dt.timedelta(days=32)).replace(day=1)
        return found

    def special_dates(self, **where: Any) -> list[SpecialDate]:
        """Holidays and awareness days inside the span (``where``: country, subdivision,
        awareness_file, as :func:`~pipeline.dates.special_dates` takes them)."""
        found = [s for m in self.months() for s in special_dates(m, **where)]
        return [s for s in found if self.start <= s.date <= self.end]

    def numbers_on(self, day: dt.date) -> list[int]:
        return [post.number for post in self.posts if post.date == day]


def _frozen(slots: Mapping[str, list[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((day, tuple(times)) for day, times in slots.items())


@lru_cache(maxsize=256)
def _posts(
    start: dt.date, end: dt.date, slots: tuple[tuple[str, tuple[str, ...]], ...], zone_name: str
) -> list[Post]:
    """The posts of a schedule (cached by its fields, so a copy never sees another's)."""
    zone, by_day = ZoneInfo(zone_name), dict(slots)
    found: list[Post] = []
    for offset in range((end - start).days + 1):
        day = start + dt.timedelta(days=offset)
        moved: dict[str, str | None] = {}
        for time in by_day.get(WEEKDAYS[day.weekday()], ()):
            real, note = _existing_time(day, time, zone, zone_name)
            if real in moved:  # a slot moved off a skipped time onto another slot: one post
                first = str(moved[real] or note).rstrip(".")
                moved[real] = f"{first}, where another post already is: they are one post."
                continue
            moved[real] = note
        for real in sorted(moved):
            found.append(Post(len(found) + 1, day, real, zone_name, moved[real]))
    return found


@lru_cache(maxsize=256)
def _posts_by_key(
    start: dt.date, end: dt.date, slots: tuple[tuple[str, tuple[str, ...]], ...], zone_name: str
) -> dict[str, Post]:
    return {post.key: post for post in _posts(start, end, slots, zone_name)}


def wall_time(day: dt.date, time: str, zone_name: str) -> str:
    """The wall-clock time a slot at ``time`` really has on ``day`` in the zone (a time
    skipped by a DST change moves forward by the gap)."""
    return _existing_time(day, time, ZoneInfo(zone_name), zone_name)[0]


def _existing_time(
    day: dt.date, time: str, zone: ZoneInfo, zone_name: str
) -> tuple[str, str | None]:
    """The wall-clock time a slot really has on ``day``: a time skipped by a DST change is
    read with the offset before the gap, as RFC 5545 (3.3.5) reads it, so 02:30 on the
    spring-forward night becomes 03:30; the note says so."""
    hour, minute = map(int, time.split(":"))
    local = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)
    back = local.astimezone(dt.timezone.utc).astimezone(zone)
    if back.replace(tzinfo=None) == local.replace(tzinfo=None):
        return time, None
    moved = f"{back:%H:%M}"
    return moved, (
        f"{time} does not exist on {day.isoformat()} in {zone_name} (the clocks go forward): "
        f"that post moves to {moved}."
    )
