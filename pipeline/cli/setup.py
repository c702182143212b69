"""The commands that write no calendar: ``reelcal models`` (a model's resolved limits
and tokenizer), ``reelcal plan`` (the first round's token plan, calling no model) and
``reelcal index`` (build or extend a mentor transcript index). :mod:`pipeline.cli.app`
registers them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli.common import (
    BadArguments,
    ConfigOpt,
    IndexOpt,
    MonthOpt,
    NicheOpt,
    QuietOpt,
    SpeedOpt,
    TrendOpt,
    err,
    fail,
    load_settings,
    out,
)
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
)
from pipeline.errors import ReelcalError
from pipeline.knowledge.ingest import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_TOKENS


# ------------------------------------------------------------------------ models
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


# ------------------------------------------------------------------------ plan
def plan(
    month: MonthOpt = None,
    week: WeekOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    cadence: CadenceOpt = None,
    time: TimeOpt = None,
    posts_per_week: PostsPerWeekOpt = None,
    timezone: TimezoneOpt = None,
    platform: PlatformOpt = None,
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
    from pipeline.generation.requests import read_schedule

    when = When(month, week, start, end, cadence, time, posts_per_week, timezone, platform)
    try:
        if not when.span_given:
            raise BadArguments("give a span: --month 2026-03, --week 2027-W10, or --from and --to.")
        settings = load_settings(config, speed=speed, vectorstore=index)
        schedule = read_schedule(when.request(), settings)
        span = when.request()
        plans = plan_month(
            span.pop("month", None),
            trend or [],
            niche,
            models=model or [settings.model],
            settings=settings,
            **span,
        )
    except ReelcalError as exc:
        raise fail(exc) from None
    title = (
        f"Token plan for {schedule.name}, {schedule.count} {schedule.noun}s (no model was called)"
    )
    print_plans(out, plans, title=title, noun=schedule.noun)


# ------------------------------------------------------------------------ index
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
