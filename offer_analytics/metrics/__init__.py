"""Recruiting metrics on the offers frame: acceptance, start dates, data quality.

Every function takes a DataFrame or LazyFrame with the offers-frame columns and returns a sorted,
deterministic DataFrame.
"""

from __future__ import annotations

from offer_analytics.metrics.acceptance import acceptance_rates, latest_versions, status_counts
from offer_analytics.metrics.quality import quality_report
from offer_analytics.metrics.starts import (
    start_date_distribution,
    start_lead_times,
    upcoming_starts,
)
from offer_analytics.metrics.wilson import wilson_interval

__all__ = [
    "acceptance_rates",
    "latest_versions",
    "quality_report",
    "start_date_distribution",
    "start_lead_times",
    "status_counts",
    "upcoming_starts",
    "wilson_interval",
]
