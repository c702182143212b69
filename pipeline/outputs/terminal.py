"""What a run shows in a terminal: a progress bar of days done out of days wanted.

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

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.generation.runs import Progress as Progress_


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
