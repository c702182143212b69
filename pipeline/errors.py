"""Exceptions raised by reelcal.

Every error is a :class:`ReelcalError` whose message is one line that says what
was wrong and what to do about it. Subclasses carry the numbers a caller needs
(token counts, missing days, the partial calendar) as attributes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.calendar import Calendar


class ReelcalError(Exception):
    """Base class of every error reelcal raises on purpose.

    ``exit_code`` is what the CLI exits with: 2 for bad input (what the user gave or set
    up: a month, a model key, a missing package or key, a vector store, a path, days,
    a request), 1 for a run that failed.
    """

    exit_code: int = 1


class ConfigError(ReelcalError, ValueError):
    """A setting is unknown, has the wrong type, or is out of range."""

    exit_code = 2


class CacheFileError(ConfigError):
    """The ``cache`` setting names a file that is not a response cache this reelcal reads:
    not SQLite, another program's database, or a cache of another format or version."""


class ModelSetupError(ReelcalError):
    """A model key cannot be turned into a working chat or embeddings model.

    (Not to be confused with langchain-core's ``ModelError``, which a provider raises
    when a call fails: see :class:`ModelCallError`.)
    """

    exit_code = 2


class MissingDependencyError(ModelSetupError, ImportError):
    """A provider's package is not installed; the message names the pip command."""


class MissingAPIKeyError(ModelSetupError):
    """A hosted model needs an API key that is not set; the message names the variable."""


class ModelLimitsError(ModelSetupError):
    """A model's context window or output cap is unknown and not configured."""


class TokenizerError(ReelcalError):
    """A tokenizer cannot be loaded (for example an encoding file is missing)."""


class TokenBudgetError(ReelcalError):
    """Not even one day fits the model's limits.

    Attributes carry the numbers of the failed plan so the caller can act on them.
    """

    def __init__(
        self,
        message: str,
        *,
        context_window: int,
        prompt_tokens: int,
        safety_margin: int,
        max_output_tokens: int,
        tokens_per_day: int,
    ) -> None:
        super().__init__(message)
        self.context_window = context_window
        self.prompt_tokens = prompt_tokens
        self.safety_margin = safety_margin
        self.max_output_tokens = max_output_tokens
        self.tokens_per_day = tokens_per_day


class MonthParseError(ReelcalError, ValueError):
    """A month string cannot be understood."""

    exit_code = 2


class ScheduleError(ReelcalError, ValueError):
    """A span, posting slot, cadence or time zone that cannot be read or is out of range."""

    exit_code = 2


class VectorStoreError(ReelcalError):
    """A vector store is missing, corrupted, or built with another embedding model."""

    exit_code = 2


class IngestError(ReelcalError):
    """A transcript file cannot be read."""

    exit_code = 2


class InvalidRequestError(ReelcalError, ValueError):
    """Trends or niche text that is not a short phrase (too long, too many)."""

    exit_code = 2


class InvalidDaysError(ReelcalError, ValueError):
    """Day numbers that the month does not have."""

    exit_code = 2


class CalendarFileError(ReelcalError, ValueError):
    """A calendar file cannot be read back (wrong format or columns)."""

    exit_code = 2


class ModelCallError(ReelcalError):
    """A model call failed for good: a non-transient error, or retries ran out.

    The engine records it as a failed call (no days) and goes on with the other
    chunks; the original exception is the ``__cause__``.
    """


class OutputPathError(ReelcalError, ValueError):
    """``--out`` cannot be written: unknown suffix, missing folder or an input file."""

    exit_code = 2


class RunNotFoundError(ReelcalError, ValueError):
    """A run id that has no saved run, or whose saved run does not match the request."""

    exit_code = 2


#: Why a run ended without a complete calendar.
IncompleteReason = Literal["stalled", "spend_cap", "no_room", "interrupted", "error"]


class IncompleteCalendarError(ReelcalError):
    """The run ended before every day was written; nothing written is lost.

    Attributes:
        calendar: the partial :class:`~pipeline.calendar.Calendar` (days produced so far).
        missing_days: the day numbers that are still missing, sorted.
        saved_to: where the partial calendar was written, if it was.
        run_id: the run to resume (``generate_calendar(..., run_id=...)`` or
            ``reelcal generate --resume RUN_ID``), when the run was durable.
        reason: "stalled" (rounds that added no day), "spend_cap" (``max_calls``),
            "no_room" (the days left cannot be asked for within the model's limits),
            "interrupted" (Ctrl-C) or "error" (an error after the first paid call:
            see ``__cause__``).
    """

    def __init__(
        self,
        message: str,
        *,
        calendar: Calendar,
        missing_days: list[int],
        saved_to: Any = None,
        run_id: str | None = None,
        reason: IncompleteReason = "stalled",
    ) -> None:
        super().__init__(message)
        self.calendar = calendar
        self.missing_days = missing_days
        self.saved_to = saved_to
        self.run_id = run_id
        self.reason = reason

    @property
    def resume_command(self) -> str | None:
        """The shell command that continues this run, when it can be resumed."""
        return f"reelcal generate --resume {self.run_id}" if self.run_id else None
