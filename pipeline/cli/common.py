"""What every ``reelcal`` command shares: the consoles, the common options, logging,
settings, the checks before a run, one-line errors and writing the result.

Every command turns a :class:`~pipeline.errors.ReelcalError` into one line on stderr
and a non-zero exit code (2 for bad arguments or settings, 1 for a failed run, 130 after
Ctrl-C); the commands are in :mod:`pipeline.cli.app`.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pipeline.errors import ReelcalError

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
IndexOpt = Annotated[
    Path | None,
    typer.Option(
        "--index",
        help="A mentor index built with `reelcal index` (default: the vectorstore setting, "
        "else the bundled one).",
    ),
]
MonthOpt = Annotated[
    str | None, typer.Option("--month", help="e.g. 'March 2026', 2026-03, 03/2026.")
]
TrendOpt = Annotated[
    list[str] | None, typer.Option("--trend", "-t", help="A trend to build on (repeatable).")
]
NicheOpt = Annotated[str | None, typer.Option(help="The account's niche.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log every model call.")]


def setup_logging(quiet: bool, verbose: bool) -> None:
    """reelcal's own log at INFO with --verbose; other libraries stay at WARNING."""
    level = logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(
        level=logging.ERROR if quiet else logging.WARNING,
        format="%(levelname)s %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("reelcal").setLevel(level)


def fail(exc: Exception) -> typer.Exit:
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    err.print(f"error: {message}", markup=False)
    code = exc.exit_code if isinstance(exc, ReelcalError) else 1
    return typer.Exit(code)


def load_settings(config: Path | None, **overrides: object):
    from pipeline.config import Settings

    return Settings.load(config, **overrides)


def check_setup(settings, *, model_keys: list[str] | None = None) -> None:
    """Model keys and the vector store, checked before a run starts (bad input exits 2
    before a run id is printed or a model loads)."""
    from pipeline.knowledge.index import check_vectorstore
    from pipeline.models.chat import check_model_key

    keys = model_keys or [settings.model, settings.supplement_model]
    for key in filter(None, keys):
        check_model_key(key, settings)
    check_vectorstore(settings)


class BadArguments(ReelcalError, ValueError):
    """A wrong combination of command-line options."""

    exit_code = 2


def incomplete_exit(exc, verbose: bool) -> typer.Exit:
    """One line for a run that ended with days missing; exit 130 after Ctrl-C, else 1."""
    err.print(f"error: {exc}", markup=False)
    if verbose and exc.__cause__ is not None:
        import traceback

        err.print("".join(traceback.format_exception(exc.__cause__)), markup=False)
    return typer.Exit(130 if exc.reason == "interrupted" else 1)


def write_result(calendar, out_path: Path | None, fmt: str | None, quiet: bool) -> None:
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
