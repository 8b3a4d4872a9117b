"""The event table behind the survival metrics: observations, distinct times, numbers at risk.

Both the Kaplan-Meier curve (:mod:`offer_analytics.metrics.survival`) and the Aalen-Johansen
incidence (:mod:`offer_analytics.metrics.competing`) are cumulative sums over one table per group:
the distinct durations in increasing order, how many offers were at risk and what happened at each.
The population, event and censoring definitions live in the survival module's docstring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import polars as pl

from offer_analytics.metrics._frame import (
    FrameLike,
    as_of_literal,
    days_between,
    sent_population,
    typed_offers,
)


def observations(frame: FrameLike, keys: Sequence[str], as_of: datetime) -> pl.LazyFrame:
    """One row per offer of the population: ``[*keys, outcome, closed, time_days]``.

    ``closed`` is the event indicator at ``as_of``; ``time_days`` is negative for anomalies.
    """
    lf = typed_offers(frame, columns=("outcome", "sent_at", "closed_at"), keys=keys)
    at = as_of_literal(as_of)
    closed = pl.col("closed_at").is_not_null() & (pl.col("closed_at") <= at)
    end = pl.when(closed).then(pl.col("closed_at")).otherwise(at)
    return lf.filter(sent_population(as_of)).select(
        *dict.fromkeys([*keys, "outcome"]),
        closed.alias("closed"),
        days_between(pl.col("sent_at"), end).alias("time_days"),
    )


#: The columns of :func:`observations` besides the keys.
OBSERVED: Final = ("outcome", "closed", "time_days")

#: The dense group number that stands in for the ``by`` columns inside the heavy steps.
GROUP: Final = "_group"


@dataclass(frozen=True)
class Numbered:
    """Observations whose ``by`` columns are replaced by one dense group number.

    Hashing and sorting millions of rows on a UInt32 is several times faster than on strings, and
    numbering the groups in key order means a table sorted by the number is sorted by the keys.
    """

    rows: pl.LazyFrame
    #: ``[GROUP, *keys]`` in key order (nulls last); ``None`` when there are no keys.
    groups: pl.LazyFrame | None
    #: ``[GROUP]`` or ``[]``: what the heavy steps group by.
    keys: list[str]

    def restore(self, table: pl.LazyFrame, keys: Sequence[str]) -> pl.LazyFrame:
        """Put the ``by`` columns back in front of ``table`` in place of the group number."""
        if self.groups is None:
            return table
        joined = table.join(self.groups, on=GROUP, how="left", maintain_order="left")
        return joined.select(*keys, pl.exclude(GROUP, *keys))


def number_groups(rows: pl.LazyFrame, keys: Sequence[str]) -> Numbered:
    """Replace the ``keys`` of ``rows`` by a dense UInt32 :data:`GROUP` number in key order."""
    # Several branches (counts, curve, key restore) read these: cache so each is computed once.
    rows = rows.cache()
    if not keys:
        return Numbered(rows, None, [])
    groups = rows.select(keys).unique().sort(keys, nulls_last=True).with_row_index(GROUP).cache()
    # Keys that are also observation columns (grouping by outcome) stay for the counts.
    dropped = [key for key in keys if key not in OBSERVED]
    numbered = rows.join(groups, on=list(keys), how="inner", nulls_equal=True).drop(dropped)
    return Numbered(numbered.cache(), groups, [GROUP])


def within(expr: pl.Expr, keys: Sequence[str]) -> pl.Expr:
    """``expr`` evaluated per group (rows are sorted by keys then time), or over all rows."""
    return expr.over(list(keys)) if keys else expr


def event_table(
    valid: pl.LazyFrame, keys: Sequence[str], counts: dict[str, pl.Expr]
) -> pl.LazyFrame:
    """Per group and distinct time (plus a time-0 row): ``removed``, ``at_risk`` and ``counts``.

    ``valid`` holds observations with non-negative durations, grouped by ``keys`` (in practice the
    group number). ``counts`` are Boolean expressions over its rows, summed per time. ``at_risk``
    at time ``t`` is the number of offers whose duration is ``>= t``: censoring at a tied time
    happens after the closes at that time.
    """
    rows = valid.select(
        *keys,
        "time_days",
        pl.lit(1, pl.Int64).alias("removed"),
        *(expr.cast(pl.Int64).alias(name) for name, expr in counts.items()),
    )
    # A zero row per group, carrying no offers, so every curve starts at time 0 even when nothing
    # happened at 0; built from the data so an empty frame still gives an empty table.
    firsts = valid.select(keys).unique() if keys else valid.select("time_days").head(1)
    zeros = firsts.with_columns(
        pl.lit(0.0).alias("time_days"),
        *(pl.lit(0, pl.Int64).alias(name) for name in ["removed", *counts]),
    ).select(rows.collect_schema().names())
    table = (
        pl.concat([rows, zeros])
        .group_by([*keys, "time_days"])
        .agg(pl.col("removed", *counts).sum())
    )
    return table.sort([*keys, "time_days"], nulls_last=True).with_columns(
        within(pl.col("removed").cum_sum(reverse=True), keys).alias("at_risk")
    )


def log_survival(keys: Sequence[str]) -> pl.Expr:
    """Cumulative ``log S(t)`` of the Kaplan-Meier estimator, from ``at_risk`` and ``events``.

    Summing ``log(n - d) - log(n)`` is how lifelines accumulates the product; a step where every
    offer at risk closes gives ``-inf`` (S = 0).
    """
    n = pl.col("at_risk").cast(pl.Float64)
    d = pl.col("events").cast(pl.Float64)
    return within(((n - d).log() - n.log()).cum_sum(), keys)
