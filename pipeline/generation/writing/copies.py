"""A post's copies for the platforms after the primary: the ``copies`` part of a reply's
schema and answer format, and what a copy measures in tokens. Reading them from a reply is
:mod:`pipeline.generation.replies.copies`, checking them
:mod:`pipeline.generation.review.copies`, and the re-ask that writes only the copies that
broke :mod:`pipeline.generation.writing.copy_writer`.

The first call of a post writes its copies with it (the same call: the budget's tokens per
post grow by :func:`copy_tokens`); a copy that breaks its platform's limits is dropped and
asked again on its own, with why, up to ``max_reasks`` times; the post itself is kept.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pipeline.models.tokens import TokenCounter
from pipeline.platforms import PLATFORMS

#: A typical copy, measured with the writer's tokenizer to grow the tokens per post.
_SAMPLE_CAPTION = " ".join(["Three quick ways to save an hour a day with one simple habit."] * 4)


def copies_format(keys: Sequence[str]) -> str:
    """What the answer format adds when posts go to more platforms (empty for one)."""
    if not keys:
        return ""
    limits = "; ".join(f"{PLATFORMS[k].name} ({k}): {PLATFORMS[k].limits_text()}" for k in keys)
    titled = [k for k in keys if PLATFORMS[k].has_title]
    title = f', plus "title" for {", ".join(titled)}' if titled else ""
    return (
        f'\nEach post also has "copies": an object with one entry per platform ({", ".join(keys)}), '
        f'each its own "caption" and "hashtags" (a list){title}, written for that platform '
        f"and within its limits: {limits}."
    )


def copy_tokens(keys: Sequence[str], counter: TokenCounter) -> int:
    """Tokens the copies of one post take in a reply, measured on a typical copy."""
    if not keys:
        return 0
    sample = {
        k: {"caption": _SAMPLE_CAPTION, "hashtags": ["#oneword"] * 5}
        | (
            {"title": "A title of about ten words for this short video"}
            if PLATFORMS[k].has_title
            else {}
        )
        for k in keys
    }
    return counter.count(json.dumps({"copies": sample}, ensure_ascii=False))
