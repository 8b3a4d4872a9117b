"""The load of one connector during a sync: a client of its own, in an event loop of its own.

Each connector is synced in a worker thread. The load runs there in a fresh event loop
(``asyncio.run``: a worker thread never has one running), through a
:class:`~offer_analytics.BindbeeClient` created inside that loop and closed with it, since a
client belongs to the loop it first runs in. The client carries what only a client can hold:
the base URL, the rate limit, the concurrency and the retry policy.

With enrichment, the same client then fetches the related objects the loaded offers need and
those changed since the previous sync, on the connector's one rate budget.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from offer_analytics.bindbee._credentials import Connector
from offer_analytics.load import (
    ENRICH_EXPAND,
    LoadResult,
    ProgressUpdate,
    RelatedLoad,
    fetch_offers,
    fetch_related,
)
from offer_analytics.schema import split_expand
from offer_analytics.store._credentials import SyncCredentials

__all__ = ["enrich_expand", "load_connector"]


def enrich_expand(expand: Any) -> tuple[str, ...]:
    """``expand`` plus what enrichment needs of the offers pages (each application's job).

    Examples
    --------
    >>> enrich_expand("creator"), enrich_expand("application")
    (('creator', 'application[id,job]'), ('application',))
    """
    relations = split_expand(expand)
    if any(r.split("[")[0] == "application" for r in relations):
        return relations
    return (*relations, ENRICH_EXPAND)


def load_connector(
    credentials: SyncCredentials,
    label: str,
    *,
    modified_after: datetime | None,
    progress: Callable[[ProgressUpdate], None] | None,
    load_options: Mapping[str, Any],
    client_options: Mapping[str, Any],
    enrich: bool = False,
    related_after: datetime | None = None,
) -> tuple[LoadResult, RelatedLoad | None]:
    """Load connector ``label``'s offers (modified after ``modified_after``, if given).

    With ``enrich``, the offers come with their applications expanded, and the related objects
    they need are fetched, plus those modified after ``related_after`` (when given); the
    report's requests count both.
    """
    options = dict(load_options)
    if enrich:
        options["expand"] = enrich_expand(options.get("expand", ()))

    async def load() -> tuple[LoadResult, RelatedLoad | None]:
        async with credentials.client(**client_options) as client:
            result = await fetch_offers(
                connectors=credentials.tokens(label),
                client=client,
                modified_after=modified_after,
                progress=progress,
                **options,
            )
            if not enrich:
                return result, None
            connectors = [Connector(k, v) for k, v in credentials.tokens(label).items()]
            related = await fetch_related(
                result.frame, client=client, connectors=connectors, modified_after=related_after
            )
            return _with_related(result, related), related

    return asyncio.run(load())


def _with_related(result: LoadResult, related: RelatedLoad) -> LoadResult:
    """The load's result, its report counting the related requests too.

    Raises
    ------
    OfferAnalyticsError
        The first error a related request still failed with after every retry: the connector's
        sync fails rather than commit offers enriched from incomplete tables.
    """
    if related.errors:
        raise next(iter(related.errors.values()))
    report = dataclasses.replace(
        result.report,
        requests=result.report.requests + related.stats.requests,
        retries=result.report.retries + related.stats.retries,
        rate_limited=result.report.rate_limited + related.stats.rate_limited,
        budget_wait_s=result.report.budget_wait_s + related.stats.budget_wait_s,
        notes=(*result.report.notes, related.note()),
        enrich_requests=related.stats.requests,
    )
    return LoadResult(result.frame, report)
