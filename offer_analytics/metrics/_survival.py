"""How long offers stay open: Kaplan-Meier time to close, with offers still open censored.

Definitions (shared by :func:`time_to_close`, :func:`survival_curve` and
:func:`~offer_analytics.metrics._competing.cumulative_incidence`):

Population
    Offers sent at or before ``as_of`` (``sent_at`` not null and ``<= as_of``) whose outcome is
    neither ``draft`` nor ``superseded``. A null outcome stays in. Offers sent after ``as_of`` did
    not exist yet at ``as_of`` and are left out entirely.
Event
    The offer closed at or before ``as_of`` (``closed_at`` not null and ``<= as_of``), whatever the
    outcome: time to close is the time to *any* decision. An offer with a ``closed_at`` but a
    ``pending`` outcome (an ATS that stamps a close without a final status) still closed, so it is
    an event. An offer closed after ``as_of`` was open at ``as_of``: it is censored there.
Censoring
    Offers still open at ``as_of`` (no ``closed_at``, or one after ``as_of``) are censored at
    ``as_of``. That includes a decided outcome without ``closed_at``: we know it closed, not when.
Duration
    ``closed_at - sent_at`` (events) or ``as_of - sent_at`` (censored), in days as Float64 at
    microsecond precision (microseconds / 86,400,000,000).
Anomalies
    An offer closed before it was sent has a negative duration. It is excluded from every estimate
    and counted as ``n_invalid``. A duration of exactly zero is valid.
``as_of``
    A datetime; naive means UTC. ``None`` means now (UTC).

The Kaplan-Meier estimator, its Greenwood variance and the log-log ("exponential Greenwood")
95% interval are those of lifelines' ``KaplanMeierFitter`` with ``alpha=0.05``: at every distinct
time ``t`` with ``n`` offers at risk and ``d`` closes, ``S(t) = prod(1 - d/n)``,
``V(t) = sum(d / (n (n - d)))`` (a step with ``n == d`` adds 0), and with ``v = log S(t)`` the
bounds are ``exp(-exp(log(-v) -/+ z sqrt(V) / v))``, ``z = 1.959963984540054``; the bounds are 1
where ``S = 1`` and 0 where ``S = 0``. The median is the first time with ``S(t) <= 0.5``; its
interval is where the lower and the upper band first reach 0.5 (as lifelines'
``median_survival_times(kmf.confidence_interval_)``). A median or bound that is never reached is
null, never imputed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

import polars as pl

from offer_analytics.metrics._events import (
    TIME_DAYS,
    VALID,
    Numbered,
    event_table,
    log_survival,
    number_groups,
    observations,
    within,
)
from offer_analytics.metrics._frame import (
    By,
    FrameLike,
    Order,
    group_keys,
    ordered,
    resolve_as_of,
)

__all__ = ["survival_curve", "time_to_close"]

#: The 0.975 quantile of the standard normal (scipy.stats.norm.ppf(0.975)), for 95% intervals.
Z_95: Final = 1.959963984540054

#: Quantiles of the closed offers' durations, as (column suffix, q); linear interpolation.
CLOSED_QUANTILES: Final = (("p25", 0.25), ("p75", 0.75), ("p90", 0.90))


def kaplan_meier(table: pl.LazyFrame, keys: Sequence[str]) -> pl.LazyFrame:
    """Add ``survival``, ``lower``, ``upper`` to an event table with ``at_risk`` and ``events``."""
    n = pl.col("at_risk").cast(pl.Float64)
    d = pl.col("events").cast(pl.Float64)
    log_s = log_survival(keys)
    greenwood = within(pl.when(n > d).then(d / (n * (n - d))).otherwise(0.0).cum_sum(), keys)
    v = pl.col("_log_s")
    spread = Z_95 * pl.col("_var").sqrt() / v

    def bound(sign: float) -> pl.Expr:
        inner = ((-v).log() + sign * spread).exp()
        # S = 1 has no spread (log(-0) is -inf); S = 0 stays 0: as lifelines' fillna(1.0).
        return pl.when(v == 0.0).then(1.0).otherwise((-inner).exp())

    return (
        table.with_columns(log_s.alias("_log_s"), greenwood.alias("_var"))
        .with_columns(
            v.exp().alias("survival"),
            bound(-1.0).alias("lower"),
            bound(1.0).alias("upper"),
        )
        .drop("_log_s", "_var")
    )


def _km_curve(numbered: Numbered) -> pl.LazyFrame:
    """The KM table keyed by the group number (callers put the ``by`` columns back)."""
    table = event_table(numbered, {"events": pl.col("closed")})
    return kaplan_meier(table, numbered.keys).select(
        *numbered.keys,
        "time_days",
        "at_risk",
        "events",
        (pl.col("removed") - pl.col("events")).alias("censored"),
        "survival",
        "lower",
        "upper",
    )


def survival_curve(
    frame: FrameLike, *, by: By = None, as_of: datetime | None = None
) -> pl.DataFrame:
    """Kaplan-Meier table of time to close, per group.

    The definitions (population, event, censoring, anomalies, interval) are in the module
    docstring of :mod:`offer_analytics.metrics._survival`; the numbers equal lifelines'
    ``KaplanMeierFitter`` (``survival_function_`` and ``confidence_interval_``, alpha 0.05).

    Parameters
    ----------
    frame
        The offers frame (DataFrame or LazyFrame); needs ``outcome``, ``sent_at``, ``closed_at``
        and the ``by`` columns.
    by
        ``None``, a column name or a sequence of names to group by.
    as_of
        When to look at the offers; naive means UTC, ``None`` means now.

    Returns
    -------
    polars.DataFrame
        ``[*by, time_days, at_risk, events, censored, survival, lower, upper]``, one row per
        group and distinct duration, sorted by the group keys (nulls last) then ``time_days``.
        Each group starts with a ``time_days = 0.0`` row (survival 1.0 unless offers closed the
        instant they were sent). ``at_risk``: offers with duration ``>= time_days``; ``events``:
        closes at that time; ``censored``: offers still open whose observation ends then.

    Examples
    --------
    Four offers sent on 1 January; two close on the 3rd, one on the 6th, one is still open on the
    31st. One more was superseded and does not count.

    >>> import polars as pl
    >>> from datetime import datetime
    >>> offers = pl.DataFrame(
    ...     {
    ...         "outcome": ["accepted", "declined", "pending", "accepted", "superseded"],
    ...         "sent_at": ["2026-01-01"] * 5,
    ...         "closed_at": ["2026-01-03", "2026-01-03", None, "2026-01-06", "2026-01-02"],
    ...     }
    ... ).with_columns(pl.col("sent_at", "closed_at").str.to_datetime(time_zone="UTC"))
    >>> curve = survival_curve(offers, as_of=datetime(2026, 1, 31))
    >>> curve.select("time_days", "at_risk", "events", "censored", "survival")
    shape: (4, 5)
    ┌───────────┬─────────┬────────┬──────────┬──────────┐
    │ time_days ┆ at_risk ┆ events ┆ censored ┆ survival │
    │ ---       ┆ ---     ┆ ---    ┆ ---      ┆ ---      │
    │ f64       ┆ i64     ┆ i64    ┆ i64      ┆ f64      │
    ╞═══════════╪═════════╪════════╪══════════╪══════════╡
    │ 0.0       ┆ 4       ┆ 0      ┆ 0        ┆ 1.0      │
    │ 2.0       ┆ 4       ┆ 2      ┆ 0        ┆ 0.5      │
    │ 5.0       ┆ 2       ┆ 1      ┆ 0        ┆ 0.25     │
    │ 30.0      ┆ 1       ┆ 0      ┆ 1        ┆ 0.25     │
    └───────────┴─────────┴────────┴──────────┴──────────┘
    """
    keys = group_keys(by)
    numbered = number_groups(observations(frame, keys, resolve_as_of(as_of)), keys)
    return numbered.restore(_km_curve(numbered), keys).collect()


def time_to_close(
    frame: FrameLike, *, by: By = None, as_of: datetime | None = None, order: Order = "keys"
) -> pl.DataFrame:
    """Time from sending an offer to its close, censoring-aware, per group.

    The Kaplan-Meier median accounts for offers still open; the ``closed_*`` columns describe only
    the offers that already closed and are biased low while many are open. Definitions are in the
    module docstring of :mod:`offer_analytics.metrics._survival`.

    Parameters
    ----------
    frame
        The offers frame (DataFrame or LazyFrame); needs ``outcome``, ``sent_at``, ``closed_at``
        and the ``by`` columns.
    by
        ``None``, a column name or a sequence of names to group by.
    as_of
        When to look at the offers; naive means UTC, ``None`` means now.
    order
        ``"keys"`` (default): rows sorted by the group keys. ``"n"``: groups ranked by ``n``,
        largest first, ties by the keys; a group with a null key comes last either way.

    Returns
    -------
    polars.DataFrame
        One row per group with at least one offer in the population, sorted as ``order`` says
        (nulls last):

        - ``n`` = ``n_closed + n_open + n_invalid`` (Int64): offers in the population;
        - ``n_closed``: closed at or before ``as_of``; ``n_open``: censored at ``as_of``;
          ``n_invalid``: closed before sent, excluded from everything else;
        - ``km_median_days``, ``km_median_lower``, ``km_median_upper`` (Float64): the Kaplan-Meier
          median and its 95% log-log interval; null when not reached;
        - ``closed_mean_days``, ``closed_median_days``, ``closed_p25_days``, ``closed_p75_days``,
          ``closed_p90_days`` (Float64): plain statistics of the closed offers' durations,
          quantiles by linear interpolation (numpy's default); null when nothing closed.

    Examples
    --------
    The frame of :func:`survival_curve`: the median is reached at day 2 (S = 0.5), while the
    closed offers alone (2, 2 and 5 days) average 3 days.

    >>> import polars as pl
    >>> from datetime import datetime
    >>> offers = pl.DataFrame(
    ...     {
    ...         "outcome": ["accepted", "declined", "pending", "accepted", "superseded"],
    ...         "sent_at": ["2026-01-01"] * 5,
    ...         "closed_at": ["2026-01-03", "2026-01-03", None, "2026-01-06", "2026-01-02"],
    ...     }
    ... ).with_columns(pl.col("sent_at", "closed_at").str.to_datetime(time_zone="UTC"))
    >>> ttc = time_to_close(offers, as_of=datetime(2026, 1, 31))
    >>> ttc.select("n", "n_closed", "n_open", "n_invalid", "km_median_days", "closed_mean_days")
    shape: (1, 6)
    ┌─────┬──────────┬────────┬───────────┬────────────────┬──────────────────┐
    │ n   ┆ n_closed ┆ n_open ┆ n_invalid ┆ km_median_days ┆ closed_mean_days │
    │ --- ┆ ---      ┆ ---    ┆ ---       ┆ ---            ┆ ---              │
    │ i64 ┆ i64      ┆ i64    ┆ i64       ┆ f64            ┆ f64              │
    ╞═════╪══════════╪════════╪═══════════╪════════════════╪══════════════════╡
    │ 4   ┆ 3        ┆ 1      ┆ 0         ┆ 2.0            ┆ 3.0              │
    └─────┴──────────┴────────┴───────────┴────────────────┴──────────────────┘
    """
    keys = group_keys(by)
    numbered = number_groups(observations(frame, keys, resolve_as_of(as_of)), keys)
    groups = numbered.keys
    valid = VALID
    done = TIME_DAYS.filter(valid & pl.col("closed"))
    stats = [
        pl.len().cast(pl.Int64).alias("n"),
        (valid & pl.col("closed")).sum().cast(pl.Int64).alias("n_closed"),
        (valid & ~pl.col("closed")).sum().cast(pl.Int64).alias("n_open"),
        (~valid).sum().cast(pl.Int64).alias("n_invalid"),
        done.mean().alias("closed_mean_days"),
        done.median().alias("closed_median_days"),
        *(
            done.quantile(q, interpolation="linear").alias(f"closed_{name}_days")
            for name, q in CLOSED_QUANTILES
        ),
    ]
    rows = numbered.rows
    counts = rows.group_by(groups).agg(stats) if groups else rows.select(stats)

    def first_time(column: str) -> pl.Expr:
        # The earliest time at or under 0.5 is where the (non-increasing) curve crosses it.
        return pl.col("time_days").filter(pl.col(column) <= 0.5).min()

    medians = [
        first_time("survival").alias("km_median_days"),
        first_time("lower").alias("km_median_lower"),
        first_time("upper").alias("km_median_upper"),
    ]
    curve = _km_curve(numbered)
    km = curve.group_by(groups).agg(medians) if groups else curve.select(medians)
    # A group of only anomalies has no curve: left join keeps it with null medians.
    joined = (
        counts.join(km, on=groups, how="left")
        if groups
        else counts.filter(pl.col("n") > 0).join(km, how="cross")
    )
    columns = ["n", "n_closed", "n_open", "n_invalid", "km_median_days", "km_median_lower"]
    columns += ["km_median_upper", "closed_mean_days", "closed_median_days"]
    columns += [f"closed_{name}_days" for name, _ in CLOSED_QUANTILES]
    by_keys = joined.select(*groups, *columns).sort(groups) if groups else joined
    restored = numbered.restore(by_keys, keys).select(*keys, *columns)
    return (restored if order == "keys" else ordered(restored, keys, order=order)).collect()
