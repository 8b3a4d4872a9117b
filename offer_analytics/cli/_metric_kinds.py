"""The metrics ``offer-analytics metrics`` computes: one entry per public metric function.

Each kind says which options it takes, so that an option a metric would ignore is refused
instead (``--period`` on ``time-to-close`` is a mistake worth hearing about).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

import polars as pl

import offer_analytics as oa

__all__ = ["KINDS", "Kind", "MetricKind"]


class Kind(StrEnum):
    """The names of the metrics, as typed on the command line."""

    TIME_TO_CLOSE = "time-to-close"
    SURVIVAL = "survival"
    INCIDENCE = "incidence"
    ACCEPTANCE = "acceptance"
    STATUS = "status"
    STARTS = "starts"
    LEAD_TIMES = "lead-times"
    UPCOMING = "upcoming"
    QUALITY = "quality"


@dataclass(frozen=True)
class MetricKind:
    """One metric: the function, the options it takes, and what it answers.

    ``periods`` lists the values ``--period`` may take (empty: no ``--period``); ``period_arg``
    is the function's name for it.
    """

    run: Callable[..., pl.DataFrame]
    about: str
    options: frozenset[str]
    periods: tuple[str, ...] = ()
    period_arg: str = "period"

    def call(self, frame: pl.LazyFrame, given: dict[str, Any]) -> pl.DataFrame:
        """Run the metric with the given options (already checked against ``options``)."""
        arguments = {name: value for name, value in given.items() if name != "period"}
        if "period" in given:
            arguments[self.period_arg] = given["period"]
        return self.run(frame, **arguments)


_BY_AS_OF: Final = frozenset({"by", "as_of"})

KINDS: Final[dict[Kind, MetricKind]] = {
    Kind.TIME_TO_CLOSE: MetricKind(
        oa.time_to_close,
        "Kaplan-Meier median days to close with its 95% interval",
        _BY_AS_OF | {"order"},
    ),
    Kind.SURVIVAL: MetricKind(
        oa.survival_curve, "share of sent offers still open after t days", _BY_AS_OF
    ),
    Kind.INCIDENCE: MetricKind(
        oa.cumulative_incidence, "acceptance vs decline over time (Aalen-Johansen)", _BY_AS_OF
    ),
    Kind.ACCEPTANCE: MetricKind(
        oa.acceptance_rates,
        "acceptance rate with Wilson 95% bounds and n",
        frozenset(
            {
                "by",
                "as_of",
                "period",
                "basis",
                "denominator",
                "latest_per_application",
                "min_n",
                "order",
            }
        ),
        periods=("month", "quarter"),
    ),
    Kind.STATUS: MetricKind(oa.status_counts, "offers by raw status and outcome", _BY_AS_OF),
    Kind.STARTS: MetricKind(
        oa.start_date_distribution,
        "accepted offers by week, month or weekday of the start date",
        frozenset({"by", "period"}),
        periods=("week", "month", "weekday"),
        period_arg="freq",
    ),
    Kind.LEAD_TIMES: MetricKind(
        oa.start_lead_times, "days from acceptance and from sending to the start", frozenset({"by"})
    ),
    Kind.UPCOMING: MetricKind(
        oa.upcoming_starts, "accepted offers starting on or after --as-of", frozenset({"as_of"})
    ),
    Kind.QUALITY: MetricKind(
        oa.quality_report, "data-quality checks with example ids", frozenset()
    ),
}
