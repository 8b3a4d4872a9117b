"""How many offers are accepted: status counts and acceptance rates with Wilson intervals.

Definitions live in the docstrings below; they are part of the product.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal, get_args

import polars as pl

from offer_analytics.metrics._calendar import fill_grid, period_start
from offer_analytics.metrics._frame import (
    ALL_GROUP,
    AS_OF_COLUMNS,
    By,
    FrameLike,
    Order,
    group_keys,
    offers_as_of,
    ordered,
    resolve_as_of,
    typed_offers,
)
from offer_analytics.metrics._versions import LATEST_KEY, latest_unsorted, latest_versions
from offer_analytics.metrics._wilson import wilson_interval

# latest_versions lives in versions; it stays importable from here as before.
__all__ = ["acceptance_rates", "latest_versions", "status_counts"]

Period = Literal["month", "quarter"]
Basis = Literal["cohort", "activity"]
Denominator = Literal["decided", "extended"]

# Which timestamp places an offer in a period, per basis.
_BASIS_COLUMN: Final[dict[str, str]] = {"cohort": "sent_at", "activity": "closed_at"}
_COUNTS: Final = ("accepted", "declined", "pending", "rescinded")


def status_counts(
    frame: FrameLike, *, by: By = None, as_of: datetime | None = None
) -> pl.DataFrame:
    """Count offers by raw status and outcome, with each count's share of its group.

    Every offer that existed at ``as_of`` counts, superseded versions included: this is an
    inventory of what the API sent, not a rate. As of ``as_of`` (see :func:`acceptance_rates`
    for the full rule): an offer sent after it, or a never-sent one created after it, is left
    out, and an offer closed after it has outcome ``pending`` while ``status`` stays the value
    the API sends now (the only one known). Offers with neither ``sent_at`` nor
    ``remote_created_at`` cannot be placed in time and always count.

    ``status`` is shown exactly as sent, so spelling variants stay apart and a null status is a
    row of its own; statuses outside the outcome mapping appear with outcome ``unknown``
    (extend the mapping to classify them).

    Parameters
    ----------
    frame
        The offers frame (DataFrame or LazyFrame); needs ``status``, ``outcome``, ``sent_at``,
        ``closed_at`` and ``remote_created_at``.
    by
        Optional grouping column(s); shares are computed within each group.
    as_of
        The instant the counts describe; ``None`` (default) is now, a naive datetime is UTC.

    Returns
    -------
    pl.DataFrame
        Columns ``[*by, status, outcome, n, share]``: ``n`` (Int64) offers with that status and
        outcome, ``share`` (Float64) = n / offers in the group. Sorted by the group keys, then
        ``outcome`` in its Enum order (accepted, declined, pending, draft, rescinded, superseded,
        unknown), then ``status`` alphabetically; nulls sort last everywhere.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import UTC, datetime
    >>> outcome = pl.Enum(
    ...     ["accepted", "declined", "pending", "draft", "rescinded", "superseded", "unknown"]
    ... )
    >>> offers = pl.DataFrame(
    ...     {
    ...         "status": ["SIGNED", "SIGNED", "ACCEPTED", "DENIED", "EXTENDED", None],
    ...         "outcome": ["accepted", "accepted", "accepted", "declined", "unknown", "unknown"],
    ...         "sent_at": datetime(2024, 1, 2, tzinfo=UTC),
    ...         "closed_at": [datetime(2024, 1, d, tzinfo=UTC) for d in (3, 3, 9, 4, 5, 5)],
    ...         "remote_created_at": None,
    ...     },
    ...     schema_overrides={"outcome": outcome, "remote_created_at": pl.Datetime("us", "UTC")},
    ... )
    >>> status_counts(offers)
    shape: (5, 4)
    ┌──────────┬──────────┬─────┬──────────┐
    │ status   ┆ outcome  ┆ n   ┆ share    │
    │ ---      ┆ ---      ┆ --- ┆ ---      │
    │ str      ┆ enum     ┆ i64 ┆ f64      │
    ╞══════════╪══════════╪═════╪══════════╡
    │ ACCEPTED ┆ accepted ┆ 1   ┆ 0.166667 │
    │ SIGNED   ┆ accepted ┆ 2   ┆ 0.333333 │
    │ DENIED   ┆ declined ┆ 1   ┆ 0.166667 │
    │ EXTENDED ┆ unknown  ┆ 1   ┆ 0.166667 │
    │ null     ┆ unknown  ┆ 1   ┆ 0.166667 │
    └──────────┴──────────┴─────┴──────────┘

    On 5 January the ACCEPTED offer (closed on the 9th) was still pending:

    >>> status_counts(offers, as_of=datetime(2024, 1, 5)).filter(status="ACCEPTED")
    shape: (1, 4)
    ┌──────────┬─────────┬─────┬──────────┐
    │ status   ┆ outcome ┆ n   ┆ share    │
    │ ---      ┆ ---     ┆ --- ┆ ---      │
    │ str      ┆ enum    ┆ i64 ┆ f64      │
    ╞══════════╪═════════╪═════╪══════════╡
    │ ACCEPTED ┆ pending ┆ 1   ┆ 0.166667 │
    └──────────┴─────────┴─────┴──────────┘
    """
    keys = group_keys(by)
    if {"status", "outcome"} & set(keys):
        msg = "status_counts already splits by status and outcome; leave them out of by"
        raise ValueError(msg)
    # The cast keeps the output schema when a hand-built status column is all null (dtype Null).
    lf = offers_as_of(
        typed_offers(frame, columns=["status", *AS_OF_COLUMNS], keys=keys),
        resolve_as_of(as_of),
    ).with_columns(pl.col("status").cast(pl.String))
    total = pl.col("n").sum()
    return (
        lf.group_by([*keys, "status", "outcome"])
        .agg(pl.len().cast(pl.Int64).alias("n"))
        .with_columns(share=pl.col("n") / (total.over(keys) if keys else total))
        .sort([*keys, "outcome", "status"], nulls_last=True)
        .collect()
    )


def _check_choice(name: str, value: object, allowed: tuple[object, ...]) -> None:
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        msg = f"{name} must be one of {choices}; got {value!r}"
        raise ValueError(msg)


def acceptance_rates(
    frame: FrameLike,
    *,
    by: By = None,
    period: Period | None = None,
    basis: Basis = "cohort",
    denominator: Denominator = "decided",
    latest_per_application: bool = True,
    as_of: datetime | None = None,
    min_n: int | None = None,
    order: Order = "keys",
) -> pl.DataFrame:
    r"""Acceptance rate per group (and period) with its n and a Wilson 95% interval.

    Population: superseded versions never count. With ``latest_per_application`` (the
    default) each application contributes only its final offer: the latest version that was
    actually extended (accepted, declined, pending, or rescinded after sending), as chosen by
    :func:`latest_versions`, so a later draft or a later version with an unknown status never
    hides it. Otherwise every non-superseded offer counts. Drafts and offers whose outcome is
    ``unknown`` are in no column.

    As of: the rates describe what was known at ``as_of`` (default now; naive = UTC). An
    offer counts only if it was sent at or before ``as_of`` (an offer never sent: created, by
    ``remote_created_at``, at or before it; one with neither timestamp always counts). An
    accepted, declined or rescinded offer closed after ``as_of`` counts as ``pending``, its
    outcome not yet known then (and, under ``basis="activity"``, in no period). The final
    offer per application is chosen among the versions that existed at ``as_of``. Known limit:
    a version superseded *after* ``as_of`` is still excluded (the frame records only that it
    is superseded now, not since when), so for a past ``as_of`` an application whose live
    offer was later replaced by an edit counts only once its newer version existed.

    Counts: ``accepted``, ``declined`` and ``pending`` offers by outcome; ``rescinded`` counts
    rescinded offers that had been sent (one withdrawn before sending was never extended).

    Denominator:

    - ``"decided"``: ``n = accepted + declined``, the offers the candidate answered.
    - ``"extended"``: ``n = accepted + declined + pending + rescinded``, every offer put in
      front of a candidate, open ones included.

    ``rate = accepted / n``. The bounds are the Wilson score interval with
    ``z = 1.959963984540054`` and ``p = rate``:
    ``(p + z²/2n ± z·sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n)``, as statsmodels'
    ``proportion_confint(method="wilson")``. ``rate`` and both bounds are null when ``n`` is 0.

    Periods: with ``period="month"`` or ``"quarter"``, each offer falls in the period of its
    ``sent_at`` (``basis="cohort"``: how did the offers we sent that month end?) or of its
    ``closed_at`` (``basis="activity"``: what was decided that month?), as UTC calendar dates.
    Offers without that timestamp are left out (under ``activity`` that is every pending
    offer). Periods run from the first to the last period with a counted offer, over all
    groups, and every group gets every period: a period without offers is a row with zero
    counts and null rate, never a gap. ``basis`` has no effect without ``period``.

    Groups: every combination of the ``by`` columns present in the input frame gets rows, even
    one whose offers are all drafts, superseded or later than ``as_of`` (its counts are then 0).

    Small groups: with ``min_n``, a row whose ``n`` is below it keeps its counts and ``n`` but
    its ``rate`` and bounds are null, and the column ``below_min_n`` (Boolean, only present
    when ``min_n`` is given) is true: a rate of 3 out of 4 says little, and a ranked table would
    put it first. The rule applies per row, so with ``period`` per group and period.

    Order: ``order="keys"`` (default) sorts by the group keys, then period. ``order="n"`` ranks
    the groups by their total ``n`` (over their periods), largest first, ties by the keys; a
    group with a null key (e.g. offers enrichment could not resolve) comes last.

    Parameters
    ----------
    frame
        The offers frame (DataFrame or LazyFrame).
    by
        Optional grouping column(s).
    period
        ``None`` (one row per group), ``"month"`` or ``"quarter"``.
    basis
        ``"cohort"`` (period of ``sent_at``) or ``"activity"`` (period of ``closed_at``).
    denominator
        ``"decided"`` or ``"extended"``, see above.
    latest_per_application
        Count only each application's final offer (default) or every offer.
    as_of
        The instant the rates describe, see above; ``None`` (default) is now.
    min_n
        Blank the rate and bounds of rows with fewer than ``min_n`` offers in ``n``.
    order
        ``"keys"`` or ``"n"``, see above.

    Returns
    -------
    pl.DataFrame
        Columns ``[*by, period, accepted, declined, pending, rescinded, n, rate, rate_lower,
        rate_upper, below_min_n]`` (``period``, a Date on the first day of the month or
        quarter, only when asked for; ``below_min_n`` only with ``min_n``); counts Int64, rates
        Float64. Sorted as ``order`` says; null group values sort last.

    Raises
    ------
    ValueError
        For an unknown ``period``, ``basis``, ``denominator`` or ``order``, or a negative
        ``min_n``.
    SchemaError
        When a needed column is missing.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import UTC, datetime
    >>> outcome = pl.Enum(
    ...     ["accepted", "declined", "pending", "draft", "rescinded", "superseded", "unknown"]
    ... )
    >>> jan, mar = datetime(2024, 1, 10, tzinfo=UTC), datetime(2024, 3, 5, tzinfo=UTC)
    >>> offers = pl.DataFrame(
    ...     {
    ...         "connector": "default",
    ...         "id": ["1", "2", "3", "4", "5"],
    ...         "application": ["A", "B", "C", "D", "E"],
    ...         "outcome": ["accepted", "accepted", "declined", "pending", "accepted"],
    ...         "sent_at": [jan, jan, jan, jan, mar],
    ...         "closed_at": [jan, jan, jan, None, mar],
    ...         "remote_created_at": None,
    ...         "modified_at": None,
    ...     },
    ...     schema_overrides={
    ...         "outcome": outcome,
    ...         "remote_created_at": pl.Datetime("us", "UTC"),
    ...         "modified_at": pl.Datetime("us", "UTC"),
    ...     },
    ... )
    >>> acceptance_rates(offers).select("accepted", "declined", "n", "rate")
    shape: (1, 4)
    ┌──────────┬──────────┬─────┬──────┐
    │ accepted ┆ declined ┆ n   ┆ rate │
    │ ---      ┆ ---      ┆ --- ┆ ---  │
    │ i64      ┆ i64      ┆ i64 ┆ f64  │
    ╞══════════╪══════════╪═════╪══════╡
    │ 3        ┆ 1        ┆ 4   ┆ 0.75 │
    └──────────┴──────────┴─────┴──────┘
    >>> acceptance_rates(offers, period="month", denominator="extended").select(
    ...     "period", "accepted", "pending", "n", "rate"
    ... )
    shape: (3, 5)
    ┌────────────┬──────────┬─────────┬─────┬──────┐
    │ period     ┆ accepted ┆ pending ┆ n   ┆ rate │
    │ ---        ┆ ---      ┆ ---     ┆ --- ┆ ---  │
    │ date       ┆ i64      ┆ i64     ┆ i64 ┆ f64  │
    ╞════════════╪══════════╪═════════╪═════╪══════╡
    │ 2024-01-01 ┆ 2        ┆ 1       ┆ 4   ┆ 0.5  │
    │ 2024-02-01 ┆ 0        ┆ 0       ┆ 0   ┆ null │
    │ 2024-03-01 ┆ 1        ┆ 0       ┆ 1   ┆ 1.0  │
    └────────────┴──────────┴─────────┴─────┴──────┘
    """
    _check_choice("period", period, (None, *get_args(Period)))
    _check_choice("basis", basis, get_args(Basis))
    _check_choice("denominator", denominator, get_args(Denominator))
    if min_n is not None and min_n < 0:
        msg = f"min_n must be 0 or more; got {min_n!r}"
        raise ValueError(msg)
    keys = group_keys(by)
    if "period" in keys:
        msg = "'period' is the name of an output column; rename that grouping column"
        raise ValueError(msg)
    counted_columns = ["outcome", "sent_at"]
    if period is not None:
        counted_columns.append(_BASIS_COLUMN[basis])
    needed = [*counted_columns, *AS_OF_COLUMNS]
    if latest_per_application:
        needed += ["connector", "id", "application", "remote_created_at", "modified_at"]
    typed = typed_offers(frame, columns=list(dict.fromkeys(needed)), keys=keys)
    lf = offers_as_of(typed, resolve_as_of(as_of))

    carried = [c for c in dict.fromkeys([*keys, *counted_columns]) if c not in LATEST_KEY]
    population = latest_unsorted(lf, carried) if latest_per_application else lf
    grid_keys = keys or [ALL_GROUP]
    if not keys:
        typed = typed.with_columns(pl.lit(True).alias(ALL_GROUP))
        population = population.with_columns(pl.lit(True).alias(ALL_GROUP))
    # Groups come from the whole input, so one with offers only after as_of still gets a row.
    groups = typed.select(grid_keys).unique()
    outcome = pl.col("outcome")
    counted = population.filter(
        outcome.is_in(["accepted", "declined", "pending"])
        | ((outcome == "rescinded") & pl.col("sent_at").is_not_null())
    )
    sums = [(outcome == name).sum().cast(pl.Int64).alias(name) for name in _COUNTS]

    if period is None:
        table = groups.join(
            counted.group_by(grid_keys).agg(sums), on=grid_keys, how="left", nulls_equal=True
        ).with_columns(pl.col(_COUNTS).fill_null(0))
    else:
        counts = (
            counted.with_columns(period_start(pl.col(_BASIS_COLUMN[basis]), period).alias("period"))
            .filter(pl.col("period").is_not_null())
            .group_by([*grid_keys, "period"])
            .agg(sums)
        )
        table = fill_grid(
            counts, groups, keys=grid_keys, period="period", unit=period, values=_COUNTS
        )

    then = [] if period is None else ["period"]
    rates = _rates(table, [*keys, *then], denominator=denominator, min_n=min_n)
    return ordered(rates, keys, order=order, then=then).collect()


def _rates(
    table: pl.LazyFrame, columns: list[str], *, denominator: Denominator, min_n: int | None
) -> pl.LazyFrame:
    """``n``, the rate and its Wilson bounds from the counts, blanked below ``min_n``."""
    if denominator == "decided":
        n = pl.col("accepted") + pl.col("declined")
    else:
        n = pl.sum_horizontal(_COUNTS)
    lower, upper = wilson_interval("accepted", "n")
    rate = pl.when(pl.col("n") > 0).then(pl.col("accepted") / pl.col("n")).alias("rate")
    rates = table.with_columns(n.cast(pl.Int64).alias("n")).select(
        *columns, *_COUNTS, "n", rate, lower, upper
    )
    if min_n is None:
        return rates
    small = pl.col("n") < min_n
    return rates.with_columns(
        *(pl.when(~small).then(c).alias(c) for c in ("rate", "rate_lower", "rate_upper")),
        small.alias("below_min_n"),
    )
