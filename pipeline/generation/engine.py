"""The month engine's nodes: what each step of the month graph does.

The graph that wires them (edges, recursion limit) is :mod:`pipeline.generation.graph`;
the state they read and write is :mod:`pipeline.generation.state`.

::

    prepare -> retrieve -> fit -> plan_chunks -> write (one Send per chunk) -> merge
                                       ^                                          |
                                       '------------ days still missing ----------'

- **prepare**: read the month and the days wanted (the whole month, or chosen days).
- **retrieve** / **fit**: mentor examples, trimmed to ``rag_token_budget`` and then further
  until the largest prompt of the run fits (nothing is sent that cannot fit); see
  :mod:`pipeline.generation.grounding`, which also adds each write chunk's own examples.
- **plan_chunks**: split the days still missing into chunks that fit the writer's budget.
- **write**: one LCEL chain call per chunk (prompt | bind_max_tokens | model | parse), run
  in parallel with ``Send``. A failed call returns an error record instead of raising (a
  raising task would cancel its siblings); a bug of ours raises.
- **merge**: count progress, learn tokens per day, route: complete -> END; days missing ->
  plan_chunks again; ``max_stalled_rounds`` rounds in a row that add no day, or
  ``max_calls`` calls -> END (the runner raises ``IncompleteCalendarError``).

With an outline (the ``outline`` setting, or one given), its rounds come first: the
same loop with ``"outline"`` tasks (:mod:`pipeline.generation.outline`).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from langchain_core.documents import Document
from langchain_core.exceptions import ContextOverflowError
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableConfig

from pipeline.calendar import OutlineDay, days_label
from pipeline.config import Settings
from pipeline.dates import parse_month
from pipeline.errors import InvalidDaysError, ModelCallError
from pipeline.generation.budget import (
    PARALLEL_CALLS,
    answer_length_cuts,
    chunk_cap_for_speed,
    learn_from_round,
    split_days,
)
from pipeline.generation.grounding import fit_examples, retrieve_documents, with_day_examples
from pipeline.generation.models import load_chat_model, with_response_cache
from pipeline.generation.outline import OutlineStage, OutlineWriter, prepare_outline
from pipeline.generation.ratelimits import with_rate_limit
from pipeline.generation.review import review_row_titles, rows_written
from pipeline.generation.state import (
    ROLES,
    ChunkTask,
    MonthState,
    Status,
    already_used,
    check_request_text,
    latest_rule_breaks,
)
from pipeline.generation.titles import TitleGuard
from pipeline.generation.writer import ChunkRequest, DayWriter, MonthContext

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
            from pipeline.knowledge.index import load_vectorstore
            from pipeline.knowledge.retriever import MentorRetriever

            self._retriever = MentorRetriever.from_settings(
                self.settings, vectorstore=load_vectorstore(self.settings)
            )
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
        )

    # ------------------------------------------------------------------ nodes
    def prepare(self, state: MonthState) -> dict[str, Any]:
        month = parse_month(state["month"])
        wanted = sorted(set(state.get("days") or range(1, month.days_in_month + 1)))
        bad = [d for d in wanted if not 1 <= d <= month.days_in_month]
        if bad:
            raise InvalidDaysError(
                f"Days {bad} are not in {month.name}: use 1 to {month.days_in_month}."
            )
        trends = state.get("trends") or []
        trends = [str(t).strip() for t in ([trends] if isinstance(trends, str) else trends)]
        check_request_text(trends, state.get("niche"))
        dates = [month.date_of(d).isoformat() for d in wanted]
        return {
            "month": month.key,
            "dates": dates,
            "notes": [month.note] if month.note else [],
            "trends": [str(t).strip() for t in trends if str(t).strip()],
            "niche": state.get("niche") or self.settings.niche,
            "platform": state.get("platform") or self.settings.platform,
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
            **prepare_outline(state, month, dates, self.outline is not None),
        }

    def retrieve(self, state: MonthState, config: RunnableConfig) -> dict[str, Any]:
        return retrieve_documents(self.retriever, state, config)

    def fit(self, state: MonthState, config: RunnableConfig) -> dict[str, Any]:
        """Trim retrieved context to ``rag_token_budget``, then halve its budget until the
        largest prompt of the run (every day named) fits each writer; raises
        TokenBudgetError, before any call, when not even one day fits without examples."""
        return fit_examples(self, state, config)

    def plan_chunks(self, state: MonthState) -> dict[str, Any]:
        """Days never asked for go to the main writer; days asked for and still missing go
        to the supplement writer (for exactly those days). Chunks are as large as the
        budget allows, capped by ``speed`` (the days spread over its parallel calls). When
        the budget, not the speed, sets the chunks and the writer has not learned its tokens
        per day, only the first is sent (a probe): the rest are planned from its output."""
        context = {k: state[k] for k in ("month", "trends", "niche", "platform", "examples")}
        context["sources"] = list(state.get("example_sources") or [])
        outline = state.get("outline") or {}
        if self.outline and OutlineStage.active(state):
            tasks = self.outline.tasks(state, context, self.context(context))
            if tasks:  # none left to outline (a resume): the days are written
                return {"planned": tasks, "deferred": [], "rows_before": len(outline)}
        if state.get("outline_only"):
            return {"planned": [], "deferred": []}
        rows = state.get("rows") or {}
        usage = state.get("usage") or []
        missing = [dt.date.fromisoformat(d).day for d in state["dates"] if d not in rows]
        asked = {d for u in usage if u["role"] != "outline" for d in u["days_requested"]}
        groups = {
            "main": [d for d in missing if d not in asked],
            "supplement": [d for d in missing if d in asked],
        }
        if state["first_role"] == "supplement":
            groups = {"main": [], "supplement": missing}
        feedback = latest_rule_breaks(state)
        month = parse_month(state["month"])
        used = already_used(state)
        taken_titles = [title for title, _ in used]
        planned: list[ChunkTask] = []
        deferred: list[list[int]] = []
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
            )
            writer = self.writer(role)
            request = writer.fit_already_used(request)
            speed_cap = chunk_cap_for_speed(len(days), self.settings.speed)
            caps = [c for c in (state["max_days"].get(role), speed_cap) if c]
            chunks = writer.plan(request, max_days=min(caps, default=None))
            by_budget = speed_cap is None or writer.days_per_call(request) < speed_cap
            if len(chunks) > 1 and by_budget and not self._calibrated(role, usage):
                # the budget sets the chunks: send one first to learn tokens per day
                chunks, later = chunks[:1], chunks[1:]
                deferred += later
            planned += [
                ChunkTask(
                    role=role,
                    days=chunk,
                    round=state["round"],
                    tokens_per_day=state["tokens_per_day"][role],
                    reasoning_reserve=state["reasoning_reserve"][role],
                    already_used=[list(u) for u in request.already_used],
                    context=context,
                    taken_titles=taken_titles,
                    feedback={str(d): feedback[d] for d in chunk if d in feedback},
                    outline={
                        str(d): outline[iso]
                        for d in chunk
                        if (iso := month.date_of(d).isoformat()) in outline
                    },
                )
                for chunk in chunks
            ]
        max_calls = state.get("max_calls")
        if max_calls is None:  # the spend cap, set once per run (or resume)
            max_calls = len(usage) + (
                self.settings.max_calls
                or self.writer("main").budget.chunks_needed(len(missing)) + len(missing)
            )
        return {
            "planned": planned[: max(0, max_calls - len(usage))],
            "deferred": deferred,
            "max_calls": max_calls,
            "rows_before": len(rows),
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
        writer = self.writer(task["role"])
        request, day_sources = self.chunk_request(task), []
        if task["role"] != "outline" and not self.cancelled.is_set():
            request, day_sources = with_day_examples(
                request,
                writer,
                self.retriever,
                budget=self.settings.chunk_rag_token_budget,
                given=list(task["context"].get("sources") or []),
                config=config,
            )
        with self._slots:
            if self.cancelled.is_set():
                # No writes: LangGraph saves nothing for this task, so a resume runs it.
                # (Raising here would print executor-shutdown noise as the run stops.)
                logger.debug("interrupted: %s not sent", days_label(task["days"]))
                return {}
            try:
                result = writer.chain.invoke(request, config)
            except KeyboardInterrupt:
                self.cancelled.set()
                raise
            except ContextOverflowError as exc:
                logger.warning(
                    "context overflow for %d days; the next round splits them", len(request.days)
                )
                failed = writer.failed(request, exc)
                return {
                    "usage": [failed.usage.model_dump(mode="json")],
                    "overflows": [
                        {"role": task["role"], "days": task["days"], "round": task["round"]}
                    ],
                }
            except ModelCallError as exc:
                failed = writer.failed(request, exc)
                logger.info(failed.usage.summary())
                return {"usage": [failed.usage.model_dump(mode="json")]}
        if task["role"] == "outline":
            return OutlineStage.written(result, task)
        return rows_written(result, task, writer.rules, request.day_examples, day_sources)

    def merge(self, state: MonthState) -> dict[str, Any]:
        round_no = state["round"]
        rows = state.get("rows") or {}
        usage = state.get("usage") or []
        this_round = [u for u in usage if u["round"] == round_no]
        max_days = dict(state["max_days"])
        shrunk = False
        for overflow in (o for o in state.get("overflows") or [] if o["round"] == round_no):
            shrunk |= self._cap_chunks(
                max_days, overflow["role"], split_days(len(overflow["days"]))
            )
        learned, reserves = dict(state["tokens_per_day"]), dict(state["reasoning_reserve"])
        for role in {u["role"] for u in this_round}:
            mine = [u for u in this_round if u["role"] == role]
            tokens_per_day, reserve = learn_from_round(
                [u for u in usage if u["role"] == role], mine, learned[role], reserves[role]
            )
            if tokens_per_day != learned[role]:
                logger.info("tokens_per_day re-estimated: %d -> %d", learned[role], tokens_per_day)
            writer_budget = self.writer(role).budget
            answer = answer_length_cuts(
                writer_budget.with_tokens_per_day(tokens_per_day).with_reasoning_reserve(reserve),
                mine,
            )
            learned[role], reserves[role] = answer.tokens_per_day, answer.reasoning_reserve
            shrunk |= answer.grew
            for days in answer.split_to:
                shrunk |= self._cap_chunks(max_days, role, days)
        learned_now = {
            "max_days": max_days,
            "tokens_per_day": learned,
            "reasoning_reserve": reserves,
        }
        if self.outline and any(u["role"] == "outline" for u in this_round):
            return {**self.outline.merged(state, shrunk), **learned_now, "round": round_no + 1}
        if state.get("outline_only"):  # the outline was given whole
            return {**learned_now, "round": round_no + 1, "status": "complete"}
        review = review_row_titles(state, self.titles, strict=self.settings.strict)
        rows = {d: r for d, r in rows.items() if d not in review.get("rows", {})}
        progress = len(rows) > state["rows_before"]
        stalled = 0 if progress or shrunk else state["stalled"] + 1
        status: Status = "running"
        if all(d in rows for d in state["dates"]):
            status = "complete"
        elif stalled >= self.settings.max_stalled_rounds:
            status = "stalled"
        elif len(usage) >= state["max_calls"]:
            status = "spend_cap"
        return {
            **review,
            **learned_now,
            "round": round_no + 1,
            "stalled": stalled,
            "status": status,
        }

    def _cap_chunks(self, max_days: dict[str, int], role: str, days: int) -> bool:
        """Cap chunk size for ``role`` (and the other writing role when it shares the model;
        outline lines are a tenth of a reel, so the outline's cap is its own)."""
        changed = False
        model = self.writer(role).model
        for other in [role] if role == "outline" else ROLES:
            if self.writer(other).model is model and days < max_days.get(other, 10**6):
                max_days[other] = days
                changed = True
        return changed

    # ------------------------------------------------------------------ graph
    def graph(self, *, checkpointer: Any = None, interrupt_before: list[str] | None = None):
        """The compiled month graph of this engine (see :mod:`pipeline.generation.graph`)."""
        from pipeline.generation.graph import compile_month_graph

        return compile_month_graph(
            self, checkpointer=checkpointer, interrupt_before=interrupt_before
        )
