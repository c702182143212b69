"""The month outline: parsing, schemas, the title review, and its rounds in the engine."""

from __future__ import annotations

import json
import re

import pytest
from langchain_core.embeddings import Embeddings
from scripted import (
    FIXED_RETRIEVER,
    OUTLINE_IDEAS,
    SCRIPTED_SCRIPT_WORDS,
    ScriptedChatModel,
    ScriptedToolModel,
    is_outline_prompt,
    outline_dict,
    outline_settings,
    requested_days,
    rows_for,
)

from pipeline.calendar import OutlineDay
from pipeline.config import Settings
from pipeline.errors import ConfigError, IncompleteCalendarError
from pipeline.generation.chains import generate_calendar
from pipeline.generation.outline.replies import OUTLINE_FIELDS, outline_schema, parse_outline
from pipeline.generation.planning import plan_month
from pipeline.generation.review.titles import TitleGuard
from pipeline.generation.writing.schema import words_pattern

pytestmark = pytest.mark.usefixtures("no_backoff")


def settings(tmp_path, **overrides) -> Settings:
    return outline_settings(tmp_path, **overrides)


def run(model, tmp_path, month="2027-03", **overrides):
    return generate_calendar(
        month,
        ["AI agents", "automation"],
        "AI tools",
        model=model,
        settings=settings(tmp_path, **overrides),
        retriever=FIXED_RETRIEVER,
    )


# ---------------------------------------------------------------- parsing and schemas
def test_parse_outline_reads_tool_data_json_text_and_pipe_rows():
    lines = [outline_dict(1), outline_dict(2)]
    as_rows = "\n".join(
        f"Day {x['day']} | {x['title']} | {x['pillar']} | {x['format']} | {x['series']} | "
        f"{x['uses']}"
        for x in lines
    )
    for reply in (
        {"days": lines},
        "Here you go:\n```json\n" + json.dumps({"days": lines}) + "\n```",
        as_rows,
    ):
        parsed = parse_outline(reply, [1, 2])
        assert [(p.day, p.title, p.pillar, p.format) for p in parsed] == [
            (x["day"], x["title"], x["pillar"], x["format"]) for x in lines
        ], reply


def test_parse_outline_keeps_only_valid_lines_of_requested_days():
    reply = {
        "days": [
            outline_dict(3),
            outline_dict(9),  # not requested
            {"day": 4, "title": "", "pillar": "Proof", "format": "3 mistakes"},  # empty title
            {**outline_dict(3), "title": "A second day 3"},  # the first line of a day wins
            {**outline_dict(5), "series": None, "uses": "none"},
            "not a line",
        ]
    }
    parsed = parse_outline(reply, [3, 4, 5])
    assert [p.day for p in parsed] == [3, 5]
    assert parsed[0].title == OUTLINE_IDEAS[2]
    assert (parsed[1].series, parsed[1].uses) == ("", "")
    assert parse_outline(12, [1]) == [] and parse_outline("no lines here", [1]) == []
    assert [p.day for p in parse_outline(outline_dict(2), [2])] == [2]  # a single line


def test_the_tool_schema_is_one_for_every_chunk_and_the_grammar_pins_each_day():
    formats = ["Myth vs Fact", "3 mistakes"]
    assert outline_schema(formats=formats) == outline_schema(formats=formats)
    item = outline_schema(formats=formats)["properties"]["days"]["items"]
    assert item["properties"]["format"]["enum"] == formats
    assert item["properties"]["day"] == {"type": "integer", "minimum": 1}

    grammar = outline_schema(
        [4, 5], formats=formats, words={"title": (2, 10), "series": (0, 3)}, uses=["AI agents"]
    )
    positions = grammar["properties"]["days"]["prefixItems"]  # a list per line, by field
    assert [p["prefixItems"][0] for p in positions] == [{"const": 4}, {"const": 5}]
    props = dict(zip(OUTLINE_FIELDS, positions[0]["prefixItems"]))
    assert props["format"]["enum"] == formats
    assert props["uses"]["enum"] == ["", "AI agents"]
    series = re.compile(props["series"]["pattern"])
    assert series.fullmatch("") and series.fullmatch("Myth Monday")
    assert not series.fullmatch("one two three four")
    assert not re.fullmatch(props["title"]["pattern"], "Single")
    # what that grammar writes parses back, a cut reply's whole lines too
    reply = {"days": [[4, "Busting five AI myths", "Education", "Myth vs Fact", "", ""]]}
    [line] = parse_outline(reply, [4, 5])
    cut = '{ "days" : [ [4, "Busting five AI myths", "Education", "Myth vs Fact", "",""], [5, "Wh'
    assert parse_outline(cut, [4, 5]) == [line]
    assert (line.day, line.title, line.format, line.series) == (
        4,
        "Busting five AI myths",
        "Myth vs Fact",
        "",
    )


def test_words_pattern_with_no_minimum_allows_an_empty_field():
    assert re.fullmatch(words_pattern(2, 0), "")
    assert not re.fullmatch(words_pattern(2, 1), "")


def test_outline_day_reads_day_labels_and_renders_one_prompt_line():
    line = OutlineDay(day="Day 7", title='Say "no" nicely', pillar="Proof", format="3 mistakes")
    assert line.day == 7
    assert line.line() == 'Day 7: "Say \\"no\\" nicely" (pillar: Proof; format: 3 mistakes)'


# ---------------------------------------------------------------- the title review
class TableEmbeddings(Embeddings):
    """Vectors from a table: titles in one group point the same way."""

    def __init__(self, groups: dict[str, list[float]]) -> None:
        self.groups = groups

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.groups[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.groups[text]


def test_title_guard_catches_same_text_and_close_embeddings_and_keeps_the_rest():
    assert TitleGuard(None).repeats(["Myth Monday!", "Other"], taken=["myth   monday"]) == {
        0: "myth   monday"
    }
    vectors = {
        "Five AI tools that save hours": [1.0, 0.0, 0.0],
        "5 AI tools to save you hours": [0.95, 0.2, 0.0],  # cosine 0.98
        "How I light my desk": [0.6, 0.8, 0.0],  # cosine 0.6
        "Batch filming twelve reels": [0.0, 0.0, 1.0],
    }
    guard = TitleGuard(TableEmbeddings(vectors), threshold=0.9)
    titles = list(vectors)[1:]
    assert guard.repeats(titles, taken=["Five AI tools that save hours"]) == {
        0: "Five AI tools that save hours"
    }
    assert TitleGuard(TableEmbeddings(vectors), threshold=0.5).repeats(titles[:2]) == {
        1: "5 AI tools to save you hours"
    }


# ---------------------------------------------------------------- the engine's rounds
def test_a_month_is_outlined_first_and_each_chunk_writes_from_its_lines(tmp_path):
    model = ScriptedToolModel(window=128_000, output_cap=16_384)
    cal = run(model, tmp_path)
    assert cal.is_complete and [o.day for o in cal.outline] == list(range(1, 32))
    assert cal.outline_day(9).title == OUTLINE_IDEAS[8]
    roles = [u.role for u in cal.usage]
    assert set(roles[: roles.index("main")]) == {"outline"} and "supplement" not in roles
    outline_prompts = [p for p in model.prompts if is_outline_prompt(p)]
    assert sorted(d for p in outline_prompts for d in requested_days(p)) == list(range(1, 32))
    assert "Myth vs Fact" in outline_prompts[0] and "choose 3 to 5 pillars" in outline_prompts[0]
    assert "use each trend on at least 7 of these days" in outline_prompts[0]  # 31 // (2 * 2)
    for prompt in (p for p in model.prompts if not is_outline_prompt(p)):
        days = requested_days(prompt)
        for day in range(1, 32):
            line = f'- Day {day}: "{OUTLINE_IDEAS[day - 1]}"'
            assert (line in prompt) == (day in days), (day, days)
    assert not model.violations


def test_repeated_outline_titles_are_planned_again_with_why(tmp_path):
    def repeats_once(days, index):
        lines = [outline_dict(d) for d in days]
        if 2 in days and 3 in days and index < 4:  # day 3 repeats day 2's idea
            lines[days.index(3)]["title"] = OUTLINE_IDEAS[1].upper() + "!"
        return lines

    model = ScriptedChatModel(behaviour=lambda days, i, m: rows_for(days))
    model.outline_behaviour = repeats_once
    cal = run(model, tmp_path, speed="economical", tokens_per_day=400)
    assert cal.is_complete and len(cal.outline) == 31
    assert not any(u.rule_breaks for u in cal.usage)
    titles = [o.title.casefold() for o in cal.outline]
    assert len(set(titles)) == 31
    [again] = [p for p in model.prompts if is_outline_prompt(p) and requested_days(p) == [3]]
    assert "- Day 3: title" in again and "repeats" in again
    first = cal.usage[0]
    assert first.role == "outline"


def test_a_title_repeated_in_the_last_round_stays_dropped_when_trends_are_moved(tmp_path):
    def always_repeats(days, index):
        lines = [outline_dict(d) for d in days]
        if 3 in days:  # every time: day 3 repeats day 2's idea
            lines[days.index(3)]["title"] = OUTLINE_IDEAS[1].upper() + "!"
        return lines

    model = ScriptedToolModel(window=128_000, output_cap=16_384)
    model.outline_behaviour = always_repeats
    cal = run(model, tmp_path)  # "automation" is on no line: the balance moves it
    assert any("'automation' was given to" in note for note in cal.notes)
    assert 3 not in {line.day for line in cal.outline} and len(cal.outline) == 30
    assert len({line.title.casefold() for line in cal.outline}) == 30


def test_an_outline_the_model_cannot_write_does_not_stop_the_month(tmp_path):
    model = ScriptedChatModel(behaviour=lambda days, i, m: rows_for(days))
    model.outline_behaviour = lambda days, index: []
    cal = run(model, tmp_path, speed="economical", tokens_per_day=400)
    assert cal.is_complete and cal.outline == []
    outline_calls = [u for u in cal.usage if u.role == "outline"]
    assert outline_calls and all(u.days_parsed == 0 for u in outline_calls)
    assert all(u.round == 0 for u in outline_calls)  # a round that adds no line ends it


def test_a_resumed_run_keeps_its_outline_and_does_not_plan_again(tmp_path):
    broken = ScriptedToolModel(window=128_000, output_cap=16_384, behaviour=lambda d, i, m: [])
    with pytest.raises(IncompleteCalendarError) as caught:
        run(broken, tmp_path, max_stalled_rounds=1)
    assert caught.value.reason == "stalled"
    healthy = ScriptedToolModel(window=128_000, output_cap=16_384)
    cal = generate_calendar(
        "2027-03",
        ["AI agents", "automation"],
        "AI tools",
        model=healthy,
        settings=settings(tmp_path),
        retriever=FIXED_RETRIEVER,
        run_id=caught.value.run_id,
    )
    assert cal.is_complete and len(cal.outline) == 31
    assert not any(u.rule_breaks for u in cal.usage)
    assert not any(is_outline_prompt(p) for p in healthy.prompts)


def test_content_pillars_and_their_mix_go_into_the_outline_prompt(tmp_path):
    model = ScriptedToolModel(window=128_000, output_cap=16_384)
    run(
        model,
        tmp_path,
        content_pillars=["Education", "Proof"],
        pillar_mix={"Education": 0.7, "Proof": 0.3},
    )
    prompt = next(p for p in model.prompts if is_outline_prompt(p))
    assert '- "Education (about 70% of the days)"' in prompt
    assert '- "Proof (about 30% of the days)"' in prompt


def test_a_pillar_mix_must_name_content_pillars():
    with pytest.raises(ConfigError, match="pillar_mix names \\['Fun'\\]"):
        Settings.load(content_pillars=["Education"], pillar_mix={"Fun": 1.0})


def test_regenerating_days_keeps_the_outline_out_of_the_way(tmp_path):
    from scripted import february_2027

    from pipeline.generation.chains import regenerate_days

    model = ScriptedToolModel(window=128_000, output_cap=16_384)
    cal = regenerate_days(
        february_2027(), [3], model=model, settings=settings(tmp_path), retriever=FIXED_RETRIEVER
    )
    assert cal.is_complete and not any(is_outline_prompt(p) for p in model.prompts)


# ---------------------------------------------------------------- outline files and the CLI
def test_outline_files_round_trip_as_csv_and_json_and_come_out_of_calendar_files(tmp_path):
    from pipeline.calendar import Calendar
    from pipeline.outputs.outline_files import read_outline, write_outline

    lines = [OutlineDay(**outline_dict(d)) for d in range(1, 29)]
    for name in ("plan.csv", "plan.json"):
        assert read_outline(write_outline(lines, tmp_path / name)) == lines
    header = (tmp_path / "plan.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "Day,Title,Pillar,Format,Series,Uses"
    # a calendar written from an outline carries it (its titles are the reels')
    cal = Calendar(year=2027, month=2, outline=lines)
    assert read_outline(cal.save(tmp_path / "cal.json")) == lines


def test_a_bad_outline_file_names_the_row_and_what_to_fix(tmp_path):
    from pipeline.errors import CalendarFileError
    from pipeline.outputs.outline_files import read_outline

    bad = tmp_path / "bad.csv"
    bad.write_text("Day,Title,Pillar,Format\n1,Fine,Proof,3 mistakes\n2,,Proof,3 mistakes\n")
    with pytest.raises(CalendarFileError, match=r"bad.csv, row 3: title: .*correct the row"):
        read_outline(bad)
    with pytest.raises(CalendarFileError, match="no outline file at"):
        read_outline(tmp_path / "missing.csv")
    plain = tmp_path / "plain.csv"
    plain.write_text("a,b\n1,2\n")
    with pytest.raises(CalendarFileError):
        read_outline(plain)


def test_cli_outline_then_generate_from_the_edited_file(monkeypatch, tmp_path):
    import csv

    from typer.testing import CliRunner

    from pipeline.calendar import Calendar
    from pipeline.cli.app import app
    from pipeline.generation.month import engine
    from pipeline.generation.review import titles

    built: list[ScriptedChatModel] = []

    def load(key, settings):
        built.append(ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days)))
        return built[-1]

    monkeypatch.setattr(engine, "load_chat_model", load)
    monkeypatch.setattr(engine.CalendarEngine, "retriever", property(lambda s: FIXED_RETRIEVER))
    monkeypatch.setattr(titles, "title_embeddings", lambda settings: None)  # text only
    (tmp_path / "reelcal.yaml").write_text(
        f"output_dir: {tmp_path / 'out'}\ncontext_window: 16000\nmax_output_tokens: 4096\n"
        "script_words: [5, 250]\n"
    )
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["outline", "--month", "2027-02", "--out", "plan.csv"])
    assert result.exit_code == 0, result.output
    assert "--outline plan.csv" in result.output and "0/28 days, 28/28 planned" in result.output
    assert all(is_outline_prompt(p) for p in built[-1].prompts)  # nothing else was written

    text = (tmp_path / "plan.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) == 28
    rows[4]["Title"], rows[4]["Series"] = "My own idea for day five", "Fan Friday"
    with open(tmp_path / "plan.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    args = ["generate", "--month", "2027-02", "--outline", "plan.csv", "--out", "feb.json", "-q"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    prompts = built[-1].prompts
    assert not any(is_outline_prompt(p) for p in prompts)  # the file's outline was used
    assert any('- Day 5: "My own idea for day five"' in p and "Fan Friday" in p for p in prompts)
    cal = Calendar.load(tmp_path / "feb.json")
    assert cal.is_complete and cal.outline_day(5).series == "Fan Friday"
    assert [o.title for o in cal.outline] == [r["Title"] for r in rows]

    result = runner.invoke(app, ["generate", "--month", "2027-03", "--outline", "nope.csv"])
    assert result.exit_code == 2 and "no outline file at nope.csv" in result.output
    result = runner.invoke(app, ["outline", "--month", "2027-03", "--out", "plan.xlsx"])
    assert result.exit_code == 2 and ".csv or .json" in result.output
    calls = len(built)
    result = runner.invoke(app, ["outline", "--month", "2027-03", "--out", "/proc/no/p.csv"])
    assert result.exit_code == 2 and "cannot write to the folder" in result.output
    assert len(built) == calls  # checked before any model was built


def test_a_trend_short_of_its_floor_that_cannot_be_moved_is_named_in_the_notes():
    from pipeline.generation.review.uses import trend_notes

    lines = [OutlineDay(**{**outline_dict(d), "uses": "AI agents"}) for d in range(1, 29)]
    assert trend_notes(lines, ["AI agents", "automation"], 28) == [
        "The outline uses the trend 'automation' on 0 days (asked for at least 7)."
    ]
    assert trend_notes([], ["AI agents"], 28) == []


def test_balance_gives_a_short_trend_free_days_spread_out_then_a_surplus_trends_days():
    from pipeline.generation.review.uses import balance_trends

    dates = [f"2027-03-{d:02d}" for d in range(1, 13)]  # 12 days, 2 trends: 3 days each
    uses = ["AI agents"] * 6 + [""] * 6  # automation on none; 6 free days, 1 of them fixed
    lines = {d: {**outline_dict(i + 1), "uses": u} for i, (d, u) in enumerate(zip(dates, uses))}
    changed, notes = balance_trends(lines, ["AI agents", "automation"], dates, fixed=[dates[7]])
    assert {d: line["uses"] for d, line in changed.items()} == {
        "2027-03-07": "automation",  # free days 7, 9, 10, 11, 12, spread out
        "2027-03-10": "automation",
        "2027-03-12": "automation",
    }
    assert notes == [
        "The trend 'automation' was given to Day 7, Day 10 and Day 12 (at least 3 asked for)."
    ]

    lines = {d: {**line, "uses": "AI agents"} for d, line in lines.items()}  # no free day
    changed, _ = balance_trends(lines, ["AI agents", "automation"], dates, fixed=[dates[-1]])
    assert sorted(changed) == ["2027-03-09", "2027-03-10", "2027-03-11"]  # the latest, not fixed
    used = [line["uses"] for line in {**lines, **changed}.values()]
    assert used.count("AI agents") == 9 and used.count("automation") == 3
    assert balance_trends(lines, [], dates) == ({}, [])


def test_each_special_date_lands_on_its_own_day_and_on_no_other():
    from pipeline.generation.review.uses import place_special_dates

    line = outline_dict(1)
    lines = {
        "2027-02-02": {**line, "uses": "AI agents"},  # Groundhog Day's day, using a trend
        "2027-02-03": {**line, "uses": "groundhog day"},  # another day, using it
        "2027-02-14": {**line, "uses": "Valentine's Day"},  # right already
        "2027-02-20": {**line, "uses": "Valentine's Day"},  # a line the user gave: stays
    }
    special = {"2027-02-02": ["Groundhog Day"], "2027-02-14": ["Valentine's Day"]}
    changed = place_special_dates(lines, special, fixed=["2027-02-20"])
    assert {d: x["uses"] for d, x in changed.items()} == {
        "2027-02-02": "Groundhog Day",
        "2027-02-03": "",
    }


def test_the_outline_is_balanced_before_writing_and_the_days_are_told_their_trend(tmp_path):
    model = ScriptedToolModel(window=128_000, output_cap=16_384)
    model.outline_behaviour = lambda days, index: [
        {**outline_dict(d), "uses": "ai agents"} for d in days
    ]
    cal = run(model, tmp_path)  # March 2027, 2 trends: each on at least 31 // 4 = 7 days
    moved = [line.day for line in cal.outline if line.uses == "automation"]
    assert len(moved) == 7
    [note] = [n for n in cal.notes if "'automation'" in n]
    assert note.startswith("The trend 'automation' was given to Day ")
    writing = [p for p in model.prompts if not is_outline_prompt(p)]
    for day in moved:
        [prompt] = [p for p in writing if f"- Day {day}: " in p]
        assert "uses: automation)" in prompt.split(f"- Day {day}: ")[1].splitlines()[0]


# ---------------------------------------------------------------- sources, and regenerating
def test_each_day_records_the_examples_its_call_was_given_and_exports_them(tmp_path):
    from pipeline.calendar import Calendar

    model = ScriptedToolModel(window=128_000, output_cap=16_384)
    cal = run(model, tmp_path)
    ids = [f"r{i}" for i in range(6)]  # FIXED_RETRIEVER's examples, all within the budget
    assert cal.sources == {day: ids for day in range(1, 32)}
    for ext, read in (("csv", Calendar.from_csv), ("xlsx", Calendar.from_xlsx)):
        back = read(cal.save(tmp_path / f"march.{ext}"))
        assert back.sources == cal.sources and back.days == cal.days, ext
    assert "Sources" in cal.save(tmp_path / "march.md").read_text(encoding="utf-8")


def test_regenerating_days_keeps_the_outline_and_the_sources_of_the_other_days(tmp_path):
    from pipeline.generation.chains import regenerate_days

    cal = run(ScriptedToolModel(window=128_000, output_cap=16_384), tmp_path)
    cal = cal.model_copy(update={"sources": {**cal.sources, 2: ["old-example"]}})
    model = ScriptedToolModel(window=128_000, output_cap=16_384)
    again = regenerate_days(
        cal, [3], model=model, settings=settings(tmp_path), retriever=FIXED_RETRIEVER
    )
    assert again.outline == cal.outline
    assert again.sources[2] == ["old-example"] and again.sources[3] == cal.sources[3]
    [prompt] = model.prompts
    assert f'- Day 3: "{OUTLINE_IDEAS[2]}"' in prompt  # rewritten from its outline line


def test_an_outline_overflow_splits_the_outline_only(tmp_path):
    def overflows(days, index):
        if len(days) > 16:
            raise ValueError(
                "This model's maximum context length is 1000 tokens; you requested 5000 "
                "(context_length_exceeded)"
            )
        return [outline_dict(d) for d in days]

    model = ScriptedToolModel(window=128_000, output_cap=16_384)
    model.outline_behaviour = overflows
    cal = run(model, tmp_path)
    assert cal.is_complete and len(cal.outline) == 31
    assert not any(u.rule_breaks for u in cal.usage)
    outline_calls = [u for u in cal.usage if u.role == "outline"]
    assert len(outline_calls[0].days_requested) == 31 and outline_calls[0].error
    assert all(len(u.days_requested) <= 16 for u in outline_calls[1:])
    writes = [len(u.days_requested) for u in cal.usage if u.role == "main"]
    assert sorted(writes) == [7, 8, 8, 8]  # the days' chunks are not capped by it


def test_an_interrupted_cli_outline_resumes_with_reelcal_outline(monkeypatch, tmp_path):
    import re

    from typer.testing import CliRunner

    from pipeline.cli.app import app
    from pipeline.generation.month import engine
    from pipeline.generation.review import titles
    from pipeline.outputs.outline_files import read_outline

    built: list[ScriptedChatModel] = []

    def interrupted_once(days, index):
        if len(built) == 1:
            raise KeyboardInterrupt
        return [outline_dict(d) for d in days]

    def load(key, settings):
        model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
        model.outline_behaviour = interrupted_once
        built.append(model)
        return model

    monkeypatch.setattr(engine, "load_chat_model", load)
    monkeypatch.setattr(engine.CalendarEngine, "retriever", property(lambda s: FIXED_RETRIEVER))
    monkeypatch.setattr(titles, "title_embeddings", lambda settings: None)
    (tmp_path / "reelcal.yaml").write_text(
        f"output_dir: {tmp_path / 'out'}\ncontext_window: 16000\nmax_output_tokens: 4096\n"
    )
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["outline", "--month", "2027-02", "--out", "plan.csv"])
    assert result.exit_code == 130, result.output
    run_id = re.search(r"outline --resume ([\w.-]+)", result.output).group(1)
    assert "reelcal outline --resume" in result.output.splitlines()[-1]
    assert not (tmp_path / "plan.csv").exists()

    result = runner.invoke(app, ["generate", "--resume", run_id])
    assert result.exit_code == 2 and f"reelcal outline --resume {run_id}" in result.output

    result = runner.invoke(app, ["outline", "--resume", run_id, "--out", "plan.csv"])
    assert result.exit_code == 0, result.output
    assert [line.day for line in read_outline(tmp_path / "plan.csv")] == list(range(1, 29))
    result = runner.invoke(app, ["outline", "--out", "plan.csv"])
    assert result.exit_code == 2 and "give a span (--month" in result.output


# ---------------------------------------------------------------- pillars
def test_pillar_shares_follow_the_mix_and_split_what_it_leaves_out():
    from pipeline.generation.review.pillars import pillar_shares

    assert pillar_shares(["A", "B", "C", "D"], None) == {p: 0.25 for p in "ABCD"}
    shares = pillar_shares(["A", "B", "C"], {"A": 0.5})
    assert shares == {"A": 0.5, "B": 0.25, "C": 0.25}
    assert pillar_shares(["A", "B"], {"A": 3, "B": 1}) == {"A": 0.75, "B": 0.25}


def test_over_share_names_the_latest_new_lines_of_a_crowded_pillar_and_a_stray_one():
    from pipeline.generation.review.pillars import over_share

    dates = [f"2027-03-{d:02d}" for d in range(1, 13)]  # 12 days, 3 pillars: 4 each
    pillars = ["Education", "Proof", "Story"]
    names = ["education"] * 8 + ["Proof"] * 3 + ["Gossip"]
    lines = {d: {**outline_dict(1), "pillar": p} for d, p in zip(dates, names)}
    why = over_share(lines, dates[4:], pillars, None, 12, fixed=[dates[7]])
    assert sorted(why) == ["2027-03-05", "2027-03-06", "2027-03-07", "2027-03-12"]
    assert why["2027-03-12"] == "pillar 'Gossip' is not one of 'Education', 'Proof', 'Story'"
    assert why["2027-03-07"].startswith("pillar 'Education' is on 8 days, its share is about 4")
    assert "plan this day for 'Story'" in why["2027-03-07"]
    # within the slack: nothing to re-plan
    names = ["Education"] * 5 + ["Proof"] * 4 + ["Story"] * 3
    lines = {d: {**outline_dict(1), "pillar": p} for d, p in zip(dates, names)}
    assert over_share(lines, dates, pillars, None, 12) == {}


def test_a_crowded_pillar_is_planned_again_once_and_the_schema_names_the_pillars(tmp_path):
    pillars = ["Education", "Proof", "Story"]

    def crowded_first(days, index):
        if index == 0:  # the first outline call puts every day on one pillar
            return [{**outline_dict(d), "pillar": "education "} for d in days]
        return [{**outline_dict(d), "pillar": pillars[1 + d % 2]} for d in days]

    model = ScriptedToolModel(window=128_000, output_cap=16_384)
    model.outline_behaviour = crowded_first
    cal = run(model, tmp_path, content_pillars=pillars)  # 31 days: about 11 each
    count = {p: sum(line.pillar == p for line in cal.outline) for p in pillars}
    assert count["Education"] <= 12 and sum(count.values()) == 31, count
    outline_prompts = [p for p in model.prompts if is_outline_prompt(p)]
    assert len(outline_prompts) == 2
    assert "pillar 'Education' is on 31 days, its share is about 11" in outline_prompts[1]
    assert {line.pillar for line in cal.outline} == set(pillars)  # the settings' spelling
    from pipeline.generation.outline.stage import OutlineWriter

    writer = OutlineWriter(model, settings(tmp_path, content_pillars=pillars), role="outline")
    item = writer.tool_parameters(None)["properties"]["days"]["items"]
    assert item["properties"]["pillar"]["enum"] == pillars


def test_values_outside_their_lists_are_respelled_or_dropped_and_the_trend_floor_holds(tmp_path):
    # hosted tool calls do not enforce enums: this model writes garbage in uses and format
    def garbage(days, index):
        return [
            {
                **outline_dict(d),
                "uses": "ai AGENTS" if d == 3 else "synergy vibes",
                "format": "myth VS fact" if d % 2 else "a dance",
            }
            for d in days
        ]

    model = ScriptedToolModel(window=128_000, output_cap=16_384)
    model.outline_behaviour = garbage
    cal = run(model, tmp_path)
    assert cal.is_complete
    lines = {line.day: line for line in cal.outline}
    assert lines[3].uses == "AI agents"  # another spelling of a trend takes its spelling
    assert lines[1].format == "Myth vs Fact" and lines[2].format == ""
    assert not any(line.uses == "synergy vibes" for line in lines.values())
    floor = 31 // (2 * 2)
    for trend in ("AI agents", "automation"):
        assert sum(line.uses == trend for line in lines.values()) >= floor, trend
    assert any("outside their lists" in note for note in cal.notes)


def _line_at_caps(day: int) -> dict:
    """An outline line with every free field at its length cap, in plain words."""
    words = f"Idea {day}: {OUTLINE_IDEAS[(day - 1) % len(OUTLINE_IDEAS)]} and why it works "
    return {
        "day": day,
        "title": (words * 8)[:200].strip(),
        "pillar": ("Education for creators who automate their weekly work " * 3)[:80].strip(),
        "format": "Tutorial in 3 steps",
        "series": (f"Series {day % 4}: the automation diaries of a busy creator " * 3)[:80].strip(),
        "uses": "AI agents",
    }


@pytest.mark.parametrize("window, output_cap", [(16_385, 4096), (4096, 1024)], ids=["16k", "4k"])
def test_plan_with_the_default_settings_matches_the_outline_and_bounds_the_writing(
    tmp_path, window, output_cap
):
    # the defaults (outline on, per-chunk examples), but for the limits a scripted model
    # has no profile for, and script words that admit its 12-word scripts
    s = Settings(
        output_dir=tmp_path,
        context_window=window,
        max_output_tokens=output_cap,
        script_words=SCRIPTED_SCRIPT_WORDS,
    )
    assert s.outline and s.chunk_rag_token_budget > 0
    [plan] = plan_month(
        "2026-03",
        ["AI agents"],
        "AI tools",
        models=[ScriptedChatModel()],
        settings=s,
        retriever=FIXED_RETRIEVER,
    )
    model = ScriptedChatModel(
        behaviour=lambda days, i, mt: rows_for(days),
        outline_behaviour=lambda days, i: [_line_at_caps(d) for d in days],
    )
    cal = generate_calendar(
        "2026-03", ["AI agents"], "AI tools", model=model, settings=s, retriever=FIXED_RETRIEVER
    )
    assert cal.is_complete and len(cal.outline) == 31
    assert not any(u.rule_breaks for u in cal.usage)
    first_outline = [u for u in cal.usage if u.role == "outline" and u.round == 0]
    sent = sorted((u.days_requested, u.prompt_tokens, u.max_tokens) for u in first_outline)
    assert sent == sorted((c.days, c.prompt_tokens, c.max_tokens) for c in plan.outline_calls)
    writing = [u for u in cal.usage if u.role != "outline"]
    first_round = [u for u in writing if u.round == writing[0].round]
    assert plan.bounded and plan.calls and first_round
    bound = max(c.prompt_bound for c in plan.calls)
    assert all(u.prompt_tokens <= bound for u in first_round), (bound, first_round)
    planned = {tuple(c.days): c for c in plan.calls}
    for u in first_round:  # a chunk planned alike is within its own call's bound
        if (call := planned.get(tuple(u.days_requested))) is not None:
            assert u.prompt_tokens <= call.prompt_bound and u.max_tokens >= call.max_tokens


def test_a_pillar_outside_content_pillars_is_respelled_or_dropped():
    from pipeline.generation.review.uses import in_their_lists

    lines = {
        "2026-03-01": {**outline_dict(1), "pillar": "education"},
        "2026-03-02": {**outline_dict(2), "pillar": "synergy vibes"},
        "2026-03-03": {**outline_dict(3), "pillar": "Proof"},
    }
    changed, dropped = in_their_lists(
        lines, formats=[], uses=[], pillars=["Education", "Proof", "Behind the scenes"]
    )
    assert changed["2026-03-01"]["pillar"] == "Education"
    assert changed["2026-03-02"]["pillar"] == "" and "2026-03-03" not in changed
    assert dropped == ["pillar 'synergy vibes'"]
    assert "pillar" not in OutlineDay(**changed["2026-03-02"]).line()  # no empty pillar shown
