"""The ``reelcal`` command line (typer + rich).

Every command turns a :class:`~pipeline.errors.ReelcalError` into one line on stderr
and a non-zero exit code (2 for bad arguments or settings, 1 for a failed run).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

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
    out,
    setup_logging,
    write_result,
)
from pipeline.errors import ReelcalError
from pipeline.knowledge.ingest import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_TOKENS

app = typer.Typer(
    name="reelcal",
    help=(
        "Plan a month of short-video content with an LLM, grounded in mentor transcripts.\n\n"
        "Examples:\n\n"
        "  reelcal generate --month 'March 2026' --trend 'AI agents' --out march.xlsx\n\n"
        "  reelcal outline --month 2026-03 --trend 'AI agents' --out march-outline.csv\n\n"
        "  reelcal generate --month 2026-03 --outline march-outline.csv --out march.xlsx\n\n"
        "  reelcal plan --month 2026-03 --model openai:gpt-3.5-turbo --model openai:gpt-4o\n\n"
        "  reelcal models llamacpp:smollm2\n\n"
        "  reelcal index transcripts/ --creator @me --out my-index\n\n"
        "  reelcal regenerate march.json --days 3,7,12-14"
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


# ------------------------------------------------------------------------ models
@app.command()
def models(
    keys: Annotated[
        list[str] | None, typer.Argument(help="Model keys (default: the configured model).")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Show a model's resolved limits and tokenizer.

    Example: reelcal models llamacpp:smollm2 openai:gpt-4o
    """
    from pipeline.models.chat import load_chat_model, model_limits, token_counter_for

    try:
        settings = load_settings(config)
        table = Table("model", "context window", "max output", "limits from", "tokenizer")
        for key in keys or [settings.model]:
            model = load_chat_model(key, settings)
            limits = model_limits(model, settings)
            counter = token_counter_for(model)
            table.add_row(
                key,
                f"{limits.context_window:,}",
                f"{limits.max_output_tokens:,}",
                limits.source,
                f"{counter.name}{'' if counter.exact else ' (estimate)'}",
            )
        out.print(table)
    except ReelcalError as exc:
        raise fail(exc) from None


# ------------------------------------------------------------------------ generate
@app.command()
def generate(
    month: MonthOpt = None,
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
    """Write a complete content calendar for a month (resumable: Ctrl-C saves the days
    written so far and prints the command that continues the run).

    Example: reelcal generate --month 'March 2026' --trend 'AI agents' --out march.xlsx
    """
    from pipeline.cli.terminal import DaysProgress
    from pipeline.dates import parse_month
    from pipeline.errors import IncompleteCalendarError, RunNotFoundError
    from pipeline.generation.chains import generate_calendar, resume_calendar
    from pipeline.generation.month.runs import check_run_id, new_run_id, saved_run
    from pipeline.generation.state import check_request_text
    from pipeline.outputs.formats import check_output_path
    from pipeline.outputs.outline_files import check_outline_days, read_outline

    setup_logging(quiet, verbose)
    try:
        if month is None and resume is None:
            raise BadArguments("give --month (e.g. --month 2026-03), or --resume RUN_ID.")
        if resume and run_id:
            raise BadArguments("give --resume RUN_ID or --run-id NAME, not both.")
        if resume and outline:
            raise BadArguments("a resumed run keeps its outline: leave --outline out.")
        spec = parse_month(month) if month else None  # bad input fails before models load
        check_request_text(trend or [], niche)
        lines = read_outline(outline) if outline else None
        if lines and spec:
            check_outline_days(lines, spec)
        if spec and spec.note and not quiet:
            err.print(spec.note, markup=False)
        settings = load_settings(config, model=model, speed=speed, vectorstore=index)
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
        the_run = check_run_id(resume or run_id or new_run_id(spec.key))
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
                    spec,
                    trend or [],
                    niche,
                    settings=settings,
                    progress=on_progress,
                    run_id=the_run,
                    outline=lines,
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
    from pipeline.dates import parse_month
    from pipeline.errors import IncompleteCalendarError, RunNotFoundError
    from pipeline.generation.chains import generate_outline, resume_calendar
    from pipeline.generation.month.runs import check_run_id, new_run_id, saved_run
    from pipeline.generation.state import check_request_text
    from pipeline.outputs.formats import check_output_path

    setup_logging(quiet, verbose)
    try:
        if (month is None) == (resume is None):
            raise BadArguments("give --month (e.g. --month 2026-03) or --resume RUN_ID.")
        spec = parse_month(month) if month else None
        check_request_text(trend or [], niche)
        if out_path.suffix.lower() not in (".csv", ".json"):
            raise BadArguments(f"--out {out_path}: an outline is written as .csv or .json.")
        settings = load_settings(config, model=model, speed=speed, vectorstore=index)
        check_output_path(out_path, inputs=[config] if config else [])
        saved = saved_run(settings, resume) if resume else None
        if resume and not (saved and saved.get("outline_only")):
            raise RunNotFoundError(
                f"No saved outline run {resume!r} in {settings.output_dir}/runs: check the id "
                f"(printed when the run started)."
            )
        check_setup(settings)
        the_run = check_run_id(resume) if resume else new_run_id(spec.key)
        if not quiet:
            err.print(
                f"run {the_run} (resume with: reelcal outline --resume {the_run} --out {out_path})",
                markup=False,
            )
        if resume:
            plan = resume_calendar(resume, settings=settings.model_copy(update={"outline": True}))
        else:
            plan = generate_outline(spec, trend or [], niche, settings=settings, run_id=the_run)
        written = plan.save_outline(out_path)
    except IncompleteCalendarError as exc:
        raise incomplete_exit(exc, verbose) from None
    except (OSError, ReelcalError) as exc:
        raise fail(exc) from None
    if not quiet:
        err.print(plan.usage_summary(), markup=False)
        err.print(
            f"wrote {written} ({len(plan.outline)}/{plan.days_in_month} days); write the month "
            f"with: reelcal generate --month {plan.year}-{plan.month:02d} --outline {written}",
            markup=False,
        )


# ------------------------------------------------------------------------ plan
@app.command()
def plan(
    month: Annotated[str, typer.Option("--month", help="e.g. 'March 2026', 2026-03.")],
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Model key (repeat to compare models side by side)."),
    ] = None,
    trend: TrendOpt = None,
    niche: NicheOpt = None,
    config: ConfigOpt = None,
    speed: SpeedOpt = None,
    index: IndexOpt = None,
) -> None:
    """Dry run: build the real prompts and show the token plan, calling no model.

    Example: reelcal plan --month 2026-03 --model openai:gpt-3.5-turbo --model openai:gpt-4o
    """
    from pipeline.cli.terminal import print_plans
    from pipeline.generation.planning import plan_month

    try:
        settings = load_settings(config, speed=speed, vectorstore=index)
        plans = plan_month(
            month, trend or [], niche, models=model or [settings.model], settings=settings
        )
    except ReelcalError as exc:
        raise fail(exc) from None
    print_plans(out, plans, title=f"Token plan for {month} (no model was called)")


# ------------------------------------------------------------------------ regenerate
@app.command()
def regenerate(
    file: Annotated[Path, typer.Argument(help="A calendar reelcal wrote (.json, .csv, .xlsx).")],
    days: Annotated[str, typer.Option("--days", "-d", help="Days to rewrite, e.g. 3,7,12-14.")],
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
    """Rewrite chosen days of a calendar; every other day is kept as it is.

    Example: reelcal regenerate march.json --days 3,7,12-14
    """
    from pipeline.calendar import Calendar
    from pipeline.dates import expand_days
    from pipeline.generation.chains import check_days_to_regenerate, regenerate_days

    setup_logging(quiet, verbose)
    try:
        wanted = expand_days(days)
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


# ------------------------------------------------------------------------ index
@app.command()
def index(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Transcript files or folders (.txt .md .srt .vtt .json .jsonl .csv)."),
    ],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Index folder (default: the configured vectorstore, else ./reelcal-index).",
        ),
    ] = None,
    creator: Annotated[
        str | None, typer.Option(help="Creator for files whose records do not name one.")
    ] = None,
    append: Annotated[
        bool,
        typer.Option(
            "--append", help="Add new files to an existing index instead of rebuilding it."
        ),
    ] = False,
    embeddings: Annotated[
        str | None, typer.Option(help="Embeddings key (default from settings).")
    ] = None,
    chunk_tokens: Annotated[
        int,
        typer.Option(
            min=50, max=4000, help="Tokens per chunk (200 suits MiniLM's 256-piece limit)."
        ),
    ] = DEFAULT_CHUNK_TOKENS,
    chunk_overlap: Annotated[
        int, typer.Option(min=0, max=1000, help="Tokens of overlap between chunks.")
    ] = DEFAULT_CHUNK_OVERLAP,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Build (or extend) a mentor transcript index.

    Example: reelcal index transcripts/ --creator growthwithmaya --out my-index --append
    """
    from pipeline.knowledge.index import build_index

    try:
        settings = load_settings(config, embeddings=embeddings)
        target = out_dir or settings.vectorstore or Path("reelcal-index")
        report = build_index(
            paths,
            out_dir=target,
            embeddings_key=settings.embeddings,
            creator=creator,
            append=append,
            chunk_tokens=chunk_tokens,
            chunk_overlap=chunk_overlap,
            progress=not quiet,
        )
    except ReelcalError as exc:
        raise fail(exc) from None
    for skipped in report.files_skipped:
        err.print(f"skipped {skipped.path}: {skipped.reason}", markup=False)
    if not quiet:
        out.print(report.summary(), markup=False)
        if not settings.vectorstore or out_dir:
            out.print(
                f"Use it with: reelcal generate --index {target} ... (or vectorstore: "
                f"{target} in reelcal.yaml)",
                markup=False,
            )


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
