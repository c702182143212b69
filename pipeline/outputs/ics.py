"""The iCalendar (RFC 5545) export, via ``icalendar``: the events of :mod:`.events`.

A timed event has ``DTSTART;TZID=<the plan's zone>`` (plain UTC, ``...Z``, for "UTC") and
the file carries that zone's VTIMEZONE, built for the span's dates only (not 1970-2038)
by ``Calendar.add_missing_timezones(first_date, last_date)``; ``last_date`` is the day
after the last event ends, so a clock change on the span's last day is in it. Posts
without a time are all-day events. UIDs are the post key and platform (see
:func:`~pipeline.outputs.events.event_uid`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from pipeline.outputs.events import PostEvent, calendar_events
from pipeline.plans import CalendarData

ICS_PRODID = "-//reelcal//content calendar//EN"


def write_ics(calendar: CalendarData, path: Path) -> None:
    path.write_bytes(to_ics(calendar))


def to_ics(calendar: CalendarData) -> bytes:
    """The calendar as an RFC 5545 iCalendar: one event per post per platform."""
    from icalendar import Calendar as ICalendar
    from icalendar import Event

    ical = ICalendar()
    ical.add("prodid", ICS_PRODID)
    ical.add("version", "2.0")
    ical.add("calscale", "GREGORIAN")
    ical.add("x-wr-calname", f"Reels: {calendar.span_name}")
    if calendar.timezone:
        ical.add("x-wr-timezone", calendar.timezone)
    stamp = _as_utc(calendar.created_at)
    events = calendar_events(calendar)
    for post in events:
        event = Event()
        event.add("uid", post.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", post.start)
        event.add("dtend", post.end)
        event.add("summary", post.summary)
        event.add("description", post.description)
        event.add("categories", [post.category])
        event.add("transp", "TRANSPARENT")
        ical.add_component(event)
    ical.add_missing_timezones(*zone_dates(calendar, events))
    return ical.to_ical()


def zone_dates(calendar: CalendarData, events: list[PostEvent]) -> tuple[date, date]:
    """The dates the VTIMEZONE covers: the span's first day to the day after the last
    event ends (icalendar wants dates earlier and later than anything in the file)."""
    ends = [_day(post.end) for post in events]
    last = max([calendar.last_date, *ends])
    return calendar.first_date, last + timedelta(days=1)


def _day(moment: date | datetime) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
