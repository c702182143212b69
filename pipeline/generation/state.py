"""The month engine's state: plain JSON, checkpointed.

:class:`MonthState` is what the graph carries between steps and what the SQLite
checkpointer saves after each: rows keyed by post (its local date-time,
``"2027-03-03T18:00"``), usage records as dicts, nothing that needs pickling, so another
process (a resume, a server) reads it as it is. :class:`ChunkTask` is what one ``write``
task receives through ``Send``. The helpers read the state: the posts still missing
(:func:`missing_dates`), the copies still missing (:func:`missing_copies`), the schedule
(:func:`schedule_of`). What a request may hold is :mod:`pipeline.generation.requests`.
"""

from __future__ import annotations

import json
import operator
from functools import lru_cache
from typing import Annotated, Any, Literal, TypedDict

from typing_extensions import NotRequired

from pipeline.calendar import Role, WriterRole
from pipeline.schedule import Schedule

#: The month graph's shape: saved in every run's state, so that a run saved by another
#: shape is refused with a clear message, not resumed wrong (2: the outline became nodes;
#: 3: rows are keyed by post, a local date-time, and the state carries a schedule).
GRAPH_VERSION = 3

Status = Literal["running", "complete", "stalled", "spend_cap", "no_room"]
ROLES: tuple[WriterRole, ...] = ("main", "supplement")


def row_key(row: dict[str, Any]) -> str:
    """The post key of a row (DayPlan JSON): its date-time, or its date without a time."""
    return f"{row['date']}T{row['time']}" if row.get("time") else str(row["date"])


@lru_cache(maxsize=64)
def _schedule_from_json(text: str) -> Schedule:
    return Schedule.model_validate_json(text)


def schedule_of(data: dict[str, Any]) -> Schedule:
    """The schedule a state or a task's context carries (parsed once per distinct one);
    without one, its ``month`` with one post a day."""
    if not data.get("schedule"):
        return Schedule.for_month(data["month"])
    return _schedule_from_json(json.dumps(data["schedule"], sort_keys=True))


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


def merge_copies(
    left: dict[str, dict[str, Any]] | None, right: dict[str, dict[str, Any]] | None
) -> dict[str, dict[str, Any]]:
    """Reducer of ``copies``: per post key, platform copies merged (a later copy of a
    platform replaces an earlier one)."""
    merged = {key: dict(value) for key, value in (left or {}).items()}
    for key, value in (right or {}).items():
        merged.setdefault(key, {}).update(value)
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


class CopyBreak(TypedDict):
    """A platform copy of a post not kept (missing, or over its platform's limits), and
    why: its post is kept and the copy is asked again (role ``copies``)."""

    day: int
    platform: str
    reasons: list[str]
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
    month: str  # any form parse_month reads; after prepare the month the span starts in
    schedule: dict[str, Any]  # the Schedule (JSON): span, slots, time zone
    platforms: list[str]  # platform keys, the primary first
    trends: list[str]
    niche: str | None
    platform: str | None
    days: list[int] | None  # only these post numbers (regenerate); default: every post
    kept: list[dict[str, Any]]  # rows of an earlier calendar, kept unless rewritten
    kept_usage: list[dict[str, Any]]
    kept_sources: dict[str, list[str]]  # post key -> source ids of the kept rows
    first_role: WriterRole
    given_outline: list[dict[str, Any]]  # OutlineDay data to write from (e.g. user-edited)
    outline_only: bool  # end once the outline is done (``reelcal outline``)
    graph_version: int  # GRAPH_VERSION of the graph that saved the run
    # prepare, retrieve, fit
    dates: list[str]  # keys of the posts to write ("2027-03-03T18:00"), in order
    notes: list[str]
    documents: list[dict[str, Any]]
    examples: str
    example_sources: list[str]  # source ids of the examples every prompt carries
    # the loop
    #: post key -> DayPlan JSON (``None`` in an update removes a row the title review drops)
    rows: Annotated[dict[str, dict[str, Any]], keep_first_or_drop]
    rows_checked: list[str]  # post keys whose row passed the review of titles by meaning
    #: post key -> source ids of the retrieved examples the row's call was given
    sources: Annotated[dict[str, list[str]], keep_first_or_drop]
    usage: Annotated[list[dict[str, Any]], operator.add]  # UsageRecord JSON, as calls end
    overflows: Annotated[list[Overflow], operator.add]
    #: {"day", "reasons", "round"}: days not kept by the content rules, and why
    #: (``"kept": True``: a title repeat kept and flagged, ``strict: false``)
    rule_breaks: Annotated[list[DayBreak], operator.add]
    #: the month outline: post key -> OutlineDay JSON, and days whose line was not kept
    outline: Annotated[dict[str, dict[str, Any]], replace_or_drop]
    outline_breaks: Annotated[list[DayBreak], operator.add]
    outline_checked: list[str]  # post keys whose line passed the title review
    outline_rounds: int
    outline_done: bool
    #: post key -> {"day", "reason", "round"}: days no request can ask for on this model
    #: (their prompt leaves no room, or their one-day reply is cut at the output cap);
    #: the other days go on, a resume asks again (``None`` removes an entry)
    not_asked: Annotated[dict[str, NotAsked], replace_or_drop]
    #: post key -> {"row", "reasons", "sources"}: the best row of a missing day that broke
    #: only soft rules, kept (flagged) once its re-asks stall or the run would end
    candidates: Annotated[dict[str, Candidate], best_candidate]
    #: post key -> platform -> PlatformCopy JSON: copies written by re-asks (role copies)
    copies: Annotated[dict[str, dict[str, Any]], merge_copies]
    copy_breaks: Annotated[list[CopyBreak], operator.add]  # copies not kept, and why
    copies_before: int  # copies kept when the round was planned
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
    posts: NotRequired[dict[str, dict[str, Any]]]  # copies: post number -> its row
    wanted: NotRequired[dict[str, list[str]]]  # copies: post number -> platforms to write


def not_asked_entry(day: int, reason: str, state: MonthState) -> NotAsked:
    """A ``not_asked`` record: a day that no request can ask for, and why."""
    return {"day": day, "reason": reason, "round": state.get("round", 0)}


def already_used(state: MonthState) -> list[tuple[str, str]]:
    """Titles and hooks of the days written or kept, oldest first (the supplement prompt
    lists them so that new days do not repeat them)."""
    rows = state.get("rows") or {}
    rewriting = set(state["dates"])
    kept = [r for r in state.get("kept") or [] if row_key(r) not in rewriting]
    ordered = sorted([*kept, *rows.values()], key=row_key)
    return [(r["title"], r["hook"]) for r in ordered]


def missing_dates(
    state: MonthState, rows: dict[str, Any] | None = None, *, askable: bool = False
) -> list[str]:
    """The days still missing: post keys the run writes with no row (in ``rows``, default
    the state's), in order; ``askable``: without the days no request can ask for
    (``not_asked``)."""
    rows = state.get("rows") or {} if rows is None else rows
    skip = state.get("not_asked") or {} if askable else {}
    return [d for d in state["dates"] if d not in rows and d not in skip]


def _missing_days(state: MonthState) -> set[int]:
    schedule = schedule_of(state)
    return {schedule.number_of(d) for d in missing_dates(state)}


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


def copy_tries(state: MonthState) -> dict[tuple[int, str], int]:
    """(post number, platform) -> how many times its copy was not kept."""
    tries: dict[tuple[int, str], int] = {}
    for entry in state.get("copy_breaks") or []:
        slot = (entry["day"], entry["platform"])
        tries[slot] = tries.get(slot, 0) + 1
    return tries


def missing_copies(
    state: MonthState, rows: dict[str, Any] | None = None, *, max_reasks: int | None = None
) -> dict[str, list[str]]:
    """Post key -> the platforms (after the primary) its written row has no copy for,
    in the platforms' order; with ``max_reasks``, without the copies not kept more than
    ``max_reasks + 1`` times (given up: the calendar's notes say so)."""
    platforms = list(state.get("platforms") or [])[1:]
    if not platforms:
        return {}
    rows = state.get("rows") or {} if rows is None else rows
    written, tries = state.get("copies") or {}, copy_tries(state)
    schedule = schedule_of(state)
    found: dict[str, list[str]] = {}
    for key in state["dates"]:
        if key not in rows:
            continue
        have = set(rows[key].get("copies") or {}) | set(written.get(key) or {})
        number = schedule.number_of(key)
        wanted = [
            p
            for p in platforms
            if p not in have and (max_reasks is None or tries.get((number, p), 0) <= max_reasks)
        ]
        if wanted:
            found[key] = wanted
    return found


def copies_kept(state: MonthState) -> int:
    """Platform copies kept so far: in the rows and written by copies calls."""
    rows = state.get("rows") or {}
    in_rows = sum(len(row.get("copies") or {}) for row in rows.values())
    return in_rows + sum(len(v) for v in (state.get("copies") or {}).values())
