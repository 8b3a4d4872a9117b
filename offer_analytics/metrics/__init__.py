"""Recruiting metrics over the offers frame; each function documents its definition."""

from __future__ import annotations

from offer_analytics.metrics._acceptance import acceptance_rates, status_counts
from offer_analytics.metrics._competing import cumulative_incidence
from offer_analytics.metrics._pooling import pool_groups
from offer_analytics.metrics._quality import quality_report
from offer_analytics.metrics._starts import (
    start_date_distribution,
    start_lead_times,
    upcoming_starts,
)
from offer_analytics.metrics._survival import survival_curve, time_to_close
from offer_analytics.metrics._versions import latest_versions
from offer_analytics.metrics._wilson import wilson_interval

__all__ = [
    "acceptance_rates",
    "cumulative_incidence",
    "latest_versions",
    "pool_groups",
    "quality_report",
    "start_date_distribution",
    "start_lead_times",
    "status_counts",
    "survival_curve",
    "time_to_close",
    "upcoming_starts",
    "wilson_interval",
]
