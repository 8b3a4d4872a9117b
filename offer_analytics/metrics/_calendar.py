"""Calendar periods and the zero-filled group x period grid used by the rate metrics.

A chart of rates or start dates with a missing month reads as "nothing happened" only if the month
is there with a zero; a gap silently joins its neighbours. So every periodic metric here returns the
full grid: every group, every period from the first to the last one present in the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

import polars as pl

PeriodUnit = Literal["week", "month", "quarter"]

# Polars durations for each unit; "1w" truncation of a Date lands on the Monday of its ISO week.
_EVERY: Final[dict[str, str]] = {"week": "1w", "month": "1mo", "quarter": "1q"}
# date_range steps: a quarter is stepped as three months so ranges stay on quarter starts.
_STEP: Final[dict[str, str]] = {"week": "1w", "month": "1mo", "quarter": "3mo"}


def period_start(expr: pl.Expr, unit: PeriodUnit) -> pl.Expr:
    """Return the first day (Date) of the period holding ``expr``, a Date or a UTC Datetime.

    Instants are cut to their UTC calendar date first: a period is a set of UTC calendar days.
    """
    return expr.dt.date().dt.truncate(_EVERY[unit])


def fill_grid(
    counts: pl.LazyFrame,
    groups: pl.LazyFrame,
    *,
    keys: Sequence[str],
    period: str,
    unit: PeriodUnit,
    values: Sequence[str],
) -> pl.LazyFrame:
    """Return ``counts`` completed to every ``groups`` row x every period, missing values 0.

    Parameters
    ----------
    counts
        One row per (``keys``, ``period``) that occurred, with integer ``values`` columns.
    groups
        The distinct ``keys`` combinations that must each get a full run of periods.
    keys, period, unit, values
        Group key columns, the Date period column, its unit and the count columns to zero-fill.

    The periods run from the earliest to the latest period in ``counts`` (over all groups). With no
    periods at all the result is empty.
    """
    bounds = counts.select(
        pl.col(period).min().alias("_first"), pl.col(period).max().alias("_last")
    ).filter(pl.col("_first").is_not_null())
    periods = bounds.select(pl.date_ranges("_first", "_last", _STEP[unit]).explode().alias(period))
    grid = groups.join(periods, how="cross")
    return grid.join(counts, on=[*keys, period], how="left", nulls_equal=True).with_columns(
        pl.col(list(values)).fill_null(0)
    )
