"""Run names: a LangSmith trace of a calendar reads like the design.

reelcal_calendar (the chain)
  reelcal_calendar (the engine graph)
    prepare, retrieve > retrieve, fit > trim, plan_outline,
    write_outline > outline > prompt, bind_max_tokens, model, parse
    review_outline, plan_chunks,
    write > retriever (per outline title), main|supplement > prompt, bind_max_tokens,
            model, parse
    review, route
"""

from __future__ import annotations

from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda
from langchain_core.tracers.run_collector import RunCollectorCallbackHandler
from scripted import SCRIPTED_SCRIPT_WORDS, ScriptedChatModel, rows_for

from pipeline.config import Settings
from pipeline.generation.chains import build_calendar_chain

DOCS = [Document(page_content="Open with a hook.", metadata={"creator": "m", "source_id": "a"})]


def names(run, depth=0):
    yield depth, run.name
    for child in run.child_runs:
        yield from names(child, depth + 1)


def test_the_trace_reads_like_the_design(tmp_path):
    settings = Settings(
        output_dir=tmp_path,
        context_window=16_385,
        max_output_tokens=4096,
        tokens_per_day=400,
        script_words=SCRIPTED_SCRIPT_WORDS,
    )
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    chain = build_calendar_chain(
        settings, model=model, retriever=RunnableLambda(lambda _: DOCS, name="retriever")
    )
    collector = RunCollectorCallbackHandler()
    chain.invoke({"month": "2026-02"}, {"callbacks": [collector]})
    [root] = collector.traced_runs
    tree = list(names(root))
    assert tree[0] == (0, "reelcal_calendar") and tree[1] == (1, "reelcal_calendar")
    graph_steps = [name for depth, name in tree if depth == 2]
    # with the default settings: the outline's round first, then the writing round
    assert graph_steps[:6] == [
        "prepare",
        "retrieve",
        "fit",
        "plan_outline",
        "write_outline",
        "review_outline",
    ]
    assert graph_steps[6:8] == ["plan_outline", "plan_chunks"]
    assert {"write", "review", "route"} <= set(graph_steps)
    steps = root.child_runs[0].child_runs
    for node, role in (("write_outline", "outline"), ("write", "main")):
        # a write chunk asks the retriever for its outline lines' own examples first
        *retrieved, writer = next(r for r in steps if r.name == node).child_runs
        assert writer.name == role and {r.name for r in retrieved} <= {"retriever"}
        assert [r.name for r in writer.child_runs] == [
            "prompt",
            "bind_max_tokens",
            "model",
            "parse",
        ]
    fit = next(r for r in root.child_runs[0].child_runs if r.name == "fit")
    assert [r.name for r in fit.child_runs] == ["trim"]


def test_the_chain_is_a_tool_with_a_typed_input_and_a_short_answer(tmp_path):
    from pipeline.generation.chains import build_calendar_tool

    settings = Settings(
        output_dir=tmp_path,
        context_window=16_385,
        max_output_tokens=4096,
        tokens_per_day=400,
        script_words=SCRIPTED_SCRIPT_WORDS,
    )
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    tool = build_calendar_tool(
        settings, model=model, retriever=RunnableLambda(lambda _: DOCS, name="retriever")
    )
    assert tool.name == "plan_content_calendar"
    assert set(tool.args) == {"month", "trends", "niche"}
    answer = tool.invoke({"month": "2026-02", "trends": ["AI agents"]})
    assert answer.startswith("February 2026: 28 reels planned (Day 1: Idea 1")
    assert str(tmp_path / "calendar-2026-02.json") in answer and len(answer) < 400
