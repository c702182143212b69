"""One model call for a chunk of days: prompt -> bind_max_tokens -> model -> parse.

:class:`DayWriter` owns everything about calling one model (main or supplement):
its limits, its tokenizer, its :class:`~pipeline.generation.writing.budget.TokenBudget`, how it is
asked for structured output (a JSON grammar for llama.cpp, a forced tool call for
models with tool calling, pipe-separated rows for the rest), and the retry loop.
Its :attr:`DayWriter.chain` is an LCEL chain whose steps are named as above.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda

from pipeline.calendar import OutlineDay, Role, UsageRecord
from pipeline.config import Settings
from pipeline.errors import ConfigError, ModelCallError
from pipeline.generation.replies.parsing import ParseResult, parse_day_plans
from pipeline.generation.review.rules import ContentRules
from pipeline.generation.writing import prompts
from pipeline.generation.writing.budget import (
    CALIBRATED_TOKENS_PER_DAY,
    GRAMMAR_DAYS_PER_CALL,
    OutputMode,
    TokenBudget,
)
from pipeline.generation.writing.context import MonthContext
from pipeline.generation.writing.copies import copies_format
from pipeline.generation.writing.schema import grammar_schema, tool_schema
from pipeline.models.chat import (
    is_cached_reply,
    model_label,
    model_limits,
    token_counter_for,
)
from pipeline.models.failures import call_with_retries
from pipeline.models.tokens import TokenCounter
from pipeline.models.traits import (
    OLLAMA_OPTIONS,
    finish_reason,
    is_ollama,
    is_openai_compatible_server,
    reply_payload,
    supports_tools,
    thinks_before_tools,
)

logger = logging.getLogger("reelcal")


@dataclass
class ChunkRequest:
    """One call's worth of days, filled in step by step along :attr:`DayWriter.chain`."""

    role: Role
    days: list[int]
    context: MonthContext
    round: int = 0
    already_used: list[tuple[str, str]] = field(default_factory=list)
    #: The writer's learned estimates for this call (the engine keeps them per role).
    tokens_per_day: int | None = None
    reasoning_reserve: int | None = None
    #: day -> why its last version was not kept (the content rules), shown to the model
    feedback: dict[int, list[str]] = field(default_factory=dict)
    #: the month outline's lines of these days (write calls), empty without an outline
    outline: list[OutlineDay] = field(default_factory=list)
    #: examples retrieved for these days' outline lines (after the shared prefix)
    day_examples: str = ""
    #: the reply room this request must leave (0: none asked): a day asked again after its
    #: one-day reply was cut is asked with more room than it had (the prompt gives way)
    reply_tokens: int = 0
    #: copies calls: the posts' rows (number -> DayPlan JSON) and the platforms to write
    posts: dict[int, dict[str, Any]] = field(default_factory=dict)
    wanted: dict[int, list[str]] = field(default_factory=dict)
    messages: list[BaseMessage] = field(default_factory=list)
    prompt_tokens: int = 0
    max_tokens: int = 0

    @property
    def copies(self) -> tuple[str, ...]:
        """The platforms after the primary: each post asked for has a copy for each."""
        return tuple(self.context.platforms[1:])

    def post_keys(self) -> list[str]:
        """The keys (local date-times) of the posts asked for."""
        schedule = self.context.schedule
        return [schedule.key_of(n) for n in self.days if 1 <= n <= schedule.count]


@dataclass
class ChunkResult:
    request: ChunkRequest
    plans: list[Any]  # DayPlan rows (OutlineDay lines for the outline writer)
    usage: UsageRecord
    parse: ParseResult | None = None
    error: Exception | None = None
    reply_tokens: int = 0


class DayWriter:
    """Calls one model for chunks of days, within its limits.

    Example:
        .. code-block:: python

            writer = DayWriter(model, settings, role="main")
            writer.budget.chunk_days(list(range(1, 32)), prompt_tokens=3000)
            result = writer.chain.invoke(ChunkRequest("main", [1, 2, 3], context))
    """

    #: The tool a tool-calling model is made to call, and the most days one local grammar
    #: call writes (subclasses that write other rows, like the outline, set their own).
    tool_name = "calendar_days"
    tool_description = "The reels for the requested days."
    grammar_days_per_call = GRAMMAR_DAYS_PER_CALL
    #: Whether its prompts carry the retrieved examples (its rows then list their ids).
    grounded = True

    def __init__(
        self,
        model: BaseChatModel,
        settings: Settings,
        *,
        role: Role,
        library: prompts.PromptLibrary | None = None,
    ) -> None:
        self.model = model
        self.settings = settings
        self.role = role
        self.label = model_label(model)
        self.limits = model_limits(model, settings)
        self.counter: TokenCounter = token_counter_for(model)
        self.library = library or prompts.load_library()
        self.mode: OutputMode = self._choose_mode()
        self.rules = self.content_rules()
        margin = settings.safety_margin if role == "main" else settings.supplement_safety_margin
        self.budget = TokenBudget(
            context_window=self.limits.context_window,
            max_output_tokens=self.limits.max_output_tokens,
            safety_margin=margin,
            tokens_per_day=self.starting_tokens_per_day(),
            reasoning_reserve=settings.reasoning_reserve if self.limits.reasoning else 0,
            least_tokens_per_day=self.starting_tokens_per_day(),
        )
        self.chain: Runnable[ChunkRequest, ChunkResult] = (
            RunnableLambda(self._render, name="prompt")
            | RunnableLambda(self._bind_max_tokens, name="bind_max_tokens")
            | RunnableLambda(self._call, name="model")
            | RunnableLambda(self._parse, name="parse")
        ).with_config(run_name=role)

    # ------------------------------------------------------------------ planning
    def starting_tokens_per_day(self) -> int:
        """Tokens a day takes before any is learned: ``tokens_per_day`` or the calibrated
        figure of the output mode."""
        return self.settings.tokens_per_day or CALIBRATED_TOKENS_PER_DAY[self.mode]

    def content_rules(self) -> ContentRules:
        """The content rules this writer's rows are held to (the local grammar's profile
        writes shorter scripts)."""
        return ContentRules.from_settings(self.settings, local=self.mode == "grammar")

    @property
    def one_post_at_a_time(self) -> bool:
        """Local models write a few posts a call (:attr:`grammar_days_per_call`)."""
        return self.mode in ("grammar", "prose")

    @property
    def days_cap(self) -> int | None:
        """The most posts one call asks for whatever the budget allows (None: no cap)."""
        return self.grammar_days_per_call if self.one_post_at_a_time else None

    def _choose_mode(self) -> OutputMode:
        if self.settings.structured_output == "off":
            return "rows"
        if getattr(self.model, "model_path", None) and getattr(self.model, "client", None):
            return "grammar"
        if supports_tools(self.model):
            return "json_text" if thinks_before_tools(self.model) else "tools"
        if self.settings.structured_output == "on":
            raise ConfigError(
                f"structured_output is 'on' but {self.label} has neither a llama.cpp grammar "
                f"nor tool calling: set structured_output to 'auto' (pipe rows) or use a "
                f"model that calls tools."
            )
        return "rows"

    def month_values(self, request: ChunkRequest) -> dict[str, Any]:
        """The prompt values every writer's template shares: the month, niche, trends,
        special dates of the days, the days asked for and why some were not kept."""
        ctx = request.context
        schedule = ctx.schedule
        return {
            "platform": ctx.platform,
            "niche": prompts.quoted(ctx.niche),
            "month_name": schedule.name,
            "span_heading": "Month" if schedule.kind == "month" else "Dates",
            "post_word": schedule.noun,
            "trends": prompts.quoted_list(ctx.trends, empty="- (none given: use evergreen topics)"),
            "special_dates": prompts.special_dates_section(
                ctx.special_dates, schedule, request.days
            ),
            "days_label": schedule.label(request.days),
            "day_count": len(request.days),
            "feedback": prompts.feedback_section(request.feedback, name=schedule.short_name),
        }

    def render_messages(self, request: ChunkRequest) -> list[BaseMessage]:
        ctx = request.context
        fmt = "rows" if self.mode == "rows" else "json"
        values = self.month_values(request) | {
            "mentor_patterns": self.library.render_patterns(),
            "mentors": self.library.render_mentors(),
            "examples": ctx.examples or "(no examples retrieved)",
            "output_format": self.library.output_format(fmt, request.days, ctx.schedule)
            + (copies_format(request.copies) if fmt == "json" else ""),
            "content_rules": self.rules_for(request).prompt_text(),
            "outline": prompts.outline_section(request.outline, ctx.schedule),
            "day_examples": prompts.day_examples_section(request.day_examples),
        }
        if request.role == "supplement":
            values["already_used"] = prompts.already_used(request.already_used)
        return self.library.chat_prompt(request.role).format_messages(**values)

    def prompt_tokens(self, request: ChunkRequest) -> int:
        """Tokens of everything sent: the messages and the tool schema bound to the call."""
        return self.counter.count_messages(self.render_messages(request)) + self.schema_tokens(
            request
        )

    def tool(self, request: ChunkRequest) -> dict[str, Any]:
        """The tool a tool-calling model is made to call, in OpenAI's format: the same for
        every chunk of a run, except on OpenAI-compatible servers, which get the days pinned
        (see :func:`~pipeline.generation.writing.schema.tool_schema`)."""
        pinned = request.days if is_openai_compatible_server(self.model) else None
        return {
            "type": "function",
            "function": {
                "name": self.tool_name,
                "description": self.tool_description,
                "parameters": self.tool_parameters(
                    pinned,
                    self.copies_asked(request),
                    hashtag_max=min(8, self.rules_for(request).hashtags[1]),
                ),
            },
        }

    def tool_parameters(
        self, days: Sequence[int] | None, copies: Sequence[str] = (), *, hashtag_max: int = 8
    ) -> dict[str, Any]:
        """The tool's JSON schema (``days`` pinned, or None for one schema for every
        chunk; ``copies``: the platforms each post has a copy for; ``hashtag_max``: the
        most hashtags the rules keep)."""
        return tool_schema(days, copies, hashtag_max=hashtag_max)

    def rules_for(self, request: ChunkRequest) -> ContentRules:
        """The content rules of a request: the settings' within its primary platform's limits."""
        return self.rules.for_platform(request.context.platforms[0])

    def copies_asked(self, request: ChunkRequest) -> tuple[str, ...]:
        """The platforms whose copies this call writes with each post (none in pipe rows:
        those are asked for by copies calls)."""
        return request.copies if self.mode != "rows" else ()

    def grammar(self, request: ChunkRequest) -> dict[str, Any]:
        """The JSON schema llama.cpp's grammar holds a local model's reply to."""
        return grammar_schema(
            request.days, words=self.rules.grammar_words(), copies=self.copies_asked(request)
        )

    def schema_tokens(self, request: ChunkRequest) -> int:
        """Tokens of the tool schema sent with a call (0 outside tool mode): providers count
        it toward the window although chat-message counters do not see it."""
        if self.mode != "tools":
            return 0
        return self.counter.count(json.dumps(self.tool(request)))

    def budget_for(self, request: ChunkRequest) -> TokenBudget:
        """The budget with the request's learned estimates (when it carries them)."""
        budget = self.budget
        if request.tokens_per_day is not None:
            budget = budget.with_tokens_per_day(request.tokens_per_day)
        if request.reasoning_reserve is not None:
            budget = budget.with_reasoning_reserve(request.reasoning_reserve)
        return budget

    def plan(self, request: ChunkRequest, *, max_days: int | None = None) -> list[list[int]]:
        """Split ``request.days`` into chunks that each fit, sized on the largest prompt
        (the one naming every day); raises TokenBudgetError when one day cannot fit.

        ``max_days`` caps a chunk (the engine lowers it after a context overflow); the
        local grammar mode caps it at :data:`~pipeline.generation.writing.budget.GRAMMAR_DAYS_PER_CALL`.
        """
        caps = [c for c in (max_days, self.days_cap) if c is not None]
        return self.budget_for(request).chunk_days(
            request.days, self.prompt_tokens(request), max_days=min(caps) if caps else None
        )

    def days_per_call(self, request: ChunkRequest) -> int:
        """The most days one call can ask for, sized on the largest prompt (0 when it
        leaves less than the request's ``reply_tokens``)."""
        budget, prompt_tokens = self.budget_for(request), self.prompt_tokens(request)
        if request.reply_tokens and budget.output_cap(prompt_tokens) < request.reply_tokens:
            return 0
        per_call = budget.days_per_call(prompt_tokens)
        return min(per_call, self.days_cap) if self.days_cap else per_call

    def prepare_call(self, request: ChunkRequest) -> ChunkRequest:
        """The chain's first two steps (prompt, bind_max_tokens), with no model call."""
        return self._bind_max_tokens(self._render(request))

    # ------------------------------------------------------------------ chain steps
    def _render(self, request: ChunkRequest) -> ChunkRequest:
        return replace(request, messages=self.render_messages(request))

    def _bind_max_tokens(self, request: ChunkRequest) -> ChunkRequest:
        prompt_tokens = self.counter.count_messages(request.messages) + self.schema_tokens(request)
        max_tokens = self.budget_for(request).max_tokens(prompt_tokens, len(request.days))
        return replace(request, prompt_tokens=prompt_tokens, max_tokens=max_tokens)

    def output_limit(self, request: ChunkRequest) -> dict[str, Any]:
        """How the model is told the computed max_tokens (and, for Ollama, the window
        reelcal plans with: Ollama silently truncates prompts to its own default)."""
        if is_ollama(self.model):
            options = {
                k: getattr(self.model, k)
                for k in OLLAMA_OPTIONS
                if getattr(self.model, k, None) is not None
            }
            return {
                "options": {
                    **options,
                    "num_ctx": self.limits.context_window,
                    "num_predict": request.max_tokens,
                }
            }
        if is_openai_compatible_server(self.model):
            extra = {**(self.model.extra_body or {}), "max_tokens": request.max_tokens}
            return {"max_tokens": request.max_tokens, "extra_body": extra}
        return {"max_tokens": request.max_tokens}

    def _bound_model(self, request: ChunkRequest) -> Runnable:
        limit = self.output_limit(request)
        if self.mode == "grammar":
            schema = self.grammar(request)
            return self.model.bind(
                **limit, response_format={"type": "json_object", "schema": schema}
            )
        if self.mode == "tools":
            tool = self.tool(request)
            # bind_tools first, then max_tokens: the other order drops max_tokens
            return self.model.bind_tools([tool], tool_choice=self.tool_name).bind(**limit)
        return self.model.bind(**limit)

    def _call(self, request: ChunkRequest, config: RunnableConfig) -> tuple[ChunkRequest, Any]:
        """Invoke the model; transient errors are retried (see :mod:`pipeline.models.failures`).

        Raises ``ContextOverflowError`` (the engine splits the chunk) or
        :class:`~pipeline.errors.ModelCallError` (recorded as a failed call).
        """
        bound = self._bound_model(request)
        started = time.perf_counter()
        message = call_with_retries(
            lambda: bound.invoke(request.messages, config),
            max_retries=self.settings.max_retries,
            describe=f"{self.role} call for {request.context.schedule.short_label(request.days)}",
        )
        return request, (message, time.perf_counter() - started)

    def _parse(self, called: tuple[ChunkRequest, tuple[AIMessage, float]]) -> ChunkResult:
        request, (message, seconds) = called
        reply, text = reply_payload(message)
        finish = finish_reason(message)
        plans, parsed = self.parse_reply(reply, request, finish)
        usage_meta = getattr(message, "usage_metadata", None) or {}
        reply_tokens = usage_meta.get("output_tokens") or self.counter.count(text)
        if not plans and finish != "length" and reply_tokens >= request.max_tokens:
            # the reply ran to max_tokens: a cut, whatever reason the server reports
            # (llama.cpp's server says "tool_calls"), so the engine grows or splits it
            finish = "length"
        usage = self.usage_record(
            request,
            input_tokens=usage_meta.get("input_tokens"),
            output_tokens=usage_meta.get("output_tokens"),
            reasoning_tokens=(usage_meta.get("output_token_details") or {}).get("reasoning"),
            finish_reason=finish,
            days_parsed=len(plans),
            rows_rejected=len(parsed.rejected) if parsed else 0,
            seconds=round(seconds, 2),
            cached=is_cached_reply(message),
        )
        return ChunkResult(request, plans, usage, parse=parsed, reply_tokens=reply_tokens)

    def parse_reply(
        self, reply: Any, request: ChunkRequest, finish: str | None
    ) -> tuple[list[Any], ParseResult | None]:
        """The rows of the requested days in ``reply`` (and the parser's full result)."""
        parsed = parse_day_plans(
            reply,
            schedule=request.context.schedule,
            requested_days=request.days,
            finish_reason=finish,
            copies=self.copies_asked(request),
        )
        return parsed.plans, parsed

    def usage_record(self, request: ChunkRequest, **reported: Any) -> UsageRecord:
        """The usage record of a call for ``request``: what was asked, and ``reported``."""
        return UsageRecord(
            role=request.role,
            model=self.label,
            days_requested=request.days,
            posts_requested=request.post_keys(),
            prompt_tokens=request.prompt_tokens,
            max_tokens=request.max_tokens,
            round=request.round,
            **reported,
        )

    def failed(self, request: ChunkRequest, exc: Exception) -> ChunkResult:
        """The record of a call that raised (nothing parsed, the error kept)."""
        usage = self.usage_record(
            request,
            error=(str(exc) if isinstance(exc, ModelCallError) else f"{type(exc).__name__}: {exc}")[
                :300
            ],
        )
        return ChunkResult(request, [], usage, error=exc)
