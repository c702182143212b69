"""Token budget arithmetic: every formula that decides how many tokens a call may
ask for, and how many days fit one call. Nothing else in reelcal does token maths.

The rules, in plain sight (all numbers are tokens)::

    margin        = min(safety_margin, margin_fraction * context_window)
    available     = context_window - prompt_tokens - margin
    output_cap    = min(available, max_output_tokens)
    days_per_call = output_cap // tokens_per_day
    max_tokens    = min(available, max_output_tokens, days * tokens_per_day)

``safety_margin`` defaults to 2000 for main calls and 1000 for supplement calls, the
figures that suit 128k windows; ``margin_fraction`` (10%) scales the margin down for
small windows, so a 4,096-token window keeps 409 tokens free instead of 2000.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.errors import TokenBudgetError

MARGIN_FRACTION = 0.10
#: Headroom added to the observed tokens per day when re-estimating.
ESTIMATE_HEADROOM = 1.15


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

    def __post_init__(self) -> None:
        for name in ("context_window", "max_output_tokens", "tokens_per_day"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.safety_margin < 0:
            raise ValueError(f"safety_margin must be >= 0, got {self.safety_margin}")

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
        """How many days fit one call with this prompt (0 when not even one does)."""
        return self.output_cap(prompt_tokens) // self.tokens_per_day

    def max_tokens(self, prompt_tokens: int, days: int) -> int:
        """``min(available, max_output_tokens, days * tokens_per_day)``.

        Returns 0 for ``days == 0`` (nothing to ask for). Raises
        :class:`TokenBudgetError` when not even one day fits.
        """
        if days < 0:
            raise ValueError(f"days must be >= 0, got {days}")
        if days == 0:
            return 0
        self.check(prompt_tokens)
        return min(self.available(prompt_tokens), self.max_output_tokens, days * self.tokens_per_day)

    def check(self, prompt_tokens: int) -> None:
        """Raise :class:`TokenBudgetError` unless at least one day fits."""
        if self.days_per_call(prompt_tokens) >= 1:
            return
        raise TokenBudgetError(
            f"Not even one day fits: a {self.context_window:,}-token window minus a "
            f"{prompt_tokens:,}-token prompt and a {self.margin:,}-token margin leaves "
            f"{self.available(prompt_tokens):,} tokens (output cap "
            f"{self.max_output_tokens:,}), less than tokens_per_day={self.tokens_per_day:,}: "
            f"lower rag_token_budget or tokens_per_day, or use a model with a larger "
            f"context_window.",
            context_window=self.context_window,
            prompt_tokens=prompt_tokens,
            safety_margin=self.margin,
            max_output_tokens=self.max_output_tokens,
            tokens_per_day=self.tokens_per_day,
        )

    def chunk_days(self, days: list[int], prompt_tokens: int) -> list[list[int]]:
        """Split ``days`` into as few chunks as fit, of near-equal size, in order.

        ``prompt_tokens`` should be the largest prompt any chunk will send.
        """
        if not days:
            return []
        self.check(prompt_tokens)
        per_call = self.days_per_call(prompt_tokens)
        n_chunks = math.ceil(len(days) / per_call)
        size, extra = divmod(len(days), n_chunks)
        chunks, start = [], 0
        for i in range(n_chunks):
            end = start + size + (1 if i < extra else 0)
            chunks.append(list(days[start:end]))
            start = end
        return chunks

    def with_tokens_per_day(self, tokens_per_day: int) -> TokenBudget:
        return TokenBudget(
            context_window=self.context_window,
            max_output_tokens=self.max_output_tokens,
            safety_margin=self.safety_margin,
            tokens_per_day=max(1, tokens_per_day),
            margin_fraction=self.margin_fraction,
        )


def estimate_tokens_per_day(output_tokens: int, days_parsed: int, previous: int) -> int:
    """Re-estimate tokens per day from a call's output: observed average plus 15%.

    Keeps ``previous`` when nothing was parsed (no evidence).
    """
    if days_parsed <= 0 or output_tokens <= 0:
        return previous
    return math.ceil(output_tokens / days_parsed * ESTIMATE_HEADROOM)
