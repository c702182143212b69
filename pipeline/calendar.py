"""The typed result of a run: :class:`Calendar`, a month of :class:`DayPlan` rows and the
:class:`UsageRecord` accounting of how it was made.

The types are :mod:`pipeline.plans` (re-exported here); exports, read-back and notebook
display live in :mod:`pipeline.outputs`; the methods here are thin doors to them so that
``calendar.save("march.xlsx")`` reads naturally.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.plans import (
    COLUMN_TITLES,
    CONTENT_FIELDS,
    OUTLINE_COLUMN_TITLES,
    USAGE_TABLE_TITLES,
    CalendarData,
    DayPlan,
    OutlineDay,
    PlatformCopy,
    Role,
    RuleBreakNote,
    UsageRecord,
    WriterRole,
    days_label,
    split_hashtags,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = [
    "COLUMN_TITLES",
    "CONTENT_FIELDS",
    "OUTLINE_COLUMN_TITLES",
    "USAGE_TABLE_TITLES",
    "Calendar",
    "DayPlan",
    "OutlineDay",
    "PlatformCopy",
    "Role",
    "RuleBreakNote",
    "UsageRecord",
    "WriterRole",
    "days_label",
    "split_hashtags",
]


class Calendar(CalendarData):
    """A plan of posts (a month of reels by default) and the record of how it was made.

    ``days`` (alias ``posts``) is sorted by date and time, one :class:`DayPlan` per post
    key (its local date-time, ``"2027-03-03T18:00"``); a complete calendar has one per
    post of its ``schedule`` (see :attr:`is_complete`). A month with one post a day has
    one per day and keeps "Day N": ``day(12)``, ``missing_days`` and the prompts use its
    day numbers; any other schedule numbers its posts from 1 and names them "Post N".

    Example:
        .. code-block:: python

            cal = generate_calendar(month="March 2026", trends=["AI agents"])
            cal.is_complete        # True
            cal.days[0].title
            cal.save("march.xlsx")
    """

    # ----------------------------------------------------------------- exports
    def save(self, path: str | Path, *, format: str | None = None) -> Path:
        """Write the calendar; the format comes from the suffix unless given
        (xlsx, csv, json, md, ics, gcal.csv / ``format="gcal"``)."""
        from pipeline.outputs.formats import save

        return save(self, path, format=format)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    def save_outline(self, path: str | Path) -> Path:
        """Write the outline on its own (.csv or .json: Day, Title, Pillar, Format, Series,
        Uses), to edit and write the month from (``reelcal generate --outline FILE``)."""
        from pipeline.outputs.outline_files import write_outline

        return write_outline(self.outline, path)

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> Calendar:
        """Read a calendar written by :meth:`to_json` (a JSON string or a path)."""
        from pipeline.outputs.readers import read_json

        return cls.model_validate(dict(read_json(text_or_path)))

    @classmethod
    def from_csv(cls, path: str | Path) -> Calendar:
        from pipeline.outputs.readers import read_csv

        return cls.model_validate(dict(read_csv(path)))

    @classmethod
    def from_xlsx(cls, path: str | Path) -> Calendar:
        from pipeline.outputs.readers import read_xlsx

        return cls.model_validate(dict(read_xlsx(path)))

    @classmethod
    def load(cls, path: str | Path) -> Calendar:
        """Read any file reelcal wrote (.json, .csv, .xlsx)."""
        from pipeline.outputs.readers import load

        return cls.model_validate(dict(load(path)))

    def to_dataframe(self) -> pandas.DataFrame:
        from pipeline.outputs import display

        return display.to_dataframe(self)

    def _repr_html_(self) -> str:
        from pipeline.outputs import display

        return display.calendar_html(self)
