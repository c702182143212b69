"""The iCalendar (RFC 5545) export: one all-day event per day, via ``icalendar``.

Each event's UID depends on the day and title only, so importing a regenerated file into
a calendar app updates the events instead of duplicating them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pipeline.plans import CalendarData, DayPlan

ICS_PRODID = "-//reelcal//content calendar//EN"


def write_ics(calendar: CalendarData, path: Path) -> None:
    path.write_bytes(to_ics(calendar))


def event_description(plan: DayPlan) -> str:
    """The labelled text of a day's calendar event (ics DESCRIPTION, gcal Description)."""
    return "\n".join(
        [
            f"Hook: {plan.hook}",
            f"Caption: {plan.caption}",
            f"Hashtags: {plan.hashtags_text}",
            f"Script:\n{plan.script}",
            f"Video style: {plan.video_style}; audio: {plan.audio}",
            f"Production notes: {plan.production_notes}",
            f"Engagement: {plan.engagement}",
        ]
    )


def event_uid(plan: DayPlan) -> str:
    """A UID that stays the same for the same day and title: re-imports update, not duplicate."""
    digest = hashlib.sha1(plan.title.encode("utf-8")).hexdigest()[:10]
    return f"reelcal-{plan.date.isoformat()}-{digest}@reelcal"


def to_ics(calendar: CalendarData) -> bytes:
    """The calendar as an RFC 5545 iCalendar: one all-day event per day."""
    from icalendar import Calendar as ICalendar
    from icalendar import Event

    ical = ICalendar()
    ical.add("prodid", ICS_PRODID)
    ical.add("version", "2.0")
    ical.add("calscale", "GREGORIAN")
    ical.add("x-wr-calname", f"Reels: {calendar.month_name}")
    stamp = _as_utc(calendar.created_at)
    for plan in calendar.days:
        event = Event()
        event.add("uid", event_uid(plan))
        event.add("dtstamp", stamp)
        event.add("dtstart", plan.date)
        event.add("dtend", plan.date + timedelta(days=1))
        event.add("summary", plan.title)
        event.add("description", event_description(plan))
        event.add("categories", [plan.video_style])
        event.add("transp", "TRANSPARENT")
        ical.add_component(event)
    return ical.to_ical()


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
