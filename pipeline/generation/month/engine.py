"""The month engine's nodes: what each step of the month graph does.

The graph that wires them (edges, recursion limit) is :mod:`pipeline.generation.month.graph`;
the state they read and write is :mod:`pipeline.generation.state`.

::

    prepare -> retrieve -> fit -> plan_outline -> write_outline (Send) -> review_outline
                                       ^  |                                     |
                                       |  '------ outline done -------.          |
                                       '-------------------------------+---------'
                                                                       v
                   plan_chunks -> write (one Send per chunk) -> review -> route
                        ^                                                 |
                        '-------------- days still missing ---------------'

- **prepare**: read the span, its posting slots and time zone into a schedule, and the
  posts wanted (all of them, or chosen ones); a post is keyed by its local date-time.
- **retrieve** / **fit**: mentor examples, trimmed to ``rag_token_budget`` and then further
  until the largest prompt of the run fits (nothing is sent that cannot fit); see
  :mod:`pipeline.generation.month.grounding`, which also adds each write chunk's own examples.
- **plan_outline**: the run's spend caps, then the outline's next round within its share
  of the calls (:mod:`pipeline.generation.outline.stage`); none when it is done, off or spent.
- **write_outline**: one outline call per chunk; any failure is recorded, never raised.
- **review_outline**: what the round taught the outline's writer; titles unique by
  meaning, pillar shares, values in their lists; once done, special dates placed and each
  trend on its floor of days. An outline that fails leaves the days to be written without it.
- **plan_chunks**: split the days still missing into requests that fit the writer's
  window (:mod:`pipeline.generation.writing.fitting`: optional prompt parts give way in a stated
  order, then chunks split; a day that cannot fit alone is named in ``not_asked``).
- **write**: one LCEL chain call per chunk (prompt | bind_max_tokens | model | parse), run
  in parallel with ``Send``; the call's content rules keep or drop each row. A failed call
  returns an error record instead of raising (a raising task would cancel its siblings);
  a bug of ours raises.
- **review**: what the round taught the writers (tokens per day; a cut reply grows, splits
  or is asked again), titles by meaning, the best soft row of a day whose re-asks stall.
- **route** (:mod:`pipeline.generation.month.rounds`): complete -> END; days missing ->
  plan_chunks again; no room for the days left, ``max_stalled_rounds`` rounds in a row
  that add no day, or ``max_calls`` calls -> END (the runner raises
  ``IncompleteCalendarError``). After the first paid call no budget condition raises.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableConfig

from pipeline.calendar import OutlineDay
from pipeline.config import Settings
from pipeline.dates import parse_month
from pipeline.generation.month.chunks import plan_round
from pipeline.generation.month.copies import copies_tokens_per_post
from pipeline.generation.month.graph import NODES, compile_month_graph
from pipeline.generation.month.grounding import (
    default_retriever,
    fit_examples,
    retrieve_documents,
    with_day_examples,
)
from pipeline.generation.month.rounds import learn_from_calls, run_status, spend_caps
from pipeline.generation.outline.stage import OutlineStage, OutlineWriter, prepare_outline
from pipeline.generation.requests import read_request
from pipeline.generation.review.rows import (
    copies_failed,
    copies_written,
    keep_stalled_days,
    merge_updates,
    review_row_titles,
    rows_written,
)
from pipeline.generation.review.titles import TitleGuard
from pipeline.generation.state import (
    GRAPH_VERSION,
    ROLES,
    ChunkTask,
    MonthState,
    copies_kept,
    missing_dates,
    schedule_of,
)
from pipeline.generation.writing.budget import (
    PARALLEL_CALLS,
)
from pipeline.generation.writing.calls import send_chunk
from pipeline.generation.writing.copies import copy_tokens
from pipeline.generation.writing.copy_writer import CopyWriter
from pipeline.generation.writing.prose import day_writer
from pipeline.generation.writing.writer import ChunkRequest, DayWriter, MonthContext
from pipeline.models.chat import load_chat_model, with_response_cache
from pipeline.models.ratelimits import with_rate_limit
from pipeline.platforms import PLATFORMS

logger = logging.getLogger("reelcal")


def _resolve_model(model: BaseChatModel | str, settings: Settings) -> BaseChatModel:
    loaded = load_chat_model(model, settings) if isinstance(model, str) else model
    return with_rate_limit(with_response_cache(loaded, settings), settings)


class CalendarEngine:
    """The writers, the retriever and the graph's nodes.

    Example:
        .. code-block:: python

            engine = CalendarEngine(settings, model="openai:gpt-4o")
            graph = engine.graph()            # a compiled StateGraph
    """

    def __init__(
        self,
        settings: Settings,
        *,
        model: BaseChatModel | str | None = None,
        supplement_model: BaseChatModel | str | None = None,
        retriever: Runnable[Any, list[Document]] | None = None,
    ) -> None:
        self.settings = settings
        main_model = _resolve_model(model or settings.model, settings)
        self.main = day_writer(main_model, settings, role="main")
        supplement = supplement_model or settings.supplement_model
        self.supplement = (
            day_writer(_resolve_model(supplement, settings), settings, role="supplement")
            if supplement
            else day_writer(main_model, settings, role="supplement", library=self.main.library)
        )
        self.copies = CopyWriter(main_model, settings, role="copies", library=self.main.library)
        self._retriever = retriever
        #: titles compared by meaning (embeddings load on first use)
        self.titles = TitleGuard.from_settings(settings)
        self.outline = (
            OutlineStage(
                OutlineWriter(main_model, settings, role="outline", library=self.main.library),
                settings,
                self.titles,
            )
            if settings.outline
            else None
        )
        # one llama.cpp context serves one request at a time; hosted models take several
        local = self.main.one_post_at_a_time or self.supplement.one_post_at_a_time
        at_once = settings.max_concurrency or PARALLEL_CALLS[settings.speed]
        self._slots = threading.BoundedSemaphore(1 if local else at_once)
        #: Set on Ctrl-C: chunks not yet sent are dropped (they stay missing, so a resume
        #: asks for them) instead of being sent while the run shuts down.
        self.cancelled = threading.Event()

    # ------------------------------------------------------------------ parts
    @property
    def retriever(self) -> Runnable[Any, list[Document]]:
        if self._retriever is None:
            self._retriever = default_retriever(self.settings)
        return self._retriever

    def writer(self, role: str) -> DayWriter:
        if role == "outline" and self.outline:
            return self.outline.writer
        if role == "copies":
            return self.copies
        return self.main if role == "main" else self.supplement

    @property
    def roles(self) -> tuple[str, ...]:
        return (*ROLES, "copies", "outline") if self.outline else (*ROLES, "copies")

    def context(self, data: dict[str, Any]) -> MonthContext:
        return MonthContext.from_data(data, self.settings)

    def chunk_request(self, task: ChunkTask) -> ChunkRequest:
        """The writer's request for one ``write`` task (used by ``plan`` as well)."""
        return ChunkRequest(
            task["role"],
            list(task["days"]),
            self.context(task["context"]),
            round=task["round"],
            already_used=[(t, h) for t, h in task["already_used"]],
            tokens_per_day=task["tokens_per_day"],
            reasoning_reserve=task["reasoning_reserve"],
            feedback={int(day): reasons for day, reasons in (task.get("feedback") or {}).items()},
            outline=[OutlineDay(**line) for line in (task.get("outline") or {}).values()],
            reply_tokens=task.get("reply_tokens") or 0,
            posts={int(n): row for n, row in (task.get("posts") or {}).items()},
            wanted={int(n): keys for n, keys in (task.get("wanted") or {}).items()},
        )

    # ------------------------------------------------------------------ nodes
    def prepare(self, state: MonthState) -> dict[str, Any]:
        request = read_request(dict(state), self.settings)
        schedule = schedule_of(request)
        wanted = request["days"] or range(1, schedule.count + 1)
        dates = [schedule.key_of(n) for n in wanted]
        given_month = state.get("month") if not state.get("schedule") else None
        read_as = parse_month(given_month).note if given_month else None
        return {
            "graph_version": GRAPH_VERSION,
            "month": request["month"],
            "schedule": request["schedule"],
            "platforms": request["platforms"],
            "dates": dates,
            "notes": [n for n in (read_as, *schedule.notes) if n],
            "trends": request["trends"],
            "niche": state.get("niche") or self.settings.niche,
            "platform": state.get("platform") or self._platform_name(request["platforms"]),
            "kept": list(state.get("kept") or []),
            "kept_usage": list(state.get("kept_usage") or []),
            "first_role": state.get("first_role") or "main",
            "round": 0,
            "stalled": 0,
            "status": "running",
            "max_calls": None,
            "tokens_per_day": {r: self._tokens_per_post(r, request) for r in self.roles},
            "reasoning_reserve": {r: self.writer(r).budget.reasoning_reserve for r in self.roles},
            "max_days": {},
            **prepare_outline(state, schedule, dates, self.outline is not None),
        }

    def _tokens_per_post(self, role: str, request: dict[str, Any]) -> int:
        """The writer's starting tokens per post, grown by what the copies for the other
        platforms measure when its calls write them (:func:`copy_tokens`)."""
        writer, extra = self.writer(role), request["platforms"][1:]
        if role == "copies":  # a copies call writes only the copies (and the post's number)
            return (
                copy_tokens(extra, writer.counter) + 40 if extra else writer.budget.tokens_per_day
            )
        # prose asks each field on its own: a copy does not grow the script's reply
        grown = extra if role in ROLES and writer.mode not in ("rows", "prose") else []
        return writer.budget.tokens_per_day + copy_tokens(grown, writer.counter)

    def _platform_name(self, platforms: list[str]) -> str:
        """The platform prompts name: the primary's, or the ``platform`` setting's free
        name when no ``platforms`` are set."""
        if self.settings.platforms:
            return PLATFORMS[platforms[0]].name
        return self.settings.platform

    def retrieve(self, state: MonthState, config: RunnableConfig) -> dict[str, Any]:
        return retrieve_documents(self.retriever, state, config)

    def fit(self, state: MonthState, config: RunnableConfig) -> dict[str, Any]:
        """The shared examples, trimmed to fit (see :func:`fit_examples`)."""
        return fit_examples(state, config, writer_of=self.writer, settings=self.settings)

    def shared_context(self, state: MonthState) -> dict[str, Any]:
        """What every call of the run shares (plain JSON, carried by each task)."""
        keys = ("month", "schedule", "platforms", "trends", "niche", "platform", "examples")
        context = {k: state[k] for k in keys}
        return context | {"sources": list(state.get("example_sources") or [])}

    def plan_outline(self, state: MonthState) -> dict[str, Any]:
        """The run's spend caps (set once: the outline's next round sizes its share), then
        that round's tasks within its share; with the outline done, off, spent or unable
        to plan, none (the days are written without the lines it lacks)."""
        outlining = bool(self.outline and OutlineStage.active(state))
        context = self.shared_context(state)
        tasks, why = (
            self.outline.plan(state, context, self.context(context)) if outlining else ([], "")
        )
        caps: dict[str, Any] = spend_caps(
            state,
            max_calls=self.settings.max_calls,
            main_budget=self.writer("main").budget,
            max_days=self.writer("main").days_cap,
            outline_first_round=len(tasks) if outlining else None,
        )
        update = OutlineStage.planned(state, tasks, why, caps) if outlining else {}
        planned = update.pop("planned", [])
        if not planned and state.get("outline_only"):  # ``reelcal outline``: the end
            update["status"] = "complete"
        return {
            **caps,
            **update,
            "planned": planned,
            "outline_before": len(state.get("outline") or {}),
        }

    def write_outline(self, task: ChunkTask, config: RunnableConfig) -> dict[str, Any]:
        """One outline call; any error is recorded as a failed call (the outline never
        costs the month)."""
        result, failed = self._send(task, self.chunk_request(task), config)
        return failed if result is None else OutlineStage.written(result, task)

    def review_outline(self, state: MonthState) -> dict[str, Any]:
        """What the outline round taught its writer, then its lines reviewed (titles,
        pillar shares, values in their lists) and, once it is done, balanced (special
        dates, the trend floor)."""
        learned, shrunk, no_room, _ = learn_from_calls(
            state, ["outline"], writer_of=self.writer, max_reasks=self.settings.max_reasks
        )
        # a line that cannot be asked for ends the outline (days go on without)
        update = self.outline.merged(state, shrunk, gave_up=bool(no_room)) if self.outline else {}
        return {**update, **learned, "round": state["round"] + 1}

    def plan_chunks(self, state: MonthState) -> dict[str, Any]:
        """Days never asked for go to the main writer, days still missing to the supplement
        writer (exactly those). Chunks are as large as the budget allows, capped by
        ``speed`` for first asks, fitted to the window (:mod:`pipeline.generation.writing.fitting`;
        a day that cannot fit alone is named in ``not_asked``). When the budget sets the
        chunks and the writer has not learned its tokens per day, only the first is sent
        (a probe): the rest are planned from its output."""
        return plan_round(self, state)

    def write(self, task: ChunkTask, config: RunnableConfig) -> dict[str, Any]:
        """One writing call (with its days' own examples): the rows the call's content
        rules keep, its usage, the days not kept and why."""
        writer = self.writer(task["role"])
        request, day_sources = self.chunk_request(task), []
        if task["role"] == "copies":
            result, failed = self._send(task, request, config)
            return copies_failed(failed, task) if result is None else copies_written(result, task)
        if writer.grounded and not self.cancelled.is_set():
            request, day_sources = with_day_examples(
                request,
                writer,
                self.retriever,
                budget=self.settings.chunk_rag_token_budget,
                given=list(task["context"].get("sources") or []),
                config=config,
            )
        result, failed = self._send(task, request, config)
        if result is None:
            return failed
        return rows_written(
            result,
            task,
            writer.rules_for(request),
            request.day_examples,
            day_sources,
            copies_asked=writer.copies_asked(request),
            grounded=writer.grounded,
        )

    def _send(
        self, task: ChunkTask, request: ChunkRequest, config: RunnableConfig
    ) -> tuple[Any, dict[str, Any]]:
        return send_chunk(
            self.writer(task["role"]),
            task,
            request,
            config,
            slots=self._slots,
            cancelled=self.cancelled,
        )

    def review(self, state: MonthState) -> dict[str, Any]:
        """The writing round reviewed: what its calls teach the writers, the titles new
        since the last review (by meaning), and, complete first then flagged, the best soft
        row of each day whose re-asks stalled."""
        learned, changed, no_room, reasks = learn_from_calls(
            state, list(ROLES), writer_of=self.writer, max_reasks=self.settings.max_reasks
        )
        learned["tokens_per_day"]["copies"] = copies_tokens_per_post(
            state,
            learned["tokens_per_day"].get("copies", self.copies.budget.tokens_per_day),
            self.copies.limits.max_output_tokens,
        )
        review = review_row_titles(state, self.titles, strict=self.settings.strict)
        rows = {
            d: r for d, r in (state.get("rows") or {}).items() if review.get("rows", {}).get(d, r)
        }
        kept = keep_stalled_days(state, review, rows, max_reasks=self.settings.max_reasks)
        return {
            **merge_updates(merge_updates(review, kept), {"rule_breaks": reasks} if reasks else {}),
            **learned,
            **({"not_asked": no_room} if no_room else {}),
            "replanned": changed,
        }

    def route(self, state: MonthState) -> dict[str, Any]:
        """The run's status after the round (:func:`~pipeline.generation.month.rounds.run_status`):
        another round, complete, or the end (no room, stalled, spend cap), where each
        missing day keeps its best soft row, flagged."""
        rows = dict(state.get("rows") or {})
        not_asked = state.get("not_asked") or {}
        calls = len(state.get("usage") or [])
        progress = len(rows) > state["rows_before"] or copies_kept(state) > state.get(
            "copies_before", 0
        )
        stalled = 0 if progress or state.get("replanned") else state["stalled"] + 1
        status = run_status(state, rows, not_asked, stalled, calls, self.settings)
        last: dict[str, Any] = {}
        if status not in ("running", "complete"):  # the run would end: keep what there is
            last = keep_stalled_days(state, {}, rows, days=missing_dates(state))
            rows |= {d: r for d, r in last.get("rows", {}).items() if r}
            status = run_status(state, rows, not_asked, stalled, calls, self.settings)
        return {**last, "round": state["round"] + 1, "stalled": stalled, "status": status}

    # ------------------------------------------------------------------ graph
    def graph(self, *, checkpointer: Any = None, interrupt_before: list[str] | None = None):
        """The compiled month graph of this engine (see :mod:`pipeline.generation.month.graph`)."""
        return compile_month_graph(
            {name: getattr(self, name) for name in NODES},
            self.settings,
            checkpointer=checkpointer,
            interrupt_before=interrupt_before,
        )
