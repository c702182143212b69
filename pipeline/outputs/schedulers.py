"""Files for calendar and scheduling apps: Google Calendar's import CSV.

One all-day event per day (Subject, Start Date, All Day Event, Description); the
description is the same labelled text as the .ics events.
"""

from __future__ import annotations

import csv
from pathlib import Path

from pipeline.outputs.ics import event_description
from pipeline.plans import CalendarData

GCAL_COLUMNS: tuple[str, ...] = ("Subject", "Start Date", "All Day Event", "Description")


def write_gcal(calendar: CalendarData, path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writerow(GCAL_COLUMNS)
        for plan in calendar.days:
            writer.writerow(
                [plan.title, plan.date.strftime("%m/%d/%Y"), "True", event_description(plan)]
            )
