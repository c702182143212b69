"""The month engine's state and what a request may hold: plain JSON, checkpointed.

:class:`MonthState` is what the graph carries between steps and what the SQLite
checkpointer saves after each: rows keyed by ISO date, usage records as dicts, nothing
that needs pickling, so another process (a resume, a server) reads it as it is.
:class:`ChunkTask` is what one ``write`` task receives through ``Send``.
:func:`read_request` checks a request (once, for every entry point), and
:func:`check_request_text` bounds the free text it puts into every prompt.
"""

from __future__ import annotations

import datetime as dt
import operator
from typing import Annotated, Any, Literal, TypedDict

from typing_extensions import NotRequired

from pipeline.calendar import Role, WriterRole
from pipeline.dates import parse_month
from pipeline.errors import InvalidDaysError, InvalidRequestError

#: The month graph's shape: saved in every run's state, so that a run saved by another
#: shape (0.x: the outline had no nodes) is refused with a clear message, not resumed wrong.
GRAPH_VERSION = 2

Status = Literal["running", "complete", "stalled", "spend_cap", "no_room"]
ROLES: tuple[WriterRole, ...] = ("main", "supplement")

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


def read_request(data: dict[str, Any]) -> dict[str, Any]:
    """A request as the month graph reads it, checked: ``month`` as "YYYY-MM" (any form
    :func:`~pipeline.dates.parse_month` reads), ``trends`` a list of stripped, non-empty
    short phrases, ``niche`` short, ``days`` (when given) sorted days of that month. The
    public entry points (the chain, ``generate_calendar``, the CLI) and the graph's
    ``prepare`` all read a request through it. Raises a ReelcalError subclass naming the
    fix."""
    if not isinstance(data, dict) or not data.get("month"):
        raise InvalidRequestError("A request needs a 'month', e.g. {'month': '2026-03'}.")
    month = parse_month(data["month"])
    trends = data.get("trends") or []
    trends = [str(t).strip() for t in ([trends] if isinstance(trends, str) else trends)]
    trends = [t for t in trends if t]
    check_request_text(trends, data.get("niche"))
    days = sorted(set(data.get("days") or []))
    bad = [d for d in days if not 1 <= d <= month.days_in_month]
    if bad:
        raise InvalidDaysError(
            f"Days {bad} are not in {month.name}: use 1 to {month.days_in_month}."
        )
    return {**data, "month": month.key, "trends": trends, "days": days or None}


def keep_first(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Reducer of ``rows``: a date written once keeps its first row."""
    merged = dict(left or {})
    for key, value in (right or {}).items():
        merged.setdefault(key, value)
    return merged


def keep_first_or_drop(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Reducer of ``rows`` and ``sources``: like :func:`keep_first`, and ``None`` removes a
    date's entry (a row the title review dropped, so that its day is asked again)."""
    merged = dict(left or {})
    for key, value in (right or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged.setdefault(key, value)
    return merged


def replace_or_drop(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Reducer of ``outline``: a line given replaces the date's line (the trend balance
    changes what a line uses); ``None`` removes it (the title review dropped it, so that
    its day is planned again). Chunks of one round plan different days."""
    merged = dict(left or {})
    for key, value in (right or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def best_candidate(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Reducer of ``candidates``: per date the row nearest to the rules (the lower
    ``score``: fewer breaks, then less off; the earlier on a tie); ``None`` removes the
    date's candidate (its day was kept)."""
    merged = dict(left or {})
    for key, value in (right or {}).items():
        if value is None:
            merged.pop(key, None)
        elif key not in merged or value["score"] < merged[key]["score"]:
            merged[key] = value
    return merged


class DayBreak(TypedDict):
    """A day not kept (or kept, flagged) by a review, and why: a ``rule_breaks`` or
    ``outline_breaks`` entry."""

    day: int
    reasons: list[str]
    round: int
    kept: NotRequired[bool]  # kept anyway, flagged (a soft break)
    why_kept: NotRequired[str]  # e.g. "its re-asks stalled (2 rows broke rules)"
    cut: NotRequired[int]  # its one-day reply was cut at this max_tokens: ask with more room


class NotAsked(TypedDict):
    """A day no request can ask for on this model, and why (a resume asks again)."""

    day: int
    reason: str
    round: int


class Overflow(TypedDict):
    """A call the model refused as larger than its window: the next round splits it."""

    role: Role
    days: list[int]
    round: int


class Candidate(TypedDict):
    """The best row of a missing day that broke only soft rules, kept (flagged) once its
    re-asks stall or the run would end; the lower ``score`` wins: [breaks, off by]."""

    row: dict[str, Any]
    reasons: list[str]
    sources: list[str]
    score: list[float]


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
    kept_sources: dict[str, list[str]]  # ISO date -> source ids of the kept rows
    first_role: WriterRole
    given_outline: list[dict[str, Any]]  # OutlineDay data to write from (e.g. user-edited)
    outline_only: bool  # end once the outline is done (``reelcal outline``)
    graph_version: int  # GRAPH_VERSION of the graph that saved the run
    # prepare, retrieve, fit
    dates: list[str]  # ISO dates to write
    notes: list[str]
    documents: list[dict[str, Any]]
    examples: str
    example_sources: list[str]  # source ids of the examples every prompt carries
    # the loop
    #: ISO date -> DayPlan JSON (``None`` in an update removes a row the title review drops)
    rows: Annotated[dict[str, dict[str, Any]], keep_first_or_drop]
    rows_checked: list[str]  # ISO dates whose row passed the review of titles by meaning
    #: ISO date -> source ids of the retrieved examples the row's call was given
    sources: Annotated[dict[str, list[str]], keep_first_or_drop]
    usage: Annotated[list[dict[str, Any]], operator.add]  # UsageRecord JSON, as calls end
    overflows: Annotated[list[Overflow], operator.add]
    #: {"day", "reasons", "round"}: days not kept by the content rules, and why
    #: (``"kept": True``: a title repeat kept and flagged, ``strict: false``)
    rule_breaks: Annotated[list[DayBreak], operator.add]
    #: the month outline: ISO date -> OutlineDay JSON, and days whose line was not kept
    outline: Annotated[dict[str, dict[str, Any]], replace_or_drop]
    outline_breaks: Annotated[list[DayBreak], operator.add]
    outline_checked: list[str]  # ISO dates whose line passed the title review
    outline_rounds: int
    outline_done: bool
    #: ISO date -> {"day", "reason", "round"}: days no request can ask for on this model
    #: (their prompt leaves no room, or their one-day reply is cut at the output cap);
    #: the other days go on, a resume asks again (``None`` removes an entry)
    not_asked: Annotated[dict[str, NotAsked], replace_or_drop]
    #: ISO date -> {"row", "reasons", "sources"}: the best row of a missing day that broke
    #: only soft rules, kept (flagged) once its re-asks stall or the run would end
    candidates: Annotated[dict[str, Candidate], best_candidate]
    outline_max_calls: int  # outline calls stop when the run's calls reach this
    round: int
    planned: list[dict[str, Any]]
    deferred: list[list[int]]  # chunks held back until a probe call has calibrated the writer
    rows_before: int  # rows when the round was planned (did it add any?)
    outline_before: int  # outline lines when its round was planned
    replanned: bool  # the round's replies changed the plan (a chunk cap, a budget, a re-ask)
    stalled: int
    max_calls: int | None
    tokens_per_day: dict[str, int]
    reasoning_reserve: dict[str, int]
    max_days: dict[str, int]
    status: Status


class ChunkTask(TypedDict):
    """What one ``write`` task receives through ``Send`` (plain JSON too)."""

    role: Role
    days: list[int]
    round: int
    tokens_per_day: int
    reasoning_reserve: int
    already_used: list[list[str]]
    context: dict[str, Any]
    taken_titles: NotRequired[list[str]]  # titles written or kept (no day repeats one)
    feedback: NotRequired[dict[str, list[str]]]  # day -> why its last version was not kept
    outline: NotRequired[dict[str, dict[str, Any]]]  # day -> its outline line (OutlineDay JSON)
    reply_tokens: NotRequired[int]  # the reply room asked (a day asked again after a cut)


def not_asked_entry(day: int, reason: str, state: MonthState) -> NotAsked:
    """A ``not_asked`` record: a day that no request can ask for, and why."""
    return {"day": day, "reason": reason, "round": state.get("round", 0)}


def already_used(state: MonthState) -> list[tuple[str, str]]:
    """Titles and hooks of the days written or kept, oldest first (the supplement prompt
    lists them so that new days do not repeat them)."""
    rows = state.get("rows") or {}
    rewriting = set(state["dates"])
    kept = [r for r in state.get("kept") or [] if r["date"] not in rewriting]
    ordered = sorted([*kept, *rows.values()], key=lambda r: r["date"])
    return [(r["title"], r["hook"]) for r in ordered]


def missing_dates(
    state: MonthState, rows: dict[str, Any] | None = None, *, askable: bool = False
) -> list[str]:
    """The days still missing: ISO dates the run writes with no row (in ``rows``, default
    the state's), in order; ``askable``: without the days no request can ask for
    (``not_asked``)."""
    rows = state.get("rows") or {} if rows is None else rows
    skip = state.get("not_asked") or {} if askable else {}
    return [d for d in state["dates"] if d not in rows and d not in skip]


def _missing_days(state: MonthState) -> set[int]:
    return {dt.date.fromisoformat(d).day for d in missing_dates(state)}


def latest_cuts(state: MonthState) -> dict[int, tuple[int, int]]:
    """Day -> (max_tokens its last one-day reply was cut at, how many times it was asked
    again after such a cut), for missing days whose latest break is such a cut."""
    missing = _missing_days(state)
    latest: dict[int, dict[str, Any]] = {}
    counts: dict[int, int] = {}
    for entry in state.get("rule_breaks") or []:
        if entry["day"] in missing and not entry.get("kept"):
            latest[entry["day"]] = entry
            counts[entry["day"]] = counts.get(entry["day"], 0) + bool(entry.get("cut"))
    return {day: (e["cut"], counts[day]) for day, e in latest.items() if e.get("cut")}


def latest_rule_breaks(state: MonthState) -> dict[int, list[str]]:
    """Day -> why its latest version was not kept, for the days still missing."""
    missing = _missing_days(state)
    latest: dict[int, list[str]] = {}
    for entry in state.get("rule_breaks") or []:
        if entry["day"] in missing and not entry.get("kept"):
            latest[entry["day"]] = list(entry["reasons"])
    return latest
