"""When new hires start: start-date distributions, lead times and upcoming starts.

Only an accepted offer has a real start: the ``start_date`` of a declined, pending or draft offer
is a proposal that never happened, so the distribution and upcoming starts use accepted offers only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final, Literal, get_args

import polars as pl

from offer_analytics.metrics._calendar import fill_grid, period_start
from offer_analytics.metrics._frame import (
    ALL_GROUP,
    By,
    FrameLike,
    days_between,
    group_keys,
    resolve_as_of,
    typed_offers,
)

__all__ = ["start_date_distribution", "start_lead_times", "upcoming_starts"]

StartFreq = Literal["week", "month", "weekday"]

WEEKDAY_NAMES: Final = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
# typed_offers types the instants and the outcome; an all-null start_date built by hand has
# dtype Null, which date arithmetic rejects, so it is cast too (a no-op on a decoded frame).
_START: Final = pl.col("start_date").cast(pl.Date)


def _accepted_starts(lf: pl.LazyFrame) -> pl.LazyFrame:
    return lf.filter((pl.col("outcome") == "accepted") & pl.col("start_date").is_not_null())


def start_date_distribution(
    frame: FrameLike, *, freq: StartFreq = "week", by: By = None
) -> pl.DataFrame:
    """Count accepted offers by the week, month or weekday of their start date.

    Only accepted offers with a ``start_date`` count (superseded versions are therefore out).

    - ``freq="week"``: ``period`` is the Monday of the ISO week holding the start date.
    - ``freq="month"``: ``period`` is the first day of the month.
    - ``freq="weekday"``: ``weekday`` 1 (Monday) to 7 (Sunday) with ``weekday_name``; all
      seven weekdays are present for every group, zeros included.

    For weeks and months, every period from the first to the last start in the data (over
    all groups) is present for every group, with ``n = 0`` where nobody starts. Groups are the
    ``by`` combinations that have at least one start.

    Parameters
    ----------
    frame
        The offers frame (DataFrame or LazyFrame); needs ``outcome`` and ``start_date``.
    freq
        ``"week"``, ``"month"`` or ``"weekday"``.
    by
        Optional grouping column(s); ``share`` is computed within each group.

    Returns
    -------
    pl.DataFrame
        ``[*by, period, n, share]`` (``period`` a Date) or, for weekdays,
        ``[*by, weekday, weekday_name, n, share]`` (``weekday`` Int8). ``n`` Int64 starts,
        ``share`` Float64 = n / starts in the group. Sorted by group keys (nulls last), then
        period or weekday.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import date
    >>> offers = pl.DataFrame(
    ...     {
    ...         "outcome": ["accepted", "accepted", "accepted", "declined"],
    ...         "start_date": [date(2024, 1, 1), date(2024, 1, 3), date(2024, 1, 15),
    ...                        date(2024, 1, 8)],
    ...     }
    ... )
    >>> start_date_distribution(offers, freq="week")
    shape: (3, 3)
    ┌────────────┬─────┬──────────┐
    │ period     ┆ n   ┆ share    │
    │ ---        ┆ --- ┆ ---      │
    │ date       ┆ i64 ┆ f64      │
    ╞════════════╪═════╪══════════╡
    │ 2024-01-01 ┆ 2   ┆ 0.666667 │
    │ 2024-01-08 ┆ 0   ┆ 0.0      │
    │ 2024-01-15 ┆ 1   ┆ 0.333333 │
    └────────────┴─────┴──────────┘
    >>> start_date_distribution(offers, freq="weekday").head(3)
    shape: (3, 4)
    ┌─────────┬──────────────┬─────┬──────────┐
    │ weekday ┆ weekday_name ┆ n   ┆ share    │
    │ ---     ┆ ---          ┆ --- ┆ ---      │
    │ i8      ┆ str          ┆ i64 ┆ f64      │
    ╞═════════╪══════════════╪═════╪══════════╡
    │ 1       ┆ Monday       ┆ 2   ┆ 0.666667 │
    │ 2       ┆ Tuesday      ┆ 0   ┆ 0.0      │
    │ 3       ┆ Wednesday    ┆ 1   ┆ 0.333333 │
    └─────────┴──────────────┴─────┴──────────┘
    """
    if freq not in get_args(StartFreq):
        msg = f"freq must be one of 'week', 'month', 'weekday'; got {freq!r}"
        raise ValueError(msg)
    keys = group_keys(by)
    clash = {"period", "weekday", "weekday_name", "n", "share"} & set(keys)
    if clash:
        msg = f"{sorted(clash)!r} would clash with output columns; rename those grouping columns"
        raise ValueError(msg)
    lf = typed_offers(frame, columns=["outcome", "start_date"], keys=keys).with_columns(_START)
    grid_keys = keys or [ALL_GROUP]
    starts = _accepted_starts(lf.with_columns(pl.lit(True).alias(ALL_GROUP)) if not keys else lf)
    n = pl.len().cast(pl.Int64).alias("n")

    if freq == "weekday":
        by_weekday = starts.group_by(
            [*grid_keys, pl.col("start_date").dt.weekday().alias("weekday")]
        ).agg(n)
        weekdays = pl.LazyFrame(
            {"weekday": range(1, 8), "weekday_name": WEEKDAY_NAMES},
            schema={"weekday": pl.Int8, "weekday_name": pl.String},
        )
        # Groups are the key combinations with at least one start: those in the counts.
        groups = by_weekday.select(grid_keys).unique()
        table = (
            groups.join(weekdays, how="cross")
            .join(by_weekday, on=[*grid_keys, "weekday"], how="left", nulls_equal=True)
            .with_columns(pl.col("n").fill_null(0))
        )
        order = [*keys, "weekday"]
        columns = [*keys, "weekday", "weekday_name"]
    else:
        counts = starts.group_by(
            [*grid_keys, period_start(pl.col("start_date"), freq).alias("period")]
        ).agg(n)
        table = fill_grid(counts, None, keys=grid_keys, period="period", unit=freq, values=["n"])
        order = [*keys, "period"]
        columns = order
    total = pl.col("n").sum().over(grid_keys)
    return (
        table.select(*columns, "n", (pl.col("n") / total).alias("share"))
        .sort(order, nulls_last=True)
        .collect()
    )


def _days_until_start(instant: str) -> pl.Expr:
    # The start date is read as midnight UTC of that calendar day; an instant is exact.
    return days_between(pl.col(instant), pl.col("start_date").cast(pl.Datetime("us", "UTC")))


def start_lead_times(frame: FrameLike, *, by: By = None) -> pl.DataFrame:
    """Days from acceptance and from sending to the start date, per offer.

    Rows: every offer that is not superseded, has a ``start_date``, and has a ``sent_at`` or
    is accepted with a ``closed_at``.

    Convention for a date against an instant: ``start_date`` is taken as midnight UTC of that
    calendar day, and the lead time is that midnight minus the instant, in days (Float64, 1 day
    = 86,400 s). So an offer accepted on 2024-03-01 at 18:00 UTC for a 2024-03-04 start has
    ``days_from_acceptance = 2.25``.

    - ``days_from_acceptance``: start minus ``closed_at``, for accepted offers only (the
      ``closed_at`` of an accepted offer is its acceptance); null otherwise.
    - ``days_from_sent``: start minus ``sent_at``, for any outcome (for offers other than
      accepted, the start that was proposed); null without ``sent_at``.
    - ``negative``: the start date falls on an earlier UTC calendar day than the acceptance or
      than the sending, i.e. a lead time of -1 day or less. A start on the very day of
      acceptance is not flagged even though its lead time is slightly negative by the midnight
      convention; this matches the ``start_before_close`` check of the quality report.

    Parameters
    ----------
    frame
        The offers frame (DataFrame or LazyFrame).
    by
        Optional grouping column(s), put first in the output.

    Returns
    -------
    pl.DataFrame
        ``[*by, connector, id, outcome, start_date, days_from_acceptance, days_from_sent,
        negative]`` (columns already in ``by`` are not repeated), sorted by the group keys
        (nulls last), ``start_date``, ``connector`` and ``id``.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import UTC, date, datetime
    >>> offers = pl.DataFrame(
    ...     {
    ...         "connector": "default",
    ...         "id": ["a", "b"],
    ...         "outcome": ["accepted", "accepted"],
    ...         "sent_at": [datetime(2024, 2, 28, tzinfo=UTC), datetime(2024, 3, 6, tzinfo=UTC)],
    ...         "closed_at": [datetime(2024, 3, 1, 18, tzinfo=UTC),
    ...                       datetime(2024, 3, 7, 12, tzinfo=UTC)],
    ...         "start_date": [date(2024, 3, 4), date(2024, 3, 5)],
    ...     }
    ... )
    >>> start_lead_times(offers).select("id", "days_from_acceptance", "days_from_sent", "negative")
    shape: (2, 4)
    ┌─────┬──────────────────────┬────────────────┬──────────┐
    │ id  ┆ days_from_acceptance ┆ days_from_sent ┆ negative │
    │ --- ┆ ---                  ┆ ---            ┆ ---      │
    │ str ┆ f64                  ┆ f64            ┆ bool     │
    ╞═════╪══════════════════════╪════════════════╪══════════╡
    │ a   ┆ 2.25                 ┆ 5.0            ┆ false    │
    │ b   ┆ -2.5                 ┆ -1.0           ┆ true     │
    └─────┴──────────────────────┴────────────────┴──────────┘
    """
    keys = group_keys(by)
    base = ["connector", "id", "outcome", "start_date"]
    lf = typed_offers(frame, columns=[*base, "sent_at", "closed_at"], keys=keys).with_columns(
        _START
    )
    accepted = pl.col("outcome") == "accepted"
    start = pl.col("start_date")
    from_acceptance = pl.when(accepted).then(_days_until_start("closed_at"))
    negative = (accepted & (start < pl.col("closed_at").dt.date())).fill_null(False) | (
        start < pl.col("sent_at").dt.date()
    ).fill_null(False)
    order = [*keys, *(c for c in ("start_date", "connector", "id") if c not in keys)]
    return (
        lf.filter(
            pl.col("outcome").ne_missing("superseded")
            & start.is_not_null()
            & (pl.col("sent_at").is_not_null() | (accepted & pl.col("closed_at").is_not_null()))
        )
        .select(
            *keys,
            *(c for c in base if c not in keys),
            from_acceptance.alias("days_from_acceptance"),
            _days_until_start("sent_at").alias("days_from_sent"),
            negative.alias("negative"),
        )
        .sort(order, nulls_last=True)
        .collect()
    )


def _as_of_date(as_of: datetime | date | None) -> date:
    if isinstance(as_of, date) and not isinstance(as_of, datetime):
        return as_of
    return resolve_as_of(as_of).date()


def upcoming_starts(frame: FrameLike, *, as_of: datetime | date | None = None) -> pl.DataFrame:
    """Accepted offers whose start date is on or after the ``as_of`` date, soonest first.

    Parameters
    ----------
    frame
        The offers frame (DataFrame or LazyFrame).
    as_of
        The reference day: a date, or a datetime whose UTC calendar date is used (naive = UTC);
        None means today in UTC.

    Returns
    -------
    pl.DataFrame
        ``[connector, id, application, start_date, days_until]`` with ``days_until`` (Int64)
        the calendar days from the ``as_of`` date to the start (0 = starts that day), sorted by
        ``start_date``, ``connector``, ``id``.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import date
    >>> offers = pl.DataFrame(
    ...     {
    ...         "connector": "default",
    ...         "id": ["a", "b", "c"],
    ...         "application": ["A", "B", "C"],
    ...         "outcome": ["accepted", "accepted", "declined"],
    ...         "start_date": [date(2024, 3, 4), date(2024, 2, 5), date(2024, 3, 4)],
    ...     }
    ... )
    >>> upcoming_starts(offers, as_of=date(2024, 3, 1))
    shape: (1, 5)
    ┌───────────┬─────┬─────────────┬────────────┬────────────┐
    │ connector ┆ id  ┆ application ┆ start_date ┆ days_until │
    │ ---       ┆ --- ┆ ---         ┆ ---        ┆ ---        │
    │ str       ┆ str ┆ str         ┆ date       ┆ i64        │
    ╞═══════════╪═════╪═════════════╪════════════╪════════════╡
    │ default   ┆ a   ┆ A           ┆ 2024-03-04 ┆ 3          │
    └───────────┴─────┴─────────────┴────────────┴────────────┘
    """
    columns = ["connector", "id", "application", "outcome", "start_date"]
    lf = typed_offers(frame, columns=columns).with_columns(_START)
    day = _as_of_date(as_of)
    return (
        _accepted_starts(lf)
        .filter(pl.col("start_date") >= day)
        .select(
            "connector",
            "id",
            "application",
            "start_date",
            (pl.col("start_date") - pl.lit(day)).dt.total_days().cast(pl.Int64).alias("days_until"),
        )
        .sort("start_date", "connector", "id")
        .collect()
    )
