"""JSON rows in a reply: objects, arrays and lines, fenced or bare, and truncated JSON.

Finds every JSON value in text with chatter around it, salvages the complete objects of a
reply cut mid-way (an object whose closing brace was reached was emitted in full), and
finds the row objects inside any container shape (``{"days": [...]}``, rows keyed by day).
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from pipeline.calendar import CONTENT_FIELDS
from pipeline.generation.replies.cells import CONTAINER_KEYS, day_number, map_keys, normalize_key

_OBJECT = re.compile(r"\{\s*[\"']")
_SIGNIFICANT = re.compile(r'\\.|["{}\[\]]', re.DOTALL)
_ROW_START = re.compile(r"\{\s*[\"'][^\"']*[\"']\s*:\s*[^\s\[{]")  # first value a scalar
DAY_IN_RAW = re.compile(r"[\"']day[\"']\s*:\s*[\"']?(?:(?:day|post)\s*)?(\d{1,4})", re.IGNORECASE)


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


def find_json_rows(text: str) -> tuple[list[tuple[dict[Any, Any], str]], str | None, list[str]]:
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
    rows_end = max((end for _, end, value in found if rows_in(value)), default=0)
    cut = [start for start in unclosed if start >= rows_end]
    tail = next((s for s in cut if _ROW_START.match(text, s)), cut[0] if cut else None)
    bad = [
        text[s:e]
        for s, e in broken
        if not any(s < f < e for f, _, _ in found) and not any(s < b < e for b, _ in broken)
    ]
    rows = []
    for start, end, value in found:
        inside = rows_in(value)
        whole = len(inside) == 1 and inside[0] is value
        rows += [(row, text[start:end] if whole else dump_json(row)) for row in inside]
    return rows, text[tail:] if tail is not None else None, bad


def looks_like_row(data: dict[Any, Any]) -> bool:
    mapped = map_keys(data)
    day = mapped.get("day")
    return sum(name in mapped for name in CONTENT_FIELDS) >= 2 or (
        "day" in mapped and not isinstance(day, (dict, list))
    )


def rows_in(data: Any, depth: int = 0) -> list[dict[Any, Any]]:
    """The row objects in parsed JSON: a row, a list of rows, rows under any key
    (``days``, ``rows``... first), or rows keyed by day (``{"Day 1": {...}}``)."""
    if depth > 4:
        return []
    if isinstance(data, list):
        return [row for item in data for row in rows_in(item, depth + 1)]
    if not isinstance(data, dict):
        return []
    if looks_like_row(data):
        return [data]
    if data and all(isinstance(v, dict) and day_number(k) is not None for k, v in data.items()):
        return [{"day": key, **value} for key, value in data.items()]
    for _, value in sorted(
        data.items(), key=lambda kv: normalize_key(str(kv[0])) not in CONTAINER_KEYS
    ):
        if rows := rows_in(value, depth + 1):
            return rows
    return []


def dump_json(data: Any) -> str:
    try:
        return json.dumps(data, ensure_ascii=False, default=str, skipkeys=True)
    except (ValueError, RecursionError):  # nested too deep, circular, a too-long int
        return f"<{type(data).__name__} that cannot be shown as JSON>"
