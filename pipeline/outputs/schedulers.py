"""Files for calendar and scheduling apps: Google Calendar's import CSV.

One row per post per platform (the events of :mod:`.events`): Subject, Start Date, Start
Time, End Date, End Time, All Day Event, Description, with dates as "03/01/2027" and times
as "06:00 PM", Google's import format. Google's CSV has no zone column: Google reads the
times in the zone of the calendar they are imported into, so the times written are the
local wall-clock times of the plan's zone; import into a calendar set to that zone. Posts
without a time (calendars written before posts had times) are all-day rows.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from pipeline.outputs.events import PostEvent, calendar_events
from pipeline.plans import CalendarData

GCAL_COLUMNS: tuple[str, ...] = (
    "Subject",
    "Start Date",
    "Start Time",
    "End Date",
    "End Time",
    "All Day Event",
    "Description",
)


def write_gcal(calendar: CalendarData, path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writerow(GCAL_COLUMNS)
        writer.writerows(gcal_row(event) for event in calendar_events(calendar))


def gcal_row(event: PostEvent) -> list[str]:
    """One event in :data:`GCAL_COLUMNS` order; an all-day event ends on its own date."""
    start, end = event.start, event.end
    if isinstance(start, datetime) and isinstance(end, datetime):
        times = [clock_12h(start), f"{end:%m/%d/%Y}", clock_12h(end), "False"]
    else:
        times = ["", f"{start:%m/%d/%Y}", "", "True"]
    return [event.summary, f"{start:%m/%d/%Y}", *times, event.description]


def clock_12h(moment: datetime) -> str:
    """The wall-clock time as Google's import reads it, "06:00 PM" (not ``%p``, whose
    AM/PM words follow the process locale)."""
    hour = moment.hour % 12 or 12
    return f"{hour:02d}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"
