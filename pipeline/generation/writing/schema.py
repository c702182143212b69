"""The JSON schema of a chunk's reply: the tool's parameters, and llama.cpp's grammar.

For tool-calling models (:func:`tool_schema`) the schema lists the day fields with light
bounds and is the same for every chunk (prompt caching); for the local model
(:func:`grammar_schema`) every position is pinned to its day and every text field to a
bounded number of plain words, which llama.cpp's grammar enforces token by token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.platforms import PLATFORMS, hashtag_cap

# For the llama.cpp grammar: each text field is plain one-line text, a bounded number of
# words of bounded length. A 135M model left free fills JSON strings with escaped newlines
# and noise until the cap; a character class keeps it to words and sentences. Bounds are
# counted in words, not characters: llama-cpp-python expands "x{0,N}" into rules nested N
# deep, and sampling slows down with that depth (a 650-character cap made decoding several
# times slower than 100-word caps).
GRAMMAR_WORDS = {
    "title": 10,
    "hook": 10,
    "caption": 25,
    "script": 80,
    "video_style": 5,
    "audio": 5,
    "production_notes": 18,
    "engagement": 16,
}
# A word starts with a letter or digit: a field of punctuation only ("...", "!!") breaks a
# content rule, so the grammar never lets the model write one.
_WORD = "[A-Za-z0-9][A-Za-z0-9,.!?'&%$:;()/+-]{0,13}"


def words_pattern(max_words: int, min_words: int = 1) -> str:
    """A regex of ``min_words`` to ``max_words`` plain words (0 allows an empty string)."""
    words = f"{_WORD}( {_WORD}){{{max(min_words, 1) - 1},{max_words - 1}}}"
    return f"^{words}$" if min_words else f"^({words})?$"


def tool_schema(
    days: Sequence[int] | None = None, copies: Sequence[str] = (), *, hashtag_max: int = 8
) -> dict[str, Any]:
    """JSON schema of a tool call's arguments: a list of days.

    Without ``days`` it is the same for every chunk: hosted providers put tool schemas
    before the messages, so a schema that changed per chunk (a day enum, an item count)
    would break their prompt caching; the days asked for are named in the prompt and
    checked after parsing. With ``days`` each item's day is one of them: for servers that
    turn the schema into a grammar (llama.cpp's, vLLM's guided decoding), where a pinned
    day is what keeps a small model on the days asked for. ``copies``: the platform keys
    each post also has a copy for; ``hashtag_max``: the most hashtags the rules keep.
    """
    day = {"type": "integer", "enum": list(days)} if days else {"type": "integer", "minimum": 1}
    item = _day_item(day, copies=copies)
    item["properties"]["hashtags"]["maxItems"] = hashtag_max  # what the content rules keep
    return reply_schema({"type": "array", "items": item})


def grammar_schema(
    days: Sequence[int],
    *,
    words: dict[str, int | tuple[int, int]] | None = None,
    copies: Sequence[str] = (),
) -> dict[str, Any]:
    """JSON schema of a reply holding exactly ``days``, for llama.cpp's grammar: each
    position pinned to its day (``prefixItems`` with ``const``), each text field to a
    bounded number of plain words (:data:`GRAMMAR_WORDS`, overridden by ``words``: the
    content rules' hook and script caps)."""
    caps = {**GRAMMAR_WORDS, **(words or {})}
    items = [_day_item({"const": d}, words=caps, copies=copies) for d in days]
    return reply_schema({"type": "array", "prefixItems": items})


def _day_item(
    day_rule: dict[str, Any],
    *,
    words: dict[str, int | tuple[int, int]] | None = None,
    copies: Sequence[str] = (),
) -> dict[str, Any]:
    props: dict[str, Any] = {"day": day_rule}
    for name in ("title", "hook", "caption", "script", "video_style", "audio"):
        props[name] = {"type": "string", "minLength": 3}
    props["hashtags"] = {
        "type": "array",
        "items": {"type": "string", "minLength": 2},
        "minItems": 3,
        "maxItems": 8,
    }
    for name in ("production_notes", "engagement"):
        props[name] = {"type": "string", "minLength": 3}
    if words:
        for name, cap in words.items():
            low, high = cap if isinstance(cap, tuple) else (1, cap)
            props[name] = {"type": "string", "pattern": words_pattern(high, low)}
        props["hashtags"]["items"] = {"type": "string", "pattern": "^#[A-Za-z0-9_]{2,16}$"}
        props["hashtags"]["maxItems"] = 4
    if copies:
        props["copies"] = copies_schema(copies, grammar=bool(words))
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


#: Word caps of a copy under the local model's grammar (as its caption in the row).
COPY_GRAMMAR_WORDS = {"caption": 25, "title": 10}


def copy_item_schema(key: str, *, grammar: bool = False) -> dict[str, Any]:
    """The JSON schema of one platform's copy (with a title where the platform has one)."""
    text = (
        (lambda cap: {"type": "string", "pattern": words_pattern(cap)})
        if grammar
        else (lambda cap: {"type": "string", "minLength": 3})
    )
    tag = {"type": "string", "pattern": "^#[A-Za-z0-9_]{2,16}$"} if grammar else {"type": "string"}
    props: dict[str, Any] = {
        "caption": text(COPY_GRAMMAR_WORDS["caption"]),
        "hashtags": {"type": "array", "items": tag, "minItems": 1, "maxItems": hashtag_cap(key)},
    }
    if PLATFORMS[key].has_title:
        props["title"] = text(COPY_GRAMMAR_WORDS["title"])
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


def copies_schema(keys: Sequence[str], *, grammar: bool = False) -> dict[str, Any]:
    """The ``copies`` property of a post: one copy per platform key."""
    props = {key: copy_item_schema(key, grammar=grammar) for key in keys}
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


def reply_schema(days_schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"days": days_schema},
        "required": ["days"],
        "additionalProperties": False,
    }
