"""The public surface is deliberate: listed, documented, typed, keyword-only options."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from types import ModuleType

import pytest

import offer_analytics

PUBLIC = {
    "offer_analytics": {
        # loading
        "load_offers", "fetch_offers", "LoadResult", "LoadReport", "ProgressUpdate",
        "BindbeeClient", "RetryPolicy",
        # where offers come from
        "enrich_offers", "RelatedTables",
        # the frame
        "OFFER_SCHEMA", "OUTCOMES", "OUTCOME_DTYPE", "DEFAULT_OUTCOME_MAPPING", "outcome_expr",
        "decode_pages", "offers_to_frame", "empty_offers_frame", "DecodeStats",
        # metrics and the report
        "time_to_close", "survival_curve", "cumulative_incidence", "status_counts",
        "acceptance_rates", "start_date_distribution", "start_lead_times", "upcoming_starts",
        "quality_report", "html_report",
        # storage
        "export_parquet", "read_offers", "sync", "SyncReport", "ConnectorSync",
        # errors
        "OfferAnalyticsError", "ConfigurationError", "SchemaError", "TimestampError",
        "BindbeeAPIError", "AuthenticationError", "ForbiddenError", "NotFoundError",
        "RequestValidationError", "RateLimitedError", "ServerError", "TransportError",
        "CursorLoopError", "PartialLoadError", "LoadTimeoutError", "PartialSyncError",
        "SyncLockedError",
        "__version__",
    },
    "offer_analytics.metrics": {
        "time_to_close", "survival_curve", "cumulative_incidence", "status_counts",
        "acceptance_rates", "latest_versions", "start_date_distribution", "start_lead_times",
        "upcoming_starts", "quality_report", "wilson_interval", "pool_groups",
    },
    "offer_analytics.charts": {
        "OUTCOME_COLOURS", "GroupColours", "group_colours", "survival_figure", "incidence_figure",
        "acceptance_figure",
        "status_figure", "start_dates_figure", "lead_times_figure", "ranked_rates_figure",
    },
    "offer_analytics.load": {
        "load_offers", "fetch_offers", "LoadResult", "LoadReport", "ProgressUpdate",
        "RichProgress", "WATERMARK_OVERLAP", "RelatedLoad", "fetch_related", "ENRICH_EXPAND",
    },
    "offer_analytics.store": {
        "export_parquet", "read_offers", "sync", "SyncReport", "ConnectorSync",
    },
    "offer_analytics.sandbox": {
        "SandboxServer", "Faults", "RequestRecord", "generate_offers", "GeneratorRates",
        "CONNECTOR_LABELS", "generate_related", "RelatedData", "RelatedRates",
    },
    "offer_analytics.enrich": {
        "enrich_offers", "RelatedTables", "decode_related", "needed_ids", "ENRICHED_COLUMNS",
        "expanded_applications",
        "ENRICHED_SCHEMA", "RELATED_PATHS", "RELATED_SCHEMAS", "RESOURCES",
    },
}  # fmt: skip


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_all_lists_exactly_the_public_names(name: str) -> None:
    module = _module(name)
    assert set(module.__all__) == PUBLIC[name]
    assert len(module.__all__) == len(set(module.__all__))
    for attr in module.__all__:
        assert hasattr(module, attr), f"{name}.{attr} is listed but missing"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_public_callable_is_documented(name: str) -> None:
    module = _module(name)
    for attr in module.__all__:
        obj = getattr(module, attr)
        if callable(obj) and not isinstance(obj, type(offer_analytics.OUTCOME_DTYPE)):
            doc = inspect.getdoc(obj) or ""
            assert len(doc) > 20, f"{name}.{attr} needs a docstring"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_functions_take_options_by_keyword_only(name: str) -> None:
    """At most the data (frame, path, n, ...) is positional; every option is keyword-only."""
    module = _module(name)
    for attr in module.__all__:
        obj = getattr(module, attr)
        if not inspect.isfunction(obj):
            continue
        params = list(inspect.signature(obj).parameters.values())
        positional = [p for p in params if p.kind is not inspect.Parameter.KEYWORD_ONLY]
        optional_positional = [p.name for p in positional if p.default is not p.empty]
        assert not optional_positional, f"{name}.{attr}: make {optional_positional} keyword-only"
        assert len(positional) <= 2, f"{name}.{attr} takes too many positional arguments"


def test_package_is_typed() -> None:
    assert (Path(offer_analytics.__file__).parent / "py.typed").is_file()


def test_version_comes_from_package_metadata() -> None:
    from importlib.metadata import version

    assert offer_analytics.__version__ == version("offer-analytics")


def test_retries_print_nothing_unless_logging_is_configured() -> None:
    """Python's last-resort handler must not print stamina's retry records over progress bars."""
    import logging

    for name in ("offer_analytics", "stamina"):
        handlers = logging.getLogger(name).handlers
        assert any(isinstance(h, logging.NullHandler) for h in handlers), name
