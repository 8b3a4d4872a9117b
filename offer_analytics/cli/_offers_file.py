"""Reading and writing offers on disk, for the commands that take or make a Parquet file.

Until the package's store lands these are plain Polars calls; the commands only ever call the
functions below, so the swap happens here alone.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import typer

from offer_analytics.errors import SchemaError

__all__ = ["check_output", "read_offers", "write_offers"]


def read_offers(path: Path) -> pl.LazyFrame:
    """The offers in ``path``, a Parquet file written by ``fetch``; unreadable is a SchemaError."""
    frame = pl.scan_parquet(path)
    try:
        frame.collect_schema()  # reads the footer: a file that is not Parquet fails here
    except (pl.exceptions.PolarsError, OSError) as error:
        msg = f"{path} is not a Parquet file of offers ({' '.join(str(error).split())})."
        raise SchemaError(msg) from error
    return frame


def write_offers(frame: pl.DataFrame, path: Path, *, watermark: datetime | None) -> Path:
    """Write ``frame`` to ``path`` as Parquet and return the absolute path."""
    del watermark  # kept in the file's metadata once the store writes it
    frame.write_parquet(path)
    return path.resolve()


def check_output(path: Path) -> Path:
    """``-o PATH``, refused before any work when its folder does not exist."""
    if not path.parent.is_dir():
        msg = f"folder {path.parent} does not exist; create it first."
        raise typer.BadParameter(msg, param_hint="'-o'")
    return path
