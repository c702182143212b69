"""The month outline's replies: the JSON schema a line is asked in (a tool's parameters,
or llama.cpp's grammar for the local model) and the parser that reads lines back from
tool data, JSON text, the grammar's lists or pipe rows; and the longest lines a review
lets through (:func:`lines_at_caps`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError

from pipeline.calendar import OutlineDay
from pipeline.generation.replies.json_rows import find_json_rows
from pipeline.generation.writing.schema import reply_schema, words_pattern

OUTLINE_FIELDS = ("day", "title", "pillar", "format", "series", "uses")
#: Word caps of the outline's text fields in the local model's grammar ((min, max)).
#: A small model fills every word a cap allows, so the caps are what a line needs.
OUTLINE_GRAMMAR_WORDS: dict[str, tuple[int, int]] = {
    "title": (2, 8),
    "pillar": (1, 2),
    "series": (0, 2),
    "uses": (0, 5),  # an enum of the trends and special dates when there are any
}


def outline_schema(
    days: Sequence[int] | None = None,
    *,
    formats: Sequence[str] = (),
    words: dict[str, tuple[int, int]] | None = None,
    uses: Sequence[str] = (),
    pillars: Sequence[str] = (),
) -> dict[str, Any]:
    """JSON schema of an outline reply: ``{"days": [{day, title, pillar, format, series,
    uses}, ...]}``. ``formats`` become an enum; ``days`` pin the allowed days (a server's
    tool); ``words`` caps text fields in plain words and ``uses`` lists what a day may
    build on (trends and special dates, or ""); ``pillars`` (``content_pillars``) become
    an enum. With ``days`` and ``words`` (the local
    grammar) each position is pinned to its day and each line is a list, ``[day, title,
    pillar, format, series, uses]``."""
    item: dict[str, Any] = {name: {"type": "string"} for name in OUTLINE_FIELDS[1:]}
    if formats:
        item["format"] = {"type": "string", "enum": list(formats)}
    for name, (low, high) in (words or {}).items():
        item[name] = {"type": "string", "pattern": words_pattern(high, low)}
    if uses:
        item["uses"] = {"type": "string", "enum": ["", *uses]}
    if pillars:
        item["pillar"] = {"type": "string", "enum": list(pillars)}

    def day_item(day: dict[str, Any]) -> dict[str, Any]:
        props = {"day": day, **item}
        return {
            "type": "object",
            "properties": props,
            "required": list(props),
            "additionalProperties": False,
        }

    if days and words:
        # The grammar: one position per day, in order, each a list of the fields in
        # OUTLINE_FIELDS order: a line's keys would cost more tokens than its words
        # (on the bundled model about 57 tokens a line as a list, 70-80 with keys).
        lines = [{"type": "array", "prefixItems": [{"const": d}, *item.values()]} for d in days]
        return reply_schema({"type": "array", "prefixItems": lines})
    day = {"type": "integer", "enum": list(days)} if days else {"type": "integer", "minimum": 1}
    return reply_schema({"type": "array", "items": day_item(day)})


#: Two-letter words: text at least as dense in tokens as any a model writes in English.
_DENSE_WORDS = ("ab", "cd", "ef", "gh", "ij", "kl", "mn", "op", "qr", "st", "uv", "wx")


def _dense_text(chars: int) -> str:
    words = (_DENSE_WORDS[i % len(_DENSE_WORDS)] for i in range(chars))
    return " ".join(words)[:chars].strip()


def lines_at_caps(
    days: Sequence[int], *, formats: Sequence[str], uses: Sequence[str]
) -> list[OutlineDay]:
    """The longest outline lines the review lets through, for ``days``: title and series
    and pillar at their length caps in dense text, the longest format and use of their
    lists (the review empties any other value).
    ``reelcal plan`` bounds writing prompts with them."""
    caps = {name: field.metadata for name, field in OutlineDay.model_fields.items()}

    def cap(name: str) -> int:
        return next(m.max_length for m in caps[name] if hasattr(m, "max_length"))

    return [
        OutlineDay(
            day=day,
            title=_dense_text(cap("title")),
            pillar=_dense_text(cap("pillar")),
            format=max(formats, key=len) if formats else "",
            series=_dense_text(cap("series")),
            uses=max(uses, key=len) if uses else "",
        )
        for day in days
    ]


def parse_outline(reply: Any, requested_days: Iterable[int]) -> list[OutlineDay]:
    """The outline lines of the requested days in ``reply`` (tool-call data, JSON text or
    pipe rows ``Day N | title | pillar | format | series | uses``): the first valid line
    of each day wins; anything else is skipped (the day stays missing and is asked again)."""
    wanted = set(requested_days)
    found: dict[int, OutlineDay] = {}
    for item in _items(reply):
        try:
            line = OutlineDay.model_validate(item)
        except (ValidationError, TypeError, ValueError):
            continue
        if line.day in wanted:
            found.setdefault(line.day, line)
    return [found[d] for d in sorted(found)]


def _items(reply: Any) -> list[dict[str, Any]]:
    if isinstance(reply, dict):
        days = reply.get("days", [reply])  # {"days": [...]}, or a single line
        return _as_dicts(days) if isinstance(days, list) else []
    if isinstance(reply, list):
        return _as_dicts(reply)
    if not isinstance(reply, str):
        return []
    rows, _, _ = find_json_rows(reply)
    if rows:
        return [row for row, _ in rows]
    lines = _LIST_LINE.findall(reply)  # the grammar's lists, whole ones of a cut reply too
    if lines:
        return _as_dicts([json.loads(line) for line in lines])
    items = []
    for text in reply.splitlines():
        cells = [c.strip().strip("*").strip() for c in text.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0]:
            items.append(dict(zip(OUTLINE_FIELDS, cells)))
    return items


#: One whole outline line as the local grammar writes it: ``[4, "title", "pillar", ...]``.
_LIST_LINE = re.compile(r'\[\s*\d+\s*(?:,\s*"(?:[^"\\]|\\.)*"\s*){3,5}\]')


def _as_dicts(items: list[Any]) -> list[dict[str, Any]]:
    """Lines as objects, or as lists in :data:`OUTLINE_FIELDS` order (the grammar's)."""
    found = []
    for item in items:
        if isinstance(item, list) and len(item) >= 4:
            item = dict(zip(OUTLINE_FIELDS, item))
        if isinstance(item, dict):
            found.append(item)
    return found
