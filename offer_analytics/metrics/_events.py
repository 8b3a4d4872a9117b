"""The event table behind the survival metrics: observations, distinct times, numbers at risk.

Both the Kaplan-Meier curve (:mod:`offer_analytics.metrics._survival`) and the Aalen-Johansen
incidence (:mod:`offer_analytics.metrics._competing`) are cumulative sums over one table per group:
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
    US_PER_DAY,
    FrameLike,
    as_of_literal,
    sent_population,
    typed_offers,
)

#: Column names the survival metrics create, so they cannot be grouping columns.
RESERVED: Final = ("closed", "time_us", "time_days", "_group", "_order")


def observations(frame: FrameLike, keys: Sequence[str], as_of: datetime) -> pl.LazyFrame:
    """One row per offer of the population: ``[*keys, outcome, closed, time_us]``.

    ``closed`` is the event indicator at ``as_of``; ``time_us`` is the duration in integer
    microseconds (exact, so ties are exact), negative for anomalies.
    """
    clashes = sorted(set(keys) & set(RESERVED))
    if clashes:
        msg = f"cannot group by {clashes}: the survival metrics use these names internally"
        raise ValueError(msg)
    lf = typed_offers(frame, columns=("outcome", "sent_at", "closed_at"), keys=keys)
    at = as_of_literal(as_of)
    closed = pl.col("closed_at").is_not_null() & (pl.col("closed_at") <= at)
    end = pl.when(closed).then(pl.col("closed_at")).otherwise(at)
    return lf.filter(sent_population(as_of)).select(
        *dict.fromkeys([*keys, "outcome"]),
        closed.alias("closed"),
        (end - pl.col("sent_at")).dt.total_microseconds().alias("time_us"),
    )


#: Duration in days as Float64, from the exact microseconds.
TIME_DAYS: Final = (pl.col("time_us").cast(pl.Float64) / US_PER_DAY).alias("time_days")

#: Observations that enter the estimators (closed before sent is excluded and counted apart).
VALID: Final = pl.col("time_us") >= 0


#: The columns of :func:`observations` besides the keys.
OBSERVED: Final = ("outcome", "closed", "time_us")

#: The dense group number that stands in for the ``by`` columns inside the heavy steps.
GROUP: Final = "_group"

#: One Int64 sort key, group number x span + microseconds, when it cannot overflow.
ORDER: Final = "_order"
KEY_LIMIT: Final = 2**62


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
    #: Larger than every valid duration in microseconds, when ``group x span + time_us`` fits an
    #: Int64; sorting one Int64 column is several times faster than sorting two.
    span: int | None = None

    def restore(self, table: pl.LazyFrame, keys: Sequence[str]) -> pl.LazyFrame:
        """Put the ``by`` columns back in front of ``table`` in place of the group number."""
        if self.groups is None:
            return table
        joined = table.join(self.groups, on=GROUP, how="left", maintain_order="left")
        return joined.select(*keys, pl.exclude(GROUP, *keys))


def number_groups(rows: pl.LazyFrame, keys: Sequence[str]) -> Numbered:
    """Read the observations once and number their groups densely, in key order.

    The observations are materialised here, on purpose: the input (possibly a Parquet scan) is
    read exactly once, and the branches that follow (counts, curve, restoring the keys) start from
    memory. Polars 2.1's common-subplan elimination did not share these branches on its own, and
    explicit ``LazyFrame.cache()`` nodes made its optimiser panic on some plans.
    """
    observed = rows.collect()
    if not keys:
        return Numbered(observed.lazy(), None, [])
    groups = observed.select(keys).unique().sort(keys, nulls_last=True).with_row_index(GROUP)
    # Keys that are also observation columns (grouping by outcome) stay for the counts.
    dropped = [key for key in keys if key not in OBSERVED]
    numbered = observed.join(groups, on=list(keys), how="inner", nulls_equal=True).drop(dropped)
    longest = observed.select(pl.col("time_us").max()).item()
    span = (longest or 0) + 1
    fits = span > 0 and groups.height * span < KEY_LIMIT
    return Numbered(numbered.lazy(), groups.lazy(), [GROUP], span if fits else None)


def within(expr: pl.Expr, keys: Sequence[str]) -> pl.Expr:
    """``expr`` evaluated per group (rows are sorted by keys then time), or over all rows."""
    return expr.over(list(keys)) if keys else expr


def event_table(numbered: Numbered, counts: dict[str, pl.Expr]) -> pl.LazyFrame:
    """Per group and distinct time (plus a time-0 row): counts, ``at_risk`` and ``time_days``.

    Columns: ``[*numbered.keys, time_days, removed, *counts, at_risk]``, sorted by group then
    time. ``counts`` are Boolean expressions over the valid observations, summed per time.
    ``removed`` is how many observations end at that time; ``at_risk`` at time ``t`` is the number
    whose duration is ``>= t``: censoring at a tied time happens after the closes at that time.
    """
    keys, span = numbered.keys, numbered.span
    valid = numbered.rows.filter(VALID)
    if span is not None:
        by: list[str] = [ORDER]
        key_exprs = [(pl.col(GROUP).cast(pl.Int64) * span + pl.col("time_us")).alias(ORDER)]
    else:
        by = [*keys, "time_us"]
        key_exprs = [pl.col(name) for name in by]
    rows = valid.select(
        *key_exprs,
        pl.lit(1, pl.Int64).alias("removed"),
        *(expr.cast(pl.Int64).alias(name) for name, expr in counts.items()),
    )
    # A zero row per group, carrying no offers, so every curve starts at time 0 even when nothing
    # happened at 0; built from the data so an empty frame still gives an empty table.
    firsts = valid.select(keys).unique() if keys else valid.select("time_us").head(1)
    zeros = (
        firsts.with_columns(pl.lit(0, pl.Int64).alias("time_us"))
        .with_columns(*key_exprs, *(pl.lit(0, pl.Int64).alias(c) for c in ["removed", *counts]))
        .select(rows.collect_schema().names())
    )
    table = pl.concat([rows, zeros]).group_by(by).agg(pl.col("removed", *counts).sum()).sort(by)
    if span is not None:
        table = table.with_columns(
            (pl.col(ORDER) // span).cast(pl.UInt32).alias(GROUP),
            (pl.col(ORDER) % span).alias("time_us"),
        )
    return table.select(
        *keys,
        TIME_DAYS,
        pl.col("removed", *counts),
        within(pl.col("removed").cum_sum(reverse=True), keys).alias("at_risk"),
    )


def log_survival(keys: Sequence[str]) -> pl.Expr:
    """Cumulative ``log S(t)`` of the Kaplan-Meier estimator, from ``at_risk`` and ``events``.

    Summing ``log(n - d) - log(n)`` is how lifelines accumulates the product; a step where every
    offer at risk closes gives ``-inf`` (S = 0).
    """
    n = pl.col("at_risk").cast(pl.Float64)
    d = pl.col("events").cast(pl.Float64)
    return within(((n - d).log() - n.log()).cum_sum(), keys)
