"""The platforms a post goes out on, and each one's limits: the one table in code.

:data:`PLATFORMS` maps a key (``instagram``, ``tiktok``, ``youtube_shorts``) to a
:class:`Platform`: its display name, the limits of what a post may carry there (caption
characters, hashtag count, title length, longest video), where each number comes from, and
the default posting time used when no slot is given (a default, not a "best time").
:func:`read_platforms` checks a list of keys from settings or the command line.

The script's word limit follows from the longest video at :data:`SPEAKING_WORDS_PER_MINUTE`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.errors import ConfigError

#: A brisk on-camera speaking rate, words per minute. Published figures for conversational
#: English run 140-170 (e.g. the National Center for Voice and Speech: 150 wpm average).
SPEAKING_WORDS_PER_MINUTE = 150


@dataclass(frozen=True)
class Platform:
    """One platform's limits. ``None``: the platform sets no such limit (or no title)."""

    key: str
    name: str
    caption_max_chars: int
    hashtag_max: int | None
    title_max_chars: int | None
    video_max_seconds: int
    default_time: str
    sources: tuple[str, ...]

    @property
    def script_max_words(self) -> int:
        """The most words a script can hold to be said within the longest video."""
        return self.video_max_seconds * SPEAKING_WORDS_PER_MINUTE // 60

    @property
    def has_title(self) -> bool:
        return self.title_max_chars is not None

    def limits_text(self) -> str:
        """The limits as one prompt phrase, e.g. "caption at most 4,000 characters"."""
        parts = [f"caption at most {self.caption_max_chars:,} characters"]
        if self.hashtag_max is not None:
            parts.append(f"at most {self.hashtag_max} hashtags")
        if self.title_max_chars is not None:
            parts.append(f"a title of at most {self.title_max_chars} characters")
        return ", ".join(parts)


#: Checked against each platform's help pages, December 2026.
PLATFORMS: dict[str, Platform] = {
    p.key: p
    for p in (
        Platform(
            key="instagram",
            name="Instagram Reels",
            caption_max_chars=2200,
            hashtag_max=5,
            title_max_chars=None,
            video_max_seconds=180,
            default_time="18:00",
            sources=(
                "caption 2,200 characters: Instagram Help Center, 'Add a caption'",
                "5 hashtags a post or reel: @creators announcement, December 2025",
                "reels up to 3 minutes: Instagram announcement, January 2025",
            ),
        ),
        Platform(
            key="tiktok",
            name="TikTok",
            caption_max_chars=4000,
            hashtag_max=None,
            title_max_chars=None,
            video_max_seconds=600,
            default_time="19:00",
            sources=(
                "caption 4,000 characters: TikTok newsroom, 2023",
                "hashtags count toward the caption; no separate limit",
                "uploads up to 10 minutes: TikTok Help Center, 'Upload a video'",
            ),
        ),
        Platform(
            key="youtube_shorts",
            name="YouTube Shorts",
            caption_max_chars=5000,
            hashtag_max=15,
            title_max_chars=100,
            video_max_seconds=180,
            default_time="17:00",
            sources=(
                "description 5,000 characters, title 100: YouTube Help, 'Add video details'",
                "over 15 hashtags and YouTube ignores them all: YouTube Help, 'Hashtags'",
                "Shorts up to 3 minutes: YouTube Help, October 2024",
            ),
        ),
    )
}
DEFAULT_PLATFORM = "instagram"

#: Other spellings people use for a key.
_ALIASES = {
    "ig": "instagram",
    "instagram_reels": "instagram",
    "reels": "instagram",
    "tt": "tiktok",
    "youtube": "youtube_shorts",
    "yt": "youtube_shorts",
    "shorts": "youtube_shorts",
    "yt_shorts": "youtube_shorts",
}


#: The most hashtags a copy asks for when its platform sets no limit (prompts ask 3-8).
DEFAULT_HASHTAG_CAP = 8


def hashtag_cap(key: str) -> int:
    """The most hashtags a copy for ``key`` may carry: its platform's limit, at most 8."""
    return min(PLATFORMS[key].hashtag_max or DEFAULT_HASHTAG_CAP, DEFAULT_HASHTAG_CAP)


def platform_key(name: str) -> str:
    """The table key for ``name`` ("TikTok", "youtube-shorts", "Instagram Reels"...);
    :class:`ConfigError` naming the keys when it is none of them."""
    folded = "_".join(str(name).strip().casefold().replace("-", " ").split())
    key = _ALIASES.get(folded, folded)
    if key in PLATFORMS:
        return key
    close = difflib.get_close_matches(key, list(PLATFORMS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ConfigError(
        f"Unknown platform {name!r}{hint}: use one of {', '.join(PLATFORMS)} (the first is "
        "the primary one)."
    )


def read_platforms(names: Iterable[str] | str | None) -> list[str]:
    """Checked platform keys in order, duplicates dropped; ``[instagram]`` when none."""
    if isinstance(names, str):
        names = names.split(",")
    keys = [platform_key(n) for n in names or () if str(n).strip()]
    return list(dict.fromkeys(keys)) or [DEFAULT_PLATFORM]
