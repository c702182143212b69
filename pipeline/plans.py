"""The plan's types, shared by every layer: :class:`DayPlan` rows, :class:`OutlineDay`
lines, :class:`UsageRecord` accounting, their column titles, and :class:`CalendarData`,
a month of them (the fields and checks of :class:`~pipeline.calendar.Calendar`, which
adds the doors to exports and display).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipeline.dates import MonthSpec
from pipeline.schedule import MAX_POSTS, Schedule, parse_time
from pipeline.usage import (
    USAGE_TABLE_TITLES,
    Role,
    RuleBreakNote,
    UsageRecord,
    WriterRole,
    days_label,
    rule_break_from_text,
    rule_break_text,
)

__all__ = [
    "COLUMN_TITLES",
    "CONTENT_FIELDS",
    "OUTLINE_COLUMN_TITLES",
    "USAGE_TABLE_TITLES",
    "CalendarData",
    "DayPlan",
    "OutlineDay",
    "PlatformCopy",
    "Role",
    "RuleBreakNote",
    "UsageRecord",
    "WriterRole",
    "days_label",
    "hashtag_list",
    "rule_break_from_text",
    "rule_break_text",
    "split_hashtags",
]

#: DayPlan field -> column title used by every export, in column order.
COLUMN_TITLES: dict[str, str] = {
    "day": "Day",
    "title": "Reel Title",
    "hook": "Hook Cover Text",
    "caption": "Instagram Caption",
    "script": "Full Speaking Script",
    "video_style": "Video Style",
    "audio": "Audio Type",
    "hashtags": "Hashtags",
    "production_notes": "Production Notes",
    "engagement": "Engagement Strategy",
}

#: The text fields a model must fill for a row to count (everything but day/date).
CONTENT_FIELDS: tuple[str, ...] = tuple(k for k in COLUMN_TITLES if k != "day")

_HASHTAG_SPLIT = re.compile(r"[\s,;]+")


class PlatformCopy(BaseModel):
    """A post's copy for one more platform (not the primary one, whose copy is the
    post's own caption and hashtags): its caption, hashtags and, where the platform has
    one (YouTube Shorts), a title."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    caption: str = Field(min_length=1)
    hashtags: list[str] = Field(default_factory=list)
    title: str = ""

    @field_validator("hashtags", mode="before")
    @classmethod
    def _split_hashtags(cls, value: Any) -> Any:
        return hashtag_list(value)

    @property
    def hashtags_text(self) -> str:
        return " ".join(self.hashtags)


class DayPlan(BaseModel):
    """One post of the calendar: the seed's ten columns plus the date, then (appended)
    its local time and its copies for the other platforms.

    ``day`` is the day of the month of ``date``; a post is keyed by :attr:`key`, its local
    date-time, so a day may hold two posts.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    day: int = Field(ge=1, le=31, description="Day of the month, 1-31.")
    date: date
    title: str = Field(min_length=1)
    hook: str = Field(min_length=1, description="Text on the cover / first second.")
    caption: str = Field(min_length=1)
    script: str = Field(min_length=1, description="The full speaking script.")
    video_style: str = Field(min_length=1)
    audio: str = Field(min_length=1)
    hashtags: list[str] = Field(min_length=1)
    production_notes: str = Field(min_length=1)
    engagement: str = Field(min_length=1)
    time: str = Field(
        "", description="Local wall-clock time, HH:MM ('' in files written before times)."
    )
    copies: dict[str, PlatformCopy] = Field(
        default_factory=dict,
        description="Platform key -> the post's copy there, for each platform but the primary.",
    )

    @field_validator("hashtags", mode="before")
    @classmethod
    def _split_hashtags(cls, value: Any) -> Any:
        return hashtag_list(value)

    @field_validator("time", mode="before")
    @classmethod
    def _clock_time(cls, value: Any) -> Any:
        return parse_time(value) if value not in (None, "") else ""

    @property
    def key(self) -> str:
        """The post's key: its local date-time ``"2027-03-03T18:00"`` (the bare date for a
        post without a time)."""
        return f"{self.date.isoformat()}T{self.time}" if self.time else self.date.isoformat()

    @model_validator(mode="after")
    def _date_matches_day(self) -> DayPlan:
        if self.date.day != self.day:
            raise ValueError(f"date {self.date} does not fall on day {self.day}")
        return self

    @property
    def hashtags_text(self) -> str:
        """Hashtags as one space-separated string, as exports write them."""
        return " ".join(self.hashtags)


#: OutlineDay field -> export column title (after the DayPlan columns).
OUTLINE_COLUMN_TITLES: dict[str, str] = {
    "pillar": "Pillar",
    "format": "Format",
    "series": "Series",
    "uses": "Uses",
}


class OutlineDay(BaseModel):
    """One day of the month outline, planned before any reel is written: a working title,
    its content pillar, its format (a mentor framework), a series name when the day
    belongs to a recurring series, and the trend or special date it builds on."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    day: int = Field(ge=1, le=MAX_POSTS, description="The post's number (a daily month: its day).")
    title: str = Field(min_length=1, max_length=200)
    pillar: str = Field(
        "", max_length=80, description="Empty when a value outside content_pillars was dropped."
    )
    format: str = Field("", max_length=80, description="A mentor framework; empty if none.")
    series: str = Field("", max_length=80)
    uses: str = Field("", max_length=200, description="The trend or special date it uses.")

    @field_validator("day", mode="before")
    @classmethod
    def _day_number(cls, value: Any) -> Any:
        if isinstance(value, str):
            match = re.search(r"\d+", value)
            return int(match.group()) if match else value
        return value

    @field_validator("series", "uses", mode="before")
    @classmethod
    def _none_is_blank(cls, value: Any) -> Any:
        if value is None or str(value).strip().lower() in {"none", "n/a", "-", "null"}:
            return ""
        return value

    def line(self, name: str | None = None) -> str:
        """The day as one prompt line: ``Day 3: "title" (pillar: ..., format: ...)``
        (``name``: how the post is named instead, e.g. "Post 3")."""
        parts = [f"pillar: {self.pillar}"] if self.pillar else []
        parts += [f"format: {self.format}"]
        parts += [f"series: {self.series}"] if self.series else []
        parts += [f"uses: {self.uses}"] if self.uses else []
        named = name or f"Day {self.day}"
        return f"{named}: {json.dumps(self.title, ensure_ascii=False)} ({'; '.join(parts)})"


def split_hashtags(value: str) -> list[str]:
    """Hashtag text split on spaces, commas and semicolons (blanks dropped)."""
    return [tag for tag in _HASHTAG_SPLIT.split(value) if tag]


def hashtag_list(value: Any) -> Any:
    """Hashtags (text or a list) as a list of ``#tag`` s; anything else as it is (for
    pydantic to reject). A tag never holds a space: exports join tags with spaces and
    read them back."""
    if isinstance(value, str):
        value = split_hashtags(value)
    if isinstance(value, (list, tuple)):
        tags = (t for item in value for t in split_hashtags(str(item)))
        return [tag if tag.startswith("#") else f"#{tag}" for tag in tags]
    return value


class CalendarData(BaseModel):
    """A plan of posts and the record of how it was made (its data; the public
    :class:`~pipeline.calendar.Calendar` adds exports and display).

    ``days`` (alias :attr:`posts`) is sorted by date and time with no two posts of one key;
    a complete calendar has one :class:`DayPlan` per post of its :attr:`schedule` (see
    :attr:`is_complete`): for a month with one post a day, one per day of the month.
    ``year`` and ``month`` are those of the first date. A calendar written before
    schedules (``schedule`` None) is a month with one post a day. The readers in
    :mod:`pipeline.outputs` return it; ``Calendar.load`` turns it into a ``Calendar``.
    """

    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=1, le=9999)
    month: int = Field(ge=1, le=12)
    days: list[DayPlan] = Field(default_factory=list)
    usage: list[UsageRecord] = Field(default_factory=list)
    #: The outline the posts were written from (empty when the run had none).
    outline: list[OutlineDay] = Field(default_factory=list)
    #: Post number -> source ids of the retrieved mentor examples its call was given.
    sources: dict[int, list[str]] = Field(default_factory=dict)
    niche: str = ""
    trends: list[str] = Field(default_factory=list)
    model: str = ""
    platform: str = "Instagram Reels"
    notes: list[str] = Field(default_factory=list, description="e.g. how the month was read.")
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    #: The span, posting slots and time zone planned (None: a month, one post a day).
    schedule: Schedule | None = None
    #: Platform keys, the primary first (its copy is the caption and hashtags columns).
    platforms: list[str] = Field(default_factory=lambda: ["instagram"])

    @model_validator(mode="after")
    def _check_days(self) -> CalendarData:
        seen: set[str] = set()
        first, last = self.first_date, self.last_date
        for plan in self.days:
            if plan.key in seen:
                raise ValueError(f"the post of {plan.key} appears twice")
            seen.add(plan.key)
            if not first <= plan.date <= last:
                raise ValueError(f"day {plan.day} is dated {plan.date}, outside {self.span_name}")
        self.days.sort(key=lambda p: (p.date, p.time))
        self.outline.sort(key=lambda o: o.day)
        return self

    # ----------------------------------------------------------------- span facts
    @property
    def plan_schedule(self) -> Schedule:
        """The schedule, or (a calendar written before schedules) the month's daily one."""
        return self.schedule or _daily_month(self.year, self.month)

    @property
    def first_date(self) -> date:
        return self.schedule.start if self.schedule else date(self.year, self.month, 1)

    @property
    def last_date(self) -> date:
        if self.schedule:
            return self.schedule.end
        return date(self.year, self.month, MonthSpec(self.year, self.month).days_in_month)

    @property
    def timezone(self) -> str:
        return self.schedule.timezone if self.schedule else ""

    @property
    def days_in_month(self) -> int:
        return MonthSpec(self.year, self.month).days_in_month

    @property
    def month_name(self) -> str:
        return MonthSpec(self.year, self.month).name

    @property
    def span_name(self) -> str:
        """ "March 2026", "Week 10 of 2027 (...)", "28 March to 6 April 2027"."""
        return self.schedule.name if self.schedule else self.month_name

    @property
    def posts(self) -> list[DayPlan]:
        """The posts, by date and time (the same list as :attr:`days`)."""
        return self.days

    @property
    def post_count(self) -> int:
        """Posts the plan has when complete."""
        return self.plan_schedule.count

    def post_number(self, plan: DayPlan) -> int | None:
        """The number of ``plan``'s post in the schedule (None when it has none)."""
        post = self.plan_schedule.find(plan.key)
        return post.number if post else None

    @property
    def missing_posts(self) -> list[str]:
        """Keys of the posts not written yet, in order."""
        have = {n for p in self.days if (n := self.post_number(p)) is not None}
        return [post.key for post in self.plan_schedule.posts if post.number not in have]

    @property
    def missing_days(self) -> list[int]:
        """Numbers of the posts not written yet: days of the month for a month with one
        post a day, else post numbers (1 is the span's first post)."""
        have = {n for p in self.days if (n := self.post_number(p)) is not None}
        return [n for n in range(1, self.post_count + 1) if n not in have]

    @property
    def is_complete(self) -> bool:
        return not self.missing_days

    def day(self, number: int) -> DayPlan:
        """The plan of post ``number`` (a daily month: day ``number``); ``KeyError`` when
        it is missing."""
        for plan in self.days:
            if self.post_number(plan) == number:
                return plan
        raise KeyError(number)

    def post(self, key: str) -> DayPlan:
        """The post keyed ``key`` ("2027-03-03T18:00"); ``KeyError`` when it is missing."""
        for plan in self.days:
            if key in (plan.key, plan.date.isoformat()):
                return plan
        raise KeyError(key)

    def outline_day(self, number: int) -> OutlineDay | None:
        """The outline line of post ``number`` (None when the outline has none)."""
        return next((o for o in self.outline if o.day == number), None)

    def with_days(self, plans: list[DayPlan]) -> CalendarData:
        """A copy where ``plans`` replace (or add) the posts with the same keys."""
        replaced = {p.key: p for p in self.days}
        replaced.update({p.key: p for p in plans})
        ordered = sorted(replaced.values(), key=lambda p: (p.date, p.time))
        return self.model_copy(update={"days": ordered})

    # ----------------------------------------------------------------- accounting
    @property
    def total_input_tokens(self) -> int:
        """Input tokens of the paid calls (replies from the response cache cost nothing)."""
        return sum(
            u.input_tokens if u.input_tokens is not None else u.prompt_tokens
            for u in self.usage
            if not u.cached
        )

    @property
    def total_output_tokens(self) -> int:
        """Output tokens of the paid calls."""
        return sum(u.output_tokens or 0 for u in self.usage if not u.cached)

    def usage_summary(self) -> str:
        """Per-call summary lines and a total."""
        schedule = self.plan_schedule
        lines = [u.summary(schedule.short_label, schedule.noun) for u in self.usage]
        cached = sum(u.cached for u in self.usage)
        calls = f"{len(self.usage)} calls" + (f" ({cached} from the cache)" if cached else "")
        noun = schedule.noun
        lines.append(
            f"total: {calls}, {self.total_input_tokens:,} input + "
            f"{self.total_output_tokens:,} output tokens, "
            f"{len(self.days)}/{self.post_count} {noun}s"
            + (f", {len(self.outline)}/{self.post_count} planned" if self.outline else "")
        )
        return "\n".join(lines)


@lru_cache(maxsize=32)
def _daily_month(year: int, month: int) -> Schedule:
    """The schedule of a calendar written before schedules: its month, one post a day."""
    return Schedule.for_month(MonthSpec(year, month))
