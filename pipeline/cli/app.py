"""The ``reelcal`` command line (typer + rich).

Every command turns a :class:`~pipeline.errors.ReelcalError` into one line on stderr
and a non-zero exit code (2 for bad arguments or settings, 1 for a failed run).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.common import (
    BadArguments,
    ConfigOpt,
    IndexOpt,
    ModelOpt,
    MonthOpt,
    NicheOpt,
    QuietOpt,
    SpeedOpt,
    TrendOpt,
    VerboseOpt,
    check_setup,
    err,
    fail,
    incomplete_exit,
    load_settings,
    setup_logging,
    write_result,
)
from pipeline.cli.setup import index, models, plan
from pipeline.cli.when import (
    CadenceOpt,
    FromOpt,
    PlatformOpt,
    PostsPerWeekOpt,
    TimeOpt,
    TimezoneOpt,
    ToOpt,
    WeekOpt,
    When,
    read_notes,
)
from pipeline.errors import ReelcalError

app = typer.Typer(
    name="reelcal",
    help=(
        "Plan a month (or any span) of short-video content with an LLM, grounded in mentor "
        "transcripts: posts on your cadence, at your times, on your platforms.\n\n"
        "Examples:\n\n"
        "  reelcal generate --month 'March 2026' --trend 'AI agents' --out march.xlsx\n\n"
        "  reelcal generate --month 2027-03 --cadence mon,wed,fri --time 18:00 "
        "--timezone Europe/Berlin --platform instagram --platform tiktok --out march.ics\n\n"
        "  reelcal generate --week 2027-W10 --out week.xlsx\n\n"
        "  reelcal outline --month 2026-03 --trend 'AI agents' --out march-outline.csv\n\n"
        "  reelcal generate --month 2026-03 --outline march-outline.csv --out march.xlsx\n\n"
        "  reelcal plan --month 2026-03 --model openai:gpt-3.5-turbo --model openai:gpt-4o\n\n"
        "  reelcal models llamacpp:smollm2\n\n"
        "  reelcal index transcripts/ --creator @me --out my-index\n\n"
        "  reelcal regenerate march.json --days 3,7,12-14 (or --missing, --posts 2027-03-03T18:00)"
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


# ------------------------------------------------------------------------ generate
@app.command()
def generate(
    month: MonthOpt = None,
    week: WeekOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    cadence: CadenceOpt = None,
    time: TimeOpt = None,
    posts_per_week: PostsPerWeekOpt = None,
    timezone: TimezoneOpt = None,
    platform: PlatformOpt = None,
    trend: TrendOpt = None,
    niche: NicheOpt = None,
    model: ModelOpt = None,
    config: ConfigOpt = None,
    speed: SpeedOpt = None,
    index: IndexOpt = None,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the calendar: .xlsx .csv .json .md .ics .gcal.csv"),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Output format when the suffix is not enough (xlsx csv json md ics gcal).",
        ),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume",
            help="Continue a saved run by its id (printed when it started); only missing days are written.",
        ),
    ] = None,
    run_id: Annotated[
        str | None,
        typer.Option("--run-id", help="Name a new run (default: the month and a random suffix)."),
    ] = None,
    outline: Annotated[
        Path | None,
        typer.Option(
            "--outline",
            help="Write the month from this outline (reelcal outline --out FILE, edited), "
            "or from the outline of a calendar file.",
        ),
    ] = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Write a complete content calendar for a month, a week or any span, on your
    cadence, times and platforms (resumable: Ctrl-C saves the posts written so far and
    prints the command that continues the run).

    Example: reelcal generate --month 2027-03 --cadence mon,wed,fri --time 18:00
    --timezone Europe/Berlin --trend 'AI agents' --out march.xlsx
    """
    from pipeline.cli.terminal import DaysProgress
    from pipeline.errors import IncompleteCalendarError, RunNotFoundError
    from pipeline.generation.chains import generate_calendar, resume_calendar
    from pipeline.generation.month.runs import check_run_id, new_run_id, saved_run
    from pipeline.generation.requests import check_request_text, read_schedule
    from pipeline.outputs.formats import check_output_path
    from pipeline.outputs.outline_files import check_outline_days, read_outline

    setup_logging(quiet, verbose)
    when = When(month, week, start, end, cadence, time, posts_per_week, timezone, platform)
    try:
        if not when.span_given and resume is None:
            raise BadArguments(
                "give a span (--month 2026-03, --week 2027-W10, or --from and --to), or "
                "--resume RUN_ID."
            )
        if resume and run_id:
            raise BadArguments("give --resume RUN_ID or --run-id NAME, not both.")
        if resume and outline:
            raise BadArguments("a resumed run keeps its outline: leave --outline out.")
        check_request_text(trend or [], niche)
        lines = read_outline(outline) if outline else None
        settings = load_settings(config, model=model, speed=speed, vectorstore=index)
        # bad input fails before models load
        spec = read_schedule(when.request(), settings) if when.span_given else None
        if lines and spec:
            check_outline_days(lines, spec)
        for note in [*read_notes(when), *(spec.notes if spec else [])]:
            if not quiet:
                err.print(note, markup=False)
        if out_path is not None:
            check_output_path(out_path, fmt, inputs=[config] if config else [])
        saved = saved_run(settings, resume) if resume else None
        if resume and saved is None:
            raise RunNotFoundError(
                f"No saved run {resume!r} in {settings.output_dir}/runs: check the id (printed "
                f"when the run started) and output_dir (--config)."
            )
        if saved and saved.get("outline_only"):
            raise BadArguments(
                f"run {resume} is an outline: resume it with reelcal outline --resume {resume} "
                f"--out FILE."
            )
        the_run = check_run_id(resume or run_id or new_run_id(spec.slug))
        check_setup(settings)
        if not quiet:
            err.print(
                f"run {the_run} (resume with: reelcal generate --resume {the_run})", markup=False
            )
        with DaysProgress(err, quiet=quiet) as on_progress:
            if spec is None:
                calendar = resume_calendar(the_run, settings=settings, progress=on_progress)
            else:
                calendar = generate_calendar(
                    trends=trend or [],
                    niche=niche,
                    settings=settings,
                    progress=on_progress,
                    run_id=the_run,
                    outline=lines,
                    **when.request(),
                )
    except IncompleteCalendarError as exc:
        raise incomplete_exit(exc, verbose) from None
    except ReelcalError as exc:
        raise fail(exc) from None
    if not quiet:
        err.print(calendar.usage_summary(), markup=False)
    write_result(calendar, out_path, fmt, quiet)


# ------------------------------------------------------------------------ outline
@app.command("outline")
def outline_command(
    out_path: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write the outline: .csv or .json")
    ],
    month: MonthOpt = None,
    week: WeekOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    cadence: CadenceOpt = None,
    time: TimeOpt = None,
    posts_per_week: PostsPerWeekOpt = None,
    timezone: TimezoneOpt = None,
    platform: PlatformOpt = None,
    resume: Annotated[
        str | None,
        typer.Option("--resume", help="Continue a saved outline run by its id (printed at start)."),
    ] = None,
    trend: TrendOpt = None,
    niche: NicheOpt = None,
    model: ModelOpt = None,
    config: ConfigOpt = None,
    speed: SpeedOpt = None,
    index: IndexOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Plan a month without writing it: a title, pillar, format, series and trend per day.
    Edit the file, then write the month from it with generate --outline FILE.

    Example: reelcal outline --month 2026-03 --trend 'AI agents' --out march-outline.csv
    """
    from pipeline.errors import IncompleteCalendarError, RunNotFoundError
    from pipeline.generation.chains import generate_outline, resume_calendar
    from pipeline.generation.month.runs import check_run_id, new_run_id, saved_run
    from pipeline.generation.requests import check_request_text, read_schedule
    from pipeline.outputs.formats import check_output_path

    setup_logging(quiet, verbose)
    when = When(month, week, start, end, cadence, time, posts_per_week, timezone, platform)
    try:
        if when.span_given == (resume is not None):
            raise BadArguments(
                "give a span (--month 2026-03, --week 2027-W10, or --from and --to) or "
                "--resume RUN_ID."
            )
        check_request_text(trend or [], niche)
        if out_path.suffix.lower() not in (".csv", ".json"):
            raise BadArguments(f"--out {out_path}: an outline is written as .csv or .json.")
        settings = load_settings(config, model=model, speed=speed, vectorstore=index)
        spec = read_schedule(when.request(), settings) if when.span_given else None
        check_output_path(out_path, inputs=[config] if config else [])
        saved = saved_run(settings, resume) if resume else None
        if resume and not (saved and saved.get("outline_only")):
            raise RunNotFoundError(
                f"No saved outline run {resume!r} in {settings.output_dir}/runs: check the id "
                f"(printed when the run started)."
            )
        check_setup(settings)
        the_run = check_run_id(resume) if resume else new_run_id(spec.slug)
        if not quiet:
            err.print(
                f"run {the_run} (resume with: reelcal outline --resume {the_run} --out {out_path})",
                markup=False,
            )
        if resume:
            plan = resume_calendar(resume, settings=settings.model_copy(update={"outline": True}))
        else:
            plan = generate_outline(
                trends=trend or [],
                niche=niche,
                settings=settings,
                run_id=the_run,
                **when.request(),
            )
        written = plan.save_outline(out_path)
    except IncompleteCalendarError as exc:
        raise incomplete_exit(exc, verbose) from None
    except (OSError, ReelcalError) as exc:
        raise fail(exc) from None
    if not quiet:
        err.print(plan.usage_summary(), markup=False)
        span = f"--month {plan.year}-{plan.month:02d}" if month else "(the same span options)"
        err.print(
            f"wrote {written} ({len(plan.outline)}/{plan.post_count} {plan.plan_schedule.noun}s); "
            f"write them with: reelcal generate {span} --outline {written}",
            markup=False,
        )


# ------------------------------------------------------------------------ regenerate
@app.command()
def regenerate(
    file: Annotated[Path, typer.Argument(help="A calendar reelcal wrote (.json, .csv, .xlsx).")],
    days: Annotated[
        str | None,
        typer.Option("--days", "-d", help="Days (or post numbers) to rewrite, e.g. 3,7,12-14."),
    ] = None,
    posts: Annotated[
        str | None,
        typer.Option("--posts", help="Posts to rewrite by date-time, e.g. 2027-03-03T18:00,..."),
    ] = None,
    missing: Annotated[
        bool, typer.Option("--missing", help="Write the posts a partial file lacks.")
    ] = False,
    month: MonthOpt = None,
    week: WeekOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    cadence: CadenceOpt = None,
    time: TimeOpt = None,
    posts_per_week: PostsPerWeekOpt = None,
    timezone: TimezoneOpt = None,
    platform: PlatformOpt = None,
    trend: Annotated[
        list[str] | None, typer.Option("--trend", "-t", help="Trends (default: the calendar's).")
    ] = None,
    model: ModelOpt = None,
    config: ConfigOpt = None,
    speed: SpeedOpt = None,
    index: IndexOpt = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where to write (default: FILE itself).")
    ] = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Rewrite chosen posts of a calendar (by day or post number, date-time, span or
    cadence), or fill the posts a partial file lacks; every other post is kept as it is.

    Example: reelcal regenerate march.json --days 3,7,12-14 (or --missing, or --posts
    2027-03-03T18:00, or --week 2027-W10)
    """
    from pipeline.calendar import Calendar
    from pipeline.dates import expand_days
    from pipeline.generation.chains import (
        check_days_to_regenerate,
        post_numbers,
        regenerate_days,
    )
    from pipeline.schedule import MAX_POSTS

    setup_logging(quiet, verbose)
    when = When(month, week, start, end, cadence, time, posts_per_week, timezone, platform)
    try:
        wanted = expand_days(days, max_day=MAX_POSTS) if days else []
    except ReelcalError as exc:
        raise fail(exc) from None
    except ValueError:
        err.print(f"error: --days {days!r} is not a list like 3,7,12-14.", markup=False)
        raise typer.Exit(2) from None
    from pipeline.cli.terminal import DaysProgress
    from pipeline.errors import IncompleteCalendarError
    from pipeline.outputs.formats import check_output_path

    try:
        settings = load_settings(config, model=model, speed=speed, vectorstore=index)
        calendar = Calendar.load(file)
        wanted += post_numbers(calendar, [p for p in (posts or "").split(",") if p.strip()])
        wanted += calendar.missing_days if missing else []
        picked = when.select(calendar)  # also checks --timezone and --platform
        wanted += picked if when.selects else []
        if not (days or posts or missing or when.selects):
            raise BadArguments(
                "name the posts to rewrite: --days 3,7, --posts 2027-03-03T18:00, --missing, "
                "or a span or cadence such as --week 2027-W10."
            )
        if missing and not calendar.missing_days and not wanted:
            err.print(f"{file} has every post: nothing to write.", markup=False)
            raise typer.Exit(0)
        wanted = sorted(set(wanted))
        check_days_to_regenerate(calendar, wanted)
        check_output_path(out_path or file)
        check_setup(settings)
        with DaysProgress(err, quiet=quiet) as on_progress:
            updated = regenerate_days(
                calendar, wanted, trends=trend, settings=settings, progress=on_progress
            )
    except IncompleteCalendarError as exc:
        raise incomplete_exit(exc, verbose) from None
    except ReelcalError as exc:
        raise fail(exc) from None
    write_result(updated, out_path or file, None, quiet)


# ------------------------------------------------------------------------ models, index
app.command()(models)
app.command()(plan)
app.command()(index)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
