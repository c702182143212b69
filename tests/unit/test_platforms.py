"""Tests for pipeline.platforms: the platform table, its keys and spellings, and the limits."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.errors import ConfigError
from pipeline.platforms import (
    DEFAULT_PLATFORM,
    PLATFORMS,
    SPEAKING_WORDS_PER_MINUTE,
    Platform,
    platform_key,
    read_platforms,
)
from pipeline.schedule import parse_time


def test_the_table():
    assert list(PLATFORMS) == ["instagram", "tiktok", "youtube_shorts"]
    assert DEFAULT_PLATFORM in PLATFORMS
    assert [p.name for p in PLATFORMS.values()] == ["Instagram Reels", "TikTok", "YouTube Shorts"]
    for key, platform in PLATFORMS.items():
        assert platform.key == key
        assert parse_time(platform.default_time) == platform.default_time
        assert platform.caption_max_chars > 0 and platform.video_max_seconds > 0
        assert platform.sources and all(platform.sources)
    assert [k for k, p in PLATFORMS.items() if p.has_title] == ["youtube_shorts"]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        pytest.param("YouTube Shorts", "youtube_shorts", id="youtube-shorts-name"),
        pytest.param("youtube-shorts", "youtube_shorts", id="hyphen"),
        pytest.param("yt", "youtube_shorts", id="yt"),
        pytest.param("Shorts", "youtube_shorts", id="shorts"),
        pytest.param("TikTok", "tiktok", id="tiktok-name"),
        pytest.param("TT", "tiktok", id="tt"),
        pytest.param("Instagram Reels", "instagram", id="instagram-reels-name"),
        pytest.param("  instagram  ", "instagram", id="spaces"),
        pytest.param("IG", "instagram", id="ig"),
    ],
)
def test_platform_key_reads_names_and_aliases(name, key):
    assert platform_key(name) == key


@given(
    key=st.sampled_from(list(PLATFORMS)),
    upper=st.lists(st.booleans(), min_size=20, max_size=20),
    gap=st.sampled_from([" ", "-", "_", "  ", " - "]),
    pad=st.sampled_from(["", " ", "\t"]),
)
def test_any_case_and_separator_of_a_key_is_read(key, upper, gap, pad):
    spelled = "".join(c.upper() if u else c for c, u in zip(key, upper, strict=False))
    assert platform_key(pad + spelled.replace("_", gap) + pad) == key


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        pytest.param("tiktokk", " (did you mean 'tiktok'?)", id="typo"),
        pytest.param("Insta", " (did you mean 'instagram'?)", id="prefix"),
        pytest.param("Snapchat", "", id="no-suggestion"),
    ],
)
def test_an_unknown_platform_names_the_keys(name, hint):
    with pytest.raises(ConfigError) as caught:
        platform_key(name)
    message = str(caught.value)
    assert message.startswith(f"Unknown platform {name!r}{hint}: ")
    assert "instagram, tiktok, youtube_shorts" in message and "\n" not in message
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("names", "keys"),
    [
        pytest.param(None, ["instagram"], id="none"),
        pytest.param("", ["instagram"], id="empty"),
        pytest.param([" ", ""], ["instagram"], id="blanks"),
        pytest.param("tiktok, ig,TikTok", ["tiktok", "instagram"], id="text-duplicates-dropped"),
        pytest.param(["YouTube Shorts", "yt", "reels"], ["youtube_shorts", "instagram"], id="list"),
    ],
)
def test_read_platforms(names, keys):
    assert read_platforms(names) == keys


def test_read_platforms_rejects_an_unknown_one_among_known():
    with pytest.raises(ConfigError, match="'myspace'"):
        read_platforms("tiktok,myspace")


@pytest.mark.parametrize(
    ("key", "words"), [("instagram", 450), ("tiktok", 1500), ("youtube_shorts", 450)]
)
def test_script_max_words_at_150_words_a_minute(key, words):
    # 180 s x 150 / 60 = 450; 600 s x 150 / 60 = 1,500
    assert SPEAKING_WORDS_PER_MINUTE == 150
    assert PLATFORMS[key].script_max_words == words


@given(seconds=st.integers(1, 3600))
def test_script_max_words_is_the_most_that_can_be_said_in_time(seconds):
    platform = dataclasses.replace(PLATFORMS["tiktok"], video_max_seconds=seconds)
    words = platform.script_max_words
    assert words * 60 <= seconds * SPEAKING_WORDS_PER_MINUTE < (words + 1) * 60


@pytest.mark.parametrize(
    ("key", "text"),
    [
        pytest.param(
            "instagram", "caption at most 2,200 characters, at most 5 hashtags", id="instagram"
        ),
        pytest.param("tiktok", "caption at most 4,000 characters", id="tiktok"),
        pytest.param(
            "youtube_shorts",
            "caption at most 5,000 characters, at most 15 hashtags, a title of at most 100 characters",
            id="youtube_shorts",
        ),
    ],
)
def test_limits_text(key, text):
    assert PLATFORMS[key].limits_text() == text


def test_a_platform_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PLATFORMS["tiktok"].caption_max_chars = 1  # type: ignore[misc]
    assert isinstance(PLATFORMS["tiktok"], Platform)
