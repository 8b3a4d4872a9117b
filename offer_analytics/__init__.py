"""Load Bindbee ATS job offers into typed Polars frames and measure them.

The public API is curated here; everything else is an implementation detail.
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version

from offer_analytics.bindbee import BindbeeClient, RetryPolicy
from offer_analytics.decode import DecodeStats, decode_pages, offers_to_frame
from offer_analytics.enrich import RelatedTables, enrich_offers
from offer_analytics.errors import (
    AuthenticationError,
    BindbeeAPIError,
    ConfigurationError,
    CursorLoopError,
    ForbiddenError,
    LoadTimeoutError,
    NotFoundError,
    OfferAnalyticsError,
    PartialLoadError,
    PartialSyncError,
    RateLimitedError,
    RequestValidationError,
    SchemaError,
    ServerError,
    SyncLockedError,
    TimestampError,
    TransportError,
)
from offer_analytics.load import LoadReport, LoadResult, ProgressUpdate, fetch_offers, load_offers
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
    empty_offers_frame,
    outcome_expr,
)
from offer_analytics.store import ConnectorSync, SyncReport, export_parquet, read_offers, sync

# A library logs, the application decides where logs go: without these handlers Python's
# last-resort handler would print every retry as a bare "stamina.retry_scheduled" line on stderr
# (over the progress bar) for users who never configured logging. Configured logging still sees
# both loggers' records: a NullHandler does not stop propagation.
for _name in ("offer_analytics", "stamina"):
    logging.getLogger(_name).addHandler(logging.NullHandler())
del _name

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
    "BindbeeClient",
    "ConfigurationError",
    "ConnectorSync",
    "CursorLoopError",
    "DecodeStats",
    "ForbiddenError",
    "LoadReport",
    "LoadResult",
    "LoadTimeoutError",
    "NotFoundError",
    "OfferAnalyticsError",
    "PartialLoadError",
    "PartialSyncError",
    "ProgressUpdate",
    "RateLimitedError",
    "RelatedTables",
    "RequestValidationError",
    "RetryPolicy",
    "SchemaError",
    "ServerError",
    "SyncLockedError",
    "SyncReport",
    "TimestampError",
    "TransportError",
    "__version__",
    "acceptance_rates",
    "cumulative_incidence",
    "decode_pages",
    "empty_offers_frame",
    "enrich_offers",
    "export_parquet",
    "fetch_offers",
    "html_report",
    "load_offers",
    "offers_to_frame",
    "outcome_expr",
    "quality_report",
    "read_offers",
    "start_date_distribution",
    "start_lead_times",
    "status_counts",
    "survival_curve",
    "sync",
    "time_to_close",
    "upcoming_starts",
]
