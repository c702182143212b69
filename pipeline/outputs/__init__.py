"""Outputs: a calendar written to files people open, and read back.

=====================  =========================================================
module                 owns
=====================  =========================================================
:mod:`.formats`        which format a path means, ``--out`` checks, :func:`save`
:mod:`.columns`        the column layout every table shares
:mod:`.xlsx`           the workbook (calendar sheet and "Run" sheet)
:mod:`.text`           CSV, JSON and Markdown
:mod:`.events`         the calendar events of a plan: one per post per platform
:mod:`.ics`            iCalendar events
:mod:`.schedulers`     Google Calendar's import CSV
:mod:`.readers`        reading .json, .csv and .xlsx back into a ``Calendar``
:mod:`.rows`           a table's rows read back, and the schedule they imply
:mod:`.outline_files`  an outline on its own (.csv / .json), written and read back
:mod:`.display`        the Jupyter view and the pandas DataFrame
=====================  =========================================================
"""

from pipeline.outputs.columns import TABLE_COLUMNS
from pipeline.outputs.formats import WRITE_FORMATS, check_output_path, resolve_format, save
from pipeline.outputs.ics import to_ics
from pipeline.outputs.outline_files import read_outline, write_outline
from pipeline.outputs.readers import READ_FORMATS, load, read_csv, read_json, read_xlsx
from pipeline.outputs.text import to_markdown

__all__ = [
    "READ_FORMATS",
    "TABLE_COLUMNS",
    "WRITE_FORMATS",
    "check_output_path",
    "load",
    "read_csv",
    "read_json",
    "read_outline",
    "read_xlsx",
    "resolve_format",
    "save",
    "to_ics",
    "to_markdown",
    "write_outline",
]
