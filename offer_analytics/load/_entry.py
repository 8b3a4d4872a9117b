"""Loading offers: a whole listing or a set of ids, from one connector or many, into one frame.

Where the time goes decides the shape. A connector serves 200 requests a minute, so: list pages
carry 200 offers; ids travel in batches through the list endpoint's ``ids`` filter; cursor pages
are fetched one after another (the cursor of page n comes with page n - 1) while connectors and id
batches run concurrently; pages are decoded in a worker thread while the next ones are fetched.
The sync facade :func:`load_offers` runs the same coroutine, in a thread of its own when the
calling thread already runs an event loop (Jupyter), so it never needs nest_asyncio.

Both return a :class:`~offer_analytics.load._load_report.LoadResult`, a named tuple to unpack as
``frame, report = load_offers(...)``: the report (requests, 429s, missing ids, the watermark for
the next incremental load) is part of every load, never an option to remember.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, Final

import polars as pl

from offer_analytics.bindbee._client import DEFAULT_CONCURRENCY, DEFAULT_RATE_LIMIT, BindbeeClient
from offer_analytics.bindbee._credentials import Sealed, resolve_connectors
from offer_analytics.decode import decode_pages
from offer_analytics.errors import ConfigurationError, PartialLoadError
from offer_analytics.load._arguments import ids_by_connector, modified_after_param
from offer_analytics.load._blocking import run_blocking
from offer_analytics.load._job import FetchJob, IdsArg, ListingFilters
from offer_analytics.load._load_report import LoadReport, LoadResult
from offer_analytics.load._progress import ProgressCallback, RichProgress
from offer_analytics.load._sink import PageSink, merge_unparsed
from offer_analytics.schema import split_expand

__all__ = ["WATERMARK_OVERLAP", "fetch_offers", "load_offers"]

logger = logging.getLogger(__name__)

#: Subtracted from a load's start time to give its watermark: Bindbee's ``modified_at`` is its own
#: sync clock, which may lag the source ATS and our clock; re-reading a few minutes is cheap.
WATERMARK_OVERLAP: Final = timedelta(minutes=5)
#: Arguments that carry secrets: never kept in a plain local variable.
_SECRET_ARGUMENTS: Final = ("api_key", "connector_token", "connectors")


async def fetch_offers(
    *,
    ids: IdsArg | None = None,
    remote_id: str | None = None,
    application: str | None = None,
    creator: str | None = None,
    modified_after: datetime | date | str | None = None,
    connector_token: str | None = None,
    connectors: Mapping[str, str] | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    include_custom_fields: bool = False,
    include_raw_data: bool = False,
    expand: Sequence[str] | str = (),
    page_size: int = 200,
    concurrency: int = DEFAULT_CONCURRENCY,
    rate_limit: tuple[int, float] = DEFAULT_RATE_LIMIT,
    progress: ProgressCallback | bool | None = None,
    keep_partial: bool = False,
    strict: bool = False,
    outcome_mapping: Mapping[str, str] | None = None,
    client: BindbeeClient | None = None,
) -> LoadResult:
    """Load offers from the Bindbee ATS API into a typed frame (async).

    Parameters
    ----------
    ids
        Offer ids to fetch: a list (one connector) or ``{label: [ids]}``. Repeats are dropped; ids
        the API does not have are listed in ``report.missing``. Without ids, every offer matching
        the filters is listed.
    remote_id, application, creator, modified_after
        Listing filters. ``modified_after`` (naive = UTC) is usually the last load's
        ``report.watermark``.
    connector_token, connectors
        One token (labelled ``"default"``) or ``{label: token}``; defaults to
        ``BINDBEE_CONNECTOR_TOKEN``.
    api_key, base_url
        Default to ``BINDBEE_API_KEY`` and ``BINDBEE_BASE_URL`` (else ``https://api.bindbee.dev``).
    include_custom_fields, include_raw_data, expand
        Extra data per offer, as the API offers it (``expand=("application", "creator")``).
    page_size
        Offers per page, 1..200. If the API refuses 200, 100 is used for that connector.
    concurrency
        Requests in flight at most across all connectors.
    rate_limit
        ``(requests, window seconds)`` allowed per connector token: Bindbee's ``(200, 60.0)``
        unless your plan (or a sandbox) says otherwise. The server's ``X-RateLimit-Limit`` header
        overrides the count.
    progress
        A callback receiving :class:`~offer_analytics.load._progress.ProgressUpdate`, or True for a
        rich progress bar.
    keep_partial
        When a page still fails after every retry, return what was loaded (``report.failed``
        says what is not) instead of raising :class:`~offer_analytics.errors.PartialLoadError`.
    strict, outcome_mapping
        Passed to decoding: raise on unparseable timestamps; map raw statuses to outcomes.
    client
        A :class:`~offer_analytics.BindbeeClient` to use (and leave open) instead of a new
        one; it then owns the key, URL, concurrency, retries and rate limit (passing any of them
        here as well is refused). A client belongs to one event loop: with :func:`load_offers`,
        leave this out.

    Returns
    -------
    LoadResult
        ``(frame, report)``: the offers frame and the :class:`LoadReport`.

    Raises
    ------
    ConfigurationError
        Before any request: missing credentials, plain http to a remote host, bad arguments.
    AuthenticationError, ForbiddenError, NotFoundError, RequestValidationError
        At once (never retried); the message says what to fix.
    CursorLoopError
        The server repeated a cursor or a listing ran past its page bound.
    PartialLoadError
        Pages still failing after every retry (5xx, 429, transport), unless ``keep_partial``;
        it carries the frame loaded, the report and what is missing.
    SchemaError, TimestampError
        A page does not have the offers shape; ``strict=True`` met an unparseable timestamp.

    Examples
    --------
    >>> import asyncio
    >>> from offer_analytics.sandbox import SandboxServer
    >>> with SandboxServer(n_offers=120, connectors=2, seed=3) as server:
    ...     frame, report = asyncio.run(fetch_offers(
    ...         connectors=server.connector_tokens, api_key=server.api_key,
    ...         base_url=server.base_url, page_size=50))
    >>> frame.height, report.pages, report.rate_limited
    (120, 4, 0)
    """
    # The key and tokens leave this frame's locals before anything can raise: tools that record
    # a traceback's locals (Sentry, rich) must find them only in objects that hide them.
    try:
        key = None if api_key is None else Sealed(api_key)
        resolved = resolve_connectors(connector_token, connectors)
    finally:
        del api_key, connector_token, connectors
    if not 1 <= page_size <= 200:
        raise ConfigurationError("page_size must be between 1 and 200.")
    filters = ListingFilters(
        remote_id=remote_id,
        application=application,
        creator=creator,
        modified_after=modified_after_param(modified_after),
    )
    by_connector = None
    if ids is not None:
        if filters.any():
            raise ConfigurationError("Filters apply to listings; with ids= pass no filters.")
        by_connector = ids_by_connector(ids, resolved)
    own_settings = (key, base_url, concurrency, rate_limit)
    if client is not None and own_settings != (None, None, DEFAULT_CONCURRENCY, DEFAULT_RATE_LIMIT):
        # The client's pool and gates are built already: a setting here would be ignored.
        msg = "With client=, set api_key, base_url, concurrency and rate_limit on the client."
        raise ConfigurationError(msg)
    decode = partial(
        decode_pages,
        include_custom_fields=include_custom_fields,
        include_raw_data=include_raw_data,
        expand=split_expand(expand),
        strict=strict,
        outcome_mapping=outcome_mapping,
    )
    decode([], connector="default")  # unknown expand names or a bad mapping fail before any request
    own_client = client is None
    http = client or BindbeeClient(
        api_key=key, base_url=base_url, concurrency=concurrency, rate_limit=rate_limit
    )
    notes_before = {c.label: len(http.notes(c)) for c in resolved}
    bar = RichProgress() if progress is True else None
    callback = bar if bar is not None else (progress or None)
    started_wall = datetime.now(UTC)
    started = time.perf_counter()
    job = FetchJob(
        http,
        params=filters.params(
            include_custom_fields=include_custom_fields,
            include_raw_data=include_raw_data,
            expand=split_expand(expand),
        ),
        page_size=page_size,
        progress=callback if callable(callback) else None,
    )
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="offer-decode")
    decode_failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def stop_on_decode_error(error: BaseException) -> None:
        if not decode_failed.done():
            decode_failed.set_exception(error)

    finished = False
    try:
        sinks = {
            c.label: PageSink(
                partial(decode, connector=c.label),
                executor=executor,
                on_error=stop_on_decode_error,
            )
            for c in resolved
        }

        async def fetch_all() -> None:
            async with asyncio.TaskGroup() as group:
                for connector in resolved:
                    sink = sinks[connector.label]
                    if by_connector is None:
                        group.create_task(job.listing(connector, sink))
                    elif connector.label in by_connector:
                        group.create_task(
                            job.by_ids(connector, by_connector[connector.label], sink)
                        )

        try:
            if bar is not None:
                bar.__enter__()
            async with asyncio.TaskGroup() as group:
                # The first page that fails to decode ends the load: fetching the rest of a
                # listing whose result will be thrown away only spends the budget.
                watcher = group.create_task(_raise_when_set(decode_failed))
                fetching = group.create_task(fetch_all())
                fetching.add_done_callback(lambda _: watcher.cancel())
        except BaseExceptionGroup as group_error:
            # A typed error (401, 403, 422, a cursor loop, a page that failed to decode): the
            # first one is the cause; the others were cancelled because of it.
            raise _first_cause(group_error) from None
        finally:
            if not decode_failed.done():
                decode_failed.cancel()  # later chunks raise from results() instead
            if bar is not None:
                bar.__exit__(None, None, None)
            if own_client:
                await http.aclose()
        frames: list[pl.DataFrame] = []
        stats = []
        for connector in resolved:
            connector_frames, connector_stats = await sinks[connector.label].results()
            frame = _concat(connector_frames, decode, connector.label)
            if by_connector is not None and connector.label in by_connector:
                frame = _in_requested_order(frame, by_connector[connector.label])
            frames.append(frame)
            stats.extend(connector_stats)
        finished = True
    finally:
        # A failed or cancelled load drops the chunks still queued for decoding.
        executor.shutdown(wait=True, cancel_futures=not finished)
    frame = pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]
    # Only what this load added: a client= shared by several loads keeps its gates' notes.
    gate_notes = [n for c in resolved for n in http.notes(c)[notes_before[c.label] :]]
    report = LoadReport(
        connectors=tuple(c.label for c in resolved),
        requests=job.stats.requests,
        retries=job.stats.retries,
        rate_limited=job.stats.rate_limited,
        budget_wait_s=job.stats.budget_wait_s,
        pages=job.pages,
        offers=frame.height,
        missing={label: tuple(ids) for label, ids in job.missing.items() if ids},
        failed={label: tuple(what) for label, what in job.failed.items() if what},
        duration_s=time.perf_counter() - started,
        watermark=started_wall - WATERMARK_OVERLAP,
        unparsed_timestamps=merge_unparsed(stats),
        notes=(*job.notes, *gate_notes),
    )
    if not report.complete and not keep_partial:
        failed = ", ".join(f"{label!r}" for label in report.failed)
        cause = next(iter(job.errors.values()), None)
        msg = (
            f"The load of {failed} did not finish after every retry; exception.frame holds the "
            f"{frame.height} offers loaded, exception.missing what is not. Retry later, or pass "
            f"keep_partial=True to keep partial results. First error: {cause}"
        )
        raise PartialLoadError(msg, frame=frame, report=report, missing=report.failed) from cause
    return LoadResult(frame, report)


async def _raise_when_set(failed: asyncio.Future[None]) -> None:
    """Raise the error ``failed`` is given; cancelled once fetching has ended without one."""
    await failed


def _first_cause(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


def _concat(frames: list[pl.DataFrame], decode: Callable[..., Any], label: str) -> pl.DataFrame:
    if not frames:
        empty, _ = decode([], connector=label)
        return empty  # type: ignore[no-any-return]
    return pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]


def _in_requested_order(frame: pl.DataFrame, ids: Sequence[str]) -> pl.DataFrame:
    """Rows in the order the (distinct) ids were asked for (batches finish in any order)."""
    order = pl.DataFrame({"id": ids}, schema={"id": pl.String}).with_row_index("__order")
    return frame.join(order, on="id", how="left").sort("__order").drop("__order")


def load_offers(
    *,
    ids: IdsArg | None = None,
    remote_id: str | None = None,
    application: str | None = None,
    creator: str | None = None,
    modified_after: datetime | date | str | None = None,
    connector_token: str | None = None,
    connectors: Mapping[str, str] | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    include_custom_fields: bool = False,
    include_raw_data: bool = False,
    expand: Sequence[str] | str = (),
    page_size: int = 200,
    concurrency: int = DEFAULT_CONCURRENCY,
    rate_limit: tuple[int, float] = DEFAULT_RATE_LIMIT,
    progress: ProgressCallback | bool | None = None,
    keep_partial: bool = False,
    strict: bool = False,
    outcome_mapping: Mapping[str, str] | None = None,
    client: BindbeeClient | None = None,
) -> LoadResult:
    """Load offers into a typed frame; the blocking twin of :func:`fetch_offers`.

    Takes the same arguments and returns the same ``(frame, report)``. Safe to call where an
    event loop is already running, such as a Jupyter cell: the load then runs in a background
    thread with its own loop.

    Examples
    --------
    >>> from offer_analytics.sandbox import SandboxServer
    >>> with SandboxServer(n_offers=50, connectors=1, seed=1) as server:
    ...     frame, report = load_offers(
    ...         connector_token=server.connector_tokens["default"], api_key=server.api_key,
    ...         base_url=server.base_url)
    >>> frame.height, report.connectors, report.missing
    (50, ('default',), {})
    """
    arguments = dict(locals())
    # Sealed, so that no frame of this call keeps the key or a token in a plain local.
    sealed = Sealed({name: arguments.pop(name) for name in _SECRET_ARGUMENTS})
    del api_key, connector_token, connectors
    return run_blocking(lambda: fetch_offers(**arguments, **sealed.open()))
