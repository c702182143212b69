"""Pipe rows and markdown tables in a reply's text.

``Day 12 | title | ... | engagement`` rows (outer pipes optional) and markdown tables,
mapped by their header row when there is one, so re-ordered columns work. A pipe inside a
caption or script makes a row too long: :func:`fit_cells` gives the extra cells to the free-text
columns by where the hashtags sit, instead of shifting every column after it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pipeline.calendar import split_hashtags
from pipeline.generation.replies.cells import (
    COLUMNS,
    DAY,
    DAY_AND_TITLE,
    FREE_TEXT,
    LONG_TEXT,
    clean_cell,
    day_number,
    field_for,
)

_PIPE = re.compile(r"(?<!\\)\|")
_FENCE = re.compile(r"(```|~~~)")
_SEPARATOR = re.compile(r":?-+:?")
_LINES = re.compile(r"\r\n|\r|\n")


@dataclass
class PipeRow:
    columns: list[str | None]
    parts: list[str]  # raw cell texts, cleaned once the row is fitted
    lines: list[str]

    @property
    def day(self) -> int | None:
        at = self.columns.index("day") if "day" in self.columns else 0
        match = DAY.match(clean_cell(self.parts[at])) if len(self.parts) > at else None
        return int(match.group(1)) if match else None


def _split(line: str) -> list[str]:
    parts = _PIPE.split(re.sub(r"^[-+•]\s+", "", line.strip()))
    if len(parts) > 1 and not parts[0].strip():
        parts = parts[1:]
    if len(parts) > 1 and not parts[-1].strip():
        parts = parts[:-1]
    return parts


def _header(cells: list[str]) -> list[str | None] | None:
    """Column fields named by a header row, or None when ``cells`` is not a header."""
    names: list[str | None] = []
    for cell in cells:
        name = field_for(cell)[0] if len(cell) <= 40 else None
        names.append(name if name not in names else None)
    mapped = sum(name is not None for name in names)
    return names if mapped >= 3 and 2 * mapped >= len(names) else None


def find_pipe_rows(text: str) -> list[PipeRow]:
    """Rows that start with a day cell; lines that follow an unfinished row continue it."""
    columns: list[str | None] = list(COLUMNS)
    rows: list[PipeRow] = []
    for line in _LINES.split(text):  # not splitlines(): a cell may hold \x0b, \x85, \u2028
        stripped = line.strip()
        if not stripped or _FENCE.match(stripped):
            continue
        parts = _split(stripped)
        unfinished = rows[-1] if rows and len(rows[-1].parts) < len(rows[-1].columns) else None
        if _PIPE.search(stripped):
            cells = [clean_cell(part) for part in parts]
            if all(_SEPARATOR.fullmatch(cell.replace(" ", "")) for cell in cells):
                continue
            at = columns.index("day") if "day" in columns else 0
            if len(cells) > at and day_number(cells[at]) is not None:
                rows.append(PipeRow(columns, parts, [line]))
                continue
            if at == 0 and (match := DAY_AND_TITLE.fullmatch(cells[0])):  # "Day 12: Title |"
                rows.append(PipeRow(columns, [*match.groups(), *parts[1:]], [line]))
                continue
            header = None if unfinished else _header(cells)
            if header:
                columns = header
                continue
        if unfinished:
            unfinished.parts[-1] += "\n" + parts[0]
            unfinished.parts.extend(parts[1:])
            unfinished.lines.append(line)
    return rows


def _is_hashtags(part: str) -> bool:
    tokens = split_hashtags(clean_cell(part))
    return bool(tokens) and all(token.startswith("#") and len(token) > 1 for token in tokens)


def _boundary(left: str, right: str) -> int:
    """How much a cut between two cells looks like a field boundary (0-3)."""
    left, right = clean_cell(left).rstrip("\ufe0f\u200d") or " ", clean_cell(right) or " "
    emoji = ("So", "Sk")  # pictographs, skin tones
    ends = left[-1] in ".!?…\"')”’" or unicodedata.category(left[-1]) in emoji
    starts = (
        right[0].isupper()
        or right[0].isdigit()
        or right[0] in "\"'“‘("
        or unicodedata.category(right[0]) in emoji
    )
    return 2 * ends + starts


def _share(columns: list[str | None], parts: list[str]) -> dict[str | None, str]:
    """Split ``parts`` between adjacent free-text ``columns``, one cut at a time."""
    if len(columns) == 1:
        return {columns[0]: "|".join(parts)}
    late = columns[0] in LONG_TEXT  # a tie gives the extra cells to the longer field
    cut = max(
        range(1, len(parts) - len(columns) + 2),
        key=lambda j: (_boundary(parts[j - 1], parts[j]), j if late else -j),
    )
    return {columns[0]: "|".join(parts[:cut])} | _share(columns[1:], parts[cut:])


def _fit_side(columns: list[str | None], parts: list[str]) -> dict[str | None, str] | None:
    """Fixed columns take one cell from their end; free-text columns share the middle."""
    if len(parts) == len(columns):
        return dict(zip(columns, parts, strict=True))
    free = [i for i, name in enumerate(columns) if name in FREE_TEXT]
    if len(parts) < len(columns) or not free:
        return None
    first, last = free[0], free[-1]
    tail = len(columns) - last - 1
    return (
        dict(zip(columns[:first], parts[:first], strict=True))
        | _share(columns[first : last + 1], parts[first : len(parts) - tail])
        | dict(zip(columns[last + 1 :], parts[len(parts) - tail :], strict=True))
    )


def fit_cells(columns: list[str | None], parts: list[str]) -> dict[str | None, str] | None:
    """Map a row's cells onto its columns; None when that cannot be done.

    More cells than columns means a ``|`` inside some cell. The hashtags cell (every token
    starts with ``#``; the rightmost such cell that leaves room for the columns after it)
    anchors the row: the columns before it are filled from the start and the end of their
    side (day, title, hook from the left; video style, audio from the right) and the
    columns after it likewise, so the extra cells land in a free-text field: caption or
    script before the hashtags, production notes or engagement after them. Between two
    such fields, the cut goes where one cell ends like a sentence (``.!?``, a closing
    quote, an emoji) and the next starts like one (a capital, a digit, a quote, an emoji);
    on a tie the extra cells go to the longer field (script, production notes). Without a
    hashtags cell the extra cells cannot be placed. Escaped ``\\|`` never splits.
    """
    if len(parts) <= len(columns) or "hashtags" not in columns:
        return _fit_side(columns, parts)
    anchor = columns.index("hashtags")
    after = len(columns) - anchor - 1
    tagged = [i for i in range(anchor, len(parts) - after) if _is_hashtags(parts[i])]
    before = _fit_side(columns[:anchor], parts[: tagged[-1]]) if tagged else None
    rest = _fit_side(columns[anchor + 1 :], parts[tagged[-1] + 1 :]) if tagged else None
    if before is None or rest is None:
        return None
    return before | {"hashtags": parts[tagged[-1]]} | rest
