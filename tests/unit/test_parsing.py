"""Tests of pipeline.generation.replies.parsing: every reply shape seen from real models, the rejection rules,
truncation, pipes inside cells, and properties (JSON round-trips; no text makes it raise)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pipeline.calendar import COLUMN_TITLES, CONTENT_FIELDS, DayPlan
from pipeline.generation.replies.parsing import (
    PLACEHOLDERS,
    ParseResult,
    Rejection,
    describe,
    parse_day_plans,
)

YEAR, MONTH = 2026, 4  # April 2026: 30 days
APRIL = range(1, 31)


def fields(day: int, **changes: str) -> dict[str, str]:
    values = {
        "title": f"Idea {day}",
        "hook": f"Hook {day}!",
        "caption": f"Caption for day {day}, save it ✨",
        "script": f"Hi! Day {day}: show the thing, then ask a question.",
        "video_style": "Talking head",
        "audio": "Original voiceover",
        "hashtags": f"#reels #tips{day}",
        "production_notes": "Film at a window.",
        "engagement": "Ask viewers to comment.",
    }
    values.update(changes)
    return values


def pipe_row(day: int, first: str | None = None, **changes: str) -> str:
    return " | ".join([first or f"Day {day}", *fields(day, **changes).values()])


def json_row(day: int | str, **changes: str) -> dict[str, object]:
    return {"day": day, **fields(int(str(day).removeprefix("Day ")), **changes)}


def parse(reply: Any, days: Iterable[int] = APRIL, finish: str | None = None) -> ParseResult:
    return parse_day_plans(reply, year=YEAR, month=MONTH, requested_days=days, finish_reason=finish)


def plan(day: int, **changes: str) -> DayPlan:
    return DayPlan(day=day, date=date(YEAR, MONTH, day), **fields(day, **changes))


ROWS_1_3 = "\n".join(pipe_row(d) for d in (1, 2, 3))
OBJECTS_1_3 = [json_row(d) for d in (1, 2, 3)]
HEADER = " | ".join(COLUMN_TITLES.values())
SEPARATOR = "|" + "---|" * len(COLUMN_TITLES)


# ----------------------------------------------------------------- accepted text formats
@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(ROWS_1_3, id="pipe-rows"),
        pytest.param("\n".join(f"| {pipe_row(d)} |" for d in (1, 2, 3)), id="outer-pipes"),
        pytest.param("\n".join(pipe_row(d, first=str(d)) for d in (1, 2, 3)), id="bare-number"),
        pytest.param("\n".join(pipe_row(d, first=f"Day {d}:") for d in (1, 2, 3)), id="day-colon"),
        pytest.param(
            "\n".join(pipe_row(d, first=f"**Day {d}**") for d in (1, 2, 3)), id="bold-day"
        ),
        pytest.param(
            "\n".join(pipe_row(d, first=f"Day {d} (Wed)") for d in (1, 2, 3)), id="day-with-weekday"
        ),
        pytest.param(f"{HEADER}\n{SEPARATOR}\n{ROWS_1_3}", id="markdown-table"),
        pytest.param(f"| {HEADER} |\n{ROWS_1_3}", id="header-row-without-separator"),
        pytest.param(
            " | ".join(COLUMN_TITLES) + f"\n{SEPARATOR}\n{ROWS_1_3}", id="field-name-header"
        ),
        pytest.param(
            f"Here is your calendar:\n\n{ROWS_1_3}\n\nLet me know if you want changes!",
            id="chatter-before-and-after",
        ),
        pytest.param(
            f"Sure!\n```markdown\n{HEADER}\n{SEPARATOR}\n{ROWS_1_3}\n```\nEnjoy.",
            id="markdown-fence",
        ),
        pytest.param(f"```\n{ROWS_1_3}\n```", id="bare-fence"),
        pytest.param(
            f"```text\n\n{pipe_row(1)}\n\n\n{pipe_row(2)}\n\n{pipe_row(3)}\n```",
            id="text-fence-blank-lines",
        ),
        pytest.param("\n".join(f"- {pipe_row(d)}" for d in (1, 2, 3)), id="bulleted-rows"),
    ],
)
def test_text_formats(reply: str) -> None:
    result = parse(reply)
    assert result.rejected == []
    assert result.plans == [plan(1), plan(2), plan(3)]


def test_day_and_title_in_the_first_cell() -> None:
    row = "Day 12: Idea 12 | " + " | ".join(list(fields(12).values())[1:])
    assert parse(row).plans == [plan(12)]


def test_cells_are_cleaned_but_emoji_and_non_ascii_kept() -> None:
    row = pipe_row(
        5,
        title='**"Café naïve 日本語"**',
        hook="*Stop scrolling* 🛑",
        script="Line one<br>Line two<BR/>Line three",
        caption="“Save this”",
        hashtags="`#café #reels`",
    )
    [got] = parse(row).plans
    assert got.title == "Café naïve 日本語"
    assert got.hook == "Stop scrolling 🛑"
    assert got.script == "Line one\nLine two\nLine three"
    assert got.caption == "Save this"
    assert got.hashtags == ["#café", "#reels"]


def test_inner_quotes_are_kept() -> None:
    [got] = parse(pipe_row(2, hook='"Stop" he said, "now"')).plans
    assert got.hook == '"Stop" he said, "now"'


def test_markdown_table_with_reordered_columns_maps_by_header() -> None:
    order = [
        "title",
        "day",
        "hashtags",
        "engagement",
        "script",
        "caption",
        "hook",
        "video_style",
        "production_notes",
        "audio",
    ]
    header = "| " + " | ".join(COLUMN_TITLES[f] for f in order) + " |"
    body = []
    for day in (7, 8):
        values = {"day": f"Day {day}", **fields(day)}
        body.append("| " + " | ".join(values[f] for f in order) + " |")
    reply = "\n".join([header, "|" + ":---|" * len(order), *body])
    result = parse(reply)
    assert result.plans == [plan(7), plan(8)]


def test_table_with_unknown_extra_column_ignores_it() -> None:
    header = "| Day | Theme | " + " | ".join(list(COLUMN_TITLES.values())[1:]) + " |"
    row = "| 4 | Spring | " + " | ".join(fields(4).values()) + " |"
    assert parse(f"{header}\n{SEPARATOR}|\n{row}").plans == [plan(4)]


def test_row_continued_on_the_next_line() -> None:
    values = list(fields(3).values())
    reply = f"Day 3 | {' | '.join(values[:3])} | Hi! Line one\nline two | " + " | ".join(values[4:])
    [got] = parse(reply).plans
    assert got.script == "Hi! Line one\nline two"


# ----------------------------------------------------------------- pipes inside cells
@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        pytest.param(
            {"caption": "Which one are you: A | B? Tell me below 👇"},
            "caption",
            "Which one are you: A | B? Tell me below 👇",
            id="caption-A|B",
        ),
        pytest.param(
            {"caption": "Before | after. Save this!"},
            "caption",
            "Before | after. Save this!",
            id="caption-lowercase-after-pipe",
        ),
        pytest.param(
            {"script": "Step one | step two | step three. Follow for more!"},
            "script",
            "Step one | step two | step three. Follow for more!",
            id="script-pipes",
        ),
        pytest.param(
            {"script": "Left | Right: which wins?"},
            "script",
            "Left | Right: which wins?",
            id="script-capital-after-pipe",
        ),
        pytest.param(
            {"caption": "A | B!", "script": "Hi | there."},
            "script",
            "Hi | there.",
            id="pipes-in-caption-and-script",
        ),
        pytest.param(
            {"production_notes": "Shots: wide | close-up | B-roll"},
            "production_notes",
            "Shots: wide | close-up | B-roll",
            id="notes-pipes",
        ),
        pytest.param(
            {"caption": r"Markdown escape A \| B"},
            "caption",
            "Markdown escape A | B",
            id="escaped-pipe",
        ),
    ],
)
def test_pipe_inside_a_cell_does_not_shift_columns(
    changes: dict[str, str], field: str, expected: str
) -> None:
    result = parse(pipe_row(9, **changes))
    assert result.rejected == []
    [got] = result.plans
    assert getattr(got, field) == expected
    assert got == plan(9, **{**changes, field: expected})


def test_pipe_in_caption_without_sentence_end_goes_to_the_script() -> None:
    # The documented tie-break: with no sentence boundary to go by, extras join the script.
    [got] = parse(pipe_row(9, caption="Pick: A | B", script="here we go")).plans
    assert (got.caption, got.script) == ("Pick: A", "B | here we go")
    assert (got.video_style, got.audio, got.hashtags) == (
        "Talking head",
        "Original voiceover",
        ["#reels", "#tips9"],
    )


def test_extra_cells_without_a_hashtags_cell_cannot_be_placed() -> None:
    result = parse(pipe_row(2, caption="A | B.", hashtags="reels tips"))
    assert result.plans == []
    assert [(r.day, r.reason) for r in result.rejected] == [(2, "extra columns")]


def test_degenerate_repetition_is_not_accepted() -> None:
    result = parse("Day 1 |" * 500 + "\n" + "Day 1 | Day 1 | Day 1\n" * 50)
    assert result.plans == []
    assert {r.reason for r in result.rejected} == {"extra columns", "missing columns"}


# ----------------------------------------------------------------- JSON
def dumps(data: object, **kwargs: object) -> str:
    return json.dumps(data, ensure_ascii=False, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "reply",
    [
        *(
            pytest.param(dumps({key: OBJECTS_1_3}), id=f"object-{key}")
            for key in ("days", "rows", "calendar", "plans", "items")
        ),
        pytest.param(dumps({"month": "April", "reels": OBJECTS_1_3}), id="object-any-key"),
        pytest.param(dumps({"calendar": {"days": OBJECTS_1_3}}), id="nested-object"),
        pytest.param(dumps(OBJECTS_1_3), id="array"),
        pytest.param(dumps(OBJECTS_1_3, indent=2), id="array-indented"),
        pytest.param("\n".join(dumps(o) for o in OBJECTS_1_3), id="json-lines"),
        pytest.param(
            f"Here you go:\n```json\n{dumps({'days': OBJECTS_1_3}, indent=2)}\n```\n"
            "Hope this helps!",
            id="json-fence-with-chatter",
        ),
        pytest.param(f"Sure! {dumps(OBJECTS_1_3)} Anything else?", id="bare-with-chatter"),
        pytest.param(f"```python\n{OBJECTS_1_3!r}\n```", id="python-literal"),
        pytest.param(
            dumps(
                {f"Day {o['day']}": {k: v for k, v in o.items() if k != "day"} for o in OBJECTS_1_3}
            ),
            id="keyed-by-day",
        ),
        pytest.param(dumps([json_row(f"Day {d}") for d in (1, 2, 3)]), id="day-as-Day-N"),
        pytest.param(dumps([json_row(str(d)) for d in (1, 2, 3)]), id="day-as-string"),
        pytest.param(
            dumps([{**json_row(d), "date": f"2026-04-0{d}"} for d in (1, 2, 3)]),
            id="with-matching-date",
        ),
        pytest.param(
            dumps([{**json_row(d), "hashtags": ["reels", f"#tips{d}"]} for d in (1, 2, 3)]),
            id="hashtags-as-list",
        ),
    ],
)
def test_json_formats(reply: str) -> None:
    result = parse(reply)
    assert result.rejected == []
    assert result.plans == [plan(1), plan(2), plan(3)]


def column_title_row(day: int) -> dict[str, object]:
    return {COLUMN_TITLES["day"]: day, **{COLUMN_TITLES[f]: v for f, v in fields(day).items()}}


VARIANTS = {
    "title": "reel_title",
    "hook": "hook_cover_text",
    "caption": "instagram_caption",
    "script": "full_speaking_script",
    "video_style": "Video-Style",
    "audio": "audio_type",
    "hashtags": "HASHTAGS",
    "production_notes": "production notes",
    "engagement": "engagement_strategy",
}


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([column_title_row(d) for d in (1, 2)], id="column-titles"),
        pytest.param(
            [{"Day": d, **{VARIANTS[f]: v for f, v in fields(d).items()}} for d in (1, 2)],
            id="close-variants",
        ),
        pytest.param(
            [
                {
                    "DAY": f"Day {d}",
                    "Title": f"Idea {d}",
                    "Cover text": f"Hook {d}!",
                    "caption_text": fields(d)["caption"],
                    "speaking_script": fields(d)["script"],
                    "style": "Talking head",
                    "music": "Original voiceover",
                    "tags": fields(d)["hashtags"],
                    "notes": "Film at a window.",
                    "cta": "Ask viewers to comment.",
                }
                for d in (1, 2)
            ],
            id="looser-variants",
        ),
    ],
)
def test_json_keys_by_title_or_variant(rows: list[dict[str, object]]) -> None:
    for reply in (dumps(rows), rows, {"days": rows}):
        result = parse(reply)
        assert result.rejected == [], reply
        assert result.plans == [plan(1), plan(2)]


def test_exact_key_wins_over_a_close_variant() -> None:
    row = {**json_row(1), "caption_idea": "not this one"}
    assert parse([row]).plans == [plan(1)]


def test_raw_newline_inside_a_json_string() -> None:
    reply = dumps([json_row(1)]).replace("Hi! Day 1:", "Hi!\nDay 1:")
    assert "\n" in reply
    [got] = parse(reply).plans
    assert got.script == "Hi!\nDay 1: show the thing, then ask a question."


def test_parsed_data_is_accepted() -> None:
    assert parse({"days": OBJECTS_1_3}).plans == [plan(1), plan(2), plan(3)]
    assert parse(OBJECTS_1_3).plans == [plan(1), plan(2), plan(3)]
    assert parse(json_row(2)).plans == [plan(2)]


def test_content_blocks_are_read_as_text() -> None:
    blocks = [{"type": "text", "text": pipe_row(1) + "\n"}, {"type": "text", "text": pipe_row(2)}]
    assert parse(blocks).days == [1, 2]


# ----------------------------------------------------------------- truncation
def test_truncated_json_array_salvages_complete_objects() -> None:
    text = dumps({"days": [json_row(d) for d in range(1, 9)]}, indent=2)
    cut = text[: text.index('"day": 8') + 40]
    result = parse(cut, finish="length")
    assert result.days == list(range(1, 8))
    assert result.rejected == [Rejection(8, "truncated", cut[cut.rindex("{") :])]
    assert describe(result) == "8 rows: 7 accepted, 1 rejected (truncated: day 8)"


@pytest.mark.parametrize(
    "finish", [pytest.param("length", id="length"), pytest.param(None, id="no-finish-reason")]
)
def test_truncated_json_is_judged_by_its_structure(finish: str | None) -> None:
    text = "```json\n[" + ",\n".join(dumps(json_row(d)) for d in (1, 2, 3))
    cut = text[: text.rindex("Talking")]  # mid-string in day 3
    result = parse(cut, finish=finish)
    assert result.days == [1, 2]
    assert [(r.day, r.reason) for r in result.rejected] == [(3, "truncated")]


def test_json_cut_between_objects_keeps_every_complete_one() -> None:
    cut = dumps([json_row(1), json_row(2)])[:-1] + ", "
    assert parse(cut, finish="length").days == [1, 2]


def test_complete_json_with_finish_length_keeps_the_last_row() -> None:
    result = parse(dumps({"days": OBJECTS_1_3}), finish="length")
    assert result.days == [1, 2, 3] and result.rejected == []


def test_truncated_json_lines() -> None:
    text = "\n".join(dumps(json_row(d)) for d in (1, 2, 3))
    result = parse(text[:-30], finish="length")
    assert result.days == [1, 2]
    assert [(r.day, r.reason) for r in result.rejected] == [(3, "truncated")]


def test_pipe_reply_cut_mid_row_drops_the_last_row() -> None:
    reply = ROWS_1_3 + "\n" + pipe_row(4)[:40]
    result = parse(reply, finish="length")
    assert result.days == [1, 2, 3]
    assert result.rejected == [Rejection(4, "truncated", pipe_row(4)[:40])]


def test_pipe_reply_with_finish_length_drops_the_last_row_even_if_it_parsed() -> None:
    result = parse(ROWS_1_3, finish="length")
    assert result.days == [1, 2]
    assert [(r.day, r.reason) for r in result.rejected] == [(3, "truncated")]


def test_pipe_reply_cut_after_the_day_cell() -> None:
    result = parse(ROWS_1_3 + "\nDay 4 |", finish="length")
    assert result.days == [1, 2, 3]
    assert [(r.day, r.reason) for r in result.rejected] == [(4, "truncated")]


@pytest.mark.parametrize("finish", ["stop", None, "end_turn"])
def test_other_finish_reasons_keep_the_last_row(finish: str | None) -> None:
    assert parse(ROWS_1_3, finish=finish).days == [1, 2, 3]


def test_short_row_is_missing_columns_unless_cut() -> None:
    reply = pipe_row(1) + "\nDay 2 | only | three\n" + pipe_row(3)
    result = parse(reply, finish="stop")
    assert result.days == [1, 3]
    assert [(r.day, r.reason) for r in result.rejected] == [(2, "missing columns")]


def test_reply_cut_before_any_row() -> None:
    result = parse("Here is your calendar:\n\nDa", finish="length")
    assert result.plans == [] and [r.reason for r in result.rejected] == ["truncated"]


# ----------------------------------------------------------------- day rules
@pytest.mark.parametrize(
    "day",
    [pytest.param(31, id="31-in-april"), pytest.param(0, id="zero"), pytest.param(45, id="45")],
)
def test_day_outside_the_month(day: int) -> None:
    for reply in (pipe_row(1) + "\n" + pipe_row(day), [json_row(1), json_row(day)]):
        result = parse(reply)
        assert result.days == [1]
        assert [(r.day, r.reason) for r in result.rejected] == [(day, "outside the month")]


def test_day_31_is_fine_in_march() -> None:
    result = parse_day_plans(pipe_row(31), year=2026, month=3, requested_days=[31])
    assert result.days == [31] and result.plans[0].date == date(2026, 3, 31)


def test_not_requested_day() -> None:
    result = parse(ROWS_1_3, days=[1, 3])
    assert result.days == [1, 3]
    assert [(r.day, r.reason) for r in result.rejected] == [(2, "not requested")]


def test_duplicate_keeps_the_first() -> None:
    reply = "\n".join([pipe_row(1), pipe_row(2), pipe_row(1, title="Second try")])
    result = parse(reply)
    assert result.plans == [plan(1), plan(2)]
    assert [(r.day, r.reason) for r in result.rejected] == [(1, "duplicate")]


def test_a_rejected_row_does_not_claim_its_day() -> None:
    reply = "\n".join([pipe_row(1, script="TBD"), pipe_row(1)])
    result = parse(reply)
    assert result.plans == [plan(1)]
    assert [(r.day, r.reason) for r in result.rejected] == [(1, "empty field 'script'")]


def test_plans_are_sorted_and_dates_recomputed() -> None:
    rows = [{**json_row(d), "date": "1999-01-01"} for d in (3, 1, 2)]
    result = parse(rows)
    assert result.days == [1, 2, 3]
    assert [p.date for p in result.plans] == [date(2026, 4, d) for d in (1, 2, 3)]


def test_row_without_a_day_number() -> None:
    result = parse([{**json_row(1), "day": "tomorrow"}])
    assert [(r.day, r.reason) for r in result.rejected] == [(None, "no day number")]


# ----------------------------------------------------------------- fields
@pytest.mark.parametrize("name", CONTENT_FIELDS)
@pytest.mark.parametrize("value", ["", "  ", "...", "N/A", "TBD", "-", "—", "none"])
def test_empty_or_placeholder_field(name: str, value: str) -> None:
    # Outer pipes: without them an empty last cell looks like a trailing pipe.
    for reply in (f"| {pipe_row(6, **{name: value})} |", [json_row(6, **{name: value})]):
        result = parse(reply)
        assert result.plans == []
        assert result.rejected[0].reason == f"empty field '{name}'", reply


@pytest.mark.parametrize("value", [None, [], ["", " "]], ids=["null", "empty-list", "blank-list"])
def test_empty_json_values(value: object) -> None:
    result = parse([{**json_row(6), "hashtags": value}])
    assert [r.reason for r in result.rejected] == ["empty field 'hashtags'"]


def test_missing_json_field() -> None:
    row = json_row(6)
    del row["audio"]
    assert [r.reason for r in parse([row]).rejected] == ["missing field 'audio'"]


def test_other_validation_failures_are_invalid() -> None:
    result = parse([{**json_row(6), "title": {"text": "nested"}}])
    [rejection] = result.rejected
    assert rejection.reason.startswith("invalid: title: ") and rejection.day == 6


def test_numbers_and_lists_become_text() -> None:
    [got] = parse([{**json_row(6), "title": 42, "script": ["Line one.", "Line two."]}]).plans
    assert (got.title, got.script) == ("42", "Line one.\nLine two.")


# ----------------------------------------------------------------- nothing usable
@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        pytest.param("I'm sorry, I can't help with that.", "unparseable", id="prose"),
        pytest.param("", "empty reply", id="empty"),
        pytest.param("  \n ", "empty reply", id="blank"),
        pytest.param({"error": "nope"}, "unparseable", id="dict-without-rows"),
        pytest.param('{"day": 1, "title": "x",, oops}', "unparseable", id="broken-json-object"),
    ],
)
def test_nothing_usable(reply: object, reason: str) -> None:
    result = parse(reply)
    assert result.plans == [] and [r.reason for r in result.rejected] == [reason]


def test_broken_object_next_to_good_ones() -> None:
    reply = f'[{dumps(json_row(1))}, {{"day": 2, "title": , "hook": "x"}}, {dumps(json_row(3))}]'
    result = parse(reply)
    assert result.days == [1, 3]
    assert [(r.day, r.reason) for r in result.rejected] == [(2, "unparseable")]


# ----------------------------------------------------------------- describe
@pytest.mark.parametrize(
    ("rejected", "accepted", "expected"),
    [
        pytest.param([], 3, "3 rows: 3 accepted", id="clean"),
        pytest.param(
            [Rejection(None, "empty reply", "")],
            0,
            "1 row: 0 accepted, 1 rejected (empty reply: 1 row)",
            id="empty",
        ),
        pytest.param(
            [
                Rejection(2, "duplicate", ""),
                Rejection(5, "duplicate", ""),
                Rejection(31, "outside the month", ""),
                Rejection(None, "no day number", ""),
            ],
            2,
            "6 rows: 2 accepted, 4 rejected (duplicate: days 2, 5; outside the month: "
            "day 31; no day number: 1 row)",
            id="grouped",
        ),
        pytest.param(
            [Rejection(1, "missing columns", "")] * 3 + [Rejection(None, "missing columns", "")],
            0,
            "4 rows: 0 accepted, 4 rejected (missing columns: day 1 and 1 row)",
            id="repeated-day",
        ),
    ],
)
def test_describe(rejected: list[Rejection], accepted: int, expected: str) -> None:
    result = ParseResult([plan(d) for d in range(1, accepted + 1)], rejected)
    assert describe(result) == expected


# ----------------------------------------------------------------- properties
TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), whitelist_characters="\n\t|\"'{}[]*_`#"),
    min_size=1,
    max_size=40,
)


@st.composite
def day_plans(draw: st.DrawFn) -> list[DayPlan]:
    days = draw(st.lists(st.integers(1, 30), min_size=1, max_size=4, unique=True))
    plans = []
    for day in sorted(days):
        values = {name: draw(TEXT) for name in CONTENT_FIELDS if name != "hashtags"}
        tags = draw(st.lists(TEXT, min_size=1, max_size=3))
        try:
            made = DayPlan(day=day, date=date(YEAR, MONTH, day), hashtags=tags, **values)
        except ValueError:
            assume(False)
        assume(
            all(
                getattr(made, n).strip().lower() not in PLACEHOLDERS
                for n in CONTENT_FIELDS
                if n != "hashtags"
            )
        )
        plans.append(made)
    return plans


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(plans=day_plans(), shape=st.sampled_from(["array", "object", "lines", "fenced", "data"]))
def test_any_text_round_trips_through_json(plans: list[DayPlan], shape: str) -> None:
    rows = [p.model_dump(mode="json") for p in plans]
    reply: object = {
        "array": json.dumps(rows),
        "object": json.dumps({"days": rows}, indent=2, ensure_ascii=False),
        "lines": "\n".join(json.dumps(r, ensure_ascii=False) for r in rows),
        "fenced": "Here it is:\n```json\n" + json.dumps(rows, indent=1) + "\n```\nDone!",
        "data": {"days": rows},
    }[shape]
    result = parse(reply)
    assert result.rejected == []
    assert result.plans == plans


SAFE_TEXT = st.text(st.sampled_from("abcXYZ 0123.,!?é🎬-"), min_size=1, max_size=30).filter(
    lambda s: s.strip() and s.strip().lower() not in PLACEHOLDERS and not s.strip().startswith("-")
)


@given(
    day=st.integers(1, 30),
    values=st.lists(SAFE_TEXT, min_size=8, max_size=8),
    tags=st.lists(st.text("abc123", min_size=1, max_size=8), min_size=1, max_size=3),
)
def test_plain_text_round_trips_through_pipe_rows(
    day: int, values: list[str], tags: list[str]
) -> None:
    names = [n for n in CONTENT_FIELDS if n != "hashtags"]
    expected = DayPlan(
        day=day, date=date(YEAR, MONTH, day), hashtags=tags, **dict(zip(names, values, strict=True))
    )
    cells = [
        str(day),
        *(getattr(expected, n) for n in names[:6]),
        expected.hashtags_text,
        *(getattr(expected, n) for n in names[6:]),
    ]
    assert parse(" | ".join(cells)).plans == [expected]


@settings(max_examples=300)
@given(text=st.text(), finish=st.sampled_from([None, "stop", "length"]))
def test_never_raises_on_any_text(text: str, finish: str | None) -> None:
    assert isinstance(parse(text, finish=finish), ParseResult)


ROWISH = st.text(st.sampled_from(list("|#*Day 0123456789\n{}[]\":,-`'<br>N/A")), max_size=200)


@settings(max_examples=300)
@given(text=ROWISH, finish=st.sampled_from([None, "length"]))
def test_never_raises_on_row_like_text(text: str, finish: str | None) -> None:
    result = parse(text, finish=finish)
    assert result.days == sorted(set(result.days))
    assert all(isinstance(r, Rejection) for r in result.rejected)
