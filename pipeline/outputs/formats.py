"""Calendar files: which format a path means, checking it before a run, and writing it.

======  ================================================================  =========  ==============
format  what is written                                                   read back  module
======  ================================================================  =========  ==============
xlsx    sheet "Content Calendar" (styled, filterable) and sheet "Run"     yes        ``xlsx``
csv     RFC 4180, plain UTF-8 without BOM, CRLF row ends, tags joined     yes        ``text``
json    ``calendar.model_dump_json(indent=2)``: rows, run data, usage     yes        ``text``
md      span heading, one table row per post, usage section               no         ``text``
ics     RFC 5545: an event per post per platform, in the plan's zone      no         ``ics``
gcal    Google Calendar import CSV (``*.gcal.csv`` or ``format="gcal"``)  no         ``schedulers``
======  ================================================================  =========  ==============

The tables (xlsx, csv, md) share the columns of :mod:`.columns`: the post's fields, then
Time, Time Zone and the other platforms' copies.

Every write is atomic: the file is written beside its target under a temporary
name and moved into place with :func:`os.replace`, so a failed write leaves the
old file as it was. Reading back is :mod:`pipeline.outputs.readers`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline.errors import CalendarFileError, OutputPathError
from pipeline.files import atomic_write
from pipeline.outputs.ics import write_ics
from pipeline.outputs.schedulers import write_gcal
from pipeline.outputs.text import write_csv, write_json, write_md
from pipeline.outputs.xlsx import write_xlsx
from pipeline.plans import CalendarData

WRITE_FORMATS: tuple[str, ...] = ("xlsx", "csv", "json", "md", "ics", "gcal")
_WRITERS: dict[str, Callable[[CalendarData, Path], None]] = {
    "xlsx": write_xlsx,
    "csv": write_csv,
    "json": write_json,
    "md": write_md,
    "ics": write_ics,
    "gcal": write_gcal,
}


def save(calendar: CalendarData, path: str | Path, *, format: str | None = None) -> Path:
    """Write ``calendar`` to ``path`` atomically and return the path.

    The format is ``format`` when given, else the file name's suffix; see the module table.
    """
    path = Path(path)
    fmt = resolve_format(path, format)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = _WRITERS[fmt]
    atomic_write(path, lambda tmp: writer(calendar, tmp))
    return path


def resolve_format(path: str | Path, format: str | None = None) -> str:
    """The export format for ``path``: ``format`` if given, else from the suffix."""
    if format is not None:
        fmt = format.lower().lstrip(".")
        fmt = {"gcal.csv": "gcal", "markdown": "md"}.get(fmt, fmt)
        if fmt in WRITE_FORMATS:
            return fmt
        raise CalendarFileError(
            f"unknown calendar format {format!r}; use one of: {', '.join(WRITE_FORMATS)}"
        )
    path = Path(path)
    if path.name.lower().endswith(".gcal.csv"):
        return "gcal"
    suffix = path.suffix.lower()
    if suffix[1:] in WRITE_FORMATS and suffix != ".gcal":
        return suffix[1:]
    raise CalendarFileError(
        f"cannot write {path}: unknown suffix {suffix or '(none)'!r}; name it .xlsx, .csv, "
        f".json, .md, .ics or .gcal.csv, or pass format= one of: {', '.join(WRITE_FORMATS)}"
    )


def check_output_path(
    path: str | Path, format: str | None = None, *, inputs: Sequence[str | Path] = ()
) -> str:
    """Check, before any model call, that ``path`` can be written; returns its format.

    Raises:
        OutputPathError: an unknown suffix or format, a folder that cannot be created or
            written, a path that is a folder, or a path that is one of ``inputs``.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise OutputPathError(
            f"--out {path} is a folder: name a file, e.g. {path / 'calendar.xlsx'}."
        )
    try:
        fmt = resolve_format(path, format)
    except CalendarFileError as exc:
        raise OutputPathError(str(exc)) from None
    for source in inputs:
        if path.exists() and Path(source).exists() and path.resolve() == Path(source).resolve():
            raise OutputPathError(
                f"--out {path} is the input file: write to another file, e.g. "
                f"{path.with_name(path.stem + '-new' + path.suffix)}."
            )
    folder = path.parent
    try:  # the real test: create the folder and a file in it (os.access trusts root)
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".reelcal-probe-"):
            pass
    except OSError as exc:
        raise OutputPathError(
            f"--out {path}: cannot write to the folder {folder} ({exc.strerror or exc}): "
            f"choose another folder."
        ) from None
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputPathError(f"--out {path} is read-only: choose another file.")
    return fmt
