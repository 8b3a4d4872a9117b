"""Recruiting metrics over the offers frame (DESIGN §5); each function documents its definition."""

from __future__ import annotations

from offer_analytics.metrics.competing import cumulative_incidence
from offer_analytics.metrics.survival import survival_curve, time_to_close

__all__ = [
    "cumulative_incidence",
    "survival_curve",
    "time_to_close",
]
