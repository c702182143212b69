"""Posts on more than one platform: a copy per platform after the primary, written in the
post's own call, checked against the platform table, and re-asked on its own when it
breaks (role "copies")."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.calendar import Calendar
from pipeline.config import Settings
from pipeline.generation.chains import generate_calendar
from pipeline.generation.planning import plan_month
from pipeline.generation.replies.parsing import parse_day_plans
from pipeline.generation.review.copies import copy_breaks
from pipeline.plans import PlatformCopy
from pipeline.platforms import PLATFORMS
from pipeline.schedule import Schedule
from tests.scripted import (
    FIXED_RETRIEVER,
    SCRIPTED_SCRIPT_WORDS,
    ScriptedChatModel,
    ScriptedToolModel,
    copy_dict,
    row_dict,
    rows_for,
)

WEEK = {"week": "2027-W10", "timezone": "Europe/Berlin"}
TOO_LONG = "x" * (PLATFORMS["tiktok"].caption_max_chars + 1)


def settings(tmp_path, **overrides: Any) -> Settings:
    base = {
        "context_window": 16_385,
        "max_output_tokens": 4096,
        "max_stalled_rounds": 4,
        "output_dir": tmp_path,
        "max_concurrency": 2,
        "speed": "economical",
        "script_words": SCRIPTED_SCRIPT_WORDS,
        "outline": False,
    }
    return Settings(**{**base, **overrides})


def run_week(model: Any, tmp_path, platforms: list[str], **overrides: Any) -> Calendar:
    """Week 2027-W10 in Berlin on ``platforms``, written by ``model``."""
    return generate_calendar(
        trends=["AI"],
        niche="x",
        model=model,
        settings=settings(tmp_path, **overrides),
        retriever=FIXED_RETRIEVER,
        platforms=platforms,
        **WEEK,
    )


def with_copies(platforms: list[str], *, long_tiktok: set[int] = frozenset()):
    """A row maker whose rows carry a copy per platform (an over-long TikTok caption on
    the days in ``long_tiktok``)."""

    def make(day: int) -> dict[str, Any]:
        copies = {p: copy_dict(day, p) for p in platforms}
        if day in long_tiktok and "tiktok" in copies:
            copies["tiktok"] = {**copies["tiktok"], "caption": TOO_LONG}
        return {**row_dict(day), "copies": copies}

    return make


def test_a_tool_model_writes_two_copies_per_post_within_each_platforms_limits(tmp_path):
    extra = ["tiktok", "youtube_shorts"]
    model = ScriptedToolModel(row_maker=with_copies(extra))
    cal = run_week(model, tmp_path, ["instagram", *extra])
    assert cal.is_complete and cal.platforms == ["instagram", *extra]
    for post in cal.posts:
        assert set(post.copies) == set(extra)
        assert not copy_breaks(post.copies, extra)
        assert post.copies["youtube_shorts"].title
    assert {u.role for u in cal.usage} == {"main"}  # every copy came with its post
    schema = str(model.requests[0])
    assert "TikTok (tiktok): caption at most 4,000 characters" in schema
    back = Calendar.from_json(cal.to_json())
    assert [p.copies for p in back.posts] == [p.copies for p in cal.posts]


def test_over_long_tiktok_captions_are_re_asked_for_those_copies_only(tmp_path):
    model = ScriptedToolModel(row_maker=with_copies(["tiktok"], long_tiktok={2, 5}))
    cal = run_week(model, tmp_path, ["instagram", "tiktok"])
    assert cal.is_complete
    copies_calls = [u for u in cal.usage if u.role == "copies"]
    assert len(copies_calls) == 1 and copies_calls[0].days_requested == [2, 5]
    assert copies_calls[0].posts_requested == ["2027-03-09T18:00", "2027-03-12T18:00"]
    main_days = sorted(d for u in cal.usage if u.role == "main" for d in u.days_requested)
    assert main_days == list(range(1, 8))  # no post was written twice
    prompt = model.prompts[-1]
    assert "Write copies for: tiktok" in prompt and "4,001 characters: at most 4,000" in prompt
    assert "Post 1 " not in prompt and "Post 2 (Tuesday 9 March 2027, 18:00)" in prompt
    for post in cal.posts:
        assert len(post.copies["tiktok"].caption) <= 4000
    assert cal.day(2).copies["tiktok"].caption == "tiktok caption for 2"
    assert cal.day(2).caption == "Caption for 2, with a comma"  # the post itself was kept


def test_a_copy_that_keeps_breaking_is_given_up_and_named_in_the_notes(tmp_path):
    model = ScriptedToolModel(
        row_maker=with_copies(["tiktok"], long_tiktok={3}),
        copy_maker=lambda day, platform, _: {**copy_dict(day, platform), "caption": TOO_LONG},
    )
    cal = run_week(model, tmp_path, ["instagram", "tiktok"], max_reasks=1)
    assert cal.is_complete and "tiktok" not in cal.day(3).copies
    assert any(n.startswith("Post 3 has no copy for tiktok") for n in cal.notes)
    copies_calls = [u for u in cal.usage if u.role == "copies"]
    assert all(u.days_requested == [3] for u in copies_calls)
    # a reply cut short is asked again with twice the room (not counted against the copy);
    # a copy broken in full counts: written with its post, then re-asked max_reasks times
    rooms = [u.max_tokens for u in copies_calls]
    assert rooms == sorted(set(rooms))
    assert [u.finish_reason == "length" for u in copies_calls][-1] is False
    assert sum(u.finish_reason != "length" for u in copies_calls) == 1


def test_a_model_without_tools_gets_its_copies_from_copies_calls(tmp_path):
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    cal = run_week(model, tmp_path, ["instagram", "tiktok"], tokens_per_day=120)
    assert cal.is_complete and all("tiktok" in p.copies for p in cal.posts)
    roles = [u.role for u in cal.usage]
    assert roles.count("copies") >= 1 and roles.index("copies") > roles.index("main")


def test_the_budget_grows_by_what_a_copy_measures(tmp_path):
    def first_call(platforms: list[str]) -> tuple[int, int]:
        plans = plan_month(
            None,
            ["AI"],
            "x",
            models=[ScriptedToolModel()],
            settings=settings(tmp_path),
            retriever=FIXED_RETRIEVER,
            platforms=platforms,
            **WEEK,
        )
        return plans[0].tokens_per_day, plans[0].calls[0].max_tokens

    alone, with_tiktok = first_call(["instagram"]), first_call(["instagram", "tiktok"])
    assert with_tiktok[0] > alone[0] + 50 and with_tiktok[1] > alone[1]


def test_the_parser_reads_copies_by_platform_key_or_name_and_drops_malformed_ones():
    schedule = Schedule.for_month("2027-03")
    row = {
        **row_dict(3),
        "copies": {
            "TikTok": {"caption": "hi", "hashtags": "#a #b"},
            "YouTube Shorts": {"hashtags": ["#a"]},  # no caption: left out
        },
    }
    parsed = parse_day_plans(
        {"days": [row]},
        schedule=schedule,
        requested_days=[3],
        copies=("tiktok", "youtube_shorts"),
    )
    (plan,) = parsed.plans
    assert plan.copies == {"tiktok": PlatformCopy(caption="hi", hashtags=["#a", "#b"])}
    assert copy_breaks(plan.copies, ["tiktok", "youtube_shorts"]) == {
        "youtube_shorts": ["no YouTube Shorts copy"]
    }


@pytest.mark.parametrize(
    ("platform", "copy", "why"),
    [
        ("instagram", {"caption": "c", "hashtags": [f"#t{i}" for i in range(6)]}, "6 hashtags"),
        ("youtube_shorts", {"caption": "c", "hashtags": ["#a"]}, "no title"),
        ("youtube_shorts", {"caption": "c", "hashtags": ["#a"], "title": "t" * 101}, "101 char"),
        ("tiktok", {"caption": TOO_LONG, "hashtags": ["#a"]}, "4,001 characters"),
        ("tiktok", {"caption": "c", "hashtags": ["#two words"]}, "one word"),
    ],
)
def test_each_copy_is_checked_against_its_own_platform(platform, copy, why):
    copies = {platform: PlatformCopy.model_construct(**{"title": "", **copy})}
    assert why in " ".join(copy_breaks(copies, [platform])[platform])


def test_spans_copies_and_the_outline_together_on_a_4096_token_window(tmp_path):
    """Every feature of a run at once on a small window: a Mon/Wed/Fri March in Berlin,
    two extra platforms, the outline on; no request is over the window."""
    extra = ["tiktok", "youtube_shorts"]
    model = ScriptedToolModel(row_maker=with_copies(extra, long_tiktok={4}), window=4096)
    cal = generate_calendar(
        month="2027-03",
        cadence="mon,wed,fri",
        times="18:00",
        timezone="Europe/Berlin",
        trends=["AI agents", "creator tools"],
        niche="AI tools for creators",
        model=model,
        settings=settings(tmp_path, context_window=4096, max_output_tokens=2048, outline=True),
        retriever=FIXED_RETRIEVER,
        platforms=["instagram", *extra],
    )
    assert cal.is_complete and len(cal.posts) == 14 and not model.violations
    assert all(set(p.copies) == set(extra) for p in cal.posts)
    assert {"outline", "main", "copies"} <= {u.role for u in cal.usage}
    assert max(u.prompt_tokens + u.max_tokens for u in cal.usage) <= 4096


def test_copies_calls_that_fail_end_in_notes_not_an_incomplete_run(tmp_path):
    def broken(day: int, platform: str, index: int) -> dict[str, Any]:
        raise ValueError("the provider rejected the request")

    model = ScriptedToolModel(row_maker=with_copies(["tiktok"], long_tiktok={2}), copy_maker=broken)
    cal = run_week(model, tmp_path, ["instagram", "tiktok"], max_reasks=1, max_retries=0)
    assert cal.is_complete and "tiktok" not in cal.day(2).copies
    copies_calls = [u for u in cal.usage if u.role == "copies"]
    assert len(copies_calls) == 1 and copies_calls[0].error  # recorded, counted as a try
    assert any(n.startswith("Post 2 has no copy for tiktok") for n in cal.notes)


def test_extra_hashtags_are_trimmed_to_the_platform_not_asked_again(tmp_path):
    many = [f"#tag{i}" for i in range(9)]
    model = ScriptedToolModel(
        row_maker=lambda day: {
            **row_dict(day),
            "hashtags": many,
            "copies": {"tiktok": {**copy_dict(day, "tiktok"), "hashtags": many}},
        }
    )
    cal = run_week(model, tmp_path, ["instagram", "tiktok"])
    assert cal.is_complete and {u.role for u in cal.usage} == {"main"}
    assert all(p.hashtags == many[:5] for p in cal.posts)  # Instagram keeps 5
    assert all(p.copies["tiktok"].hashtags == many[:8] for p in cal.posts)
    schema = model.requests and str(model.requests[0])
    assert schema and "3-5 hashtags" in schema
