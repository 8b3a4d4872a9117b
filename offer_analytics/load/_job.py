"""FetchJob: the requests of one load — cursor listings and id batches — and their bookkeeping.

Nothing is lost silently: ids that no batch returned are confirmed one by one (404 = missing), and
whatever still fails after every retry is recorded as failed, for the loader to raise or report.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, TypeAlias

from offer_analytics.bindbee._client import (
    OFFERS_PATH,
    BindbeeClient,
    BodyParser,
    JSONResponse,
    RequestStats,
)
from offer_analytics.bindbee._credentials import Connector
from offer_analytics.bindbee._exchange import Peek
from offer_analytics.bindbee._status_errors import validation_locations
from offer_analytics.errors import (
    CursorLoopError,
    NotFoundError,
    RateLimitedError,
    RequestValidationError,
    ServerError,
    TransportError,
)
from offer_analytics.load._id_batches import batch_ids
from offer_analytics.load._list_page import ListPage, read_list_page
from offer_analytics.load._progress import ProgressCallback, ProgressUpdate
from offer_analytics.load._read_ahead import ReadAhead
from offer_analytics.load._sink import PageSink, wrap_single_offer

__all__ = ["LISTING", "MAX_EMPTY_PAGES", "FetchJob", "IdsArg", "ListingFilters"]

logger = logging.getLogger("offer_analytics.load._entry")

#: Offer ids: any iterable of strings (a list, a polars Series), or label -> such an iterable.
IdsArg: TypeAlias = Iterable[str] | Mapping[str, Iterable[str]]

#: Stands for "the rest of the listing" in ``failed`` when a listing stopped part-way.
LISTING: Final = "<listing>"
#: Empty pages in a row, each with a new cursor, after which a listing is taken for a cursor that
#: never ends. No bound on the page count itself: a long listing that keeps delivering offers is
#: only limited by the load's deadline.
MAX_EMPTY_PAGES: Final = 10
#: The page size Bindbee's pagination guide documents, used when 200 is refused.
FALLBACK_PAGE_SIZE: Final = 100
#: Failures that survived every retry: the page is lost, the load goes on and reports it.
_GAVE_UP: Final = (ServerError, TransportError, RateLimitedError)


@dataclass(frozen=True)
class ListingFilters:
    """The listing's filters, as the API's query parameters."""

    remote_id: str | None = None
    application: str | None = None
    creator: str | None = None
    modified_after: str | None = None

    def any(self) -> bool:
        """Whether any filter is set."""
        return any(v is not None for v in (self.remote_id, self.application, self.creator)) or (
            self.modified_after is not None
        )

    def params(
        self, *, include_custom_fields: bool, include_raw_data: bool, expand: Sequence[str]
    ) -> dict[str, str]:
        """Query parameters shared by every request of the load."""
        params = {
            name: value
            for name, value in (
                ("remote_id", self.remote_id),
                ("application", self.application),
                ("creator", self.creator),
                ("modified_after", self.modified_after),
            )
            if value is not None
        }
        if include_custom_fields:
            params["include_custom_fields"] = "true"
        if include_raw_data:
            params["include_raw_data"] = "true"
        if expand:
            params["expand"] = ",".join(expand)
        return params


class FetchJob:
    """All requests of one load, their counts, and what went missing or failed.

    Parameters
    ----------
    client
        The shared client.
    params
        Query parameters of every request (filters, include flags, expand).
    page_size
        Requested page size (stepped down per connector if refused).
    progress
        Called after every response.
    path
        The list endpoint: offers, or a related resource such as ``/api/ats/v1/jobs``.
    confirm_missing
        Confirm one by one (404 = missing) the ids no batch returned. Off for related objects:
        an id a successful page left out is taken as missing, which saves a request per
        dangling reference.
    """

    def __init__(
        self,
        client: BindbeeClient,
        *,
        params: Mapping[str, str],
        page_size: int,
        progress: ProgressCallback | None = None,
        path: str = OFFERS_PATH,
        confirm_missing: bool = True,
    ) -> None:
        self.client = client
        self.path = path
        self._confirm_missing = confirm_missing
        self.params = dict(params)
        self.stats = RequestStats()
        self.pages = 0
        self.missing: dict[str, list[str]] = {}
        self.failed: dict[str, list[str]] = {}
        self.notes: list[str] = []
        self.errors: dict[str, Exception] = {}
        """Per connector, the first error it gave up on (the cause of a partial load)."""
        self.planned: dict[str, int] = {}
        """Per connector, the requests it is known to need so far (the deadline scales with it)."""
        self._page_size = page_size
        self._page_sizes: dict[str, int] = {}
        self._progress = progress
        self._found: dict[str, set[str]] = {}
        self._finished: set[str] = set()
        self._received: dict[str, tuple[int, int]] = {}
        self._totals: dict[str, int | None] = {}

    def page_size(self, label: str) -> int:
        """The page size in use for a connector."""
        return self._page_sizes.get(label, self._page_size)

    async def _get(
        self,
        connector: Connector,
        path: str,
        params: Mapping[str, str],
        parse: BodyParser = json.loads,
        peek: Peek | None = None,
        on_sent: Callable[[], None] | None = None,
    ) -> JSONResponse:
        get = partial(
            self.client.get_json, stats=self.stats, parse=parse, peek=peek, on_sent=on_sent
        )
        try:
            return await get(connector, path, params)
        except RequestValidationError as exc:
            size = int(params.get("page_size", "0"))
            if "page_size" not in validation_locations(exc.detail) or size <= FALLBACK_PAGE_SIZE:
                raise
        self._step_down(connector.label)
        retry = {**params, "page_size": str(self.page_size(connector.label))}
        return await get(connector, path, retry)

    def _step_down(self, label: str) -> None:
        if self.page_size(label) <= FALLBACK_PAGE_SIZE:
            return
        self._page_sizes[label] = FALLBACK_PAGE_SIZE
        note = (
            f"Connector {label!r} refused page_size={self._page_size}; "
            f"using {FALLBACK_PAGE_SIZE} for it."
        )
        self.notes.append(note)
        logger.warning(note)

    def _received_page(self, label: str, offers: int) -> None:
        self.pages += 1
        pages, total = self._received.get(label, (0, 0))
        self._received[label] = (pages + 1, total + offers)
        self._report(label, done=False)

    def _report(self, label: str, *, done: bool) -> None:
        if self._progress is not None:
            pages, offers = self._received.get(label, (0, 0))
            total = self._totals.get(label)
            self._progress(ProgressUpdate(label, pages, offers, total, done))

    def _fail(self, label: str, what: Sequence[str], exc: Exception) -> None:
        self.failed.setdefault(label, []).extend(what)
        self.errors.setdefault(label, exc)
        logger.warning("Giving up on part of connector %r after retries: %s", label, exc)

    async def _pages(
        self,
        connector: Connector,
        params: Mapping[str, str],
        sink: PageSink,
        found: set[str] | None = None,
        wanted: set[str] | None = None,
    ) -> None:
        """Follow one cursor chain to its end, adding the ids of its offers to ``found``.

        With ``wanted``, the chain also ends once every wanted id is found: an id batch that
        came back whole has nothing more to give, whatever cursor the server added.
        """
        label = connector.label
        loop = _LoopCheck(label)
        cursor: str | None = None
        parse = partial(read_list_page, label=label)

        def query_for(cursor: str | None) -> dict[str, str]:
            query = {**params, "page_size": str(self.page_size(label))}
            if cursor is not None:
                query["cursor"] = cursor  # opaque: sent back exactly as received
            return query

        def get(
            query: Mapping[str, str], *, peek: Peek | None, on_sent: Callable[[], None] | None
        ) -> Coroutine[Any, Any, Any]:
            return self._get(connector, self.path, query, parse, peek, on_sent)

        # An id batch may end before its last cursor: nothing is asked for ahead of it.
        ahead = ReadAhead(get, query_for, enabled=wanted is None, worth_asking=loop.is_new)
        async with ahead as chain:
            while True:
                response: JSONResponse = await chain.get(query_for(cursor))
                head: ListPage = response.data
                cursor = head.cursor
                sink.add(response.body, items=head.items)
                self._received_page(label, head.items)
                if found is not None:
                    found.update(head.ids())
                if cursor is None or (wanted is not None and found is not None and wanted <= found):
                    return
                loop.check(cursor, head)
                self.planned[label] = self.planned.get(label, 0) + 1

    async def listing(self, connector: Connector, sink: PageSink) -> None:
        """Every offer of a connector matching the filters, page after page."""
        label = connector.label
        self._totals[label] = None
        self.planned[label] = 1
        try:
            await self._pages(connector, self.params, sink)
        except _GAVE_UP as exc:
            self._fail(label, [LISTING], exc)
        finally:
            self._report(label, done=True)
        self._finished.add(label)

    def unfinished(
        self, labels: Sequence[str], ids: Mapping[str, Sequence[str]] | None
    ) -> dict[str, list[str]]:
        """What connectors stopped short of (a deadline cancelled them), as ``failed`` lists it.

        Parameters
        ----------
        labels
            The connectors of the load.
        ids
            The ids each connector was asked for, or None for listings.
        """
        out: dict[str, list[str]] = {}
        for label in labels:
            if label in self._finished:
                continue
            if ids is None:
                out[label] = [LISTING]
                continue
            done = self._found.get(label, set())
            done = done | set(self.missing.get(label, ())) | set(self.failed.get(label, ()))
            out[label] = [i for i in ids.get(label, ()) if i not in done]
        return {label: what for label, what in out.items() if what}

    async def by_ids(self, connector: Connector, ids: Sequence[str], sink: PageSink) -> None:
        """The offers with these ids: batches first, then one by one what no batch returned.

        ``ids`` are distinct and stripped already (the loader ran them through ``unique_ids``).
        """
        label = connector.label
        wanted = ids
        self._totals[label] = len(wanted)
        found = self._found[label] = set()
        size = self.page_size(label)
        base = {**self.params, "page_size": str(size)}
        batches = list(batch_ids(wanted, url_length=self._url_length, params=base, max_ids=size))
        self.planned[label] = len(batches)
        try:
            async with asyncio.TaskGroup() as group:
                for batch in batches:
                    group.create_task(self._batch(connector, batch, sink, found))
            failed = set(self.failed.get(label, ()))
            leftover = [i for i in wanted if i not in found and i not in failed]
            if self._confirm_missing:
                await self._confirm_all(connector, leftover, sink)
            elif leftover:
                # Related objects: an id a whole page left out is dangling; no request each.
                self.missing.setdefault(label, []).extend(leftover)
        finally:
            self._report(label, done=True)
        self._finished.add(label)

    async def _confirm_all(self, connector: Connector, leftover: list[str], sink: PageSink) -> None:
        """One by one, the ids no batch returned: found, or confirmed missing by a 404."""
        label = connector.label
        self.planned[label] += len(leftover)
        async with asyncio.TaskGroup() as group:
            for offer_id in leftover:
                group.create_task(self._confirm(connector, offer_id, sink))
        if label in self.missing:  # confirmations finish in any order; report in asked order
            absent = set(self.missing[label])
            self.missing[label] = [i for i in leftover if i in absent]

    def _url_length(self, params: Mapping[str, str]) -> int:
        # The client measures the offers URL; another list path differs only in its length.
        return self.client.offer_url_length(params) + len(self.path) - len(OFFERS_PATH)

    async def _batch(
        self, connector: Connector, batch: list[str], sink: PageSink, found: set[str]
    ) -> None:
        label = connector.label
        # A page size stepped down since batching: keep one batch = one page.
        size = self.page_size(label)
        for start in range(0, len(batch), size):
            part = batch[start : start + size]
            try:
                query = {**self.params, "ids": ",".join(part)}
                await self._pages(connector, query, sink, found, wanted=set(part))
            except _GAVE_UP as exc:
                # Earlier pages of this batch may have arrived: only the rest failed.
                self._fail(label, [i for i in part if i not in found], exc)

    async def _confirm(self, connector: Connector, offer_id: str, sink: PageSink) -> None:
        label = connector.label
        path = self.client.offer_path(offer_id)
        try:
            response = await self._get(connector, path, self.params)
        except NotFoundError:
            self.missing.setdefault(label, []).append(offer_id)
            return
        except _GAVE_UP as exc:
            self._fail(label, [offer_id], exc)
            return
        sink.add(wrap_single_offer(response.body), items=1)
        self._found.setdefault(label, set()).add(offer_id)
        self._received_page(label, 1)


class _LoopCheck:
    """Notices a cursor chain that goes round in circles or never ends.

    A cursor seen before, a page of exactly the offers of an earlier page (a chain that started
    over under new cursors), or :data:`MAX_EMPTY_PAGES` empty pages in a row, each with a cursor.
    """

    def __init__(self, label: str) -> None:
        self._label = label
        self._cursors: set[str] = set()
        self._pages: set[tuple[str | None, str | None, int]] = set()
        self._empty = 0
        self._offers = 0

    def is_new(self, cursor: str) -> bool:
        """Whether no page recorded so far came with ``cursor``."""
        return cursor not in self._cursors

    def check(self, cursor: str, head: ListPage) -> None:
        """Record a page that came with ``cursor``; raise if the chain loops."""
        self._offers += head.items
        self._empty = self._empty + 1 if head.items == 0 else 0
        signature = head.signature
        if cursor in self._cursors:
            what = "repeated a cursor"
        elif signature in self._pages:
            what = "served a page it had served before, under a new cursor"
        elif self._empty >= MAX_EMPTY_PAGES:
            what = f"sent {self._empty} empty pages in a row, each with a new cursor"
        else:
            self._cursors.add(cursor)
            if signature is not None:
                self._pages.add(signature)
            return
        msg = (
            f"The listing of connector {self._label!r} {what}; stopped to avoid looping after "
            f"{len(self._cursors) + 1} pages ({self._offers:,} offers). The rest of that listing "
            "was not loaded: the server's pagination is broken, retry later."
        )
        raise CursorLoopError(msg)
