"""The options that say when and where posts go, shared by generate, outline, plan and
regenerate: the span (``--month``, ``--week``, ``--from``/``--to``), the cadence
(``--cadence``, ``--time``, ``--posts-per-week``), ``--timezone`` and ``--platform``.

:class:`When` gathers them; :meth:`When.request` gives the request keys
(:func:`~pipeline.generation.requests.span_request`), and :meth:`When.select` picks the
posts of a calendar file they name (``regenerate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer

from pipeline.cli.common import BadArguments

WeekOpt = Annotated[
    str | None, typer.Option("--week", help="An ISO week, e.g. 2027-W10 (Monday to Sunday).")
]
FromOpt = Annotated[
    str | None,
    typer.Option("--from", help="First date of the span, YYYY-MM-DD (with --to; at most 62 days)."),
]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last date of the span, YYYY-MM-DD.")]
CadenceOpt = Annotated[
    str | None,
    typer.Option("--cadence", help="Weekdays to post on, e.g. mon,wed,fri (default: every day)."),
]
TimeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--time",
        help="Local posting time, e.g. 18:00 (repeat for two posts a day; default: the "
        "primary platform's default time).",
    ),
]
PostsPerWeekOpt = Annotated[
    int | None,
    typer.Option("--posts-per-week", min=1, max=7, help="Posts a week, spread from Monday."),
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option("--timezone", help="IANA time zone of the times, e.g. Europe/Berlin."),
]
PlatformOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--platform",
        help="instagram, tiktok or youtube_shorts (repeatable; the first is primary).",
    ),
]


@dataclass(frozen=True)
class When:
    """The span, cadence, time zone and platform options of one command."""

    month: str | None = None
    week: str | None = None
    start: str | None = None
    end: str | None = None
    cadence: str | None = None
    times: list[str] | None = None
    posts_per_week: int | None = None
    timezone: str | None = None
    platforms: list[str] | None = None

    @property
    def span_given(self) -> bool:
        return any((self.month, self.week, self.start, self.end))

    @property
    def selects(self) -> bool:
        """Whether the options pick posts (regenerate): a span, a cadence or times; the
        time zone and platforms only check the file's."""
        return self.span_given or bool(self.cadence or self.times)

    def request(self) -> dict[str, Any]:
        """The keyword arguments of ``generate_calendar`` and friends (only those given)."""
        if self.end and not self.start:
            raise BadArguments("--to needs --from (e.g. --from 2027-03-28 --to 2027-04-06).")
        given = {
            "month": self.month,
            "week": self.week,
            "start": self.start,
            "end": self.end,
            "cadence": self.cadence,
            "times": self.times or None,
            "posts_per_week": self.posts_per_week,
            "timezone": self.timezone,
            "platforms": self.platforms or None,
        }
        return {k: v for k, v in given.items() if v is not None}

    def select(self, calendar: Any) -> list[int]:
        """The numbers of ``calendar``'s posts that the span, cadence and time options name
        (regenerate); every option left out selects everything. The file keeps its own
        time zone and platforms: naming others is an error."""
        from pipeline.platforms import read_platforms
        from pipeline.schedule import parse_time, read_span, weekday_key

        schedule = calendar.plan_schedule
        if self.timezone and self.timezone != schedule.timezone:
            raise BadArguments(
                f"the file's posts are in {schedule.timezone}, not {self.timezone}: regenerate "
                "keeps a file's time zone (generate a new plan for another)."
            )
        if self.platforms and read_platforms(self.platforms) != list(calendar.platforms):
            raise BadArguments(
                f"the file's platforms are {', '.join(calendar.platforms)}: regenerate keeps "
                "them (leave --platform out)."
            )
        posts = schedule.posts
        if self.span_given:
            span = read_span(month=self.month, week=self.week, start=self.start, end=self.end)
            posts = [p for p in posts if span.start <= p.date <= span.end]
        if self.cadence:
            days = {weekday_key(d) for d in self.cadence.split(",") if d.strip()}
            posts = [p for p in posts if p.date.strftime("%a").lower() in days]
        if self.times:
            times = {parse_time(t) for t in self.times}
            posts = [p for p in posts if p.time in times]
        return [p.number for p in posts]


def read_notes(when: When) -> list[str]:
    """How a month given in words was read ("Read 'march' as March 2027.")."""
    from pipeline.dates import parse_month

    note = parse_month(when.month).note if when.month else None
    return [note] if note else []
