"""Durable runs: run ids, the SQLite checkpointer under ``output_dir/runs/``, and the
runner that drives the month engine, resumes it, and turns whatever ends it into a
:class:`~pipeline.calendar.Calendar` or an :class:`~pipeline.errors.IncompleteCalendarError`.

Nothing paid for is lost: LangGraph saves each finished ``write`` task's rows as it
finishes; a run killed at any point resumes from them (only a chunk in flight at the
kill is asked for again). Stalled, capped, interrupted (Ctrl-C) or failed runs save the
partial calendar as JSON and name the run id to resume.

Example:
    .. code-block:: python

        engine = CalendarEngine(settings, model="openai:gpt-4o")
        calendar = run_calendar(engine, {"month": "2026-03", "trends": ["AI agents"]},
                                run_id="march-launch")
"""

from __future__ import annotations

import logging
import re
import secrets
import signal
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from pipeline.calendar import Calendar, DayPlan, OutlineDay, UsageRecord
from pipeline.config import Settings
from pipeline.errors import (
    IncompleteCalendarError,
    IncompleteReason,
    OutputPathError,
    ReelcalError,
    RunNotFoundError,
)
from pipeline.generation.month.copies import copy_notes
from pipeline.generation.month.engine import CalendarEngine
from pipeline.generation.review.uses import trend_notes
from pipeline.generation.state import (
    GRAPH_VERSION,
    latest_rule_breaks,
    missing_dates,
    row_key,
    schedule_of,
)
from pipeline.schedule import Schedule

logger = logging.getLogger("reelcal")

RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
CHECKPOINT_FILE = "checkpoints.sqlite"


@dataclass(frozen=True)
class Progress:
    """What a progress display needs after each call."""

    days_done: int
    days_total: int
    usage: UsageRecord
    run_id: str | None = None


ProgressCallback = Callable[[Progress], None]


def new_run_id(month_key: str) -> str:
    """``2026-03-1a2b3c4d``: the span's slug (a month, "2027-W10", a first date), then 8
    random hex digits."""
    return f"{month_key}-{secrets.token_hex(4)}"


def check_run_id(run_id: str) -> str:
    if not RUN_ID_PATTERN.match(run_id):
        raise RunNotFoundError(
            f"Run id {run_id!r} is not valid: use letters, digits, '.', '_' or '-' "
            f"(at most 80), e.g. 2026-03-launch."
        )
    return run_id


def runs_dir(settings: Settings) -> Path:
    return Path(settings.output_dir) / "runs"


@contextmanager
def open_checkpointer(settings: Settings) -> Iterator[Any]:
    """The SQLite checkpointer of ``output_dir/runs/`` (created when missing)."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    folder = runs_dir(settings)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(folder / CHECKPOINT_FILE), check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise OutputPathError(
            f"Cannot keep runs in {folder} ({getattr(exc, 'strerror', None) or exc}): "
            f"set output_dir to a writable folder."
        ) from None
    try:
        # State is plain JSON; the serializer never falls back to pickle (a checkpoint
        # file from elsewhere cannot run code when a run is resumed).
        saver = SqliteSaver(conn, serde=JsonPlusSerializer(pickle_fallback=False))
        saver.setup()
        yield saver
    finally:
        conn.close()


def saved_run(settings: Settings, run_id: str) -> dict[str, Any] | None:
    """The last saved state of run ``run_id`` (read without building any model), or None."""
    check_run_id(run_id)
    if not (runs_dir(settings) / CHECKPOINT_FILE).is_file():
        return None
    with open_checkpointer(settings) as saver:
        saved = saver.get_tuple({"configurable": {"thread_id": run_id, "checkpoint_ns": ""}})
    if saved is None:
        return None
    return dict(saved.checkpoint.get("channel_values") or {})


def run_values(graph: Any, config: RunnableConfig) -> dict[str, Any]:
    """The run's state. LangGraph's ``get_state`` applies the saved writes of tasks that
    finished in a step that did not (a crash, Ctrl-C or an error mid-round), so their rows
    and usage are included."""
    return dict(graph.get_state(config).values or {})


def calendar_from_state(values: dict[str, Any], *, model_label: str) -> Calendar:
    """The calendar the state holds: kept rows, replaced by the rows written."""
    schedule = schedule_of(values)
    rows = {row_key(r): r for r in values.get("kept") or []}
    rows.update(values.get("rows") or {})
    for key, copies in (values.get("copies") or {}).items():  # copies written by re-asks
        if key in rows:
            rows[key] = {**rows[key], "copies": {**(rows[key].get("copies") or {}), **copies}}
    outline = [OutlineDay(**line) for line in (values.get("outline") or {}).values()]
    sources = {**(values.get("kept_sources") or {}), **(values.get("sources") or {})}
    trends = values.get("trends") or []
    written = sorted(values.get("usage") or [], key=lambda u: (u["round"], u["days_requested"][:1]))
    return Calendar(
        year=schedule.start.year,
        month=schedule.start.month,
        schedule=schedule,
        platforms=values.get("platforms") or ["instagram"],
        days=[DayPlan(**row) for row in rows.values()],
        outline=outline,
        sources={
            post.number: ids
            for key, ids in sources.items()
            if key in rows and (post := schedule.find(key))
        },
        usage=[UsageRecord(**u) for u in [*(values.get("kept_usage") or []), *written]],
        niche=values.get("niche") or "",
        trends=trends,
        model=model_label,
        platform=values.get("platform") or "",
        notes=[
            *(values.get("notes") or []),
            *_flagged(values, schedule),
            *copy_notes(values),
            *trend_notes(outline, trends, len(values.get("dates") or [])),
        ],
    )


def _flagged(values: dict[str, Any], schedule: Schedule) -> list[str]:
    """Notes for posts kept with soft content-rule breaks (``strict: false``)."""
    kept = {schedule.number_of(d) for d in values.get("rows") or {}}
    flags: dict[int, list[str]] = {}
    for usage in values.get("usage") or []:
        for note in UsageRecord.model_validate(usage).rule_breaks:
            if note["kept"] and note["day"] in kept:
                flags.setdefault(note["day"], []).append(note["reason"])
    for entry in values.get("rule_breaks") or []:  # kept by the review, or after re-asks
        if entry.get("kept") and entry["day"] in kept:
            why = entry["reasons"]
            if entry.get("why_kept"):
                why = [f"{'; '.join(why)} ({entry['why_kept']})"]
            flags.setdefault(entry["day"], []).extend(why)
    return [
        f"{schedule.short_name(number)} kept although {', '.join(why)}"
        for number, why in sorted(flags.items())
    ]


def save_partial(calendar: Calendar, settings: Settings, run_id: str) -> Path | None:
    """Write the partial calendar as JSON under ``output_dir``; None when that fails."""
    path = Path(settings.output_dir) / f"partial-{run_id}.json"
    try:
        return calendar.save(path)
    except (OSError, ReelcalError) as exc:  # the error raised next still carries it
        logger.error("could not save the partial calendar to %s: %s", path, exc)
        return None


def incomplete(
    values: dict[str, Any],
    *,
    engine: CalendarEngine,
    run_id: str,
    reason: IncompleteReason,
    cause: BaseException | None = None,
) -> IncompleteCalendarError:
    """Save the partial calendar and build the error that carries it."""
    calendar = calendar_from_state(values, model_label=engine.main.label)
    dates = missing_dates(values) if values.get("dates") else []
    schedule = schedule_of(values)
    noun = schedule.noun
    missing = [schedule.number_of(d) for d in dates]
    saved = save_partial(calendar, engine.settings, run_id)
    settings = engine.settings
    why = {
        "stalled": f"{settings.max_stalled_rounds} rounds in a row added no day",
        "spend_cap": f"the spend cap of {values.get('max_calls')} calls was reached (max_calls)",
        "no_room": "the days left cannot be asked for within the model's limits",
        "interrupted": "the run was interrupted",
        "error": f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}",
    }[reason]
    last_error = next((u["error"] for u in reversed(values.get("usage") or []) if u["error"]), None)
    cause_text = f" Last model error: {last_error}." if last_error and reason != "error" else ""
    no_room = {
        e["day"]: e["reason"]
        for d, e in sorted((values.get("not_asked") or {}).items())
        if d not in (values.get("rows") or {})
    }
    if no_room:
        shown = "; ".join(
            f"{schedule.short_name(d)}: {why}" for d, why in list(no_room.items())[:3]
        )
        more = f" (and {len(no_room) - 3} more {noun}s)" if len(no_room) > 3 else ""
        cause_text += f" Not asked for: {shown}{more}."
    broken = latest_rule_breaks(values) if values.get("dates") else {}
    if broken:
        shown = "; ".join(
            f"{schedule.short_name(d)}: {', '.join(r)}" for d, r in sorted(broken.items())[:5]
        )
        more = f" (and {len(broken) - 5} more {noun}s)" if len(broken) > 5 else ""
        cause_text += (
            f" Not kept by the content rules: {shown}{more}; loosen them (hook_max_words, "
            f"script_words, strict: false) or resume with another model."
        )
    where = f" The partial calendar was saved to {saved}." if saved else ""
    if values.get("outline_only"):
        message = (
            f"The outline of {calendar.span_name} is incomplete ({why}): "
            f"{len(values.get('outline') or {})} of {len(values.get('dates') or [])} {noun}s "
            f"planned.{cause_text} Resume with: reelcal outline --resume {run_id} --out FILE "
            f"(or generate_outline(..., run_id={run_id!r}))."
        )
    else:
        message = (
            f"{calendar.span_name} is incomplete ({why}): {len(missing)} {noun}s missing "
            f"({', '.join(map(str, missing))}).{cause_text}{where} Resume with: reelcal "
            f"generate --resume {run_id} (or generate_calendar(..., run_id={run_id!r})), "
            f"optionally with another model."
        )
    return IncompleteCalendarError(
        message,
        calendar=calendar,
        missing_days=missing,
        saved_to=saved,
        run_id=run_id,
        reason=reason,
    )


def run_calendar(
    engine: CalendarEngine,
    inputs: dict[str, Any] | None,
    *,
    run_id: str | None = None,
    progress: ProgressCallback | None = None,
    config: RunnableConfig | None = None,
) -> Calendar:
    """Start (or, given the id of a saved run, resume) a run and return its calendar.

    ``inputs`` may be None to resume ``run_id`` as it was started.

    Raises:
        IncompleteCalendarError: the run ended without every day (stalled, spend cap,
            Ctrl-C, or any error after the first model call); the partial is saved.
        ReelcalError: bad input, or a prompt that cannot fit (before any call).
        RunNotFoundError: ``inputs`` is None and there is no saved run ``run_id``, or the
            saved run is for another month.
    """
    settings = engine.settings
    schedule = schedule_of(inputs) if inputs else None
    if run_id is None:
        if schedule is None:
            raise RunNotFoundError("Resuming needs a run id: pass run_id=... or --resume RUN_ID.")
        run_id = new_run_id(schedule.slug)
    check_run_id(run_id)
    with open_checkpointer(settings) as saver:
        graph = engine.graph(checkpointer=saver)
        run_config: RunnableConfig = {
            **(config or {}),
            "configurable": {**(config or {}).get("configurable", {}), "thread_id": run_id},
        }
        stream_input = _start_or_resume(graph, run_config, inputs, run_id, schedule)
        logger.info("run id %s", run_id)
        engine.cancelled.clear()
        try:
            with _cancel_on_sigint(engine):
                _drive(graph, stream_input, run_config, run_id=run_id, progress=progress)
        except KeyboardInterrupt:
            values = run_values(graph, run_config)
            raise incomplete(values, engine=engine, run_id=run_id, reason="interrupted") from None
        except Exception as exc:
            values = run_values(graph, run_config)
            if engine.cancelled.is_set():
                raise incomplete(
                    values, engine=engine, run_id=run_id, reason="interrupted"
                ) from None
            if not values.get("usage"):
                raise  # nothing was paid for: the error itself says what to fix
            raise incomplete(
                values, engine=engine, run_id=run_id, reason="error", cause=exc
            ) from exc
        values = run_values(graph, run_config)
    if values.get("status") == "complete":
        calendar = calendar_from_state(values, model_label=engine.main.label)
        logger.info(calendar.usage_summary().splitlines()[-1])
        return calendar
    status = values.get("status")
    raise incomplete(
        values,
        engine=engine,
        run_id=run_id,
        reason=status if status in ("stalled", "spend_cap", "no_room") else "stalled",
    )


def _drive(
    graph: Any,
    stream_input: dict[str, Any] | None,
    config: RunnableConfig,
    *,
    run_id: str,
    progress: ProgressCallback | None,
) -> None:
    """Stream the graph to its end, reporting each finished call to ``progress``."""
    values = run_values(graph, config)
    done, total = len(values.get("rows") or {}), len(values.get("dates") or [])
    for update in graph.stream(stream_input, config, stream_mode="updates", durability="sync"):
        if not isinstance(update, dict):
            continue
        if "prepare" in update:
            total = len((update["prepare"] or {}).get("dates") or [])
        for node in ("write_outline", "write"):
            written = update.get(node)
            if written and progress:
                done += len(written.get("rows") or {})
                for record in written.get("usage") or []:
                    progress(Progress(done, total or done, UsageRecord(**record), run_id))


@contextmanager
def _cancel_on_sigint(engine: CalendarEngine) -> Iterator[None]:
    """On Ctrl-C, tell the engine to drop chunks not yet sent, then interrupt as usual.

    Without it, chunks already queued in LangGraph's executor would still be sent while
    the interrupted run shuts down (the executor waits for its tasks).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum: int, frame: Any) -> None:
        if previous == signal.SIG_IGN:
            return  # the caller ignores Ctrl-C: so does the run
        engine.cancelled.set()
        if callable(previous):
            previous(signum, frame)
        else:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _start_or_resume(
    graph: Any,
    config: RunnableConfig,
    inputs: dict[str, Any] | None,
    run_id: str,
    schedule: Schedule | None,
) -> dict[str, Any] | None:
    """The input to stream: ``inputs`` for a new run, None to continue a saved one."""
    snapshot = graph.get_state(config)
    if not snapshot.values:
        if inputs is None:
            raise RunNotFoundError(
                f"No saved run {run_id!r} under the output_dir's runs/ folder: check the id "
                f"(printed when the run started) and output_dir."
            )
        return inputs
    if snapshot.values.get("graph_version") != GRAPH_VERSION:
        raise RunNotFoundError(
            f"Run {run_id!r} was saved by an earlier reelcal whose month graph had other "
            f"steps: it cannot be resumed. Start a new run (or regenerate the missing days "
            f"of its partial calendar with --days)."
        )
    saved = schedule_of(snapshot.values)
    if schedule is not None and saved.keys != schedule.keys:
        asked = schedule.name if saved.name != schedule.name else "the posts asked for"
        what = saved.name if saved.name != schedule.name else f"other posts of {saved.name}"
        raise RunNotFoundError(
            f"Run {run_id!r} is for {what}, not {asked}: leave the span and slots out to "
            f"resume it, or use another run id."
        )
    if not snapshot.next and snapshot.values.get("status") not in (None, "complete"):
        # a run that ended stalled or capped: give it a fresh allowance and loop again
        # (days not asked for on the last model are asked again: a resume may bring another)
        retry = {d: None for d in snapshot.values.get("not_asked") or {}}
        graph.update_state(
            config,
            {"status": "running", "stalled": 0, "max_calls": None, "not_asked": retry},
            as_node="route",
        )
    logger.info("resuming run %s", run_id)
    return None
