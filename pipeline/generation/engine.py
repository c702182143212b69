"""The month engine: a LangGraph ``StateGraph`` that loops until the calendar is complete.

::

    prepare -> retrieve -> fit -> plan_chunks -> write (one Send per chunk) -> merge
                                       ^                                          |
                                       '------------ days still missing ----------'

- **prepare**: read the month and the days wanted (the whole month, or chosen days).
- **retrieve** / **fit**: mentor examples, trimmed to ``rag_token_budget`` and then further
  until the largest prompt of the run fits (nothing is sent that cannot fit).
- **plan_chunks**: split the days still missing into chunks that fit the writer's budget.
- **write**: one LCEL chain call per chunk (prompt | bind_max_tokens | model | parse), run
  in parallel with ``Send``. A failed call returns an error record instead of raising (a
  raising task would cancel its siblings); a bug of ours raises.
- **merge**: count progress, learn tokens per day, route: complete -> END; days missing ->
  plan_chunks again; ``max_stalled_rounds`` rounds in a row that add no day, or
  ``max_calls`` calls -> END (the runner raises ``IncompleteCalendarError``).

State is plain JSON (no pydantic objects), so a checkpointer can persist it and another
process can read it: rows are keyed by ISO date, usage records are dicts.

Example:
    .. code-block:: python

        graph = build_calendar_graph(Settings(), model=my_chat_model)
        print(graph.get_graph().draw_mermaid())
        for update in graph.stream({"month": "2026-03", "trends": ["AI agents"]},
                                   stream_mode="updates"):
            print(list(update))
"""

from __future__ import annotations

import datetime as dt
import logging
import operator
import threading
from typing import Annotated, Any, Literal, TypedDict

from langchain_core.documents import Document
from langchain_core.exceptions import ContextOverflowError
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from pipeline.calendar import WriterRole, days_label
from pipeline.config import Settings
from pipeline.dates import parse_month, special_dates
from pipeline.errors import (
    InvalidDaysError,
    InvalidRequestError,
    ModelCallError,
    TokenBudgetError,
)
from pipeline.generation.budget import (
    estimate_reasoning_reserve,
    estimate_tokens_per_day,
    grown_after_length_cut,
    shrink_rag_budget,
    split_days,
)
from pipeline.generation.models import load_chat_model
from pipeline.generation.writer import ChunkRequest, DayWriter, MonthContext

logger = logging.getLogger("reelcal")

Status = Literal["running", "complete", "stalled", "spend_cap"]
ROLES: tuple[WriterRole, ...] = ("main", "supplement")

#: Graph steps per round (plan_chunks, write, merge) and before the first (prepare,
#: retrieve, fit): the recursion limit is set from them and the most rounds a run can take.
STEPS_PER_ROUND = 3
STEPS_BEFORE_LOOP = 3
#: Worker threads of the graph's executor. Model calls are limited separately (by
#: ``max_concurrency``): LangGraph saves each finished task's writes on the same executor,
#: and a pool full of waiting chunks would delay those saves.
GRAPH_THREADS = 48


#: Trends and the niche are short phrases put into every prompt (as data, in a list).
MAX_TREND_CHARS = 200
MAX_TRENDS = 20
MAX_NICHE_CHARS = 500


def check_request_text(trends: list[str], niche: str | None) -> None:
    """Reject trends and niche text that are not short phrases, naming which."""
    if len(trends) > MAX_TRENDS:
        raise InvalidRequestError(
            f"{len(trends)} trends given: use at most {MAX_TRENDS} (the strongest ones)."
        )
    for trend in trends:
        if len(trend) > MAX_TREND_CHARS:
            raise InvalidRequestError(
                f"Trend {trend[:40]!r}... is {len(trend):,} characters: a trend is a short "
                f"phrase of at most {MAX_TREND_CHARS} characters."
            )
    if niche and len(niche) > MAX_NICHE_CHARS:
        raise InvalidRequestError(
            f"The niche {niche[:40]!r}... is {len(niche):,} characters: describe it in at most "
            f"{MAX_NICHE_CHARS}."
        )


def keep_first(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Reducer of ``rows``: a date written once keeps its first row."""
    merged = dict(left or {})
    for key, value in (right or {}).items():
        merged.setdefault(key, value)
    return merged


class MonthState(TypedDict, total=False):
    """The engine's state: plain JSON, checkpointed after every step."""

    # input
    month: str  # any form parse_month reads; "YYYY-MM" after prepare
    trends: list[str]
    niche: str | None
    platform: str | None
    days: list[int] | None  # only these days (regenerate); default: every day
    kept: list[dict[str, Any]]  # rows of an earlier calendar, kept unless rewritten
    kept_usage: list[dict[str, Any]]
    first_role: WriterRole
    # prepare, retrieve, fit
    dates: list[str]  # ISO dates to write
    notes: list[str]
    documents: list[dict[str, Any]]
    examples: str
    # the loop
    rows: Annotated[dict[str, dict[str, Any]], keep_first]  # ISO date -> DayPlan JSON
    usage: Annotated[list[dict[str, Any]], operator.add]  # UsageRecord JSON, as calls end
    overflows: Annotated[list[dict[str, Any]], operator.add]  # {"role", "days", "round"}
    round: int
    planned: list[dict[str, Any]]
    deferred: list[list[int]]  # chunks held back until a probe call has calibrated the writer
    rows_before: int
    stalled: int
    max_calls: int | None
    tokens_per_day: dict[str, int]
    reasoning_reserve: dict[str, int]
    max_days: dict[str, int]
    status: Status


class ChunkTask(TypedDict):
    """What one ``write`` task receives through ``Send`` (plain JSON too)."""

    role: WriterRole
    days: list[int]
    round: int
    tokens_per_day: int
    reasoning_reserve: int
    already_used: list[list[str]]
    context: dict[str, Any]


def _resolve_model(model: BaseChatModel | str, settings: Settings) -> BaseChatModel:
    return load_chat_model(model, settings) if isinstance(model, str) else model


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
        # one llama.cpp context serves one request at a time; hosted models take several
        grammar = "grammar" in (self.main.mode, self.supplement.mode)
        self._slots = threading.BoundedSemaphore(1 if grammar else settings.max_concurrency)
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
        return self.main if role == "main" else self.supplement

    @property
    def recursion_limit(self) -> int:
        """Enough steps for the most rounds a run can take (each round makes a call)."""
        most_calls = self.settings.max_calls or 2 * 31
        return STEPS_BEFORE_LOOP + STEPS_PER_ROUND * (most_calls + 1) + 10

    def context(self, data: dict[str, Any]) -> MonthContext:
        month = parse_month(data["month"])
        return MonthContext(
            month=month,
            trends=list(data.get("trends") or []),
            niche=data["niche"],
            platform=data["platform"],
            special_dates=special_dates(
                month,
                country=self.settings.country,
                subdivision=self.settings.subdivision,
                awareness_file=self.settings.awareness_file,
            ),
            examples=data.get("examples", ""),
        )

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
        return {
            "month": month.key,
            "dates": [month.date_of(d).isoformat() for d in wanted],
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
            "tokens_per_day": {r: self.writer(r).budget.tokens_per_day for r in ROLES},
            "reasoning_reserve": {r: self.writer(r).budget.reasoning_reserve for r in ROLES},
            "max_days": {},
        }

    def retrieve(self, state: MonthState, config: RunnableConfig) -> dict[str, Any]:
        query = {
            "month": parse_month(state["month"]),
            "trends": state["trends"],
            "niche": state["niche"],
            "platform": state["platform"],
        }
        documents = self.retriever.with_config(run_name="retrieve").invoke(query, config)
        return {
            "documents": [
                {"page_content": d.page_content, "metadata": dict(d.metadata)} for d in documents
            ]
        }

    def fit(self, state: MonthState, config: RunnableConfig) -> dict[str, Any]:
        """Trim retrieved context to ``rag_token_budget``, then halve its budget until the
        largest prompt of the run (every day named) fits each writer; raises
        TokenBudgetError, before any call, when not even one day fits without examples."""
        from pipeline.knowledge.retriever import format_documents
        from pipeline.knowledge.trimming import TokenBudgetTrimmer

        documents = [Document(**d) for d in state.get("documents") or []]
        days = [dt.date.fromisoformat(d).day for d in state["dates"]]
        roles = ["main", "supplement"] if state["first_role"] == "main" else ["supplement"]
        budget = self.settings.rag_token_budget
        while True:
            trimmer = TokenBudgetTrimmer(budget=budget, counter=self.main.counter)
            kept = trimmer.as_runnable().invoke(documents, config) if budget else []
            context = self.context({**state, "examples": format_documents(kept)})
            try:
                for role in roles:
                    writer = self.writer(role)
                    writer.plan(
                        ChunkRequest(
                            role,
                            days,
                            context,
                            tokens_per_day=state["tokens_per_day"][role],
                            reasoning_reserve=state["reasoning_reserve"][role],
                        )
                    )
                return {"examples": context.examples}
            except TokenBudgetError:
                if not kept:
                    raise
                budget = shrink_rag_budget(budget)
                logger.warning("prompt too large: retrieved context trimmed to %d tokens", budget)

    def plan_chunks(self, state: MonthState) -> dict[str, Any]:
        """Days never asked for go to the main writer; days asked for and still missing go
        to the supplement writer (for exactly those days). Before a writer has learned its
        tokens per day, only its first chunk is sent (a probe): the rest are planned from
        what it really wrote, which keeps the calls near the fewest the output needs."""
        rows = state.get("rows") or {}
        usage = state.get("usage") or []
        missing = [dt.date.fromisoformat(d).day for d in state["dates"] if d not in rows]
        asked = {d for u in usage for d in u["days_requested"]}
        groups = {
            "main": [d for d in missing if d not in asked],
            "supplement": [d for d in missing if d in asked],
        }
        if state["first_role"] == "supplement":
            groups = {"main": [], "supplement": missing}
        context = {k: state[k] for k in ("month", "trends", "niche", "platform", "examples")}
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
                already_used=_already_used(state) if role == "supplement" else [],
                tokens_per_day=state["tokens_per_day"][role],
                reasoning_reserve=state["reasoning_reserve"][role],
            )
            request = self.writer(role).fit_already_used(request)
            chunks = self.writer(role).plan(request, max_days=state["max_days"].get(role))
            if len(chunks) > 1 and not self._calibrated(role, usage):
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
        )

    def write(self, task: ChunkTask, config: RunnableConfig) -> dict[str, Any]:
        writer = self.writer(task["role"])
        request = self.chunk_request(task)
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
        logger.info(result.usage.summary())
        return {
            "rows": {plan.date.isoformat(): plan.model_dump(mode="json") for plan in result.plans},
            "usage": [result.usage.model_dump(mode="json")],
        }

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
            learned[role], reserves[role] = self._learn(
                [u for u in usage if u["role"] == role],
                [u for u in this_round if u["role"] == role],
                learned[role],
                reserves[role],
            )
            shrunk |= self._after_length_cuts(role, this_round, learned, reserves, max_days)
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
            "round": round_no + 1,
            "stalled": stalled,
            "max_days": max_days,
            "tokens_per_day": learned,
            "reasoning_reserve": reserves,
            "status": status,
        }

    def _learn(
        self,
        history: list[dict[str, Any]],
        this_round: list[dict[str, Any]],
        tokens_per_day: int,
        reserve: int,
    ) -> tuple[int, int]:
        """tokens_per_day from this round's visible output (reasoning excluded); the
        reasoning reserve from every reasoning count this writer reported."""
        done = [u for u in this_round if u["days_parsed"] and u["output_tokens"]]
        visible = sum(u["output_tokens"] - (u.get("reasoning_tokens") or 0) for u in done)
        new = estimate_tokens_per_day(visible, sum(u["days_parsed"] for u in done), tokens_per_day)
        if new != tokens_per_day:
            logger.info("tokens_per_day re-estimated: %d -> %d", tokens_per_day, new)
        reported = [u["reasoning_tokens"] for u in history if u.get("reasoning_tokens")]
        return new, max(reserve, estimate_reasoning_reserve(reported, 0))

    def _after_length_cuts(
        self,
        role: str,
        this_round: list[dict[str, Any]],
        learned: dict[str, int],
        reserves: dict[str, int],
        max_days: dict[str, int],
    ) -> bool:
        """A reply cut by max_tokens with nothing parsed is never sent again unchanged:
        grow max_tokens within the limits, else split the chunk, else stop (the error
        names the numbers). Returns True when the next round will ask differently."""
        changed = False
        writer = self.writer(role)
        for cut in (
            u
            for u in this_round
            if u["role"] == role
            and u["finish_reason"] == "length"
            and not u["days_parsed"]
            and not u["error"]
        ):
            days, prompt = len(cut["days_requested"]), cut["prompt_tokens"]
            reasoning = bool(reserves[role] or cut.get("reasoning_tokens"))
            budget = writer.budget.with_tokens_per_day(learned[role]).with_reasoning_reserve(
                reserves[role]
            )
            grown = grown_after_length_cut(
                budget,
                prompt_tokens=prompt,
                days=days,
                max_tokens_sent=cut["max_tokens"],
                reasoning=reasoning,
            )
            if grown is not None:
                learned[role] = max(learned[role], grown.tokens_per_day)
                reserves[role] = max(reserves[role], grown.reasoning_reserve)
                changed = True
            elif days > 1:
                changed |= self._cap_chunks(max_days, role, split_days(days))
            else:
                raise budget.cut_reply_error(prompt, cut["max_tokens"], reasoning=reasoning)
        return changed

    def _cap_chunks(self, max_days: dict[str, int], role: str, days: int) -> bool:
        """Cap chunk size for ``role`` (and the other role when it shares the model)."""
        changed = False
        model = self.writer(role).model
        for other in ROLES:
            if self.writer(other).model is model and days < max_days.get(other, 10**6):
                max_days[other] = days
                changed = True
        return changed

    # ------------------------------------------------------------------ edges
    @staticmethod
    def dispatch(state: MonthState) -> list[Send] | str:
        """One ``write`` per planned chunk (straight to ``merge`` when none is left)."""
        return [Send("write", task) for task in state["planned"]] or "merge"

    @staticmethod
    def route(state: MonthState) -> str:
        return "plan_chunks" if state["status"] == "running" else END

    # ------------------------------------------------------------------ graph
    def graph(self, *, checkpointer: Any = None, interrupt_before: list[str] | None = None):
        """The compiled graph, with its own recursion limit."""
        builder = StateGraph(MonthState)
        builder.add_node("prepare", self.prepare)
        builder.add_node("retrieve", self.retrieve)
        builder.add_node("fit", self.fit)
        builder.add_node("plan_chunks", self.plan_chunks)
        builder.add_node("write", self.write)
        builder.add_node("merge", self.merge)
        builder.add_edge(START, "prepare")
        builder.add_edge("prepare", "retrieve")
        builder.add_edge("retrieve", "fit")
        builder.add_edge("fit", "plan_chunks")
        builder.add_conditional_edges("plan_chunks", self.dispatch, ["write", "merge"])
        builder.add_edge("write", "merge")
        builder.add_conditional_edges("merge", self.route, ["plan_chunks", END])
        graph = builder.compile(
            checkpointer=checkpointer, interrupt_before=interrupt_before, name="reelcal_calendar"
        )
        return graph.with_config(
            recursion_limit=self.recursion_limit, max_concurrency=GRAPH_THREADS
        )


def _already_used(state: MonthState) -> list[tuple[str, str]]:
    """Titles and hooks of the days written or kept, oldest first (the supplement prompt
    lists them so that new days do not repeat them)."""
    rows = state.get("rows") or {}
    rewriting = set(state["dates"])
    kept = [r for r in state.get("kept") or [] if r["date"] not in rewriting]
    ordered = sorted([*kept, *rows.values()], key=lambda r: r["date"])
    return [(r["title"], r["hook"]) for r in ordered]


def build_calendar_graph(
    settings: Settings | None = None,
    model: BaseChatModel | str | None = None,
    *,
    supplement_model: BaseChatModel | str | None = None,
    retriever: Runnable[Any, list[Document]] | None = None,
    checkpointer: Any = None,
):
    """The month engine as a compiled LangGraph graph (input: ``{"month", "trends",
    "niche"?}``; output: the final :class:`MonthState`). ``build_calendar_chain`` wraps
    it into a Runnable that returns a :class:`~pipeline.calendar.Calendar`.

    Example:
        .. code-block:: python

            graph = build_calendar_graph(Settings(), model="openai:gpt-4o")
            graph.get_graph().draw_mermaid()
    """
    engine = CalendarEngine(
        settings or Settings.load(),
        model=model,
        supplement_model=supplement_model,
        retriever=retriever,
    )
    return engine.graph(checkpointer=checkpointer)
