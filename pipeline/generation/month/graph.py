"""The month graph: the engine's nodes wired into a LangGraph ``StateGraph``.

::

    START -> prepare -> retrieve -> fit -> plan_outline
    plan_outline -> write_outline (Send per chunk) -> review_outline -> plan_outline
    plan_outline -- outline done, off or spent --> plan_chunks
    plan_chunks -> write (Send per chunk) -> review -> route
    route -- days still missing --> plan_chunks
    route -- complete, no room, stalled or spend cap --> END

The nodes are :class:`~pipeline.generation.month.engine.CalendarEngine` methods, handed
over by name; this module owns the edges, the compiled graph's name (``reelcal_calendar``), its recursion limit
and its executor threads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from pipeline.config import Settings
from pipeline.generation.state import MonthState

#: Graph steps per round (plan_chunks, write, review, route; an outline round takes
#: three) and before the first (prepare, retrieve, fit, plan_outline): the recursion limit
#: is set from them and the most rounds a run can take.
STEPS_PER_ROUND = 4
STEPS_BEFORE_LOOP = 4
#: Worker threads of the graph's executor. Model calls are limited separately (by
#: ``max_concurrency``): LangGraph saves each finished task's writes on the same executor,
#: and a pool full of waiting chunks would delay those saves.
GRAPH_THREADS = 48


def recursion_limit(settings: Settings) -> int:
    """Enough steps for the most rounds a run can take (each round makes a call)."""
    most_calls = settings.max_calls or 2 * 31
    return STEPS_BEFORE_LOOP + STEPS_PER_ROUND * (most_calls + 1) + 10


def dispatch_outline(state: MonthState) -> list[Send] | str:
    """One ``write_outline`` per planned outline chunk; with none, the days are planned
    (or, for ``reelcal outline``, the run ends)."""
    if state["planned"]:
        return [Send("write_outline", task) for task in state["planned"]]
    return END if state.get("outline_only") else "plan_chunks"


def dispatch(state: MonthState) -> list[Send] | str:
    """One ``write`` per planned chunk (straight to ``review`` when none is left)."""
    return [Send("write", task) for task in state["planned"]] or "review"


def next_round(state: MonthState) -> str:
    """Another round while the run is ``running``; else the end."""
    return "plan_chunks" if state["status"] == "running" else END


#: The nodes in the order a run meets them (the names the trace and progress show).
NODES = (
    "prepare",
    "retrieve",
    "fit",
    "plan_outline",
    "write_outline",
    "review_outline",
    "plan_chunks",
    "write",
    "review",
    "route",
)


def compile_month_graph(
    nodes: Mapping[str, Callable[..., dict[str, Any]]],
    settings: Settings,
    *,
    checkpointer: Any = None,
    interrupt_before: list[str] | None = None,
):
    """The ``nodes`` (one callable per name in :data:`NODES`) wired into a compiled graph,
    with the recursion limit ``settings`` call for."""
    builder = StateGraph(MonthState)
    for name in NODES:
        builder.add_node(name, nodes[name])
    builder.add_edge(START, "prepare")
    builder.add_edge("prepare", "retrieve")
    builder.add_edge("retrieve", "fit")
    builder.add_edge("fit", "plan_outline")
    builder.add_conditional_edges(
        "plan_outline", dispatch_outline, ["write_outline", "plan_chunks", END]
    )
    builder.add_edge("write_outline", "review_outline")
    builder.add_edge("review_outline", "plan_outline")
    builder.add_conditional_edges("plan_chunks", dispatch, ["write", "review"])
    builder.add_edge("write", "review")
    builder.add_edge("review", "route")
    builder.add_conditional_edges("route", next_round, ["plan_chunks", END])
    graph = builder.compile(
        checkpointer=checkpointer, interrupt_before=interrupt_before, name="reelcal_calendar"
    )
    return graph.with_config(
        recursion_limit=recursion_limit(settings), max_concurrency=GRAPH_THREADS
    )
