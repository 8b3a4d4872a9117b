"""The load of one connector during a sync: a client of its own, in an event loop of its own.

Each connector is synced in a worker thread. The load runs there in a fresh event loop
(``asyncio.run``: a worker thread never has one running), through a
:class:`~offer_analytics.BindbeeClient` created inside that loop and closed with it, since a
client belongs to the loop it first runs in. The client carries what only a client can hold:
the base URL, the rate limit, the concurrency and the retry policy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from offer_analytics.load import LoadResult, ProgressUpdate, fetch_offers
from offer_analytics.store._credentials import SyncCredentials

__all__ = ["load_connector"]


def load_connector(
    credentials: SyncCredentials,
    label: str,
    *,
    modified_after: datetime | None,
    progress: Callable[[ProgressUpdate], None] | None,
    load_options: Mapping[str, Any],
    client_options: Mapping[str, Any],
) -> LoadResult:
    """Load connector ``label``'s offers (modified after ``modified_after``, if given)."""

    async def load() -> LoadResult:
        async with credentials.client(**client_options) as client:
            return await fetch_offers(
                connectors=credentials.tokens(label),
                client=client,
                modified_after=modified_after,
                progress=progress,
                **load_options,
            )

    return asyncio.run(load())
