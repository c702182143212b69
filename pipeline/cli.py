"""The ``reelcal`` command line (typer + rich).

Every command turns a :class:`~pipeline.errors.ReelcalError` into one line on stderr
and a non-zero exit code (2 for bad arguments or settings, 1 for a failed run).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipeline.errors import ReelcalError
from pipeline.knowledge.ingest import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_TOKENS

app = typer.Typer(
    name="reelcal",
    help=(
        "Plan a month of short-video content with an LLM, grounded in mentor transcripts.\n\n"
        "Examples:\n\n"
        "  reelcal generate --month 'March 2026' --trend 'AI agents' --out march.xlsx\n\n"
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
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="YAML settings file (default: ./reelcal.yaml when present)."
    ),
]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", "-m", help="Model key, e.g. llamacpp:smollm2, openai:gpt-4o."),
]
SpeedOpt = Annotated[
    str | None,
    typer.Option(
        "--speed",
        help="fast (up to 8 calls at once), balanced (4, the default) or economical "
        "(fewest calls).",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log every model call.")]


def _setup_logging(quiet: bool, verbose: bool) -> None:
    """reelcal's own log at INFO with --verbose; other libraries stay at WARNING."""
    level = logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(
        level=logging.ERROR if quiet else logging.WARNING,
        format="%(levelname)s %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("reelcal").setLevel(level)


def _fail(exc: Exception) -> typer.Exit:
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    err.print(f"error: {message}", markup=False)
    code = exc.exit_code if isinstance(exc, ReelcalError) else 1
    return typer.Exit(code)


def _settings(config: Path | None, **overrides: object):
    from pipeline.config import Settings

    return Settings.load(config, **overrides)


def _check_setup(settings, *, model_keys: list[str] | None = None) -> None:
    """Model keys and the vector store, checked before a run starts (bad input exits 2
    before a run id is printed or a model loads)."""
    from pipeline.generation.models import check_model_key
    from pipeline.knowledge.index import check_vectorstore

    keys = model_keys or [settings.model, settings.supplement_model]
    for key in filter(None, keys):
        check_model_key(key, settings)
    check_vectorstore(settings)


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
    from pipeline.generation.models import load_chat_model, model_limits, token_counter_for

    try:
        settings = _settings(config)
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
        raise _fail(exc) from None


# ------------------------------------------------------------------------ generate
@app.command()
def generate(
    month: Annotated[
        str | None, typer.Option("--month", help="e.g. 'March 2026', 2026-03, 03/2026.")
    ] = None,
    trend: Annotated[
        list[str] | None, typer.Option("--trend", "-t", help="A trend to build on (repeatable).")
    ] = None,
    niche: Annotated[str | None, typer.Option(help="The account's niche.")] = None,
    model: ModelOpt = None,
    config: ConfigOpt = None,
    speed: SpeedOpt = None,
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
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Write a complete content calendar for a month (resumable: Ctrl-C saves the days
    written so far and prints the command that continues the run).

    Example: reelcal generate --month 'March 2026' --trend 'AI agents' --out march.xlsx
    """
    from pipeline.dates import parse_month
    from pipeline.errors import IncompleteCalendarError, RunNotFoundError
    from pipeline.generation.chains import generate_calendar, resume_calendar
    from pipeline.generation.runs import check_run_id, new_run_id, saved_run
    from pipeline.generation.state import check_request_text
    from pipeline.outputs.formats import check_output_path
    from pipeline.outputs.terminal import DaysProgress

    _setup_logging(quiet, verbose)
    try:
        if month is None and resume is None:
            raise _BadInput("give --month (e.g. --month 2026-03), or --resume RUN_ID.")
        if resume and run_id:
            raise _BadInput("give --resume RUN_ID or --run-id NAME, not both.")
        spec = parse_month(month) if month else None  # bad input fails before models load
        check_request_text(trend or [], niche)
        if spec and spec.note and not quiet:
            err.print(spec.note, markup=False)
        settings = _settings(config, model=model, speed=speed)
        if out_path is not None:
            check_output_path(out_path, fmt, inputs=[config] if config else [])
        if resume and saved_run(settings, resume) is None:
            raise RunNotFoundError(
                f"No saved run {resume!r} in {settings.output_dir}/runs: check the id (printed "
                f"when the run started) and output_dir (--config)."
            )
        the_run = check_run_id(resume or run_id or new_run_id(spec.key))
        _check_setup(settings)
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
                )
    except IncompleteCalendarError as exc:
        raise _incomplete(exc, verbose) from None
    except ReelcalError as exc:
        raise _fail(exc) from None
    if not quiet:
        err.print(calendar.usage_summary(), markup=False)
    _write(calendar, out_path, fmt, quiet)


class _BadInput(ReelcalError, ValueError):
    """A wrong combination of command-line options."""

    exit_code = 2


def _incomplete(exc, verbose: bool) -> typer.Exit:
    """One line for a run that ended with days missing; exit 130 after Ctrl-C, else 1."""
    err.print(f"error: {exc}", markup=False)
    if verbose and exc.__cause__ is not None:
        import traceback

        err.print("".join(traceback.format_exception(exc.__cause__)), markup=False)
    return typer.Exit(130 if exc.reason == "interrupted" else 1)


def _write(calendar, out_path: Path | None, fmt: str | None, quiet: bool) -> None:
    if out_path is None:
        if not quiet:
            from pipeline.outputs.text import to_markdown

            out.print(to_markdown(calendar), markup=False)
        return
    try:
        written = calendar.save(out_path, format=fmt)
    except (OSError, ReelcalError) as exc:
        # checked before the run; the disk can still change under us: keep the month
        from pipeline.config import Settings

        fallback = (
            Path(Settings.load().output_dir) / f"calendar-{calendar.year}-{calendar.month:02d}.json"
        )
        calendar.save(fallback)
        err.print(
            f"error: cannot write {out_path} ({exc}); the calendar was saved to {fallback}.",
            markup=False,
        )
        raise typer.Exit(1) from None
    if not quiet:
        err.print(f"wrote {written}", markup=False)


# ------------------------------------------------------------------------ plan
@app.command()
def plan(
    month: Annotated[str, typer.Option("--month", help="e.g. 'March 2026', 2026-03.")],
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Model key (repeat to compare models side by side)."),
    ] = None,
    trend: Annotated[
        list[str] | None, typer.Option("--trend", "-t", help="A trend (repeatable).")
    ] = None,
    niche: Annotated[str | None, typer.Option(help="The account's niche.")] = None,
    config: ConfigOpt = None,
    speed: SpeedOpt = None,
) -> None:
    """Dry run: build the real prompts and show the token plan, calling no model.

    Example: reelcal plan --month 2026-03 --model openai:gpt-3.5-turbo --model openai:gpt-4o
    """
    from pipeline.generation.planning import plan_month
    from pipeline.outputs.terminal import print_plans

    try:
        settings = _settings(config, speed=speed)
        plans = plan_month(
            month, trend or [], niche, models=model or [settings.model], settings=settings
        )
    except ReelcalError as exc:
        raise _fail(exc) from None
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

    _setup_logging(quiet, verbose)
    try:
        wanted = expand_days(days)
    except ReelcalError as exc:
        raise _fail(exc) from None
    except ValueError:
        err.print(f"error: --days {days!r} is not a list like 3,7,12-14.", markup=False)
        raise typer.Exit(2) from None
    from pipeline.errors import IncompleteCalendarError
    from pipeline.outputs.formats import check_output_path
    from pipeline.outputs.terminal import DaysProgress

    try:
        settings = _settings(config, model=model, speed=speed)
        calendar = Calendar.load(file)
        check_days_to_regenerate(calendar, wanted)
        check_output_path(out_path or file)
        _check_setup(settings)
        with DaysProgress(err, quiet=quiet) as on_progress:
            updated = regenerate_days(
                calendar, wanted, trends=trend, settings=settings, progress=on_progress
            )
    except IncompleteCalendarError as exc:
        raise _incomplete(exc, verbose) from None
    except ReelcalError as exc:
        raise _fail(exc) from None
    _write(updated, out_path or file, None, quiet)


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
        settings = _settings(config, embeddings=embeddings)
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
        raise _fail(exc) from None
    for skipped in report.files_skipped:
        err.print(f"skipped {skipped.path}: {skipped.reason}", markup=False)
    if not quiet:
        out.print(report.summary(), markup=False)
        if not settings.vectorstore and not out_dir:
            out.print(f"Use it with: vectorstore: {target}  (in reelcal.yaml)", markup=False)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
