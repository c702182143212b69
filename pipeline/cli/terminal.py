"""What a run shows in a terminal: a progress bar of days done out of days wanted, and
the token plan of ``reelcal plan``.

Drawn with ``rich`` on the console the CLI writes messages to (stderr), so a calendar
printed to stdout stays clean. The bar is a ``progress`` callback of
:func:`~pipeline.generate_calendar`: it moves when a model call ends.

Example:
    .. code-block:: python

        with DaysProgress(Console(stderr=True)) as update:
            generate_calendar(month="2026-03", progress=update)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.dates import compact_days

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.generation.month.runs import Progress as Progress_
    from pipeline.generation.planning import ModelPlan


class DaysProgress:
    """A rich progress bar of days done out of days in the month."""

    def __init__(self, console: Console, *, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet
        self.bar: Progress | None = None

    def __enter__(self):
        if self.quiet:
            return None
        self.bar = Progress(
            TextColumn("days"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self.bar.start()
        self.task = self.bar.add_task("starting", total=None)

        def update(event: Progress_) -> None:
            u = event.usage
            self.bar.update(
                self.task,
                total=event.days_total,
                completed=event.days_done,
                description=f"{u.role} call: {u.days_parsed}/{len(u.days_requested)} days",
            )

        return update

    def __exit__(self, *exc_info) -> None:
        if self.bar is not None:
            self.bar.stop()


def print_plans(console: Console, plans: list[ModelPlan], *, title: str, noun: str = "day") -> None:
    """``reelcal plan``'s output: one line of limits per model, then a table of its calls
    (``noun``: what the calls write, "day" or "post")."""
    for p in plans:
        console.print(
            f"{p.model}: window {p.context_window:,}, output cap {p.max_output_tokens:,}, "
            f"tokenizer {p.tokenizer}, retrieved context {p.rag_tokens:,} tokens, "
            f"margin {p.margin:,}, {p.tokens_per_day:,} tokens/{noun}"
            f"{f', tool schema {p.schema_tokens:,} tokens' if p.schema_tokens else ''}"
            f"{f', reasoning reserve {p.reasoning_reserve:,}' if p.reasoning_reserve else ''} -> "
            f"{p.expected_calls} call{'s' if p.expected_calls != 1 else ''}"
            f"{' (the first sent alone to learn tokens per day; the rest re-planned from it)' if p.probe_calls else ''}",
            markup=False,
        )
    table = Table(
        "model",
        "call",
        f"{noun}s",
        "prompt tokens",
        "max_tokens",
        title=title,
    )
    for p in plans:
        labelled = [("outline " + str(n), c) for n, c in enumerate(p.outline_calls, start=1)]
        labelled += [(str(n), c) for n, c in enumerate(p.calls, start=1)]
        for number, (label, call) in enumerate(labelled, start=1):
            bound = call.prompt_bound if call.prompt_bound is not None else call.prompt_tokens
            table.add_row(
                p.model if number == 1 else "",
                label,
                compact_days(call.days),
                f"{call.prompt_tokens:,}" if bound == call.prompt_tokens else f"<= {bound:,}",
                f"{call.max_tokens:,}",
            )
    console.print(table)
    if any(p.bounded for p in plans):
        console.print(
            "The outline calls are exact. The writing calls depend on what the outline "
            "writes: each is planned with outline lines at their caps and its own examples "
            "at chunk_rag_token_budget, so its prompt is at most the number shown.",
            markup=False,
        )
