"""Content rules: each rule checked on a row, and days that break them asked again."""

from __future__ import annotations

import datetime as dt

import pytest
from scripted import FIXED_RETRIEVER, ScriptedChatModel, requested_days

from pipeline.calendar import DayPlan
from pipeline.config import Settings
from pipeline.errors import IncompleteCalendarError
from pipeline.generation.chains import generate_calendar
from pipeline.generation.rules import ContentRules, copied_run, normalized

pytestmark = pytest.mark.usefixtures("no_backoff")

WORDS = [
    "show",
    "the",
    "result",
    "first",
    "then",
    "explain",
    "how",
    "you",
    "got",
    "there",
    "in",
    "plain",
    "words",
]


def script(words: int) -> str:
    return " ".join(WORDS[i % len(WORDS)] for i in range(words))


def plan(day: int = 3, **fields) -> DayPlan:
    values = {
        "title": f"Idea {day}",
        "hook": "Stop scrolling now",
        "caption": "A caption",
        "script": script(150),
        "video_style": "Talking head",
        "audio": "Voiceover",
        "hashtags": ["#ai", "#tools", "#reels"],
        "production_notes": "Window light",
        "engagement": "Ask a question",
    }
    return DayPlan(day=day, date=dt.date(2026, 3, day), **{**values, **fields})


@pytest.mark.parametrize(
    ("fields", "message", "hard"),
    [
        pytest.param({"hook": "!!! ???"}, "hook is empty or only punctuation", True, id="empty"),
        pytest.param(
            {"hook": "one two three four five six seven eight nine"},
            "hook has 9 words: at most 8",
            False,
            id="hook",
        ),
        pytest.param(
            {"script": script(20)}, "script has 20 words: write 120-250", False, id="short"
        ),
        pytest.param({"script": script(300)}, "script has 300 words", False, id="long"),
        pytest.param({"caption": "x" * 2201}, "caption has 2,201 characters", False, id="caption"),
        pytest.param({"hashtags": ["#a", "#b"]}, "2 hashtags: use 3-30", False, id="few-tags"),
        pytest.param({"hashtags": ["#a", "#b", "#c#d", "#"]}, "one word", False, id="tag-shape"),
    ],
)
def test_each_rule(fields, message, hard):
    [found] = ContentRules().check(plan(**fields))
    assert message in found.message and found.hard is hard


def test_a_row_that_follows_every_rule_passes():
    assert ContentRules().check(plan(), other_titles=["Another idea"], examples="x y z") == []


def test_titles_repeat_when_equal_but_for_case_punctuation_and_spaces():
    assert normalized("  Stop, Scrolling!! ") == normalized("stop scrolling")
    [found] = ContentRules().check(
        plan(title="AI agents: 3 tips"), other_titles=["ai agents 3 TIPS"]
    )
    assert "repeats another day's" in found.message and not found.hard


def test_a_script_copied_from_an_example_is_caught_and_a_shorter_overlap_is_not():
    transcript = "Here is the thing nobody tells you about " + script(30) + " follow for more"
    copied = plan(script="My take. " + script(30) + " and more words " + script(100))
    [found] = ContentRules().check(copied, examples=transcript)
    assert "copies an example transcript" in found.message and found.hard
    assert copied_run(script(11) + " zebra", transcript, 12) is None  # 11 shared words: fine


def test_strict_off_keeps_soft_breaks_only():
    lenient = ContentRules(strict=False)
    assert lenient.keeps(lenient.check(plan(script=script(20))))
    assert not lenient.keeps(lenient.check(plan(hook="...!")))
    assert not ContentRules().keeps(ContentRules().check(plan(script=script(20))))


# ---------------------------------------------------------------------- re-asked
def pipe_row(
    day: int, *, title: str | None = None, hook: str = "Stop scrolling now", words: int = 150
) -> str:
    return (
        f"Day {day} | {title or f'Idea {day}'} | {hook} | A caption | {script(words)} | "
        f"Talking head | Voiceover | #ai #tools #reels | Window light | Ask a question"
    )


def misbehaves_once():
    """First asks: Day 3 with a punctuation-only hook, Day 4 with a 20-word script, Day 5
    with Day 2's title; every later ask is answered well."""
    first_seen: set[int] = set()

    def behaviour(days, i, mt):
        rows = []
        for day in days:
            first = day not in first_seen
            first_seen.add(day)
            if first and day == 3:
                rows.append(pipe_row(day, hook="!!! ???"))
            elif first and day == 4:
                rows.append(pipe_row(day, words=20))
            elif first and day == 5:
                rows.append(pipe_row(day, title="Idea 2"))
            else:
                rows.append(pipe_row(day))
        return "\n".join(rows)

    return behaviour


def run(model, tmp_path, **overrides):
    settings = Settings(
        output_dir=tmp_path,
        context_window=128_000,
        max_output_tokens=16_384,
        tokens_per_day=400,
        speed="economical",
        **overrides,
    )
    return generate_calendar(
        "2026-02",
        ["AI agents"],
        "AI tools",
        model=model,
        settings=settings,
        retriever=FIXED_RETRIEVER,
    )


def test_days_that_break_the_rules_are_asked_again_with_the_reasons(tmp_path):
    model = ScriptedChatModel(behaviour=misbehaves_once())
    cal = run(model, tmp_path)
    assert cal.is_complete
    rules = ContentRules()
    titles = [p.title for p in cal.days]
    for day in cal.days:
        assert rules.check(day, other_titles=[t for t in titles if t != day.title]) == []
    first = cal.usage[0]
    assert {line.split(":")[0] for line in first.rule_breaks} == {"Day 3", "Day 4", "Day 5"}
    assert first.days_parsed == 28 and "3 not kept by the content rules" in first.summary()
    [again] = [p for p in model.prompts[1:] if sorted(requested_days(p)) == [3, 4, 5]]
    assert "- Day 3: hook is empty or only punctuation" in again
    assert "- Day 4: script has 20 words: write 120-250" in again
    assert "- Day 5: title 'Idea 2' repeats another day's" in again


def test_strict_off_keeps_a_soft_break_and_flags_it(tmp_path):
    model = ScriptedChatModel(behaviour=misbehaves_once())
    cal = run(model, tmp_path, strict=False)
    assert cal.is_complete
    assert next(p for p in cal.days if p.day == 4).script == script(20)  # kept
    assert any(n.startswith("Day 4 kept although script has 20 words") for n in cal.notes)
    assert sorted(d for p in model.prompts[1:] for d in requested_days(p)) == [3]  # hard only


def test_a_model_that_never_follows_a_rule_ends_with_the_reasons(tmp_path):
    model = ScriptedChatModel(
        behaviour=lambda days, i, mt: "\n".join(
            pipe_row(d, words=20 if d == 7 else 150) for d in days
        )
    )
    with pytest.raises(IncompleteCalendarError) as raised:
        run(model, tmp_path)
    assert raised.value.missing_days == [7]
    assert "Not kept by the content rules: Day 7: script has 20 words: write 120-250" in str(
        raised.value
    )
