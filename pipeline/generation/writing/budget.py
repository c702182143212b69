"""Token budget arithmetic: every formula that decides how many tokens a call may
ask for, and how many days fit one call.

The rules, in plain sight (all numbers are tokens)::

    margin        = min(safety_margin, margin_fraction * context_window)
    available     = context_window - prompt_tokens - margin
    output_cap    = min(available, max_output_tokens)
    days_per_call = (output_cap - reasoning_reserve) // tokens_per_day
    max_tokens    = min(available, max_output_tokens,
                        reasoning_reserve + days * tokens_per_day)
    chunk         = min(days_per_call, ceil(days_missing / parallel_calls))   # speed

``prompt_tokens`` is everything sent: the messages and the tool schema bound to the call.
``reasoning_reserve`` is 0 for models that do not reason; reasoning models (o-series,
gpt-5) spend hidden tokens inside ``max_tokens``, so the reserve is kept for them and
learned from the reasoning tokens they report (:func:`estimate_reasoning_reserve`).
``safety_margin`` defaults to 2000 for main calls and 1000 for supplement calls, the
figures that suit 128k windows; ``margin_fraction`` (10%) scales the margin down for
small windows, so a 4,096-token window keeps 409 tokens free instead of 2000.

The engine's other token rules live here too: the calibrated ``tokens_per_day`` per
output mode, re-estimation from reported usage, how a chunk shrinks after a context
overflow or a reply cut with nothing parsed, how retrieved context shrinks until the
largest prompt fits, and how ``speed`` trades calls for wall time (``parallel_calls``:
fast 8, balanced 4; economical keeps ``days_per_call``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pipeline.errors import TokenBudgetError

#: How a writer asks for structured days: a llama.cpp JSON grammar, a forced tool call,
#: JSON in the reply text (models that cannot force a tool), or pipe-separated rows.
OutputMode = Literal["grammar", "tools", "json_text", "rows", "prose"]

MARGIN_FRACTION = 0.10
#: Headroom added to the observed tokens per day (and reasoning tokens) when re-estimating.
ESTIMATE_HEADROOM = 1.15
#: Starting tokens_per_day per output mode, from the rows of real runs plus headroom:
#: pipe rows ~310 tokens a day, JSON/tool arguments ~350 (keys and quotes), the local
#: grammar ~390 (2-day calls of the bundled model averaged 700-800 output tokens).
CALIBRATED_TOKENS_PER_DAY: dict[OutputMode, int] = {
    "rows": 360,
    "tools": 400,
    "json_text": 400,
    "grammar": 450,
}
#: Days per call when the bundled local model writes under a JSON grammar: sampling under
#: a grammar of many pinned days got much slower than the same tokens in short calls
#: (2 days: about 45 s; 8 days: not done after 7 minutes, 2 cores), and the shared prompt
#: prefix makes the extra calls cheap (about 2 s each).
GRAMMAR_DAYS_PER_CALL = 2
#: ``speed`` -> model calls at once, and so how many chunks the days of a round are
#: spread over (economical: as few chunks as fit, sent two at a time).
Speed = Literal["fast", "balanced", "economical"]
PARALLEL_CALLS: dict[str, int] = {"fast": 8, "balanced": 4, "economical": 2}
#: Below this many tokens, retrieved context is dropped rather than halved again.
MIN_RAG_BUDGET = 50


@dataclass(frozen=True)
class TokenBudget:
    """The limits of one model for one kind of call (main or supplement).

    Example:
        .. code-block:: python

            budget = TokenBudget(context_window=128_000, max_output_tokens=4096,
                                 safety_margin=2000, tokens_per_day=450)
            budget.max_tokens(prompt_tokens=3010, days=31)     # 4096
            budget.chunk_days(list(range(1, 32)), prompt_tokens=3010)
            # [[1..8], [9..16], [17..24], [25..31]]
    """

    context_window: int
    max_output_tokens: int
    safety_margin: int = 2000
    tokens_per_day: int = 450
    margin_fraction: float = MARGIN_FRACTION
    reasoning_reserve: int = 0
    #: One day is still asked for when at least this much room is left, even if a learned
    #: ``tokens_per_day`` is larger (one long reply can raise the estimate above what a
    #: longer prompt leaves); 0: only when ``tokens_per_day`` fits. Writers set it to their
    #: starting estimate.
    least_tokens_per_day: int = 0

    def __post_init__(self) -> None:
        for name in ("context_window", "max_output_tokens", "tokens_per_day"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("safety_margin", "reasoning_reserve"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")

    @property
    def margin(self) -> int:
        """The safety margin, scaled down for small windows."""
        return min(self.safety_margin, int(self.margin_fraction * self.context_window))

    def available(self, prompt_tokens: int) -> int:
        """``context_window - prompt_tokens - margin``; negative when the prompt is too big."""
        return self.context_window - prompt_tokens - self.margin

    def output_cap(self, prompt_tokens: int) -> int:
        """The most a call with this prompt may ask for: ``min(available, max_output_tokens)``."""
        return max(0, min(self.available(prompt_tokens), self.max_output_tokens))

    def days_per_call(self, prompt_tokens: int) -> int:
        """How many days fit one call with this prompt (0 when not even one does):
        ``(output_cap - reasoning_reserve) // tokens_per_day``, and 1 when that is 0 but
        the room is at least ``least_tokens_per_day``."""
        room = max(0, self.output_cap(prompt_tokens) - self.reasoning_reserve)
        days = room // self.tokens_per_day
        if days == 0 and self.least_tokens_per_day and room >= self.least_tokens_per_day:
            return 1
        return days

    def max_tokens(self, prompt_tokens: int, days: int) -> int:
        """``min(available, max_output_tokens, reasoning_reserve + days * tokens_per_day)``.

        Returns 0 for ``days == 0`` (nothing to ask for). Raises
        :class:`TokenBudgetError` when not even one day fits.
        """
        if days < 0:
            raise ValueError(f"days must be >= 0, got {days}")
        if days == 0:
            return 0
        self.check(prompt_tokens)
        return min(
            self.available(prompt_tokens),
            self.max_output_tokens,
            self.reasoning_reserve + days * self.tokens_per_day,
        )

    def input_room(self, prompt_tokens: int, days: int) -> int:
        """Prompt tokens a call for ``days`` could add without lowering its ``max_tokens``:
        ``available - min(max_output_tokens, reasoning_reserve + days * tokens_per_day)``
        (0 when there are none)."""
        wanted = min(self.max_output_tokens, self.reasoning_reserve + days * self.tokens_per_day)
        return max(0, self.available(prompt_tokens) - wanted)

    def check(self, prompt_tokens: int) -> None:
        """Raise :class:`TokenBudgetError` unless at least one day fits."""
        if self.days_per_call(prompt_tokens) >= 1:
            return
        reserve = (
            f" plus a {self.reasoning_reserve:,}-token reasoning reserve"
            if self.reasoning_reserve
            else ""
        )
        raise self.error(
            f"Not even one day fits: a {self.context_window:,}-token window minus a "
            f"{prompt_tokens:,}-token prompt and a {self.margin:,}-token margin leaves "
            f"{self.available(prompt_tokens):,} tokens (output cap "
            f"{self.max_output_tokens:,}), less than tokens_per_day={self.tokens_per_day:,}"
            f"{reserve}: lower rag_token_budget or tokens_per_day"
            f"{', or reasoning_effort' if self.reasoning_reserve else ''}, or use a model "
            f"with a larger context_window.",
            prompt_tokens,
        )

    def cut_reply_reason(self, prompt_tokens: int, max_tokens_sent: int, *, reasoning: bool) -> str:
        """Why a day is not asked for again after its one-day reply was cut with nothing
        parsed and no budget can ask for more (see :func:`grown_after_length_cut`)."""
        reserve = f", reasoning reserve {self.reasoning_reserve:,}" if reasoning else ""
        return (
            f"its one-day reply was cut at max_tokens={max_tokens_sent:,} with nothing parsed, "
            f"and the call cannot ask for more (a {self.context_window:,}-token window, a "
            f"{prompt_tokens:,}-token prompt, output cap {self.max_output_tokens:,}{reserve}): "
            f"lower rag_token_budget{' or reasoning_effort' if reasoning else ''}, or resume "
            f"with a model with larger limits"
        )

    def error(self, message: str, prompt_tokens: int) -> TokenBudgetError:
        """A :class:`TokenBudgetError` carrying this budget's numbers."""
        return TokenBudgetError(
            message,
            context_window=self.context_window,
            prompt_tokens=prompt_tokens,
            safety_margin=self.margin,
            max_output_tokens=self.max_output_tokens,
            tokens_per_day=self.tokens_per_day,
        )

    def chunk_days(
        self, days: list[int], prompt_tokens: int, *, max_days: int | None = None
    ) -> list[list[int]]:
        """Split ``days`` into as few chunks as fit (at most ``max_days`` each), of
        near-equal size, in order.

        ``prompt_tokens`` should be the largest prompt any chunk will send.
        """
        if not days:
            return []
        self.check(prompt_tokens)
        per_call = self.days_per_call(prompt_tokens)
        if max_days is not None:
            per_call = max(1, min(per_call, max_days))
        n_chunks = math.ceil(len(days) / per_call)
        size, extra = divmod(len(days), n_chunks)
        chunks, start = [], 0
        for i in range(n_chunks):
            end = start + size + (1 if i < extra else 0)
            chunks.append(list(days[start:end]))
            start = end
        return chunks

    def chunks_needed(
        self, days: int, prompt_tokens: int = 0, *, max_days: int | None = None
    ) -> int:
        """Calls needed for ``days`` at the current estimate, at most ``max_days`` a call
        (1 when nothing fits)."""
        per_call = self.days_per_call(prompt_tokens) or 1
        per_call = min(per_call, max_days) if max_days else per_call
        return max(1, math.ceil(days / per_call))

    def with_tokens_per_day(self, tokens_per_day: int) -> TokenBudget:
        return replace(self, tokens_per_day=max(1, tokens_per_day))

    def with_reasoning_reserve(self, reasoning_reserve: int) -> TokenBudget:
        return replace(self, reasoning_reserve=max(0, reasoning_reserve))

    def can_grow(self, prompt_tokens: int, max_tokens: int) -> bool:
        """Whether a call could ask for more than ``max_tokens`` with this prompt."""
        return self.output_cap(prompt_tokens) > max_tokens


def estimate_reasoning_reserve(reasoning_tokens: list[int], previous: int) -> int:
    """The reserve for hidden reasoning: the most a call of this writer reported, plus 15%
    (``previous`` when no call reported any)."""
    if not reasoning_tokens:
        return previous
    return math.ceil(max(reasoning_tokens) * ESTIMATE_HEADROOM)


def grown_after_length_cut(
    budget: TokenBudget, *, prompt_tokens: int, days: int, max_tokens_sent: int, reasoning: bool
) -> TokenBudget | None:
    """The budget for asking again for the days of a reply cut by ``max_tokens`` with
    nothing parsed, or None when no budget can ask for more than ``max_tokens_sent``
    (then the chunk splits, or, for one day, the run stops).

    A reasoning model doubles its reasoning reserve (at least 1,024; the reasoning ate
    the budget); any other model doubles tokens_per_day. Both stay within
    ``output_cap(prompt_tokens)``, the reserve leaving room for one day.
    """
    room = budget.output_cap(prompt_tokens)
    tokens_per_day, reserve = budget.tokens_per_day, budget.reasoning_reserve
    if reasoning:
        reserve = min(max(2 * reserve, 1024), max(0, room - tokens_per_day))
    else:
        tokens_per_day = min(2 * tokens_per_day, max(1, room - reserve))
    grown = replace(budget, tokens_per_day=tokens_per_day, reasoning_reserve=reserve)
    if min(room, reserve + days * tokens_per_day) <= max_tokens_sent:
        return None
    return grown


def split_days(days_in_chunk: int) -> int:
    """The largest chunk after a context overflow or a cut reply that cannot grow: half."""
    return max(1, days_in_chunk // 2)


def shrink_rag_budget(budget: int) -> int:
    """The next retrieved-context budget when the largest prompt does not fit: half,
    and 0 (no examples) below :data:`MIN_RAG_BUDGET`."""
    half = budget // 2
    return half if half >= MIN_RAG_BUDGET else 0


def estimate_tokens_per_day(output_tokens: int, days_parsed: int, previous: int) -> int:
    """Re-estimate tokens per day from a call's output: observed average plus 15%.

    Keeps ``previous`` when nothing was parsed (no evidence).
    """
    if days_parsed <= 0 or output_tokens <= 0:
        return previous
    return math.ceil(output_tokens / days_parsed * ESTIMATE_HEADROOM)


def learn_from_round(
    history: list[dict[str, Any]],
    this_round: list[dict[str, Any]],
    tokens_per_day: int,
    reasoning_reserve: int,
) -> tuple[int, int]:
    """A writer's ``(tokens_per_day, reasoning_reserve)`` after a round of calls.

    ``tokens_per_day`` from the visible output of every reply of the writer's model
    (``history``, this round's included) that ended by itself, reasoning excluded (see
    :func:`estimate_tokens_per_day`): the whole history, so one short or long reply does
    not swing it, and no reply cut by ``max_tokens`` (it holds part of a day more than it
    parsed, and would ratchet the estimate up). ``this_round`` without such a reply keeps
    ``tokens_per_day``. The reserve comes from every reasoning count the writer reported,
    never lowered. Records are ``UsageRecord`` dicts.
    """

    def ended(u: dict[str, Any]) -> bool:
        return bool(u["days_parsed"] and u["output_tokens"] and u["finish_reason"] != "length")

    learned = tokens_per_day
    if any(ended(u) for u in this_round):
        done = [u for u in history if ended(u)]
        visible = sum(u["output_tokens"] - (u.get("reasoning_tokens") or 0) for u in done)
        learned = estimate_tokens_per_day(visible, sum(u["days_parsed"] for u in done), learned)
    reported = [u["reasoning_tokens"] for u in history if u.get("reasoning_tokens")]
    return learned, max(reasoning_reserve, estimate_reasoning_reserve(reported, 0))


@dataclass(frozen=True)
class LengthCutAnswer:
    """What to do after replies cut by ``max_tokens`` with nothing parsed: ask with these
    figures (``grew``: at least one cut can be asked again with more room), split
    chunks to ``split_to`` days where a cut could not grow, and stop asking for the days
    in ``not_asked`` (a one-day reply that could not grow)."""

    tokens_per_day: int
    reasoning_reserve: int
    grew: bool = False
    split_to: tuple[int, ...] = ()
    #: day -> why: a one-day reply cut at the most the call can ask for (the day is not
    #: asked for again on this model; the other days go on)
    not_asked: dict[int, str] = field(default_factory=dict)


def answer_length_cuts(budget: TokenBudget, this_round: list[dict[str, Any]]) -> LengthCutAnswer:
    """Never send a cut reply's request again unchanged: grow (:func:`grown_after_length_cut`),
    else split the chunk (:func:`split_days`), else, for one day, name it in
    ``not_asked`` with the numbers (after a paid call no budget condition ends the run).
    ``budget`` holds the writer's current ``tokens_per_day`` and ``reasoning_reserve``;
    records are ``UsageRecord`` dicts."""
    tokens_per_day, reserve = budget.tokens_per_day, budget.reasoning_reserve
    grew, split_to, not_asked = False, [], {}
    for cut in this_round:
        if cut["finish_reason"] != "length" or cut["days_parsed"] or cut["error"]:
            continue
        days, prompt = len(cut["days_requested"]), cut["prompt_tokens"]
        reasoning = bool(reserve or cut.get("reasoning_tokens"))
        current = budget.with_tokens_per_day(tokens_per_day).with_reasoning_reserve(reserve)
        grown = grown_after_length_cut(
            current,
            prompt_tokens=prompt,
            days=days,
            max_tokens_sent=cut["max_tokens"],
            reasoning=reasoning,
        )
        if grown is not None:
            tokens_per_day = max(tokens_per_day, grown.tokens_per_day)
            reserve = max(reserve, grown.reasoning_reserve)
            grew = True
        elif days > 1:
            split_to.append(split_days(days))
        else:
            not_asked[cut["days_requested"][0]] = current.cut_reply_reason(
                prompt, cut["max_tokens"], reasoning=reasoning
            )
    return LengthCutAnswer(tokens_per_day, reserve, grew, tuple(split_to), not_asked)


def chunk_cap_for_speed(days: int, speed: Speed) -> int | None:
    """The largest chunk ``speed`` allows for ``days`` still to write:
    ``ceil(days / PARALLEL_CALLS[speed])``, so that the chunks run at once and the round
    takes about one chunk's time; None for economical (as many days as fit per call)."""
    if speed == "economical":
        return None
    return max(1, math.ceil(days / PARALLEL_CALLS[speed]))
