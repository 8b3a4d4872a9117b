"""Time to acceptance and to decline as competing outcomes: Aalen-Johansen cumulative incidence.

``1 - KM`` of "time to acceptance" with declines censored overstates acceptance: a declined offer
can never be accepted later, yet censoring pretends it still could. The Aalen-Johansen estimator
gives each outcome's probability of having happened by time ``t``, and the curves of all causes
plus the probability of still being open add up to 1.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import polars as pl

from offer_analytics.metrics._events import (
    event_table,
    log_survival,
    number_groups,
    observations,
    within,
)
from offer_analytics.metrics._frame import By, FrameLike, group_keys, resolve_as_of

__all__ = ["cumulative_incidence"]

#: The causes with their own curve; every other close is the competing cause "other".
CAUSES: Final = ("accepted", "declined")


def cumulative_incidence(
    frame: FrameLike, *, by: By = None, as_of: datetime | None = None
) -> pl.DataFrame:
    """Aalen-Johansen cumulative incidence of acceptance and of decline, per group.

    Population, event time, censoring at ``as_of`` and the exclusion of offers closed before they
    were sent are those of :func:`~offer_analytics.metrics._survival.time_to_close` (see the
    :mod:`offer_analytics.metrics._survival` docstring). Each close is attributed to one cause by
    the offer's outcome:

    - ``accepted`` and ``declined``: the two causes of interest;
    - ``other``: any other close (``rescinded``, ``unknown``, ``pending`` or null outcome with a
      ``closed_at``). Those offers did leave the risk set for a reason that is neither acceptance
      nor decline, so they are a third competing cause, never censored.

    Offers still open at ``as_of`` (including those closed after it) are censored. With ``n`` at
    risk, ``d`` closes of any cause and ``d_k`` of cause ``k`` at the distinct time ``t``, and
    ``S(t-)`` the all-cause Kaplan-Meier survival just before ``t``::

        CIF_k(t) = sum over t_i <= t of S(t_i-) * d_k(t_i) / n(t_i)

    Ties are exact: all closes at one time are handled together, and offers censored at a time
    where others close are still at risk then (censoring after events). Not ``1 - KM``.

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
        ``[*by, time_days, at_risk, accepted, declined, censored, cif_accepted, cif_declined,
        other, cif_other]``, one row per group and distinct duration, sorted by the keys (nulls
        last) then ``time_days``, starting with a ``time_days = 0.0`` row. Counts are Int64 and
        count what happened at that time; ``cif_*`` are Float64. At every row
        ``cif_accepted + cif_declined + cif_other`` equals ``1 - survival`` of
        :func:`~offer_analytics.metrics._survival.survival_curve`.

    Examples
    --------
    Four offers sent on 1 January: on the 3rd one is accepted and one declined, on the 6th one is
    accepted, one is still open on the 31st. At day 2, 4 are at risk: each cause gets
    1 x 1/4. At day 5, S(5-) = 1/2 and 2 are at risk: acceptance gains 1/2 x 1/2.

    >>> import polars as pl
    >>> from datetime import datetime
    >>> offers = pl.DataFrame(
    ...     {
    ...         "outcome": ["accepted", "declined", "pending", "accepted"],
    ...         "sent_at": ["2026-01-01"] * 4,
    ...         "closed_at": ["2026-01-03", "2026-01-03", None, "2026-01-06"],
    ...     }
    ... ).with_columns(pl.col("sent_at", "closed_at").str.to_datetime(time_zone="UTC"))
    >>> cif = cumulative_incidence(offers, as_of=datetime(2026, 1, 31))
    >>> cif.select("time_days", "at_risk", "accepted", "declined", "cif_accepted", "cif_declined")
    shape: (4, 6)
    ┌───────────┬─────────┬──────────┬──────────┬──────────────┬──────────────┐
    │ time_days ┆ at_risk ┆ accepted ┆ declined ┆ cif_accepted ┆ cif_declined │
    │ ---       ┆ ---     ┆ ---      ┆ ---      ┆ ---          ┆ ---          │
    │ f64       ┆ i64     ┆ i64      ┆ i64      ┆ f64          ┆ f64          │
    ╞═══════════╪═════════╪══════════╪══════════╪══════════════╪══════════════╡
    │ 0.0       ┆ 4       ┆ 0        ┆ 0        ┆ 0.0          ┆ 0.0          │
    │ 2.0       ┆ 4       ┆ 1        ┆ 1        ┆ 0.25         ┆ 0.25         │
    │ 5.0       ┆ 2       ┆ 1        ┆ 0        ┆ 0.5          ┆ 0.25         │
    │ 30.0      ┆ 1       ┆ 0        ┆ 0        ┆ 0.5          ┆ 0.25         │
    └───────────┴─────────┴──────────┴──────────┴──────────────┴──────────────┘
    """
    keys = group_keys(by)
    numbered = number_groups(observations(frame, keys, resolve_as_of(as_of)), keys)
    closed = pl.col("closed")
    groups = numbered.keys
    counts = {"events": closed} | {cause: closed & (pl.col("outcome") == cause) for cause in CAUSES}
    table = (
        event_table(numbered, counts)
        .with_columns(
            (pl.col("events") - pl.col("accepted") - pl.col("declined")).alias("other"),
            (pl.col("removed") - pl.col("events")).alias("censored"),
            log_survival(groups).alias("_log_s"),
        )
        # S(t-): the all-cause survival after the previous distinct time (1 before the first).
        .with_columns(
            within(pl.col("_log_s").shift(1, fill_value=0.0), groups).exp().alias("_s_before")
        )
    )

    def incidence(cause: str) -> pl.Expr:
        hazard = pl.col(cause).cast(pl.Float64) / pl.col("at_risk").cast(pl.Float64)
        return within((pl.col("_s_before") * hazard).cum_sum(), groups).alias(f"cif_{cause}")

    curve = table.with_columns(incidence(cause) for cause in (*CAUSES, "other"))
    return (
        numbered.restore(curve, keys)
        .select(
            *keys,
            "time_days",
            "at_risk",
            "accepted",
            "declined",
            "censored",
            "cif_accepted",
            "cif_declined",
            "other",
            "cif_other",
        )
        .collect()
    )
