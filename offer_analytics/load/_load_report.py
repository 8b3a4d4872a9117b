"""LoadReport: what a load did, cost and could not deliver — the receipt of every load.

It holds counts, labels and offer ids only: never a key or a token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import polars as pl

__all__ = ["LoadReport", "LoadResult"]


def _count(mapping: Mapping[str, tuple[str, ...]]) -> str:
    total = sum(len(ids) for ids in mapping.values())
    if not total:
        return "{}"
    return "{" + ", ".join(f"{k!r}: {len(v)}" for k, v in mapping.items() if v) + "}"


@dataclass(frozen=True, kw_only=True, repr=False)
class LoadReport:
    """The receipt of one load.

    Attributes
    ----------
    connectors
        Labels of the connectors loaded, in the order given.
    requests
        HTTP requests sent, retries included.
    retries
        Requests that repeated an earlier failed one.
    rate_limited
        429 responses received (zero in steady state).
    budget_wait_s
        Seconds the request budget held connectors back (pacing and 429 pauses), summed over
        connectors: close to ``duration_s`` times the connectors when the budget set the pace.
    pages
        Successful responses decoded (list pages and single offers).
    offers
        Rows in the frame.
    missing
        Per connector, requested ids the API does not have (confirmed one by one: 404).
    failed
        Per connector, what could not be loaded after every retry: ids, or ``"<listing>"`` for a
        listing that stopped part-way. Empty unless ``keep_partial=True`` let the load finish.
    duration_s
        Wall time of the load.
    watermark
        Pass as ``modified_after`` next time: the load's start time (UTC) minus a safety overlap,
        so that offers modified while it ran are fetched again rather than lost.
    unparsed_timestamps
        Column -> ids of offers with a timestamp that was present but could not be parsed.
    notes
        Things worth knowing that did not fail the load (e.g. a smaller page size was needed,
        or what enrichment fetched).
    enrich_requests
        Of ``requests``, those that fetched related objects for ``enrich=True`` (0 without).

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> LoadReport(connectors=("acme",), requests=3, retries=1, rate_limited=0,
    ...            budget_wait_s=0.5, pages=2, offers=300, missing={"acme": ("x",)},
    ...            duration_s=1.25, watermark=datetime(2026, 1, 1, tzinfo=UTC))
    LoadReport(connectors=('acme',), offers=300, pages=2, requests=3, retries=1, rate_limited=0, \
budget_wait_s=0.50, duration_s=1.25, missing={'acme': 1}, failed={}, \
watermark=2026-01-01T00:00:00+00:00)
    """

    connectors: tuple[str, ...]
    requests: int
    retries: int
    rate_limited: int
    budget_wait_s: float
    pages: int
    offers: int
    missing: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    failed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    duration_s: float
    watermark: datetime
    unparsed_timestamps: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    enrich_requests: int = 0

    @property
    def complete(self) -> bool:
        """True when nothing failed (ids the API does not have are not a failure)."""
        return not any(self.failed.values())

    def __repr__(self) -> str:
        return (
            f"LoadReport(connectors={self.connectors!r}, offers={self.offers}, pages={self.pages}, "
            f"requests={self.requests}, retries={self.retries}, "
            f"rate_limited={self.rate_limited}, budget_wait_s={self.budget_wait_s:.2f}, "
            f"duration_s={self.duration_s:.2f}, missing={_count(self.missing)}, "
            f"failed={_count(self.failed)}, watermark={self.watermark.isoformat()}"
            + (f", enrich_requests={self.enrich_requests})" if self.enrich_requests else ")")
        )


class LoadResult(NamedTuple):
    """What :func:`~offer_analytics.load_offers` returns: unpack it as ``frame, report``."""

    frame: pl.DataFrame
    report: LoadReport
