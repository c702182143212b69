"""How a :class:`~pipeline.calendar.Calendar` looks in a notebook.

Owns :func:`to_dataframe` (a pandas table, index Day) and :func:`calendar_html`
(what ``Calendar._repr_html_`` shows in Jupyter: the span, its zone and "9/14 posts" or
"31/31 days" on top, each post's time beside its date). Every piece of text is passed
through :func:`html.escape`; cells longer than ``fold_at`` characters fold into
``<details>`` so a month of scripts stays scannable.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from pipeline.outputs.columns import (
    TIME_COLUMNS,
    cell_text,
    missing_names,
    table_columns,
    table_rows,
)
from pipeline.plans import USAGE_TABLE_TITLES, CalendarData

if TYPE_CHECKING:  # pragma: no cover
    import pandas

#: Cells longer than this many characters are folded; the summary shows about this many.
FOLD_AT = 80

_CSS = """<style>
.reelcal table{border-collapse:collapse;font-size:12px;margin:6px 0}
.reelcal th,.reelcal td{border:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top}
.reelcal th{background:#1f4e78;color:#fff}
.reelcal td{max-width:32em}
.reelcal .rc-nowrap{white-space:nowrap}
.reelcal summary{cursor:pointer}
.reelcal .rc-missing{color:#b00020}
</style>"""


def to_dataframe(calendar: CalendarData) -> pandas.DataFrame:
    """The days as a DataFrame: index "Day", columns "Date" (datetime) and the column titles."""
    import pandas as pd

    columns = [title for field, title in table_columns(calendar) if field != "day"]
    rows = [cells[1:] for _, cells in table_rows(calendar)]
    index = pd.Index([plan.day for plan in calendar.days], name="Day", dtype="int64")
    frame = pd.DataFrame(rows, columns=columns, index=index)
    frame["Date"] = pd.to_datetime(frame["Date"])
    return frame


def calendar_html(calendar: CalendarData, *, fold_at: int = FOLD_AT) -> str:
    """An HTML view: a summary line, the posts (long cells folded), missing posts, usage."""
    total_tokens = calendar.total_input_tokens + calendar.total_output_tokens
    noun = calendar.plan_schedule.noun
    zone = f" &middot; {_esc(calendar.timezone)}" if calendar.timezone else ""
    parts = [
        '<div class="reelcal">',
        _CSS,
        (
            f"<p><b>{_esc(calendar.span_name)}</b>{zone} &middot; "
            f"{len(calendar.days)}/{calendar.post_count} {noun}s &middot; "
            f"model {_esc(calendar.model or 'unknown')} &middot; {total_tokens:,} tokens "
            f"({calendar.total_input_tokens:,} in + {calendar.total_output_tokens:,} out)</p>"
        ),
    ]
    missing = ", ".join(missing_names(calendar))
    if missing:
        parts.append(f'<p class="rc-missing">Missing {noun}s: {_esc(missing)}</p>')
    shown = [i for i, column in enumerate(table_columns(calendar)) if column not in TIME_COLUMNS]
    titles = [table_columns(calendar)[i][1] for i in shown]
    parts.append(_table(titles, _post_rows(calendar, shown, fold_at)))
    parts.append(_usage_html(calendar))
    parts.append("</div>")
    return "\n".join(parts)


def _post_rows(calendar: CalendarData, shown: list[int], fold_at: int) -> list[list[str]]:
    """The cells of the ``shown`` columns; the date cell holds the time too (the zone is
    in the summary line), so the Time and Time Zone columns are not shown."""
    rows = []
    for plan, cells in table_rows(calendar):
        when = f"{plan.date.isoformat()} {plan.time}".strip()
        row = [str(plan.day), f'<span class="rc-nowrap">{when}</span>']
        row += [fold(cell_text(cells[i]), fold_at) for i in shown[2:]]
        rows.append(row)
    return rows


def fold(text: str, fold_at: int = FOLD_AT) -> str:
    """``text`` as HTML; when longer than ``fold_at``, folded under a preview of its start."""
    body = _esc(text).replace("\r\n", "\n").replace("\n", "<br>")
    if len(text) <= fold_at:
        return body
    flat = " ".join(text.split())
    preview = flat[:fold_at]
    space = preview.rfind(" ")
    if len(flat) > fold_at and space > fold_at // 2:
        preview = preview[:space]
    return f"<details><summary>{_esc(preview.rstrip(' ,.;:'))}…</summary>{body}</details>"


def _usage_html(calendar: CalendarData) -> str:
    if not calendar.usage:
        return "<p>No model calls recorded.</p>"
    heads = list(USAGE_TABLE_TITLES)
    rows = [
        [
            _num(c) if c is None or isinstance(c, int) else _esc(c)
            for c in u.table_cells(calendar.plan_schedule.short_label)
        ]
        for u in calendar.usage
    ]
    rows.append(
        [
            "<b>total</b>",
            f"{len(calendar.usage)} calls",
            "",
            "",
            "",
            _num(calendar.total_input_tokens),
            _num(calendar.total_output_tokens),
            "",
            str(sum(u.days_parsed for u in calendar.usage)),
            "",
        ]
    )
    return "<b>Usage</b>\n" + _table(heads, rows)


def _table(heads: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in heads)
    body = "\n".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def _num(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _esc(text: Any) -> str:
    return html.escape(str(text))
