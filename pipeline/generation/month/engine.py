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
from pipeline.generation.month.graph import NODES, compile_month_graph
from pipeline.generation.month.grounding import (
    default_retriever,
    fit_examples,
    retrieve_documents,
    with_day_examples,
)
from pipeline.generation.month.rounds import learn_from_calls, run_status, spend_caps
from pipeline.generation.outline.stage import OutlineStage, OutlineWriter, prepare_outline
from pipeline.generation.review.rows import (
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
    already_used,
    latest_cuts,
    latest_rule_breaks,
    missing_dates,
    not_asked_entry,
    read_request,
    schedule_of,
)
from pipeline.generation.writing.budget import (
    PARALLEL_CALLS,
    chunk_cap_for_speed,
)
from pipeline.generation.writing.calls import send_chunk
from pipeline.generation.writing.fitting import chunk_task, plan_days
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
        self.main = DayWriter(main_model, settings, role="main")
        supplement = supplement_model or settings.supplement_model
        self.supplement = (
            DayWriter(_resolve_model(supplement, settings), settings, role="supplement")
            if supplement
            else DayWriter(main_model, settings, role="supplement", library=self.main.library)
        )
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
        grammar = "grammar" in (self.main.mode, self.supplement.mode)
        at_once = settings.max_concurrency or PARALLEL_CALLS[settings.speed]
        self._slots = threading.BoundedSemaphore(1 if grammar else at_once)
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
        return self.main if role == "main" else self.supplement

    @property
    def roles(self) -> tuple[str, ...]:
        return (*ROLES, "outline") if self.outline else ROLES

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
            "tokens_per_day": {r: self.writer(r).budget.tokens_per_day for r in self.roles},
            "reasoning_reserve": {r: self.writer(r).budget.reasoning_reserve for r in self.roles},
            "max_days": {},
            **prepare_outline(state, schedule, dates, self.outline is not None),
        }

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
        context = self.shared_context(state)
        outline = state.get("outline") or {}
        caps = spend_caps(
            state,
            max_calls=self.settings.max_calls,
            main_budget=self.writer("main").budget,
            outline_first_round=None,
        )
        rows = state.get("rows") or {}
        usage = state.get("usage") or []
        schedule = schedule_of(state)
        missing = [schedule.number_of(d) for d in missing_dates(state)]
        asked = {d for u in usage if u["role"] != "outline" for d in u["days_requested"]}
        groups = {
            "main": [d for d in missing if d not in asked],
            "supplement": [d for d in missing if d in asked],
        }
        if state["first_role"] == "supplement":
            groups = {"main": [], "supplement": missing}
        feedback, cuts = latest_rule_breaks(state), latest_cuts(state)
        used = already_used(state)
        taken_titles = [title for title, _ in used]
        planned: list[ChunkTask] = []
        deferred: list[list[int]] = []
        no_room: dict[str, Any] = {}
        for role, days in groups.items():
            if not days:
                continue
            request = ChunkRequest(
                role,
                days,
                self.context(context),
                round=state["round"],
                already_used=used if role == "supplement" else [],
                tokens_per_day=state["tokens_per_day"][role],
                reasoning_reserve=state["reasoning_reserve"][role],
                feedback={d: feedback[d] for d in days if d in feedback},
                outline=[
                    OutlineDay(**outline[key])
                    for d in days
                    if (key := schedule.key_of(d)) in outline
                ],
            )
            writer = self.writer(role)
            # first asks spread over the speed's parallel calls; re-asks share a call
            speed_cap = (
                chunk_cap_for_speed(len(days), self.settings.speed) if role == "main" else None
            )
            limits = [c for c in (state["max_days"].get(role), speed_cap) if c]
            plan = plan_days(writer, request, max_days=min(limits, default=None), cuts=cuts)
            for day, reason in plan.not_asked.items():
                logger.warning("%s is not asked for: %s", schedule.short_name(day), reason)
                no_room[schedule.key_of(day)] = not_asked_entry(day, reason, state)
            requests = plan.requests
            by_budget = (
                speed_cap is None or max((len(r.days) for r in requests), default=0) < speed_cap
            )
            if len(requests) > 1 and by_budget and not self._calibrated(role, usage):
                # the budget sets the chunks: send one first to learn tokens per day
                requests, later = requests[:1], requests[1:]
                deferred += [r.days for r in later]
            planned += [chunk_task(r, context, taken_titles) for r in requests]
        return {
            **caps,
            "planned": planned[: max(0, caps["max_calls"] - len(usage))],
            "deferred": deferred,
            "rows_before": len(rows),
            **({"not_asked": no_room} if no_room else {}),
        }

    def _calibrated(self, role: str, usage: list[dict[str, Any]]) -> bool:
        """Whether the writer's tokens per day come from real output: set by the user, or
        learned from a call of the same model that parsed days."""
        if self.settings.tokens_per_day is not None:
            return True
        model = self.writer(role).model
        return any(
            u["days_parsed"] and u["output_tokens"] and self.writer(u["role"]).model is model
            for u in usage
            if u["role"] != "outline"
        )

    def write(self, task: ChunkTask, config: RunnableConfig) -> dict[str, Any]:
        """One writing call (with its days' own examples): the rows the call's content
        rules keep, its usage, the days not kept and why."""
        writer = self.writer(task["role"])
        request, day_sources = self.chunk_request(task), []
        if not self.cancelled.is_set():
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
        return rows_written(result, task, writer.rules, request.day_examples, day_sources)

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
        progress = len(rows) > state["rows_before"]
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
