"""A short span on the bundled local model, end to end: the post of the night the clocks
go forward in Berlin (its 02:30 slot moves to 03:30), on two platforms, exported to .ics
(read by a second reader) and read back."""

from __future__ import annotations

import datetime as dt

import pytest

pytest.importorskip("llama_cpp")
vobject = pytest.importorskip("vobject")

from pipeline import Calendar, generate_calendar
from pipeline.config import Settings
from pipeline.generation.review.copies import copy_breaks


def test_the_post_of_a_dst_night_on_two_platforms_offline(tmp_path):
    cal = generate_calendar(
        start="2027-03-28",
        end="2027-03-28",
        times="02:30",
        timezone="Europe/Berlin",
        platforms=["instagram", "tiktok"],
        trends=["AI agents"],
        niche="AI tools for creators",
        settings=Settings(output_dir=tmp_path, outline=False),
    )
    assert cal.is_complete
    assert [p.key for p in cal.posts] == ["2027-03-28T03:30"]
    assert any("02:30 does not exist on 2027-03-28" in note for note in cal.notes)
    for post in cal.posts:  # each copy kept is within TikTok's limits (or named in the notes)
        assert not copy_breaks(post.copies, list(post.copies))
    assert all(
        "tiktok" in p.copies or any(n.startswith(f"Post {i}") for n in cal.notes)
        for i, p in enumerate(cal.posts, start=1)
    )
    assert all(u.prompt_tokens + u.max_tokens <= 8192 for u in cal.usage)

    ics = cal.save(tmp_path / "span.ics").read_text(encoding="utf-8")
    events = sorted(vobject.readOne(ics).vevent_list, key=lambda e: e.dtstart.value)
    starts = [
        e.dtstart.value.astimezone(dt.timezone.utc) for e in events if "tiktok" not in e.uid.value
    ]
    assert [s.strftime("%d %H:%M") for s in starts] == ["28 01:30"]  # 03:30 CEST
    back = Calendar.load(cal.save(tmp_path / "span.csv"))
    assert back.posts == cal.posts
