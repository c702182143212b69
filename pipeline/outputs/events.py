"""The calendar events of a plan, one per post per platform, for :mod:`.ics` and
:mod:`.schedulers`.

A post with a time is a timed event in the plan's zone that starts at the post's local
time and lasts as long as its script takes to say::

    minutes = max(1, ceil(words / SPEAKING_WORDS_PER_MINUTE))

A post without a time (a calendar written before posts had times) is an all-day event.
The primary platform's event carries the post's own caption and hashtags; each other
platform's event carries the post's copy there (and, for a platform with titles, its
title as the summary). A post with no copy for a platform has no event on it.

An event's UID is its post key and platform, ``reelcal-2027-03-03T18:00-tiktok@reelcal``:
a regenerated post (a new title, a new script) updates its event on re-import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from pipeline.plans import CalendarData, DayPlan, PlatformCopy
from pipeline.platforms import PLATFORMS, SPEAKING_WORDS_PER_MINUTE


@dataclass(frozen=True)
class PostEvent:
    """One post on one platform as a calendar event.

    ``start`` and ``end`` are aware date-times in the plan's zone for a timed event, dates
    (the end the day after) for an all-day one.
    """

    uid: str
    summary: str
    description: str
    category: str
    start: date | datetime
    end: date | datetime

    @property
    def timed(self) -> bool:
        return isinstance(self.start, datetime)


def calendar_events(calendar: CalendarData) -> list[PostEvent]:
    """Every post's events in order, the primary platform's first at each post."""
    zone = zone_info(calendar.timezone)
    several = len(calendar.platforms) > 1
    events = []
    for plan in calendar.days:
        for platform in calendar.platforms:
            copy = platform_copy(plan, platform, primary=calendar.platforms[0])
            if copy is not None:
                events.append(_event(plan, platform, copy, zone, named=several))
    return events


def zone_info(name: str) -> tzinfo:
    """The zone of a plan's times: plain UTC for "UTC" (or none), else the IANA zone."""
    return timezone.utc if name in ("", "UTC") else ZoneInfo(name)


def platform_copy(plan: DayPlan, platform: str, *, primary: str) -> PlatformCopy | None:
    """``plan``'s copy on ``platform``: its own caption and hashtags on the primary one."""
    if platform == primary:
        return PlatformCopy(caption=plan.caption, hashtags=plan.hashtags)
    return plan.copies.get(platform)


def speaking_minutes(script: str) -> int:
    """Whole minutes the script takes to say at :data:`SPEAKING_WORDS_PER_MINUTE`, at
    least 1."""
    return max(1, math.ceil(len(script.split()) / SPEAKING_WORDS_PER_MINUTE))


def event_uid(plan: DayPlan, platform: str) -> str:
    """``reelcal-<post key>-<platform>@reelcal``: the same post on the same platform keeps
    its UID whatever its title, so re-imports update, not duplicate."""
    return f"reelcal-{plan.key}-{platform}@reelcal"


def event_description(plan: DayPlan, copy: PlatformCopy, *, platform: str = "") -> str:
    """The labelled text of a post's event on one platform (ics DESCRIPTION, gcal
    Description); ``platform`` names it in a first line."""
    lines = [f"Platform: {platform}"] if platform else []
    return "\n".join(
        lines
        + [
            f"Hook: {plan.hook}",
            f"Caption: {copy.caption}",
            f"Hashtags: {copy.hashtags_text}",
            f"Script:\n{plan.script}",
            f"Video style: {plan.video_style}; audio: {plan.audio}",
            f"Production notes: {plan.production_notes}",
            f"Engagement: {plan.engagement}",
        ]
    )


def _event(
    plan: DayPlan, platform: str, copy: PlatformCopy, zone: tzinfo, *, named: bool
) -> PostEvent:
    name = PLATFORMS[platform].name if platform in PLATFORMS else platform
    title = copy.title or plan.title
    start: date | datetime
    end: date | datetime
    if plan.time:
        start = datetime.combine(plan.date, time.fromisoformat(plan.time), tzinfo=zone)
        end = start + timedelta(minutes=speaking_minutes(plan.script))
    else:
        start, end = plan.date, plan.date + timedelta(days=1)
    return PostEvent(
        uid=event_uid(plan, platform),
        summary=f"{title} ({name})" if named else title,
        description=event_description(plan, copy, platform=name if named else ""),
        category=plan.video_style,
        start=start,
        end=end,
    )
