"""The re-ask of a post's copies: :class:`CopyWriter` (role ``"copies"``) writes only
the copies that broke their platform's limits (or were missing), for posts already kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from pipeline.calendar import PlatformCopy
from pipeline.generation.replies.copies import read_copies
from pipeline.generation.replies.json_rows import find_json_rows, rows_in
from pipeline.generation.writing import prompts
from pipeline.generation.writing.copies import copies_format
from pipeline.generation.writing.schema import copies_schema, reply_schema
from pipeline.generation.writing.writer import ChunkRequest, DayWriter
from pipeline.platforms import PLATFORMS


class CopyWriter(DayWriter):
    """Writes only the copies of posts already written (a re-ask of the copies that
    broke their platform's limits).

    Example:
        .. code-block:: python

            writer = CopyWriter(model, settings, role="copies")
            request = ChunkRequest("copies", [3], context, posts={3: row},
                                   wanted={3: ["tiktok"]})
            writer.chain.invoke(request).plans  # [{"day": 3, "copies": {"tiktok": ...}}]
    """

    tool_name = "post_copies"
    tool_description = "Each requested post's copies for the named platforms."

    def starting_tokens_per_day(self) -> int:
        return 250

    def render_messages(self, request: ChunkRequest) -> list[BaseMessage]:
        schedule, ctx = request.context.schedule, request.context
        lines = []
        for number in request.days:
            row = request.posts.get(number) or {}
            wanted = ", ".join(request.wanted.get(number, []))
            why = "; ".join(request.feedback.get(number, []))
            lines.append(
                f"- {schedule.name_of(number)}: title {prompts.quoted(row.get('title', ''))}; "
                f"hook {prompts.quoted(row.get('hook', ''))}; caption "
                f"{prompts.quoted(row.get('caption', ''))}. Write copies for: {wanted}"
                + (f" (last time: {why})" if why else "")
            )
        keys = sorted({k for ks in request.wanted.values() for k in ks})
        human = (
            f"Niche: {prompts.quoted(ctx.niche)}\n"
            f"These {ctx.platform} posts also go out on other platforms:\n"
            + "\n".join(lines)
            + '\n\nAnswer with JSON only: an object {"days": [...]} holding one object per '
            'post with the keys "day" (the number after Post or Day) and "copies".'
            + copies_format(keys)
        )
        system = (
            "You adapt short-form video posts for other platforms: for each, a caption and "
            "hashtags that fit the platform's audience and limits, keeping the post's idea."
        )
        return [SystemMessage(system), HumanMessage(human)]

    def tool_parameters(
        self, days: Sequence[int] | None, copies: Sequence[str] = (), *, hashtag_max: int = 8
    ) -> dict[str, Any]:
        keys = list(copies) or list(PLATFORMS)[1:]
        item = {
            "type": "object",
            "properties": {"day": {"type": "integer"}, "copies": copies_schema(keys)},
            "required": ["day", "copies"],
            "additionalProperties": False,
        }
        return reply_schema({"type": "array", "items": item})

    def grammar(self, request: ChunkRequest) -> dict[str, Any]:
        items = [
            {
                "type": "object",
                "properties": {
                    "day": {"const": n},
                    "copies": copies_schema(request.wanted.get(n, []), grammar=True),
                },
                "required": ["day", "copies"],
                "additionalProperties": False,
            }
            for n in request.days
        ]
        return reply_schema({"type": "array", "prefixItems": items})

    def parse_reply(self, reply: Any, request: ChunkRequest, finish: str | None):
        """``[{"day": n, "copies": {key: PlatformCopy}}]`` for the posts asked for."""
        rows: list[Any] = []
        if isinstance(reply, (dict, list)):
            rows = list(rows_in(reply))
        elif isinstance(reply, str):
            rows = [row for row, _ in find_json_rows(reply)[0]]
        found: dict[int, dict[str, PlatformCopy]] = {}
        for row in rows:
            if not isinstance(row, dict):
                continue
            try:
                number = int(str(row.get("day", "")).split()[-1])
            except (ValueError, IndexError):
                continue
            if number in request.days and number not in found:
                found[number] = read_copies(row.get("copies"), request.wanted.get(number, []))
        return [{"day": n, "copies": c} for n, c in sorted(found.items()) if c], None
