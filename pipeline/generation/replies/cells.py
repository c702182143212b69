"""Reading one cell of a model's reply: which field a key names, the day, the clean text.

Keys and column headers map to :class:`~pipeline.calendar.DayPlan` fields by exact name or
title, else by a word they contain (``full_speaking_script`` -> ``script``). Days are read
from ``12``, ``"Day 12:"``, ``"**Day 12**"``. Cells from text lose markdown emphasis,
wrapping quotes and ``<br>`` tags; placeholders ("...", "N/A", "TBD") count as blank.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.calendar import COLUMN_TITLES

#: Cell values that mean "the model did not fill this in" (compared stripped, lower-case).
PLACEHOLDERS = frozenset(
    {"", "...", "…", "n/a", "na", "tbd", "tba", "todo", "-", "--", "—", "–", "none", "null", "?"}
)
COLUMNS: tuple[str, ...] = tuple(COLUMN_TITLES)  # a pipe row's cells, in order
FREE_TEXT = frozenset({"caption", "script", "production_notes", "engagement"})
LONG_TEXT = frozenset({"script", "production_notes"})  # take a tied pipe's extra cells
CONTAINER_KEYS = ("days", "rows", "calendar", "plans", "items")


def normalize_key(key: str) -> str:
    return re.sub(r"[\W_]+", "", key).lower()


_EXACT_KEYS = (
    {normalize_key(name): name for name in COLUMN_TITLES}
    | {normalize_key(title): name for name, title in COLUMN_TITLES.items()}
    | {"date": "date", "cta": "engagement", "calltoaction": "engagement"}
    | {"copies": "copies", "platformcopies": "copies"}
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
    ("post", "day"),  # a post's number ("Post 3"), where a schedule names posts
)


def field_for(key: Any) -> tuple[str | None, bool]:
    """The DayPlan field a key or column header names, and whether it named it exactly."""
    norm = normalize_key(str(key))
    if norm in _EXACT_KEYS:
        return _EXACT_KEYS[norm], True
    return next((name for word, name in _KEY_WORDS if word in norm), None), False


def map_keys(row: dict[Any, Any]) -> dict[str, Any]:
    """``row`` keyed by DayPlan fields; exact names win over close variants."""
    exact: dict[str, Any] = {}
    close: dict[str, Any] = {}
    for key, value in row.items():
        name, is_exact = field_for(key)
        if name:
            (exact if is_exact else close).setdefault(name, value)
    return close | exact


DAY = re.compile(
    r"(?:(?:day|post)\s*)?(\d{1,4})\s*[:.)]?\s*(?:[-–—(,]\s*\D.*)?", re.IGNORECASE | re.DOTALL
)
DAY_AND_TITLE = re.compile(r"(?:(?:day|post)\s*)?(\d{1,4})\s*:\s*(\S.*)", re.IGNORECASE | re.DOTALL)


def day_number(value: Any) -> int | None:
    """12 from 12, 12.0, "12", "Day 12", "Day 12:", "**Day 12**", "Day 12 (Sun)"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return int(value)
    match = DAY.fullmatch(clean_cell(value)) if isinstance(value, str) else None
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


def clean_cell(cell: str) -> str:
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


def is_blank(value: Any) -> bool:
    items = value if isinstance(value, (list, tuple)) else [value]
    return all(
        v is None or (isinstance(v, str) and v.strip().lower() in PLACEHOLDERS) for v in items
    )


def text_value(name: str, value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list) and name != "hashtags":
        return "\n".join(str(item) for item in value if item is not None)
    return value
