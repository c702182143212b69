"""The month engine: it runs until the month is complete, stops on stalls or the spend
cap, never loses a written day, and resumes by run id.

Every scripted model here enforces its own window and output cap, counting tokens with
tiktoken itself (tests/scripted.py), and records any request over a limit.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda
from scripted import (
    FIXED_RETRIEVER,
    SCRIPTED_SCRIPT_WORDS,
    ScriptedChatModel,
    ScriptedToolModel,
    TransientModelError,
    requested_days,
    row,
    rows_for,
    seeded,
)

from pipeline.calendar import Calendar
from pipeline.config import Settings
from pipeline.errors import IncompleteCalendarError, RunNotFoundError
from pipeline.generation.chains import (
    build_calendar_chain,
    build_calendar_graph,
    generate_calendar,
    regenerate_days,
    resume_calendar,
)
from pipeline.generation.month.engine import CalendarEngine
from pipeline.generation.planning import plan_month

pytestmark = pytest.mark.usefixtures("no_backoff")

LIMITS = [
    pytest.param(16_385, 4096, id="gpt-3.5-turbo"),
    pytest.param(128_000, 16_384, id="gpt-4o"),
    pytest.param(4096, 1024, id="local-4k-1k"),
]
MONTHS = [pytest.param(m, id=m) for m in ("2027-02", "2028-02", "2028-04", "2028-03")]


def limited(behaviour, window: int, cap: int) -> ScriptedChatModel:
    model = ScriptedChatModel(behaviour=behaviour, window=window, output_cap=cap)
    model.profile = {"max_input_tokens": window, "max_output_tokens": cap}
    return model


def settings(tmp_path, **overrides) -> Settings:
    base = {
        "output_dir": tmp_path,
        "tokens_per_day": 120,
        "rag_token_budget": 300,
        "max_concurrency": 2,
        "speed": "economical",  # these tests are about budgets: as many days as fit a call
        "script_words": SCRIPTED_SCRIPT_WORDS,
        # The writing loop's own tests count its calls, prompts and chunks; with the outline
        # (the default) its calls come first. test_outline.py and test_small_windows.py run
        # the two together.
        "outline": False,
    }
    return Settings(**{**base, **overrides})


def days_in(month: str) -> int:
    import calendar

    year, number = map(int, month.split("-"))
    return calendar.monthrange(year, number)[1]


def assert_within_limits(model: ScriptedChatModel, cal: Calendar, window: int, cap: int) -> None:
    assert model.violations == []
    for usage in cal.usage:
        assert usage.max_tokens <= cap and usage.prompt_tokens + usage.max_tokens <= window


# --------------------------------------------------------------------- misbehaving models
def skips_30_percent(seed: int):
    """Drops 30% of the rows of each reply (rounded down), chosen at random."""
    rng = seeded(seed)
    lock = threading.Lock()

    def behaviour(days, i, mt):
        with lock:
            dropped = set(rng.sample(days, int(0.3 * len(days))))
        return rows_for([d for d in days if d not in dropped])

    return behaviour


def flips_a_coin_per_row(seed: int):
    """Drops each row with probability 0.3: a one-day call comes back empty 30% of the
    time, so two such rounds in a row (what max_stalled_rounds=2 stops on) are likely
    near the end of a month; with 5 the odds are 0.3**5."""
    rng = seeded(seed)
    lock = threading.Lock()

    def behaviour(days, i, mt):
        with lock:
            kept = [d for d in days if rng.random() > 0.3]
        return rows_for(kept)

    return behaviour


def repeats_and_invents_day_32(days, i, mt):
    lines = [row(days[0]), row(days[0], tag=" again"), row(32)]
    lines += [row(d) for d in days[1:]]
    return "\n".join(lines)


def fails_30_percent(seed: int):
    rng = seeded(seed)
    lock = threading.Lock()

    def behaviour(days, i, mt):
        with lock:
            fail = rng.random() < 0.3
        if fail:
            raise TransientModelError("429 Too Many Requests")
        return rows_for(days)

    return behaviour


BEHAVIOURS = {
    "skips-30%": lambda: skips_30_percent(11),
    "coin-flip-30%-per-row": lambda: flips_a_coin_per_row(3),
    "repeats-and-day-32": lambda: repeats_and_invents_day_32,
    "fails-30%-transiently": lambda: fails_30_percent(5),
}


@pytest.mark.parametrize("behaviour", list(BEHAVIOURS))
@pytest.mark.parametrize("month", MONTHS)
@pytest.mark.parametrize(("window", "cap"), LIMITS)
def test_every_month_completes_on_misbehaving_models_within_their_limits(
    tmp_path, behaviour, month, window, cap
):
    model = limited(BEHAVIOURS[behaviour](), window, cap)
    stalls = 5 if behaviour.startswith("coin") else 2
    cal = generate_calendar(
        month,
        ["AI agents", "automation"],
        "AI tools",
        model=model,
        settings=settings(tmp_path, max_stalled_rounds=stalls),
        retriever=FIXED_RETRIEVER,
    )
    assert cal.is_complete and len(cal.days) == days_in(month)
    assert all(not p.title.endswith("again") for p in cal.days)
    assert_within_limits(model, cal, window, cap)


def test_the_loop_runs_on_progress_not_a_count_of_rounds(tmp_path):
    # writes only a third of what it is asked for: many rounds, each adding days
    model = ScriptedChatModel(
        behaviour=lambda days, i, mt: rows_for(days[: max(1, len(days) // 3)])
    )
    cal = generate_calendar(
        "2026-03",
        [],
        "AI tools",
        model=model,
        settings=settings(tmp_path, context_window=16_385, max_output_tokens=4096),
        retriever=FIXED_RETRIEVER,
    )
    assert cal.is_complete
    assert max(u.round for u in cal.usage) >= 5  # more than the old max_rounds=4


def test_a_run_of_many_rounds_is_within_the_graphs_own_recursion_limit(tmp_path):
    # one row per call, one chunk per round: 28 rounds, 3 graph steps each (LangGraph's
    # default limit is 25 steps)
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days[:1]))
    s = settings(tmp_path, context_window=16_385, max_output_tokens=4096, max_stalled_rounds=1)
    cal = generate_calendar("2027-02", [], "x", model=model, settings=s, retriever=FIXED_RETRIEVER)
    assert cal.is_complete and len(cal.usage) == 28 and max(u.round for u in cal.usage) == 27


def test_a_model_that_never_writes_a_valid_row_stops_at_the_spend_cap(tmp_path):
    model = ScriptedChatModel(behaviour=lambda days, i, mt: "I cannot help with that.")
    s = settings(
        tmp_path,
        context_window=16_385,
        max_output_tokens=4096,
        tokens_per_day=1000,
        max_stalled_rounds=20,
    )
    with pytest.raises(IncompleteCalendarError) as err:
        generate_calendar(
            "2026-04", [], "AI tools", model=model, settings=s, retriever=FIXED_RETRIEVER
        )
    exc = err.value
    first_round = sum(1 for u in exc.calendar.usage if u.round == 0)
    # max_calls = the first round's calls + one per day asked for
    assert len(exc.calendar.usage) == len(model.prompts) == first_round + 30
    assert exc.reason == "spend_cap" and "max_calls" in str(exc)
    assert exc.missing_days == list(range(1, 31))


def test_an_explicit_spend_cap_is_never_exceeded(tmp_path):
    model = ScriptedChatModel(behaviour=lambda days, i, mt: "no rows")
    s = settings(
        tmp_path,
        context_window=16_385,
        max_output_tokens=4096,
        tokens_per_day=400,
        max_calls=5,
        max_stalled_rounds=20,
    )
    with pytest.raises(IncompleteCalendarError) as err:
        generate_calendar(
            "2026-04", [], "AI tools", model=model, settings=s, retriever=FIXED_RETRIEVER
        )
    assert len(model.prompts) == 5 and err.value.reason == "spend_cap"


def test_rounds_that_add_nothing_stop_the_run_stalled(tmp_path):
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for([d for d in days if d % 2]))
    with pytest.raises(IncompleteCalendarError) as err:
        generate_calendar(
            "2026-03",
            [],
            "AI tools",
            model=model,
            settings=settings(tmp_path, context_window=16_385, max_output_tokens=4096),
            retriever=FIXED_RETRIEVER,
        )
    exc = err.value
    assert exc.reason == "stalled" and exc.missing_days == list(range(2, 31, 2))
    assert {u.round for u in exc.calendar.usage} == {0, 1, 2}  # 2 stalled rounds after round 0
    assert exc.run_id and exc.resume_command == f"reelcal generate --resume {exc.run_id}"
    assert exc.run_id in str(exc) and "\n" not in str(exc)


# --------------------------------------------------------------------- nothing paid is lost
def test_a_growing_already_used_list_never_breaks_the_window(tmp_path):
    # long titles and hooks: the supplement prompt's "already used" list outgrows a small
    # window late in the run; it is trimmed, the run completes, nothing goes over
    long = "word " * 60

    def behaviour(days, i, mt):
        kept = [d for d in days if d % 3] if i < 6 else days
        return "\n".join(
            row(d).replace(f"Idea {d}", f"Idea {d} {long}").replace(f"Hook {d}", f"Hook {d} {long}")
            for d in kept
        )

    model = limited(behaviour, 3072, 1024)
    cal = generate_calendar(
        "2026-03",
        [],
        "AI tools",
        model=model,
        # 62-word hooks break a soft content rule: kept (strict off), this is about the window
        settings=settings(tmp_path, tokens_per_day=300, rag_token_budget=0, strict=False),
        retriever=FIXED_RETRIEVER,
    )
    assert cal.is_complete
    assert_within_limits(model, cal, 3072, 1024)


def test_an_error_after_paid_calls_keeps_the_written_days(tmp_path, monkeypatch):
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for([d for d in days if d != 5]))
    s = settings(tmp_path, context_window=16_385, max_output_tokens=4096)

    def broken_review(self, state):
        raise RuntimeError("a bug in review")

    monkeypatch.setattr(CalendarEngine, "review", broken_review)
    with pytest.raises(IncompleteCalendarError) as err:
        generate_calendar(
            "2026-03", [], "AI tools", model=model, settings=s, retriever=FIXED_RETRIEVER
        )
    exc = err.value
    assert exc.reason == "error" and isinstance(exc.__cause__, RuntimeError)
    assert len(exc.calendar.days) == 30 and exc.missing_days == [5]
    saved = Calendar.from_json(exc.saved_to)
    assert len(saved.days) == 30 and len(saved.usage) == len(model.prompts)


def test_ctrl_c_saves_the_partial_and_resume_asks_only_for_missing_days(tmp_path):
    def behaviour(days, i, mt):
        if i == 3:
            raise KeyboardInterrupt
        return rows_for(days)

    s = settings(
        tmp_path, context_window=4096, max_output_tokens=1024, tokens_per_day=400, max_concurrency=1
    )
    first = ScriptedChatModel(behaviour=behaviour)
    with pytest.raises(IncompleteCalendarError) as err:
        generate_calendar(
            "2026-03",
            [],
            "AI tools",
            model=first,
            settings=s,
            retriever=FIXED_RETRIEVER,
            run_id="march-test",
        )
    exc = err.value
    assert exc.reason == "interrupted" and exc.run_id == "march-test"
    written = {p.day for p in exc.calendar.days}
    assert len(written) == 6 and len(exc.calendar.usage) == 3  # calls 0-2, each once
    assert Calendar.from_json(exc.saved_to).days == exc.calendar.days

    second = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    cal = generate_calendar(
        "2026-03",
        [],
        "AI tools",
        model=second,
        settings=s,
        retriever=FIXED_RETRIEVER,
        run_id="march-test",
    )
    assert cal.is_complete
    asked_again = {d for prompt in second.prompts for d in requested_days(prompt)}
    assert not asked_again & written
    assert [p.model_dump() for p in cal.days if p.day in written] == [
        p.model_dump() for p in exc.calendar.days
    ]


def test_a_stalled_run_resumes_with_another_model(tmp_path):
    s = settings(tmp_path, context_window=16_385, max_output_tokens=4096)
    odd_only = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for([d for d in days if d % 2]))
    with pytest.raises(IncompleteCalendarError) as err:
        generate_calendar(
            "2026-03", [], "AI tools", model=odd_only, settings=s, retriever=FIXED_RETRIEVER
        )
    good = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    cal = resume_calendar(err.value.run_id, model=good, settings=s, retriever=FIXED_RETRIEVER)
    assert cal.is_complete
    assert sorted(d for p in good.prompts for d in requested_days(p)) == list(range(2, 31, 2))
    # a finished run resumed again calls nothing and returns the same month
    again = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    same = resume_calendar(err.value.run_id, model=again, settings=s, retriever=FIXED_RETRIEVER)
    assert again.prompts == [] and same.days == cal.days


def test_resume_errors_name_the_problem(tmp_path):
    s = settings(tmp_path, context_window=16_385, max_output_tokens=4096)
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    with pytest.raises(RunNotFoundError, match="No saved run 'nope'"):
        resume_calendar("nope", model=model, settings=s, retriever=FIXED_RETRIEVER)
    generate_calendar(
        "2026-03", [], "x", model=model, settings=s, retriever=FIXED_RETRIEVER, run_id="r1"
    )
    with pytest.raises(RunNotFoundError, match="is for March 2026, not April 2026"):
        generate_calendar(
            "2026-04", [], "x", model=model, settings=s, retriever=FIXED_RETRIEVER, run_id="r1"
        )
    with pytest.raises(RunNotFoundError, match="not valid"):
        generate_calendar(
            "2026-04", [], "x", model=model, settings=s, retriever=FIXED_RETRIEVER, run_id="../etc"
        )


def test_state_is_plain_json_with_rows_keyed_by_date(tmp_path):
    from langgraph.checkpoint.memory import InMemorySaver

    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    graph = build_calendar_graph(
        settings(tmp_path, context_window=16_385, max_output_tokens=4096),
        model=model,
        retriever=FIXED_RETRIEVER,
        checkpointer=InMemorySaver(),
    )
    config = {"configurable": {"thread_id": "t"}}
    updates = list(
        graph.stream({"month": "2026-02", "trends": ["AI"]}, config, stream_mode="updates")
    )
    steps = [next(iter(u)) for u in updates]
    assert steps[:5] == ["prepare", "retrieve", "fit", "plan_outline", "plan_chunks"]
    state = graph.get_state(config).values
    json.dumps(state)  # plain JSON all the way down
    assert sorted(state["rows"]) == [f"2026-02-{d:02d}T18:00" for d in range(1, 29)]
    assert state["status"] == "complete"


# --------------------------------------------------------------------- the public contract
def test_plan_shows_exactly_the_first_round_generate_sends(tmp_path):
    s = settings(tmp_path, context_window=16_385, max_output_tokens=4096, tokens_per_day=400)
    planner = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    [plan] = plan_month(
        "2026-03",
        ["AI agents"],
        "AI tools",
        models=[planner],
        settings=s,
        retriever=FIXED_RETRIEVER,
    )
    assert planner.prompts == []  # planning calls nothing
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    cal = generate_calendar(
        "2026-03", ["AI agents"], "AI tools", model=model, settings=s, retriever=FIXED_RETRIEVER
    )
    first = [(u.days_requested, u.prompt_tokens, u.max_tokens) for u in cal.usage if u.round == 0]
    assert sorted(first) == sorted((c.days, c.prompt_tokens, c.max_tokens) for c in plan.calls)
    assert len(plan.calls) > 1


def test_plan_shows_the_probe_call_first_and_the_chunks_held_back(tmp_path):
    s = Settings(
        output_dir=tmp_path,
        context_window=16_385,
        max_output_tokens=4096,
        rag_token_budget=300,
        speed="economical",  # the budget sets the chunks: the probe goes first
        script_words=SCRIPTED_SCRIPT_WORDS,
        outline=False,  # the writing round's plan is exact only without the outline
    )  # tokens_per_day unset: calibrated, then learned
    planner = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    [plan] = plan_month(
        "2026-03", [], "AI tools", models=[planner], settings=s, retriever=FIXED_RETRIEVER
    )
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    cal = generate_calendar(
        "2026-03", [], "AI tools", model=model, settings=s, retriever=FIXED_RETRIEVER
    )
    [probe] = [u for u in cal.usage if u.round == 0]
    assert plan.probe_calls == 1 and len(plan.calls) > 1
    assert (probe.days_requested, probe.prompt_tokens, probe.max_tokens) == (
        plan.calls[0].days,
        plan.calls[0].prompt_tokens,
        plan.calls[0].max_tokens,
    )
    assert sorted(d for c in plan.calls for d in c.days) == list(range(1, 32))
    assert len(cal.usage) < len(plan.calls)  # re-planned from the probe: fewer calls


def test_plan_and_generate_agree_when_retrieved_context_must_shrink(tmp_path):
    long_docs = [
        Document(
            page_content="A long transcript sentence. " * 150,
            metadata={"creator": "m", "source_id": f"x{i}"},
        )
        for i in range(4)
    ]
    retriever = RunnableLambda(lambda _: long_docs)
    s = settings(
        tmp_path,
        context_window=4096,
        max_output_tokens=4096,
        rag_token_budget=2500,
        tokens_per_day=150,
    )
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    [plan] = plan_month("2026-02", [], "fitness", models=[model], settings=s, retriever=retriever)
    cal = generate_calendar("2026-02", [], "fitness", model=model, settings=s, retriever=retriever)
    first = [(u.days_requested, u.prompt_tokens, u.max_tokens) for u in cal.usage if u.round == 0]
    assert sorted(first) == sorted((c.days, c.prompt_tokens, c.max_tokens) for c in plan.calls)


def test_the_chain_works_inside_another_lcel_chain(tmp_path):
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    chain = build_calendar_chain(
        settings(tmp_path, context_window=16_385, max_output_tokens=4096),
        model=model,
        retriever=FIXED_RETRIEVER,
    )
    outer = (
        RunnableLambda(lambda trend: {"month": "2026-04", "trends": [trend]})
        | chain
        | RunnableLambda(lambda cal: (type(cal).__name__, len(cal.days)))
    )
    assert outer.invoke("AI agents") == ("Calendar", 30)


def test_a_thread_id_names_the_run_as_in_langgraph(tmp_path):
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    chain = build_calendar_chain(
        settings(tmp_path, context_window=16_385, max_output_tokens=4096),
        model=model,
        retriever=FIXED_RETRIEVER,
    )
    config = {"configurable": {"thread_id": "april-launch"}}
    first = chain.invoke({"month": "2026-04", "trends": ["AI agents"]}, config)
    calls = len(model.prompts)
    again = chain.invoke({"month": "2026-04", "trends": ["AI agents"]}, config)
    assert len(model.prompts) == calls and again.days == first.days  # resumed, no call


def test_ainvoke_returns_a_calendar_without_blocking_the_event_loop(tmp_path):
    def slow(days, i, mt):
        time.sleep(0.05)
        return rows_for(days)

    model = ScriptedChatModel(behaviour=slow)
    chain = build_calendar_chain(
        settings(tmp_path, context_window=4096, max_output_tokens=1024, tokens_per_day=300),
        model=model,
        retriever=FIXED_RETRIEVER,
    )

    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        cal = await chain.ainvoke({"month": "2026-02", "trends": ["AI"]})
        task.cancel()
        return cal, ticks

    cal, ticks = asyncio.run(main())
    assert isinstance(cal, Calendar) and cal.is_complete
    assert ticks >= 10  # the loop kept running while the month was written


def test_regenerate_is_a_durable_run_that_keeps_every_other_day(tmp_path):
    s = settings(tmp_path, context_window=16_385, max_output_tokens=4096)
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    cal = generate_calendar("2026-03", [], "x", model=model, settings=s, retriever=FIXED_RETRIEVER)
    never = ScriptedChatModel(behaviour=lambda days, i, mt: "nothing useful")
    with pytest.raises(IncompleteCalendarError) as err:
        regenerate_days(cal, [3, 4], model=never, settings=s, retriever=FIXED_RETRIEVER)
    exc = err.value
    assert exc.missing_days == [3, 4] and len(exc.calendar.days) == 31  # old days 3, 4 kept
    fresh = ScriptedChatModel(
        behaviour=lambda days, i, mt: "\n".join(row(d, tag=" new") for d in days)
    )
    done = resume_calendar(exc.run_id, model=fresh, settings=s, retriever=FIXED_RETRIEVER)
    assert [p.day for p in done.days if p.title.startswith(f"Idea {p.day} new:")] == [3, 4]
    assert [p.day for p in done.days] == list(range(1, 32))


def test_awareness_file_and_subdivision_settings_reach_the_prompts(tmp_path):
    extra = tmp_path / "ours.yaml"
    extra.write_text('- name: Our Launch Day\n  theme: the product launch\n  date: "02-17"\n')
    s = settings(
        tmp_path,
        context_window=16_385,
        max_output_tokens=4096,
        awareness_file=extra,
        country="DE",
        subdivision="BY",
    )
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    generate_calendar("2026-02", [], "x", model=model, settings=s, retriever=FIXED_RETRIEVER)
    assert any("Our Launch Day" in p for p in model.prompts)


def test_trends_and_niche_must_be_short_phrases(tmp_path):
    from pipeline.errors import InvalidRequestError

    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    s = settings(tmp_path, context_window=16_385, max_output_tokens=4096)
    with pytest.raises(InvalidRequestError, match="Trend 'yyyy"):
        generate_calendar(
            "2026-03", ["ok", "y" * 5000], "x", model=model, settings=s, retriever=FIXED_RETRIEVER
        )
    chain = build_calendar_chain(s, model=model, retriever=FIXED_RETRIEVER)
    with pytest.raises(InvalidRequestError, match="niche"):
        chain.invoke({"month": "2026-03", "niche": "n" * 600})
    assert model.prompts == []


# ---------------------------------------------------------------------- speed
def _timed_tool_model(window: int = 128_000, cap: int = 16_384, *, gather: int = 1):
    """A tool model that records how many calls are in flight at once. Each call waits (up
    to 0.5 s) until ``gather`` calls are in flight, so calls sent together overlap even on
    a loaded machine; more than the limit would still show."""
    import threading

    arrived = threading.Condition()
    flight = {"now": 0, "most": 0}

    def behaviour(days, i, mt):
        with arrived:
            flight["now"] += 1
            flight["most"] = max(flight["most"], flight["now"])
            arrived.notify_all()
            arrived.wait_for(lambda: flight["now"] >= gather, timeout=0.5)
            flight["now"] -= 1
        # the requested days

    model = ScriptedToolModel(behaviour=behaviour, window=window, output_cap=cap)
    model.profile = {"max_input_tokens": window, "max_output_tokens": cap}
    return model, flight


def run(model, tmp_path, month: str, **overrides) -> Calendar:
    return generate_calendar(
        month,
        ["AI agents"],
        "AI tools",
        model=model,
        settings=settings(tmp_path, **overrides),
        retriever=FIXED_RETRIEVER,
    )


@pytest.mark.parametrize(
    ("speed", "sizes", "at_once"),
    [
        pytest.param("economical", [31], 1, id="economical"),
        pytest.param("balanced", [8, 8, 8, 7], 4, id="balanced"),
        pytest.param("fast", [4, 4, 4, 4, 4, 4, 4, 3], 8, id="fast"),
    ],
)
def test_speed_spreads_the_days_over_calls_sent_at_once(tmp_path, speed, sizes, at_once):
    model, flight = _timed_tool_model(gather=at_once)
    cal = run(model, tmp_path, "2026-03", tokens_per_day=None, speed=speed, max_concurrency=None)
    assert cal.is_complete and model.violations == []
    assert sorted((len(u.days_requested) for u in cal.usage), reverse=True) == sizes
    assert {u.round for u in cal.usage} == {0}  # no probe: chunks are below the bound
    assert flight["most"] == at_once


def test_the_tool_schema_is_the_same_for_every_chunk(tmp_path):
    """Providers put the tool schema before the messages: it must not change per chunk."""
    model, _ = _timed_tool_model()
    run(model, tmp_path, "2026-03", tokens_per_day=None, speed="fast", max_concurrency=None)
    schema_tokens = {with_schema - messages for messages, with_schema in model.counted}
    assert len(model.counted) == 8 and len(schema_tokens) == 1


def test_max_concurrency_caps_the_speed(tmp_path):
    model, flight = _timed_tool_model(gather=8)  # waits for 8: only 3 may come at once
    run(model, tmp_path, "2026-03", tokens_per_day=None, speed="fast", max_concurrency=3)
    assert flight["most"] == 3


def test_a_run_saved_by_an_earlier_graph_is_refused_with_the_fix(tmp_path):
    from langgraph.checkpoint.memory import InMemorySaver

    from pipeline.generation.month.runs import _start_or_resume

    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    s = settings(tmp_path, context_window=16_385, max_output_tokens=4096)
    engine = CalendarEngine(s, model=model, retriever=FIXED_RETRIEVER)
    graph = engine.graph(checkpointer=InMemorySaver(), interrupt_before=["write"])
    config = {"configurable": {"thread_id": "old-run"}}
    graph.invoke({"month": "2026-02", "trends": []}, config)
    assert _start_or_resume(graph, config, None, "old-run", None) is None  # resumable
    graph.update_state(config, {"graph_version": 1})  # as the graph before the outline nodes
    with pytest.raises(RunNotFoundError, match="earlier reelcal.*Start a new run"):
        _start_or_resume(graph, config, None, "old-run", None)
    assert model.prompts == []
