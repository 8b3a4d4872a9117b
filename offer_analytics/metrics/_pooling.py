"""Pooling the long tail of a breakdown: the largest groups by offers, the rest as "other"."""

from __future__ import annotations

import polars as pl

from offer_analytics.errors import SchemaError
from offer_analytics.metrics._frame import FrameLike, to_lazy

__all__ = ["OTHER", "pool_groups", "pooled_last"]

#: The name :func:`pool_groups` gives the groups it pools, unless told otherwise.
OTHER = "other"


def pooled_last(table: pl.DataFrame, column: str, *, other: str = OTHER) -> pl.DataFrame:
    """Move the pooled row(s) after the named groups and before a null group; order otherwise kept.

    Examples
    --------
    >>> ranked = pl.DataFrame({"team": ["other", "a", None, "b"], "n": [9, 5, 4, 1]})
    >>> pooled_last(ranked, "team")["team"].to_list()
    ['a', 'b', 'other', None]
    """
    rank = pl.when(pl.col(column).is_null()).then(2).when(pl.col(column) == other).then(1)
    return table.with_row_index("__row").sort(rank.otherwise(0), "__row").drop("__row")


def pool_groups(frame: FrameLike, column: str, *, top: int, other: str = OTHER) -> pl.LazyFrame:
    """Keep the ``top`` values of ``column`` with the most offers; the others become ``other``.

    A recruiting lead reads the ten largest departments; thirty more with two offers each are
    noise on their own but matter together. Size is the number of rows (offer versions) with
    that value, ties broken by the value, so the choice does not depend on any one metric and
    the acceptance and time-to-close tables of a report pool the same groups. Nulls (offers
    whose group is unknown) stay null: they are not a group to pool.

    Parameters
    ----------
    frame
        The offers frame (DataFrame or LazyFrame).
    column
        A String column to group by, e.g. ``"department"``.
    top
        How many values keep their name (at least 1): the largest ones not spelled ``other``.
    other
        The name the rest share; a value already spelled so is pooled with them.

    Returns
    -------
    pl.LazyFrame
        The frame with ``column`` rewritten; every other column unchanged.

    Examples
    --------
    >>> teams = ["Eng", "Eng", "Eng", "Sales", "Sales", "Legal", None]
    >>> offers = pl.DataFrame({"department": teams})
    >>> pool_groups(offers, "department", top=1).collect()["department"].to_list()
    ['Eng', 'Eng', 'Eng', 'other', 'other', 'other', None]
    """
    if top < 1:
        msg = f"top must be at least 1; got {top!r}"
        raise ValueError(msg)
    lf = to_lazy(frame)
    if column not in lf.collect_schema():
        msg = f"the offers frame has no column {column!r} to pool"
        raise SchemaError(msg, field=column)
    value = pl.col(column).cast(pl.String)
    kept = (
        lf.select(value.alias("__value"))
        .drop_nulls()
        # A value already spelled like the pool joins it, so it never takes a named group's place.
        .filter(pl.col("__value") != other)
        .group_by("__value")
        .agg(pl.len().alias("__n"))
        .sort(["__n", "__value"], descending=[True, False])
        .head(top)
        .select("__value")
        .collect()
        .to_series()
        .to_list()
    )
    return lf.with_columns(
        pl.when(value.is_null() | value.is_in(kept))
        .then(value)
        .otherwise(pl.lit(other))
        .alias(column)
    )
