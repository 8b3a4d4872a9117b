"""The report's "Where" section: acceptance and time to close by department and by recruiter.

Shown only for an enriched frame (see :func:`~offer_analytics.enrich_offers`). Each breakdown
names the largest groups by offers and pools the rest as "other" (so the tables stay short and
the pooled tail still counts), ranks groups by n, and blanks the rate of groups too small to
trust.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Final

import plotly.graph_objects as go
import polars as pl

from offer_analytics import charts
from offer_analytics.metrics import acceptance_rates, pool_groups, time_to_close
from offer_analytics.metrics._pooling import pooled_last
from offer_analytics.report._template import Column, format_days, format_pct, table_html

__all__ = ["MIN_N", "TOP", "WHERE_COLUMNS", "where_parts"]

#: Groups named in each breakdown; the rest are pooled as "other".
TOP: Final = 10
#: Groups with fewer decided offers show no rate.
MIN_N: Final = 10
#: The enrichment columns the section breaks down by, with their headings.
WHERE_COLUMNS: Final = (("department", "Department"), ("recruiter", "Recruiter"))


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _columns(column: str, heading: str) -> list[Column]:
    def interval(low: str, high: str, fmt: Callable[[float | None], str]) -> Callable[..., str]:
        return lambda r: f"{fmt(_float(r[low]))} – {fmt(_float(r[high]))}"

    def rate(r: Mapping[str, object]) -> str:
        if r["below_min_n"]:
            return f"n < {MIN_N}"
        return format_pct(_float(r["rate"]))

    return [
        (heading, lambda r: "(missing)" if r[column] is None else str(r[column]), False),
        ("Offers sent", "sent", True),
        ("KM median (days)", lambda r: format_days(_float(r["km_median_days"])), True),
        ("95% CI (days)", interval("km_median_lower", "km_median_upper", format_days), True),
        ("n (decided)", "n", True),
        ("Acceptance rate", rate, True),
        ("95% Wilson interval", interval("rate_lower", "rate_upper", format_pct), True),
    ]


def _table(frame: pl.DataFrame, column: str, as_of: datetime) -> pl.DataFrame:
    pooled = pool_groups(frame, column, top=TOP).collect()
    rates = acceptance_rates(pooled, by=column, as_of=as_of, min_n=MIN_N, order="n")
    close = time_to_close(pooled, by=column, as_of=as_of).rename({"n": "sent"})
    joined = rates.join(close, on=column, how="left", nulls_equal=True)
    return pooled_last(joined, column).with_columns(pl.col("sent").fill_null(0))


def where_parts(
    frame: pl.DataFrame, *, as_of: datetime, chart: Callable[[go.Figure, str], str]
) -> list[str]:
    """The section's charts and tables, one pair per breakdown column the frame has."""
    parts = []
    for column, heading in WHERE_COLUMNS:
        if column not in frame.columns:
            continue
        figure = charts.ranked_rates_figure(frame, by=column, top=TOP, min_n=MIN_N, as_of=as_of)
        parts.append(
            chart(
                figure,
                f"Acceptance rate by {column}, the {TOP} largest by offers first and the rest "
                f"pooled as 'other'; whiskers are 95% Wilson intervals; groups with fewer than "
                f"{MIN_N} decided offers show no dot.",
            )
        )
        parts.append(table_html(_table(frame, column, as_of), _columns(column, heading)))
    return parts
