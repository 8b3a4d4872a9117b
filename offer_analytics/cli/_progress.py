"""A progress bar on stderr for loads whose progress arrives as callbacks (``sync`` runs each
connector in a worker thread): one line per connector, offers and pages so far.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

import offer_analytics as oa
from offer_analytics.cli._output import err_console

__all__ = ["progress_bar"]


@contextmanager
def progress_bar(shown: bool) -> Iterator[Callable[[oa.ProgressUpdate], None] | None]:
    """A ``progress=`` callback drawing on stderr while the block runs; None when not shown."""
    if not shown:
        yield None
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("offers · {task.fields[pages]} pages"),
        TimeElapsedColumn(),
        console=err_console(),
    )
    tasks: dict[str, TaskID] = {}

    def update(step: oa.ProgressUpdate) -> None:
        if step.connector not in tasks:
            tasks[step.connector] = bar.add_task(step.connector, total=step.total, pages=0)
        # A listing's length is unknown until its last page: the bar is full when it is done.
        total = step.offers if step.done else step.total
        bar.update(tasks[step.connector], completed=step.offers, total=total, pages=step.pages)

    with bar:
        yield update
