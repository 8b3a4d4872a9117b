"""Input handling shared by the rate metrics: frame or lazy frame in, group keys normalised.

Temporary: replaced by the shared helpers of ``metrics/_frame.py`` once they land.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

FrameLike = pl.DataFrame | pl.LazyFrame


def as_lazy(frame: FrameLike) -> pl.LazyFrame:
    """Return ``frame`` as a LazyFrame, so every metric is one query plan."""
    if isinstance(frame, pl.LazyFrame):
        return frame
    return frame.lazy()


def normalise_by(by: str | Sequence[str] | None) -> list[str]:
    """Return the group keys as a list: None -> [], "a" -> ["a"], ("a", "b") -> ["a", "b"]."""
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    keys = list(by)
    if len(set(keys)) != len(keys):
        msg = f"by names a column more than once: {keys!r}"
        raise ValueError(msg)
    return keys


def require_columns(lf: pl.LazyFrame, columns: Iterable[str], *, metric: str) -> pl.Schema:
    """Raise a clear error naming what is missing, instead of Polars' ColumnNotFoundError."""
    schema = lf.collect_schema()
    missing = [c for c in dict.fromkeys(columns) if c not in schema]
    if missing:
        msg = f"{metric} needs the column(s) {missing!r}, which the frame does not have"
        raise ValueError(msg)
    return schema
