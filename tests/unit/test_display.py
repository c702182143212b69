"""Tests of pipeline.outputs.display: the DataFrame and the notebook HTML."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from pipeline.calendar import COLUMN_TITLES, Calendar, DayPlan, UsageRecord
from pipeline.outputs.display import FOLD_AT, calendar_html, fold, to_dataframe

LONG_SCRIPT = "Open on the problem. " * 30 + "<end> & done"


def _plan(day: int, **overrides: str) -> DayPlan:
    fields = {
        "title": f"Reel {day}",
        "hook": "Hook",
        "caption": "Short caption",
        "script": LONG_SCRIPT,
        "video_style": "Talking head",
        "audio": "Original",
        "hashtags": "#ai #reels",
        "production_notes": "Window light",
        "engagement": "Ask a question",
    }
    fields.update(overrides)
    return DayPlan(day=day, date=date(2026, 3, day), **fields)


@pytest.fixture
def cal() -> Calendar:
    days = [_plan(d) for d in range(1, 32)]
    days[0] = _plan(1, title="<script>alert('x')</script> & more")
    return Calendar(
        year=2026,
        month=3,
        days=days,
        model="openai:gpt-4o",
        usage=[
            UsageRecord(
                role="main",
                model="openai:gpt-4o",
                days_requested=list(range(1, 32)),
                prompt_tokens=3000,
                max_tokens=16000,
                input_tokens=3010,
                output_tokens=12000,
                finish_reason="stop",
                days_parsed=31,
            ),
        ],
    )


def test_dataframe_shape_index_and_columns(cal):
    frame = to_dataframe(cal)
    assert frame.shape == (31, 12)
    assert frame.index.name == "Day" and list(frame.index) == list(range(1, 32))
    titles = [t for f, t in COLUMN_TITLES.items() if f != "day"]
    assert list(frame.columns) == ["Date", *titles, "Time", "Time Zone"]
    assert frame.loc[12, "Date"] == pd.Timestamp("2026-03-12")
    assert frame.loc[2, "Hashtags"] == "#ai #reels"
    assert cal.to_dataframe().equals(frame)


def test_dataframe_of_an_empty_calendar():
    frame = to_dataframe(Calendar(year=2026, month=2))
    assert frame.empty and frame.index.name == "Day" and "Date" in frame.columns


def test_html_escapes_script_tags(cal):
    page = cal._repr_html_()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in page


def test_html_folds_long_scripts(cal):
    page = calendar_html(cal)
    assert page.count("<details>") == 31
    assert "<summary>Open on the problem. Open on the problem." in page
    assert "&lt;end&gt; &amp; done</details>" in page


def test_html_header_line(cal):
    page = calendar_html(cal)
    assert "<b>March 2026</b>" in page
    assert "31/31 days" in page and "openai:gpt-4o" in page
    assert "15,010 tokens" in page
    assert "Missing days" not in page
    assert "<th>Prompt tokens</th>" in page and "Day 1 to Day 31" in page


def test_html_lists_missing_days_of_a_partial_calendar(cal):
    partial = cal.model_copy(update={"days": [p for p in cal.days if p.day not in (3, 17)]})
    page = calendar_html(partial)
    assert "29/31 days" in page
    assert "Missing days: 3, 17" in page


def test_fold_short_text_is_escaped_not_folded():
    assert fold("a <b>\nline") == "a &lt;b&gt;<br>line"
    folded = fold("word " * 40)
    assert folded.startswith("<details><summary>") and "…</summary>" in folded
    summary = folded.split("<summary>")[1].split("</summary>")[0]
    assert len(summary) <= FOLD_AT + 1
