"""Text exports: CSV (RFC 4180), JSON (the whole calendar) and Markdown.

The CSV is plain UTF-8 without BOM, CRLF row ends, hashtags joined by spaces; it holds
cells exactly (a script starting with ``=`` stays ``=...``), so open it as data. The JSON
is ``calendar.model_dump_json(indent=2)``: rows, run facts and usage, and reads back
losslessly. The Markdown has a heading (the span's name), the run facts, one table row per
post (pipes escaped, line breaks as ``<br>``) and the usage table.
"""

from __future__ import annotations

import csv
import html
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pipeline.outputs.columns import cell_text, missing_names, table_columns, table_rows
from pipeline.plans import USAGE_TABLE_TITLES, CalendarData
from pipeline.platforms import PLATFORMS


def write_csv(calendar: CalendarData, path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writerow([title for _, title in table_columns(calendar)])
        for _, cells in table_rows(calendar):
            writer.writerow([cell_text(value) for value in cells])


def write_json(calendar: CalendarData, path: Path) -> None:
    path.write_text(calendar.model_dump_json(indent=2), encoding="utf-8")


def write_md(calendar: CalendarData, path: Path) -> None:
    path.write_text(to_markdown(calendar), encoding="utf-8")


def _md_cell(text: Any) -> str:
    text = html.escape(cell_text(text), quote=False)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("|", "\\|")
    return text.replace("\n", "<br>")


def _md_row(cells: Iterable[Any]) -> str:
    return "| " + " | ".join(_md_cell(cell) for cell in cells) + " |"


def to_markdown(calendar: CalendarData) -> str:
    """The calendar as markdown: heading, run facts, one table row per post, usage."""
    lines = [f"# Content calendar: {calendar.span_name}", ""]
    noun = calendar.plan_schedule.noun
    facts = [
        ("Niche", calendar.niche),
        ("Platform", calendar.platform),
        ("Platforms", _platform_names(calendar) if len(calendar.platforms) > 1 else ""),
        ("Time zone", calendar.timezone),
        ("Trends", "; ".join(calendar.trends)),
        ("Model", calendar.model),
        (f"{noun.capitalize()}s", f"{len(calendar.days)}/{calendar.post_count}"),
        (f"Missing {noun}s", ", ".join(missing_names(calendar))),
    ]
    lines += [f"- **{name}:** {_md_cell(value)}" for name, value in facts if value]
    columns = table_columns(calendar)
    lines += ["", _md_row(title for _, title in columns)]
    lines.append("| " + " | ".join("--:" if f == "day" else "---" for f, _ in columns) + " |")
    lines += [_md_row(cells) for _, cells in table_rows(calendar)]
    lines += ["", "## Usage", ""]
    if calendar.usage:
        lines += [
            _md_row(USAGE_TABLE_TITLES),
            "| " + " | ".join(["---"] * len(USAGE_TABLE_TITLES)) + " |",
        ]
        lines += [
            _md_row(u.table_cells(calendar.plan_schedule.short_label)) for u in calendar.usage
        ]
        lines.append("")
    lines.append(
        f"Total: {len(calendar.usage)} calls, {calendar.total_input_tokens:,} input + "
        f"{calendar.total_output_tokens:,} output tokens."
    )
    return "\n".join(lines) + "\n"


def _platform_names(calendar: CalendarData) -> str:
    """The platforms' names, the primary marked: "Instagram Reels (primary), TikTok"."""
    names = [PLATFORMS[k].name if k in PLATFORMS else k for k in calendar.platforms]
    return ", ".join([f"{names[0]} (primary)", *names[1:]])
