"""Loading offers: a whole listing or a set of ids, from one connector or many, into one frame.

A connector serves 200 requests a minute, so list pages carry 200 offers and ids travel in
batches through the list endpoint's ``ids`` filter. :func:`fetch_offers` reads like a table of
contents: it seals the secrets, checks the arguments into a frozen
:class:`~offer_analytics.load._plan.LoadPlan`, and hands that to a
:class:`~offer_analytics.load._run.LoadRun`, which fetches, decodes and reports. The sync
facade :func:`load_offers` runs the same coroutine, in a thread of its own when the calling
thread already runs an event loop (Jupyter), so it never needs nest_asyncio.

Both return a :class:`~offer_analytics.load._load_report.LoadResult`, a named tuple to unpack as
``frame, report = load_offers(...)``: the report (requests, 429s, missing ids, the watermark for
the next incremental load) is part of every load, never an option to remember.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Final, Literal

from offer_analytics.bindbee._client import DEFAULT_CONCURRENCY, DEFAULT_RATE_LIMIT, BindbeeClient
from offer_analytics.bindbee._credentials import Sealed, resolve_connectors
from offer_analytics.errors import ConfigurationError
from offer_analytics.load._blocking import blocking_twin
from offer_analytics.load._job import IdsArg
from offer_analytics.load._load_report import LoadResult
from offer_analytics.load._plan import plan_load
from offer_analytics.load._progress import ProgressCallback, RichProgress
from offer_analytics.load._run import WATERMARK_OVERLAP, LoadRun

__all__ = ["WATERMARK_OVERLAP", "fetch_offers", "load_offers"]

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
    deadline_s: float | Literal["auto"] | None = "auto",
    strict: bool = False,
    outcome_mapping: Mapping[str, str] | None = None,
    enrich: bool = False,
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
        unless your plan (or a sandbox) says otherwise. The server's headers override both: its
        ``X-RateLimit-Limit`` the count, the step between two windows' ``X-RateLimit-Reset`` (or a
        ``RateLimit-Policy`` header) the window.
    progress
        A callback receiving :class:`~offer_analytics.load._progress.ProgressUpdate`, or True for a
        rich progress bar.
    keep_partial
        When a page still fails after every retry, or the deadline passes, return what was
        loaded (``report.failed`` says what is not) instead of raising
        :class:`~offer_analytics.errors.PartialLoadError` (or its
        :class:`~offer_analytics.errors.LoadTimeoutError`).
    deadline_s
        The most seconds the load may take. ``"auto"`` (the default) follows the work: twice
        what the rate budget needs for the requests known so far, plus a slack of two request
        deadlines and one maximal 429 pause, and never less than that slack after the last page
        received; a server that stops delivering (trickles, never answers, answers 429 for
        ever) ends the load six minutes after its last page. ``None``: no deadline.
    strict, outcome_mapping
        Passed to decoding: raise on unparseable timestamps; map raw statuses to outcomes.
    enrich
        Also fetch each offer's application, job, departments, office and recruiter (only the
        objects these offers need, in ``ids`` batches, on the same connectors' budgets) and add
        the columns ``job_id, job, department_id, department, departments, office_id, office,
        recruiter_id, recruiter``; see :func:`~offer_analytics.enrich_offers` for how each is
        chosen. ``report.enrich_requests`` says what that cost (``report.requests`` includes
        it); offers that cannot be resolved keep nulls (see ``quality_report``).
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
        The server repeated a cursor or a page, or kept sending empty pages with new cursors.
    PartialLoadError
        Pages still failing after every retry (5xx, 429, transport), unless ``keep_partial``;
        it carries the frame loaded, the report and what is missing.
    LoadTimeoutError
        The deadline passed (a :class:`PartialLoadError`, carrying the same), unless
        ``keep_partial``.
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
    plan = plan_load(
        resolved,
        ids=ids,
        remote_id=remote_id,
        application=application,
        creator=creator,
        modified_after=modified_after,
        include_custom_fields=include_custom_fields,
        include_raw_data=include_raw_data,
        expand=expand,
        page_size=page_size,
        keep_partial=keep_partial,
        strict=strict,
        outcome_mapping=outcome_mapping,
        deadline_s=deadline_s,
        enrich=enrich,
    )
    own_settings = (key, base_url, concurrency, rate_limit)
    if client is not None and own_settings != (None, None, DEFAULT_CONCURRENCY, DEFAULT_RATE_LIMIT):
        # The client's pool and gates are built already: a setting here would be ignored.
        msg = "With client=, set api_key, base_url, concurrency and rate_limit on the client."
        raise ConfigurationError(msg)
    http = client or BindbeeClient(
        api_key=key, base_url=base_url, concurrency=concurrency, rate_limit=rate_limit
    )
    bar = RichProgress() if progress is True else None
    callback = bar if bar is not None else (progress or None)
    try:
        with bar or contextlib.nullcontext():
            run = LoadRun(plan, http, progress=callback if callable(callback) else None)
            return await run.run()
    finally:
        if client is None:
            await http.aclose()


@blocking_twin(fetch_offers, secrets=_SECRET_ARGUMENTS)
def load_offers() -> LoadResult:
    """Load offers into a typed frame; the blocking twin of :func:`fetch_offers`.

    Takes exactly :func:`fetch_offers`' arguments (declared once, there) and returns the same
    ``(frame, report)``. Safe to call where an
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
    raise NotImplementedError  # never runs: blocking_twin replaces it with fetch_offers' twin
