"""One chunk's call, and what a failed one leaves: the state update that records it.

A ``write`` or ``write_outline`` task never raises for a model's failure (a raising
task would cancel its siblings in the same round): the failure becomes a usage record
(and, for a context overflow, an ``overflows`` entry the next round splits on). A fault
of ours raises, except in an outline call: the outline never costs the month.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from langchain_core.exceptions import ContextOverflowError
from langchain_core.runnables import RunnableConfig

from pipeline.calendar import days_label
from pipeline.errors import ModelCallError, TokenBudgetError
from pipeline.generation.state import ChunkTask
from pipeline.generation.writing.fitting import unfit_task
from pipeline.generation.writing.writer import ChunkRequest, DayWriter

logger = logging.getLogger("reelcal")


def send_chunk(
    writer: DayWriter,
    task: ChunkTask,
    request: ChunkRequest,
    config: RunnableConfig | None,
    *,
    slots: threading.BoundedSemaphore,
    cancelled: threading.Event,
) -> tuple[Any, dict[str, Any]]:
    """``(result, {})`` of ``writer``'s call for ``request``, or ``(None, update)``
    recording why it failed. ``slots`` bounds the calls in flight; once ``cancelled`` is
    set (Ctrl-C) nothing more is sent and nothing is written, so a resume asks again."""
    with slots:
        if cancelled.is_set():
            # No writes: LangGraph saves nothing for this task, so a resume runs it.
            # (Raising here would print executor-shutdown noise as the run stops.)
            logger.debug("interrupted: %s not sent", days_label(task["days"]))
            return None, {}
        try:
            return writer.chain.invoke(request, config), {}
        except TokenBudgetError as exc:  # planned to fit; a guard, never a paid call
            return None, unfit_task(task, str(exc))
        except KeyboardInterrupt:
            cancelled.set()
            raise
        except ContextOverflowError as exc:
            logger.warning(
                "context overflow for %d days; the next round splits them", len(request.days)
            )
            failed = writer.failed(request, exc)
            overflow = {"role": task["role"], "days": task["days"], "round": task["round"]}
            return None, {"usage": [failed.usage.model_dump(mode="json")], "overflows": [overflow]}
        except ModelCallError as exc:
            failed = writer.failed(request, exc)
            schedule = request.context.schedule
            logger.info(failed.usage.summary(schedule.short_label, schedule.noun))
            return None, {"usage": [failed.usage.model_dump(mode="json")]}
        except Exception as exc:
            if task["role"] != "outline":
                raise  # a fault of ours: the run ends with what it has (resumable)
            # the outline never costs the month: recorded as a failed call, and its
            # days are written without the lines it lacks
            logger.warning("the outline call failed: %s", exc, exc_info=True)
            return None, {"usage": [writer.failed(request, exc).usage.model_dump(mode="json")]}
