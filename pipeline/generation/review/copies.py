"""The platform rules of a post's copies: each copy against its platform's limits
(:data:`~pipeline.platforms.PLATFORMS`): caption characters, hashtag count (at most
:func:`~pipeline.platforms.hashtag_cap`, as the prompts ask) and form, a title where the
platform has one."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.calendar import PlatformCopy
from pipeline.generation.review.rules import HASHTAG
from pipeline.platforms import PLATFORMS, hashtag_cap


def copy_breaks(copies: dict[str, PlatformCopy], keys: Sequence[str]) -> dict[str, list[str]]:
    """Platform key -> why its copy is not kept (missing, or over its platform's limits)."""
    breaks: dict[str, list[str]] = {}
    for key in keys:
        platform, copy = PLATFORMS[key], copies.get(key)
        why: list[str] = []
        if copy is None:
            breaks[key] = [f"no {platform.name} copy"]
            continue
        if len(copy.caption) > platform.caption_max_chars:
            why.append(
                f"{platform.name} caption has {len(copy.caption):,} characters: at most "
                f"{platform.caption_max_chars:,}"
            )
        if not copy.hashtags:
            why.append(f"{platform.name} copy has no hashtags")
        elif len(copy.hashtags) > hashtag_cap(key):
            why.append(
                f"{platform.name} copy has {len(copy.hashtags)} hashtags: at most "
                f"{hashtag_cap(key)}"
            )
        if any(not HASHTAG.fullmatch(tag) for tag in copy.hashtags):
            why.append(f"each {platform.name} hashtag is # and one word, no spaces")
        if platform.title_max_chars is not None:
            if not copy.title:
                why.append(f"{platform.name} copy has no title")
            elif len(copy.title) > platform.title_max_chars:
                why.append(
                    f"{platform.name} title has {len(copy.title)} characters: at most "
                    f"{platform.title_max_chars}"
                )
        if why:
            breaks[key] = why
    return breaks
