"""What every prompt of one run shares: :class:`MonthContext`, read from a task's plain
JSON (the schedule, trends, niche, platforms, the shared examples) and the settings that
say which special dates count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.config import Settings
from pipeline.dates import MonthSpec, SpecialDate
from pipeline.generation.state import schedule_of
from pipeline.schedule import Schedule


@dataclass(frozen=True)
class MonthContext:
    """What every prompt of one run shares: its schedule (the span and its posts), trends,
    niche, platforms, the special dates inside the span and the shared examples."""

    schedule: Schedule  # a MonthSpec is read as its daily schedule
    trends: list[str]
    niche: str
    platform: str
    special_dates: list[SpecialDate]
    examples: str
    platforms: tuple[str, ...] = ("instagram",)

    def __post_init__(self) -> None:
        if isinstance(self.schedule, MonthSpec):  # a month: one post a day, as before posts
            object.__setattr__(self, "schedule", Schedule.for_month(self.schedule))

    @property
    def month(self) -> MonthSpec:
        """The month the span starts in."""
        return self.schedule.month

    @classmethod
    def from_data(cls, data: dict[str, Any], settings: Settings) -> MonthContext:
        """The context from a task's plain JSON (schedule, or just a month: one post a
        day; trends, niche, platform(s), examples) and the settings that say which
        special dates count."""
        schedule = schedule_of(data) if data.get("schedule") else Schedule.for_month(data["month"])
        return cls(
            schedule=schedule,
            trends=list(data.get("trends") or []),
            niche=data["niche"],
            platform=data["platform"],
            special_dates=schedule.special_dates(
                country=settings.country,
                subdivision=settings.subdivision,
                awareness_file=settings.awareness_file,
            ),
            examples=data.get("examples", ""),
            platforms=tuple(data.get("platforms") or ("instagram",)),
        )
