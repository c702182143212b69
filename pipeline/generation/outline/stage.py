"""The month outline: a first, small call that plans every day before any is written.

Owns :class:`OutlineWriter` (a :class:`~pipeline.generation.writing.writer.DayWriter` whose rows
are :class:`~pipeline.calendar.OutlineDay` lines, about a tenth of a reel's tokens; its
reply schema and parser are :mod:`pipeline.generation.outline.replies`), and
:class:`OutlineStage`, the outline's rounds, whose review keeps titles unique across the
month (:class:`~pipeline.generation.review.titles.TitleGuard`) and pillars near their shares
(:mod:`pipeline.generation.review.pillars`), and whose end places what each day builds on
(:mod:`pipeline.generation.review.uses`).

The month graph's outline nodes call it: ``plan_outline`` (:meth:`OutlineStage.plan`,
:meth:`OutlineStage.planned`), ``write_outline`` (:meth:`OutlineStage.written`) and
``review_outline`` (:meth:`OutlineStage.merged`). Its chunks fit like any other call's;
write chunks then expand their outline lines.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from pipeline.calendar import OutlineDay
from pipeline.config import Settings
from pipeline.generation.outline.replies import (
    OUTLINE_GRAMMAR_WORDS,
    outline_schema,
    parse_outline,
)
from pipeline.generation.replies.parsing import ParseResult
from pipeline.generation.review.pillars import over_share, pillar_notes, spelled
from pipeline.generation.review.titles import TitleGuard
from pipeline.generation.review.uses import (
    balance_trends,
    in_their_lists,
    place_special_dates,
    trend_days_rule,
)
from pipeline.generation.state import already_used, schedule_of
from pipeline.generation.writing import prompts
from pipeline.generation.writing.budget import chunk_cap_for_speed
from pipeline.generation.writing.writer import ChunkRequest, DayWriter, MonthContext
from pipeline.schedule import Schedule, key_date

logger = logging.getLogger("reelcal")

#: Starting estimate of a day's outline line: a JSON item is 50-70 tokens; set above that
#: so the first call is not cut, then learned from it like a reel's. The local grammar's
#: lines (lists, no keys) are about 57 on the bundled model.
OUTLINE_TOKENS_PER_DAY = 90
OUTLINE_LIST_TOKENS_PER_DAY = 70
#: Outline lines one local grammar call writes (a reel takes ten times as many tokens).
OUTLINE_GRAMMAR_DAYS = 8


class OutlineWriter(DayWriter):
    """Writes outline lines for chunks of days (one model, its limits and budget).

    Example:
        .. code-block:: python

            writer = OutlineWriter(model, settings, role="outline")
            result = writer.chain.invoke(ChunkRequest("outline", [1, 2, 3], context))
            result.plans  # [OutlineDay(day=1, ...), ...]
    """

    tool_name = "month_outline"
    tool_description = "The outline of the requested days."
    grammar_days_per_call = OUTLINE_GRAMMAR_DAYS

    def starting_tokens_per_day(self) -> int:
        return OUTLINE_LIST_TOKENS_PER_DAY if self.mode == "grammar" else OUTLINE_TOKENS_PER_DAY

    @property
    def formats(self) -> list[str]:
        return [f["name"] for f in self.library.patterns.get("frameworks", [])]

    def render_messages(self, request: ChunkRequest) -> list[BaseMessage]:
        ctx = request.context
        pillars = self.settings.content_pillars
        mix = self.settings.pillar_mix or {}
        values = self.month_values(request) | {
            "pillars": (
                prompts.quoted_list(
                    f"{p} (about {mix[p]:.0%} of the days)" if p in mix else p for p in pillars
                )
                if pillars
                else "- (none given: choose 3 to 5 pillars that fit the niche and keep their "
                "names the same all month)"
            ),
            "formats": prompts.bullet_list(self.formats),
            "trend_days": trend_days_rule(len(request.days), len(ctx.trends)),
            "weekdays": ", ".join(f"{ctx.schedule.post(d).date:%a} {d}" for d in request.days),
            "feedback": prompts.feedback_section(
                request.feedback, done="outlined", name=ctx.schedule.short_name
            ),
            "already_used": prompts.bullet_list(
                prompts.quoted(title) for title, _ in request.already_used
            ),
            "output_format": self.library.outline_format(
                {"rows": "rows", "grammar": "lists"}.get(self.mode, "json"),
                request.days,
                ctx.schedule,
            ),
        }
        return self.library.outline_prompt().format_messages(**values)

    def tool_parameters(
        self, days: Sequence[int] | None, copies: Sequence[str] = (), *, hashtag_max: int = 8
    ) -> dict[str, Any]:
        return outline_schema(days, formats=self.formats, pillars=self.settings.content_pillars)

    def grammar(self, request: ChunkRequest) -> dict[str, Any]:
        ctx = request.context
        on = {ctx.schedule.post(d).date for d in request.days}
        dates = [s.name for s in ctx.special_dates if s.date in on]
        uses = list(dict.fromkeys([*ctx.trends, *dates]))
        return outline_schema(
            request.days,
            formats=self.formats,
            words=OUTLINE_GRAMMAR_WORDS,
            uses=uses,
            pillars=self.settings.content_pillars,
        )

    def parse_reply(
        self, reply: Any, request: ChunkRequest, finish: str | None
    ) -> tuple[list[Any], ParseResult | None]:
        return parse_outline(reply, request.days), None


#: Rounds the outline gets (the first, then one for days missing or repeating a title);
#: after them the days are written, from the outline lines there are.
OUTLINE_ROUNDS = 2
#: The outline's share of a run's spend cap: at most this fraction of ``max_calls`` go to
#: outline calls, or its first round's chunks plus :data:`EXTRA_OUTLINE_CALLS` when that is
#: more; then the days are written. With ``max_calls`` unset the cap grows by that share,
#: so the outline never takes the writing's calls.
OUTLINE_CALL_SHARE = 0.2
EXTRA_OUTLINE_CALLS = 2


def outline_call_allowance(calls: int, first_round: int) -> int:
    """Outline calls a run of ``calls`` calls may make, its first outline round being
    ``first_round`` chunks: ``max(ceil(OUTLINE_CALL_SHARE * calls), first_round +
    EXTRA_OUTLINE_CALLS)``."""
    return max(math.ceil(OUTLINE_CALL_SHARE * calls), first_round + EXTRA_OUTLINE_CALLS)


class OutlineStage:
    """The outline's part of the month graph (the engine's nodes call these): plan the
    outline's chunks, review the lines a round wrote (a title that repeats one planned or
    written before is dropped and its day asked again, with why) and say when it is done.

    Titles are reviewed after the round, not in each call: chunks of one round are
    written at the same time and cannot see each other's titles.
    """

    def __init__(
        self, writer: OutlineWriter, settings: Settings, titles: TitleGuard | None = None
    ) -> None:
        self.writer = writer
        self.settings = settings
        self.titles = titles or TitleGuard.from_settings(settings)

    @staticmethod
    def active(state: dict[str, Any]) -> bool:
        return state["first_role"] == "main" and not state.get("outline_done", True)

    def plan(
        self, state: dict[str, Any], context: dict[str, Any], month_context: Any
    ) -> tuple[list[dict[str, Any]], str]:
        """The next round's tasks (:meth:`tasks`), or none and why it cannot be planned
        (any error: the outline never costs the month)."""
        try:
            return self.tasks(state, context, month_context), ""
        except Exception as exc:
            logger.warning("the outline cannot be planned: %s", exc, exc_info=True)
            return [], f"it could not be planned ({type(exc).__name__}: {exc})"

    @staticmethod
    def planned(
        state: dict[str, Any], tasks: list[dict[str, Any]], why: str, caps: dict[str, Any]
    ) -> dict[str, Any]:
        """``plan_chunks`` while the outline is on, given :meth:`plan`'s tasks and why:
        ``{"planned": tasks}`` within the outline's share of the run's calls
        (``caps["outline_max_calls"]``), or, when that is spent, no line is left to plan
        or it cannot plan, the update that ends it (the days are written without the lines
        it lacks)."""
        left = caps["outline_max_calls"] - len(state.get("usage") or [])
        if left <= 0:
            why = f"its share of the run's calls ({caps['outline_max_calls']}) is spent"
        elif tasks:
            return {"planned": tasks[:left]}
        update: dict[str, Any] = {"outline_done": True}
        if why:
            note = f"The outline stopped early: {why}; days without a line are written without one."
            logger.warning(note)
            update["notes"] = [*(state.get("notes") or []), note]
        return update

    def tasks(self, state: dict[str, Any], context: dict[str, Any], month_context: Any):
        """One outline task per chunk of the days without a line (or a row): chunks fit
        the budget (:func:`~pipeline.generation.writing.fitting.plan_requests`; a day that cannot
        fit is left to be written without a line); only ``speed: fast`` splits them for
        wall time."""
        from pipeline.generation.writing.fitting import chunk_task, plan_requests

        rows = state.get("rows") or {}
        outline = state.get("outline") or {}
        schedule = schedule_of(state)
        days = [schedule.number_of(d) for d in state["dates"] if d not in outline and d not in rows]
        feedback = latest_outline_breaks(state)
        request = ChunkRequest(
            "outline",
            days,
            month_context,
            round=state["round"],
            already_used=_taken(state),
            tokens_per_day=state["tokens_per_day"]["outline"],
            reasoning_reserve=state["reasoning_reserve"]["outline"],
            feedback={d: feedback[d] for d in days if d in feedback},
        )
        # One call sees the whole month (pillars balanced, series on their weekdays) and
        # costs about a tenth of the writing; only ``fast`` splits it for wall time.
        speed_cap = (
            chunk_cap_for_speed(len(days), "fast") if self.settings.speed == "fast" else None
        )
        caps = [state["max_days"].get("outline"), speed_cap]
        plan = plan_requests(
            self.writer, request, max_days=min((c for c in caps if c), default=None)
        )
        for day, reason in plan.not_asked.items():
            logger.warning("%s is left out of the outline: %s", schedule.short_name(day), reason)
        return [chunk_task(r, context) for r in plan.requests]

    def review(self, state: dict[str, Any]) -> dict[str, Any]:
        """The lines new since the last review, checked in day order against every title
        planned or written: repeats are dropped (``None`` in the update removes a line)
        and recorded with why. Before the last round, so are the latest lines of a pillar
        over its share (:func:`~pipeline.generation.review.pillars.over_share`)."""
        outline = state.get("outline") or {}
        checked = set(state.get("outline_checked") or [])
        new = sorted(d for d in outline if d not in checked)
        taken = [title for title, _ in _taken(state, only=checked)]
        repeats = self.titles.repeats([outline[d]["title"] for d in new], taken=taken)
        why = {
            new[i]: f"title {outline[new[i]]['title']!r} repeats {match!r}: pick a new idea"
            for i, match in repeats.items()
        }
        pillars = self.settings.content_pillars
        if pillars and state.get("outline_rounds", 0) + 1 < OUTLINE_ROUNDS:
            kept = {d: outline[d] for d in outline if d not in why}
            special = set(special_keys(state, self._context(state)))
            why |= over_share(
                kept,
                [d for d in new if d not in why],
                pillars,
                self.settings.pillar_mix,
                len(state["dates"]),
                fixed=special,
            )
        # a pillar, format or use named in another case or spacing takes its list's
        # spelling; one outside its list is dropped to empty (and counted in the notes)
        respelled = spelled({d: outline[d] for d in new if d not in why}, pillars)
        context = self._context(state)
        checked_lines, dropped = in_their_lists(
            {d: respelled.get(d, outline[d]) for d in new if d not in why},
            formats=self.writer.formats,
            uses=[*context.trends, *(s.name for s in context.special_dates)],
            pillars=pillars,
        )
        respelled |= checked_lines
        return {
            "values_dropped": dropped,
            "outline": {**respelled, **{d: None for d in why}},
            "outline_checked": sorted(checked | {d for d in new if d not in why}),
            "outline_breaks": [
                {
                    "day": schedule_of(state).number_of(d),
                    "reasons": [reason],
                    "round": state["round"],
                }
                for d, reason in sorted(why.items())
            ],
        }

    def _context(self, state: dict[str, Any]) -> MonthContext:
        return MonthContext.from_data(state, self.settings)

    @staticmethod
    def written(result: Any, task: dict[str, Any]) -> dict[str, Any]:
        """The state update of an outline call: its lines (``review_outline`` reviews them)."""
        schedule = schedule_of(task["context"])
        logger.info(result.usage.summary(schedule.short_label, schedule.noun))
        schedule = schedule_of(task["context"])
        return {
            "outline": {
                schedule.key_of(line.day): line.model_dump(mode="json") for line in result.plans
            },
            "usage": [result.usage.model_dump(mode="json")],
        }

    def merged(
        self, state: dict[str, Any], shrunk: bool, *, gave_up: bool = False
    ) -> dict[str, Any]:
        """``review_outline`` after a round: the review, and whether the outline is done
        (``gave_up``: a line could not be asked for; any error ends the outline too, and
        the days are written without the lines it lacks)."""
        try:
            return self._merged(state, shrunk, gave_up)
        except Exception as exc:  # the outline never costs the month
            logger.warning("the outline's review failed: %s", exc, exc_info=True)
            note = f"The outline stopped early: its review failed ({type(exc).__name__}: {exc})."
            return {"outline_done": True, "notes": [*(state.get("notes") or []), note]}

    def _merged(self, state: dict[str, Any], shrunk: bool, gave_up: bool) -> dict[str, Any]:
        review = self.review(state)
        grew = len(state.get("outline") or {}) > state["outline_before"]
        # a round whose only effect was to split chunks that overflowed or were cut is
        # not counted (splitting ends: a chunk of one day cannot shrink)
        rounds = state.get("outline_rounds", 0) + (0 if shrunk and not grew else 1)
        kept = set(review["outline_checked"])
        done = gave_up or self.done(state, kept, rounds, grew or shrunk)
        status = "complete" if done and state.get("outline_only") else "running"
        dropped = review.pop("values_dropped")
        update = {**review, "outline_rounds": rounds, "outline_done": done, "status": status}
        notes = list(state.get("notes") or [])
        if dropped:
            note = (
                f"The outline named {len(dropped)} value(s) outside their lists, left empty: "
                f"{', '.join(dropped[:5])}{' ...' if len(dropped) > 5 else ''}."
            )
            logger.info(note)
            update["notes"] = notes = [*notes, note]
        if done:  # one "outline" update: the review's drops and the balance's changes
            lines = {**(state.get("outline") or {}), **review["outline"]}
            reviewed = {**state, "outline": {d: v for d, v in lines.items() if v}, "notes": notes}
            balanced = self.balanced(reviewed, kept)
            outline = {**review["outline"], **balanced.pop("outline", {})}
            update |= {**balanced, "outline": outline}
        return update

    def balanced(self, state: dict[str, Any], kept: set[str]) -> dict[str, Any]:
        """The done outline with each special date on its own day and each trend on at
        least its floor of days (:mod:`pipeline.generation.review.uses`); the lines the user
        gave stay as they are."""
        outline = state.get("outline") or {}
        schedule = schedule_of(state)
        special = special_keys(state, self._context(state))
        given = {
            schedule.key_of(line["day"])
            for line in state.get("given_outline") or []
            if line["day"] <= schedule.count
        }
        lines = {d: outline[d] for d in kept if d in outline}
        changed = place_special_dates(lines, special, fixed=given)
        moved, notes = balance_trends(
            {**lines, **changed},
            state["trends"],
            state["dates"],
            fixed=given | set(special),
            label=schedule.short_label,
        )
        changed.update(moved)
        pillars = self.settings.content_pillars
        final = {**lines, **changed}.values()
        notes += pillar_notes(final, pillars, self.settings.pillar_mix, len(state["dates"]))
        for note in notes:
            logger.info(note)
        update: dict[str, Any] = {"outline": changed} if changed else {}
        return {**update, "notes": [*(state.get("notes") or []), *notes]} if notes else update

    @staticmethod
    def done(state: dict[str, Any], kept: set[str], rounds: int, grew: bool) -> bool:
        """Every day has a kept line (or a row), or :data:`OUTLINE_ROUNDS` rounds were
        taken, or a round added no line."""
        covered = kept | set(state.get("rows") or {})
        return all(d in covered for d in state["dates"]) or rounds >= OUTLINE_ROUNDS or not grew


def special_keys(state: dict[str, Any], context: MonthContext) -> dict[str, list[str]]:
    """Post key -> the names of the special dates on its date, for the posts the run
    writes."""
    names: dict[dt.date, list[str]] = {}
    for found in context.special_dates:
        names.setdefault(found.date, []).append(found.name)
    return {d: names[key_date(d)] for d in state["dates"] if key_date(d) in names}


def prepare_outline(
    state: dict[str, Any], schedule: Schedule, dates: Sequence[str], enabled: bool
) -> dict[str, Any]:
    """The outline part of ``prepare`` (``dates``: the keys of the posts the run writes): lines
    given with the request (``given_outline``: OutlineDay data, e.g. an outline the user
    edited) are kept as they are; the outline rounds plan only the days without one, when
    the outline is on."""
    lines = {}
    for data in state.get("given_outline") or []:
        line = OutlineDay.model_validate(data)
        if line.day <= schedule.count:
            lines[schedule.key_of(line.day)] = line.model_dump(mode="json")
    covered = all(d in lines for d in dates)
    return {
        "outline": lines,
        "outline_checked": sorted(lines),
        "outline_rounds": 0,
        "outline_done": not enabled or covered,
    }


def _taken(state: dict[str, Any], only: set[str] | None = None) -> list[tuple[str, str]]:
    """Titles planned (outline lines, those in ``only`` when given), then the titles and
    hooks written or kept (:func:`~pipeline.generation.state.already_used`)."""
    outline = state.get("outline") or {}
    lines = [(o["title"], "") for d, o in sorted(outline.items()) if only is None or d in only]
    return lines + already_used(state)


def latest_outline_breaks(state: dict[str, Any]) -> dict[int, list[str]]:
    """Day -> why its outline line was last dropped."""
    return {e["day"]: list(e["reasons"]) for e in state.get("outline_breaks") or []}
