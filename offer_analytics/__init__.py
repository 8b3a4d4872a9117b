"""Load Bindbee ATS job offers into typed Polars frames and measure them.

The public API is curated here; everything else is an implementation detail.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("offer-analytics")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

from offer_analytics.metrics import (
    acceptance_rates,
    quality_report,
    start_date_distribution,
    start_lead_times,
    status_counts,
    upcoming_starts,
)

__all__ = [
    "__version__",
    "acceptance_rates",
    "quality_report",
    "start_date_distribution",
    "start_lead_times",
    "status_counts",
    "upcoming_starts",
]
