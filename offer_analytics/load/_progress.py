"""Progress of a load: the events the loader emits, and a rich progress bar that shows them.

The loader only calls a callback; drawing lives here, at the edge, so that notebooks, the CLI and
tests can each present (or ignore) progress their own way.

In Jupyter, rich's live display needs ``ipywidgets`` (an extra install; without it rich warns and
shows an empty box), and a widget shows nothing in a static view of the notebook anyway. So in a
notebook the same bar is rendered as plain text into one output that is updated in place through
IPython's display handle: it needs nothing beyond the kernel, and the saved notebook keeps the
final state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any, Final, Self

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

# A notebook output redrawn more often than this only costs messages to the front end.
_NOTEBOOK_REDRAW_S: Final = 0.25


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
        Without ``file``, inside Jupyter the bar is one plain-text output of the cell, updated in
        place (no ``ipywidgets`` needed).

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
        self._notebook = _NotebookOutput() if file is None and _in_jupyter() else None
        if self._notebook is not None:
            console = self._notebook.console
        else:
            # Standard error by default: standard output may carry data (e.g. piped exports).
            console = Console(file=file) if file is not None else Console(stderr=True)
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("offers · {task.fields[pages]} pages"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
            auto_refresh=self._notebook is None,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> Self:
        if self._notebook is not None:
            self._notebook.show(self._progress)
        else:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._notebook is not None:
            self._notebook.redraw(self._progress, final=True)
        else:
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
        if self._notebook is not None:
            self._notebook.redraw(self._progress, final=update.done)


def _in_jupyter() -> bool:
    """Whether this runs in a Jupyter kernel (rich's own test, so both agree)."""
    return Console().is_jupyter


class _NotebookOutput:
    """One notebook output showing a rich progress bar as plain text, updated in place."""

    def __init__(self) -> None:
        # Plain text, no colour codes: the output must read the same in any static view.
        self.console = Console(width=100, color_system=None, force_jupyter=False)
        self._handle: Any = None
        self._drawn_at = 0.0

    def show(self, progress: Progress) -> None:
        from IPython.display import display  # present wherever a Jupyter kernel runs

        # IPython ships no annotations for display().
        text = {"text/plain": self._text(progress)}
        self._handle = display(text, raw=True, display_id=True)  # type: ignore[no-untyped-call]
        self._drawn_at = time.monotonic()

    def redraw(self, progress: Progress, *, final: bool) -> None:
        now = time.monotonic()
        if self._handle is None or (not final and now - self._drawn_at < _NOTEBOOK_REDRAW_S):
            return
        self._handle.update({"text/plain": self._text(progress)}, raw=True)
        self._drawn_at = now

    def _text(self, progress: Progress) -> str:
        with self.console.capture() as captured:
            self.console.print(progress.get_renderable())
        return captured.get().rstrip("\n")
