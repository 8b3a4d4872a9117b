"""Load Bindbee ATS job offers into typed Polars frames and measure them.

The public API is curated here; everything else is an implementation detail.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from offer_analytics.errors import (
    AuthenticationError,
    BindbeeAPIError,
    ConfigurationError,
    CursorLoopError,
    ForbiddenError,
    NotFoundError,
    OfferAnalyticsError,
    PartialLoadError,
    RateLimitedError,
    RequestValidationError,
    SchemaError,
    ServerError,
    TimestampError,
    TransportError,
)
from offer_analytics.metrics import (
    acceptance_rates,
    cumulative_incidence,
    quality_report,
    start_date_distribution,
    start_lead_times,
    status_counts,
    survival_curve,
    time_to_close,
    upcoming_starts,
)
from offer_analytics.report import html_report
from offer_analytics.schema import (
    DEFAULT_OUTCOME_MAPPING,
    OFFER_SCHEMA,
    OUTCOME_DTYPE,
    OUTCOMES,
    DecodeStats,
    decode_pages,
    empty_offers_frame,
    offers_to_frame,
    outcome_expr,
)

try:
    __version__ = version("offer-analytics")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = [
    "DEFAULT_OUTCOME_MAPPING",
    "OFFER_SCHEMA",
    "OUTCOMES",
    "OUTCOME_DTYPE",
    "AuthenticationError",
    "BindbeeAPIError",
    "ConfigurationError",
    "CursorLoopError",
    "DecodeStats",
    "ForbiddenError",
    "NotFoundError",
    "OfferAnalyticsError",
    "PartialLoadError",
    "RateLimitedError",
    "RequestValidationError",
    "SchemaError",
    "ServerError",
    "TimestampError",
    "TransportError",
    "__version__",
    "acceptance_rates",
    "cumulative_incidence",
    "decode_pages",
    "empty_offers_frame",
    "html_report",
    "offers_to_frame",
    "outcome_expr",
    "quality_report",
    "start_date_distribution",
    "start_lead_times",
    "status_counts",
    "survival_curve",
    "time_to_close",
    "upcoming_starts",
]
