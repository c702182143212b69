"""Turn a model's reply into typed :class:`~pipeline.calendar.DayPlan` rows.

The one place that reads model output. Models are unreliable (the bundled 135M one too), so
:func:`parse_day_plans` accepts every shape seen in practice, never raises on reply text, and
says why each row it could not use was rejected. Accepted: pipe rows (``Day 12 | title |
... | engagement``, outer pipes optional, ``12``/``Day 12:``/``**Day 12**`` as the day);
markdown tables, mapped by their header row when there is one (so re-ordered columns work);
JSON objects, arrays and lines, fenced or bare, with chatter around them, or already-parsed
data, keyed by field names, column titles or close variants (``full_speaking_script``).

Rules, in order: (1) truncation drops what touches the cut. With ``finish_reason ==
"length"`` that is the last *text* row: its last cell may be cut mid-sentence even though
the row parsed. In JSON, an object whose closing brace was reached was emitted in full before
the cut, so every complete object is kept; what touches the cut is the unclosed object after
the last complete one, rejected as "truncated" whatever the finish reason (so a JSON reply
whose container closed loses nothing). (2) The day: "outside the month", "not requested",
"duplicate" (the first *valid* row wins; a rejected row does not claim its day). (3) The
fields: "missing field 'x'", "empty field 'x'" (blank or a placeholder such as "...", "N/A",
"TBD", "-"), else "invalid: <DayPlan's message>".

Cells from text lose ``**bold**``/``*italic*`` markers and wrapping quotes; ``<br>`` becomes
a newline and a markdown-escaped ``\\|`` a pipe. JSON strings are kept as they are (DayPlan
strips surrounding whitespace), so any text round-trips. Dates are recomputed from the day.
"""

from __future__ import annotations

import ast
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from pipeline.calendar import COLUMN_TITLES, CONTENT_FIELDS, DayPlan, split_hashtags
from pipeline.dates import MonthSpec

__all__ = ["PLACEHOLDERS", "ParseResult", "Rejection", "describe", "parse_day_plans"]

#: Cell values that mean "the model did not fill this in" (compared stripped, lower-case).
PLACEHOLDERS = frozenset(
    {"", "...", "…", "n/a", "na", "tbd", "tba", "todo", "-", "--", "—", "–", "none", "null", "?"}
)
_COLUMNS: tuple[str, ...] = tuple(COLUMN_TITLES)  # a pipe row's cells, in order
_FREE_TEXT = frozenset({"caption", "script", "production_notes", "engagement"})
_LONG_TEXT = frozenset({"script", "production_notes"})  # take a tied pipe's extra cells
_CONTAINER_KEYS = ("days", "rows", "calendar", "plans", "items")


@dataclass
class Rejection:
    """A row the parser could not use, and why."""

    day: int | None
    reason: str
    raw: str


@dataclass
class ParseResult:
    """Accepted plans (sorted by day, one per day) and the rows rejected on the way."""

    plans: list[DayPlan] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def days(self) -> list[int]:
        return [plan.day for plan in self.plans]


# ----------------------------------------------------------------- keys, days, cells
def _norm(key: str) -> str:
    return re.sub(r"[\W_]+", "", key).lower()


_EXACT_KEYS = (
    {_norm(name): name for name in COLUMN_TITLES}
    | {_norm(title): name for name, title in COLUMN_TITLES.items()}
    | {"date": "date", "cta": "engagement", "calltoaction": "engagement"}
)
_KEY_WORDS = (
    ("hashtag", "hashtags"),
    ("tags", "hashtags"),
    ("script", "script"),
    ("caption", "caption"),
    ("hook", "hook"),
    ("cover", "hook"),
    ("title", "title"),
    ("style", "video_style"),
    ("audio", "audio"),
    ("music", "audio"),
    ("sound", "audio"),
    ("production", "production_notes"),
    ("notes", "production_notes"),
    ("engagement", "engagement"),
    ("date", "date"),
    ("day", "day"),
)


def _field_for(key: Any) -> tuple[str | None, bool]:
    """The DayPlan field a key or column header names, and whether it named it exactly."""
    norm = _norm(str(key))
    if norm in _EXACT_KEYS:
        return _EXACT_KEYS[norm], True
    return next((name for word, name in _KEY_WORDS if word in norm), None), False


def _map_keys(row: dict[Any, Any]) -> dict[str, Any]:
    """``row`` keyed by DayPlan fields; exact names win over close variants."""
    exact: dict[str, Any] = {}
    close: dict[str, Any] = {}
    for key, value in row.items():
        name, is_exact = _field_for(key)
        if name:
            (exact if is_exact else close).setdefault(name, value)
    return close | exact


_DAY = re.compile(r"(?:day\s*)?(\d{1,4})\s*[:.)]?\s*(?:[-–—(,]\s*\D.*)?", re.IGNORECASE | re.DOTALL)
_DAY_AND_TITLE = re.compile(r"(?:day\s*)?(\d{1,4})\s*:\s*(\S.*)", re.IGNORECASE | re.DOTALL)


def _day_number(value: Any) -> int | None:
    """12 from 12, 12.0, "12", "Day 12", "Day 12:", "**Day 12**", "Day 12 (Sun)"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return int(value)
    match = _DAY.fullmatch(_clean(value)) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.DOTALL)
_ITALIC = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![\w*])")
_WRAPPERS = (
    ("__", "__"),
    ("_", "_"),
    ("*", "*"),
    ("`", "`"),
    ('"', '"'),
    ("'", "'"),
    ("“", "”"),
    ("‘", "’"),
    ("«", "»"),
)


def _clean(cell: str) -> str:
    """A cell from text without markdown emphasis, wrapping quotes or ``<br>`` tags."""
    text = _ITALIC.sub(r"\1", _BOLD.sub(r"\1", _BR.sub("\n", cell).replace("\\|", "|")))
    text = text.strip()
    stripped = True
    while stripped:
        stripped = False
        for left, right in _WRAPPERS:
            inner = text[len(left) : len(text) - len(right)]
            if (
                len(text) >= len(left) + len(right)
                and text.startswith(left)
                and text.endswith(right)
                and left not in inner
                and right not in inner
            ):
                text, stripped = inner.strip(), True
    return text


def _is_blank(value: Any) -> bool:
    items = value if isinstance(value, (list, tuple)) else [value]
    return all(
        v is None or (isinstance(v, str) and v.strip().lower() in PLACEHOLDERS) for v in items
    )


# ----------------------------------------------------------------- pipe rows and tables
_PIPE = re.compile(r"(?<!\\)\|")
_FENCE = re.compile(r"(```|~~~)")
_SEPARATOR = re.compile(r":?-+:?")


@dataclass
class _PipeRow:
    columns: list[str | None]
    parts: list[str]  # raw cell texts, cleaned once the row is fitted
    lines: list[str]

    @property
    def day(self) -> int | None:
        at = self.columns.index("day") if "day" in self.columns else 0
        match = _DAY.match(_clean(self.parts[at])) if len(self.parts) > at else None
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
        name = _field_for(cell)[0] if len(cell) <= 40 else None
        names.append(name if name not in names else None)
    mapped = sum(name is not None for name in names)
    return names if mapped >= 3 and 2 * mapped >= len(names) else None


def _pipe_rows(text: str) -> list[_PipeRow]:
    """Rows that start with a day cell; lines that follow an unfinished row continue it."""
    columns: list[str | None] = list(_COLUMNS)
    rows: list[_PipeRow] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or _FENCE.match(stripped):
            continue
        parts = _split(stripped)
        unfinished = rows[-1] if rows and len(rows[-1].parts) < len(rows[-1].columns) else None
        if _PIPE.search(stripped):
            cells = [_clean(part) for part in parts]
            if all(_SEPARATOR.fullmatch(cell.replace(" ", "")) for cell in cells):
                continue
            at = columns.index("day") if "day" in columns else 0
            if len(cells) > at and _day_number(cells[at]) is not None:
                rows.append(_PipeRow(columns, parts, [line]))
                continue
            if at == 0 and (match := _DAY_AND_TITLE.fullmatch(cells[0])):  # "Day 12: Title |"
                rows.append(_PipeRow(columns, [*match.groups(), *parts[1:]], [line]))
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
    tokens = split_hashtags(_clean(part))
    return bool(tokens) and all(token.startswith("#") and len(token) > 1 for token in tokens)


def _boundary(left: str, right: str) -> int:
    """How much a cut between two cells looks like a field boundary (0-3)."""
    left, right = _clean(left).rstrip("\ufe0f\u200d") or " ", _clean(right) or " "
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
    late = columns[0] in _LONG_TEXT  # a tie gives the extra cells to the longer field
    cut = max(
        range(1, len(parts) - len(columns) + 2),
        key=lambda j: (_boundary(parts[j - 1], parts[j]), j if late else -j),
    )
    return {columns[0]: "|".join(parts[:cut])} | _share(columns[1:], parts[cut:])


def _fit_side(columns: list[str | None], parts: list[str]) -> dict[str | None, str] | None:
    """Fixed columns take one cell from their end; free-text columns share the middle."""
    if len(parts) == len(columns):
        return dict(zip(columns, parts, strict=True))
    free = [i for i, name in enumerate(columns) if name in _FREE_TEXT]
    if len(parts) < len(columns) or not free:
        return None
    first, last = free[0], free[-1]
    tail = len(columns) - last - 1
    return (
        dict(zip(columns[:first], parts[:first], strict=True))
        | _share(columns[first : last + 1], parts[first : len(parts) - tail])
        | dict(zip(columns[last + 1 :], parts[len(parts) - tail :], strict=True))
    )


def _fit(columns: list[str | None], parts: list[str]) -> dict[str | None, str] | None:
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


# ----------------------------------------------------------------- JSON
_OBJECT = re.compile(r"\{\s*[\"']")
_SIGNIFICANT = re.compile(r'\\.|["{}\[\]]', re.DOTALL)
_ROW_START = re.compile(r"\{\s*[\"'][^\"']*[\"']\s*:\s*[^\s\[{]")  # first value a scalar
_DAY_IN_RAW = re.compile(r"[\"']day[\"']\s*:\s*[\"']?(?:day\s*)?(\d{1,4})", re.IGNORECASE)


def _closings(text: str, start: int) -> dict[int, int | None]:
    """For the bracket at ``start`` and those nested in it (outside strings): the index
    just past where each closes, or None when the text ends first."""
    ends: dict[int, int | None] = {}
    stack: list[int] = []
    in_string = False
    for match in _SIGNIFICANT.finditer(text, start):
        char = match.group()
        if char == '"':
            in_string = not in_string
        elif not in_string and char in "{[":
            stack.append(match.start())
        elif not in_string and char in "}]" and stack:
            ends[stack.pop()] = match.end()
            if not stack:
                return ends
    return ends | dict.fromkeys(stack)


def _loads(text: str) -> Any:
    try:  # strict=False: raw newlines inside strings, as small models write them
        return json.loads(text, strict=False)
    except (ValueError, RecursionError):
        pass
    try:  # single quotes, trailing commas: a Python literal (never executed)
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _json_rows(text: str) -> tuple[list[tuple[dict[Any, Any], str]], str | None, list[str]]:
    """(row, its source) for each row in the JSON objects in ``text``; the unclosed object
    the text ends inside (a cut reply); objects that closed but do not parse."""
    found: list[tuple[int, int, Any]] = []
    unclosed: list[int] = []
    broken: list[tuple[int, int]] = []
    ends: dict[int, int | None] = {}
    pos = 0
    while match := _OBJECT.search(text, pos):
        start = match.start()
        if start not in ends:
            ends |= _closings(text, start)
        end = ends.get(start)
        value = _loads(text[start:end]) if end is not None else None
        if isinstance(value, dict):
            found.append((start, end, value))
            pos = end
            continue
        if end is None:
            unclosed.append(start)
        elif _ROW_START.match(text, start):
            broken.append((start, end))
        pos = start + 1
    rows_end = max((end for _, end, value in found if _rows_in(value)), default=0)
    cut = [start for start in unclosed if start >= rows_end]
    tail = next((s for s in cut if _ROW_START.match(text, s)), cut[0] if cut else None)
    bad = [
        text[s:e]
        for s, e in broken
        if not any(s < f < e for f, _, _ in found) and not any(s < b < e for b, _ in broken)
    ]
    rows = []
    for start, end, value in found:
        inside = _rows_in(value)
        whole = len(inside) == 1 and inside[0] is value
        rows += [(row, text[start:end] if whole else _dump(row)) for row in inside]
    return rows, text[tail:] if tail is not None else None, bad


def _looks_like_row(data: dict[Any, Any]) -> bool:
    mapped = _map_keys(data)
    day = mapped.get("day")
    return sum(name in mapped for name in CONTENT_FIELDS) >= 2 or (
        "day" in mapped and not isinstance(day, (dict, list))
    )


def _rows_in(data: Any, depth: int = 0) -> list[dict[Any, Any]]:
    """The row objects in parsed JSON: a row, a list of rows, rows under any key
    (``days``, ``rows``... first), or rows keyed by day (``{"Day 1": {...}}``)."""
    if depth > 4:
        return []
    if isinstance(data, list):
        return [row for item in data for row in _rows_in(item, depth + 1)]
    if not isinstance(data, dict):
        return []
    if _looks_like_row(data):
        return [data]
    if data and all(isinstance(v, dict) and _day_number(k) is not None for k, v in data.items()):
        return [{"day": key, **value} for key, value in data.items()]
    for _, value in sorted(data.items(), key=lambda kv: _norm(str(kv[0])) not in _CONTAINER_KEYS):
        if rows := _rows_in(value, depth + 1):
            return rows
    return []


def _text_value(name: str, value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list) and name != "hashtags":
        return "\n".join(str(item) for item in value if item is not None)
    return value


# ----------------------------------------------------------------- assembling the result
class _Collector:
    def __init__(self, year: int, month: int, requested: Iterable[int]) -> None:
        self.year, self.month = year, month
        self.last_day = MonthSpec(year, month).days_in_month
        self.requested = set(requested)
        self.plans: dict[int, DayPlan] = {}
        self.rejected: list[Rejection] = []

    def reject(self, day: int | None, reason: str, raw: str) -> None:
        self.rejected.append(Rejection(day, reason, raw))

    def add(self, fields: dict[str, Any], raw: str) -> None:
        day = _day_number(fields.get("day"))
        if day is None:
            return self.reject(None, "no day number", raw)
        if not 1 <= day <= self.last_day:
            return self.reject(day, "outside the month", raw)
        if day not in self.requested:
            return self.reject(day, "not requested", raw)
        if day in self.plans:
            return self.reject(day, "duplicate", raw)
        for name in CONTENT_FIELDS:
            if name not in fields:
                return self.reject(day, f"missing field '{name}'", raw)
            if _is_blank(fields[name]):
                return self.reject(day, f"empty field '{name}'", raw)
        values = {name: _text_value(name, fields[name]) for name in CONTENT_FIELDS}
        try:
            self.plans[day] = DayPlan(day=day, date=date(self.year, self.month, day), **values)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            self.reject(day, f"invalid: {where}: {error['msg']}"[:200], raw)

    def result(self) -> ParseResult:
        return ParseResult(sorted(self.plans.values(), key=lambda p: p.day), self.rejected)


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str, skipkeys=True)


def _guess_day(raw: str) -> int | None:
    match = _DAY_IN_RAW.search(raw)
    return int(match.group(1)) if match else None


def parse_day_plans(
    reply: str | dict[str, Any] | list[Any],
    *,
    year: int,
    month: int,
    requested_days: Iterable[int],
    finish_reason: str | None = None,
) -> ParseResult:
    """Typed rows from a model's ``reply`` (text, or already-parsed JSON data).

    ``finish_reason`` is the model's (``"length"`` when ``max_tokens`` cut the reply).
    Never raises on any reply text; see the module docstring for the rules.
    """
    out = _Collector(year, month, requested_days)
    if (
        isinstance(reply, list)
        and reply
        and all(  # a chat message's content blocks
            isinstance(b, dict) and isinstance(b.get("type"), str) and not _looks_like_row(b)
            for b in reply
        )
    ):
        reply = "".join(str(b.get("text", "")) for b in reply if b["type"] == "text")
    if isinstance(reply, (dict, list)):
        for row in _rows_in(reply):
            out.add(_map_keys(row), _dump(row))
        if not out.plans and not out.rejected:
            out.reject(None, "unparseable", _dump(reply))
        return out.result()
    if not isinstance(reply, str):
        raise TypeError(f"reply must be text, a dict or a list, not {type(reply).__name__}")
    if not reply.strip():
        out.reject(None, "empty reply", reply)
        return out.result()

    json_rows, tail, broken = _json_rows(reply)
    pipe_rows = [] if json_rows else _pipe_rows(reply)
    if pipe_rows:
        _add_pipe_rows(out, pipe_rows, cut=finish_reason == "length")
    elif json_rows or tail or broken:
        for row, raw in json_rows:
            out.add(_map_keys(row), raw)
        for raw in broken:
            out.reject(_guess_day(raw), "unparseable", raw)
        if tail:
            out.reject(_guess_day(tail), "truncated", tail)
    else:
        out.reject(None, "truncated" if finish_reason == "length" else "unparseable", reply)
    return out.result()


def _add_pipe_rows(out: _Collector, rows: list[_PipeRow], *, cut: bool) -> None:
    """Fit and add text rows; with ``cut`` (finish_reason "length") the last is dropped."""
    for row in rows[:-1] if cut else rows:
        raw = "\n".join(row.lines)
        fitted = _fit(row.columns, row.parts)
        if fitted is None:
            many = len(row.parts) > len(row.columns)
            out.reject(row.day, "extra columns" if many else "missing columns", raw)
        else:
            out.add({name: _clean(text) for name, text in fitted.items() if name}, raw)
    if cut:
        out.reject(rows[-1].day, "truncated", "\n".join(rows[-1].lines))


def describe(result: ParseResult) -> str:
    """One line, e.g. ``8 rows: 7 accepted, 1 rejected (truncated: day 8)``."""
    total = len(result.plans) + len(result.rejected)
    line = f"{total} row{'s' if total != 1 else ''}: {len(result.plans)} accepted"
    if not result.rejected:
        return line
    groups: dict[str, list[int | None]] = {}
    for rejection in result.rejected:
        groups.setdefault(rejection.reason, []).append(rejection.day)
    parts = []
    for reason, days in groups.items():
        known = list(dict.fromkeys(str(day) for day in days if day is not None))
        shown = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
        labels = [("day " if len(known) == 1 else "days ") + shown] if known else []
        if unknown := days.count(None):
            labels.append(f"{unknown} row{'s' if unknown != 1 else ''}")
        parts.append(f"{reason}: {' and '.join(labels)}")
    return f"{line}, {len(result.rejected)} rejected ({'; '.join(parts)})"
