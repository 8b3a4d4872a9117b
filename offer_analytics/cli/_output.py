"""Where output goes: results on stdout (a table, CSV or JSON), messages and progress on stderr.

Consoles are made per call, on the streams of that moment, so that test runners that swap
``sys.stdout`` see everything.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal

import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = [
    "Format",
    "err_console",
    "message",
    "out_console",
    "print_frame",
    "print_json",
    "progress_wanted",
]

Format = Literal["table", "csv", "json"]
#: Columns wider than a terminal are still useful in a pipe or a file: do not squeeze them.
_PIPE_WIDTH = 200


def out_console() -> Console:
    """A console on stdout, wide when stdout is not a terminal."""
    return Console(file=sys.stdout, width=None if sys.stdout.isatty() else _PIPE_WIDTH)


def err_console() -> Console:
    """A console on stderr, for messages and progress."""
    return Console(file=sys.stderr, width=None if sys.stderr.isatty() else _PIPE_WIDTH)


def message(text: str) -> None:
    """One message line on stderr (rich markup off: data may hold brackets)."""
    err_console().print(text, markup=False, highlight=False, soft_wrap=True)


def progress_wanted(choice: bool | None) -> bool:
    """``--progress``/``--no-progress``, else whether stderr is a terminal."""
    return sys.stderr.isatty() if choice is None else choice


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def print_json(payload: Any) -> None:
    """``payload`` as one JSON document on stdout (dates and datetimes in ISO 8601)."""
    sys.stdout.write(json.dumps(_plain(payload), ensure_ascii=False) + "\n")


def print_frame(frame: pl.DataFrame, *, fmt: Format, title: str | None = None) -> None:
    """A metric's frame on stdout as a table, CSV or JSON (a list of row objects).

    Examples
    --------
    >>> print_frame(pl.DataFrame({"a": [1, None], "b": [0.5, 0.25]}), fmt="csv")
    a,b
    1,0.5
    ,0.25
    """
    if fmt == "json":
        print_json(frame.to_dicts())
    elif fmt == "csv":
        sys.stdout.write(_flat(frame).write_csv())
    else:
        out_console().print(_table(frame, title))


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested columns (lists, structs) as JSON text: CSV holds only scalars."""
    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
    if not nested:
        return frame
    return frame.with_columns(
        pl.Series(name, [json.dumps(_plain(v)) for v in frame[name].to_list()], pl.String)
        for name in nested
    )


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list | dict):
        return json.dumps(_plain(value), ensure_ascii=False)
    return str(_plain(value))


def _table(frame: pl.DataFrame, title: str | None) -> Table:
    table = Table(title=title, title_justify="left")
    for name, dtype in frame.schema.items():
        table.add_column(name, justify="right" if dtype.is_numeric() else "left")
    for row in frame.iter_rows():
        table.add_row(*(Text(_cell(v)) for v in row))
    return table
