"""Progress of a load: the events the loader emits, and a rich progress bar that shows them.

The loader only calls a callback; drawing lives here, at the edge, so that notebooks, the CLI and
tests can each present (or ignore) progress their own way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = ["ProgressCallback", "ProgressUpdate", "RichProgress"]


@dataclass(frozen=True)
class ProgressUpdate:
    """One step of one connector's load.

    Attributes
    ----------
    connector
        The connector's label.
    pages
        Responses received so far for this connector.
    offers
        Offers received so far for this connector.
    total
        Offers expected (the distinct ids asked for), or ``None`` for a listing.
    done
        True on the connector's last update.
    """

    connector: str
    pages: int
    offers: int
    total: int | None
    done: bool = False


ProgressCallback = Callable[[ProgressUpdate], None]


class RichProgress:
    """A rich progress bar with one line per connector; pass it as ``progress=``.

    Parameters
    ----------
    file
        Where to draw (default: standard error, so that standard output stays clean for data).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> with RichProgress(file=out) as bar:
    ...     bar(ProgressUpdate("acme", pages=1, offers=200, total=None))
    ...     bar(ProgressUpdate("acme", pages=2, offers=250, total=None, done=True))
    >>> "acme" in out.getvalue()
    True
    """

    def __init__(self, *, file: IO[str] | None = None) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("offers · {task.fields[pages]} pages"),
            TimeElapsedColumn(),
            # Standard error by default: standard output may carry data (e.g. piped exports).
            console=Console(file=file) if file is not None else Console(stderr=True),
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def __call__(self, update: ProgressUpdate) -> None:
        task = self._tasks.get(update.connector)
        if task is None:
            task = self._progress.add_task(update.connector, total=update.total, pages=0)
            self._tasks[update.connector] = task
        total = update.total
        description = update.connector
        if update.done:
            # The load of this connector is over: the bar ends full whatever was asked for. Ids
            # the API does not have (or a listing of unknown length) would otherwise leave it
            # short forever; what was not found is said beside it instead.
            if total is not None and total > update.offers:
                description = f"{update.connector} ({total - update.offers:,} not found)"
            total = update.offers
        self._progress.update(
            task,
            description=description,
            completed=update.offers,
            total=total,
            pages=update.pages,
            refresh=update.done,
        )
