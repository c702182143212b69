"""The plan's types, shared by every layer: :class:`DayPlan` rows, :class:`OutlineDay`
lines, :class:`UsageRecord` accounting, their column titles, and :class:`CalendarData`,
a month of them (the fields and checks of :class:`~pipeline.calendar.Calendar`, which
adds the doors to exports and display).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date, datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from typing_extensions import TypedDict

from pipeline.dates import MonthSpec

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

#: Column titles of a usage table (notebook display, Markdown export), for
#: :meth:`UsageRecord.table_cells`.
USAGE_TABLE_TITLES: tuple[str, ...] = (
    "Role",
    "Model",
    "Days",
    "Prompt tokens",
    "max_tokens",
    "Input",
    "Output",
    "Finish",
    "Days parsed",
    "Error",
)

#: The step a model call served: the first round ("main"), a rerun for missing days
#: ("supplement"), or a month outline ("outline").
Role = Literal["main", "supplement", "outline"]
#: The roles that write days (a writer each: main for days never asked for, supplement
#: for days asked for and still missing).
WriterRole = Literal["main", "supplement"]


class DayPlan(BaseModel):
    """One reel of the calendar: the seed's ten columns plus the date."""

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

    @field_validator("hashtags", mode="before")
    @classmethod
    def _split_hashtags(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = split_hashtags(value)
        if isinstance(value, (list, tuple)):
            tags = []
            # a tag never holds a space: exports join tags with spaces and read them back
            for tag in (t for item in value for t in split_hashtags(str(item))):
                if tag:
                    tags.append(tag if tag.startswith("#") else f"#{tag}")
            return tags
        return value

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

    day: int = Field(ge=1, le=31)
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

    def line(self) -> str:
        """The day as one prompt line: ``Day 3: "title" (pillar: ..., format: ...)``."""
        parts = [f"pillar: {self.pillar}"] if self.pillar else []
        parts += [f"format: {self.format}"]
        parts += [f"series: {self.series}"] if self.series else []
        parts += [f"uses: {self.uses}"] if self.uses else []
        return f"Day {self.day}: {json.dumps(self.title, ensure_ascii=False)} ({'; '.join(parts)})"


class RuleBreakNote(TypedDict):
    """A content rule a row of a call broke: its day, why, and whether the row was kept
    anyway (a soft break, flagged, with ``strict: false``)."""

    day: int
    reason: str
    kept: bool


_RULE_BREAK_TEXT = re.compile(r"^\s*Day (\d+)( \(kept\))?: (.*)$", re.DOTALL)


def rule_break_text(note: RuleBreakNote) -> str:
    """A note as one line of text: "Day 5: why", or "Day 5 (kept): why"."""
    return f"Day {note['day']}{' (kept)' if note['kept'] else ''}: {note['reason']}"


def rule_break_from_text(text: str) -> RuleBreakNote:
    """A note read back from :func:`rule_break_text`'s line (an .xlsx cell, or JSON
    written before breaks were structured); raises ValueError on any other text."""
    match = _RULE_BREAK_TEXT.match(text)
    if not match:
        raise ValueError(f"{text[:60]!r} is not a rule break ('Day N: why')")
    return {"day": int(match[1]), "reason": match[3].strip(), "kept": bool(match[2])}


class UsageRecord(BaseModel):
    """What one model call asked for and got back."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    model: str
    days_requested: list[int]
    prompt_tokens: int = Field(ge=0, description="Counted by reelcal before the call.")
    max_tokens: int = Field(ge=0)
    input_tokens: int | None = Field(default=None, description="As reported by the model.")
    output_tokens: int | None = Field(default=None, description="As reported by the model.")
    reasoning_tokens: int | None = Field(
        default=None, description="Hidden reasoning tokens inside output_tokens, as reported."
    )
    finish_reason: str | None = None
    days_parsed: int = 0
    rows_rejected: int = 0
    round: int = 0
    seconds: float | None = None
    error: str | None = None
    cached: bool = Field(
        default=False, description="Answered from the response cache (``cache``): not paid."
    )
    rule_breaks: list[RuleBreakNote] = Field(
        default_factory=list,
        description="Content rules the call's rows broke: {day: 5, reason: 'hook has 12 "
        "words: at most 8', kept: false} (not kept, so asked again); kept: true when strict "
        "is off and the break is soft.",
    )

    @field_validator("rule_breaks", mode="before")
    @classmethod
    def _notes_from_text(cls, value: Any) -> Any:
        """Files written before breaks were structured hold "Day 5: why" lines (and an
        .xlsx cell holds the same text): read them as notes."""
        if not isinstance(value, list):
            return value
        return [rule_break_from_text(v) if isinstance(v, str) else v for v in value]

    def table_cells(self) -> list[Any]:
        """This call as a row of a usage table (see :data:`USAGE_TABLE_TITLES`)."""
        return [
            self.role,
            self.model,
            days_label(self.days_requested),
            self.prompt_tokens,
            self.max_tokens,
            self.input_tokens,
            self.output_tokens,
            self.finish_reason or "",
            f"{self.days_parsed}/{len(self.days_requested)}",
            self.error or "",
        ]

    def summary(self) -> str:
        """A one-line summary like the seed's ``3,010 input + 4,000 output``."""
        days = days_label(self.days_requested)
        used_in = self.input_tokens if self.input_tokens is not None else self.prompt_tokens
        out = f"{self.output_tokens:,}" if self.output_tokens is not None else "?"
        tail = f"; error: {self.error}" if self.error else ""
        cached = " from the cache (not paid)" if self.cached else ""
        dropped = {b["day"] for b in self.rule_breaks if not b["kept"]}
        if dropped:
            tail = f"; {len(dropped)} not kept by the content rules{tail}"
        return (
            f"{self.role} call{cached} ({self.model}) {days}: {used_in:,} input + {out} output "
            f"(max_tokens {self.max_tokens:,}, finish {self.finish_reason or '?'}), "
            f"{self.days_parsed}/{len(self.days_requested)} days parsed{tail}"
        )


def days_label(days: Sequence[int]) -> str:
    """``[12]`` -> "Day 12"; ``[10..18]`` -> "Day 10 to Day 18"; else "Day 3, Day 7 and
    Day 12". How every prompt, log line and usage summary names days."""
    days = sorted(days)
    if not days:
        return "no days"
    if len(days) == 1:
        return f"Day {days[0]}"
    if days == list(range(days[0], days[-1] + 1)):
        return f"Day {days[0]} to Day {days[-1]}"
    named = [f"Day {d}" for d in days]
    return ", ".join(named[:-1]) + " and " + named[-1]


def split_hashtags(value: str) -> list[str]:
    """Hashtag text split on spaces, commas and semicolons (blanks dropped)."""
    return [tag for tag in _HASHTAG_SPLIT.split(value) if tag]


class CalendarData(BaseModel):
    """A month of reels and the record of how it was made (its data; the public
    :class:`~pipeline.calendar.Calendar` adds exports and display).

    ``days`` is sorted by day with no duplicates; a complete calendar has one
    :class:`DayPlan` per day of the month (see :attr:`is_complete`). The readers in
    :mod:`pipeline.outputs` return it; ``Calendar.load`` turns it into a ``Calendar``.
    """

    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=1, le=9999)
    month: int = Field(ge=1, le=12)
    days: list[DayPlan] = Field(default_factory=list)
    usage: list[UsageRecord] = Field(default_factory=list)
    #: The month outline the days were written from (empty when the run had none).
    outline: list[OutlineDay] = Field(default_factory=list)
    #: Day -> source ids of the retrieved mentor examples its call was given.
    sources: dict[int, list[str]] = Field(default_factory=dict)
    niche: str = ""
    trends: list[str] = Field(default_factory=list)
    model: str = ""
    platform: str = "Instagram Reels"
    notes: list[str] = Field(default_factory=list, description="e.g. how the month was read.")
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    @model_validator(mode="after")
    def _check_days(self) -> CalendarData:
        seen: set[int] = set()
        for plan in self.days:
            if plan.day in seen:
                raise ValueError(f"day {plan.day} appears twice")
            seen.add(plan.day)
            if (plan.date.year, plan.date.month) != (self.year, self.month):
                raise ValueError(f"day {plan.day} is dated {plan.date}, outside {self.month_name}")
        self.days.sort(key=lambda p: p.day)
        self.outline.sort(key=lambda o: o.day)
        return self

    # ----------------------------------------------------------------- month facts
    @property
    def days_in_month(self) -> int:
        return MonthSpec(self.year, self.month).days_in_month

    @property
    def month_name(self) -> str:
        return MonthSpec(self.year, self.month).name

    @property
    def missing_days(self) -> list[int]:
        have = {p.day for p in self.days}
        return [d for d in range(1, self.days_in_month + 1) if d not in have]

    @property
    def is_complete(self) -> bool:
        return not self.missing_days

    def day(self, number: int) -> DayPlan:
        """The plan for day ``number``; ``KeyError`` when it is missing."""
        for plan in self.days:
            if plan.day == number:
                return plan
        raise KeyError(number)

    def outline_day(self, number: int) -> OutlineDay | None:
        """The outline line of day ``number`` (None when the outline has none)."""
        return next((o for o in self.outline if o.day == number), None)

    def with_days(self, plans: list[DayPlan]) -> CalendarData:
        """A copy where ``plans`` replace (or add) the days with the same numbers."""
        replaced = {p.day: p for p in self.days}
        replaced.update({p.day: p for p in plans})
        return self.model_copy(update={"days": sorted(replaced.values(), key=lambda p: p.day)})

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
        lines = [u.summary() for u in self.usage]
        cached = sum(u.cached for u in self.usage)
        calls = f"{len(self.usage)} calls" + (f" ({cached} from the cache)" if cached else "")
        lines.append(
            f"total: {calls}, {self.total_input_tokens:,} input + "
            f"{self.total_output_tokens:,} output tokens, "
            f"{len(self.days)}/{self.days_in_month} days"
            + (f", {len(self.outline)}/{self.days_in_month} planned" if self.outline else "")
        )
        return "\n".join(lines)
