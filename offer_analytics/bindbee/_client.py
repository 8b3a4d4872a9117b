"""BindbeeClient: one shared HTTP client that knows the budget, the retry rules and the errors.

Every attempt of a request passes, in this order, the connector's
:class:`~offer_analytics.bindbee._rate_gate.RateGate` (its request budget) and a cap on requests
in flight across the client (one ``httpx.AsyncClient`` slows down as its open connections grow:
bench/bench_load.py puts the knee at 8-16 in flight on 2 shared cores), which one connector may
exceed with budget its gate knows is left (:mod:`offer_analytics.bindbee._in_flight`); the retry
policy wraps both. A task waiting for its connector's budget holds no in-flight slot, so one slow
connector never starves the others. Responses come back as raw bytes plus what a parser read
from them: the decoder wants the bytes, the loader needs the cursor. The parser (``json.loads``
unless the caller passes a cheaper one, e.g.
:func:`~offer_analytics.load._list_page.read_list_page`) also vets the body: a ``ValueError``
from it means the body broke off or is not JSON, and the request is tried again.
Each attempt is bounded in time and size (:mod:`offer_analytics.bindbee._exchange`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import ssl
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Self

import httpx
import stamina

from offer_analytics.bindbee._auth import BindbeeAuth
from offer_analytics.bindbee._credentials import (
    Connector,
    Sealed,
    resolve_api_key,
    resolve_base_url,
)
from offer_analytics.bindbee._exchange import (
    DEFAULT_REQUEST_DEADLINE_S,
    MAX_BODY_BYTES,
    Peek,
    RawResponse,
    fetch,
    parse_body,
    request_url,
)
from offer_analytics.bindbee._in_flight import InFlightCap
from offer_analytics.bindbee._rate_gate import ClockLead, RateGate
from offer_analytics.bindbee._redact import Redactor
from offer_analytics.bindbee._retry import RetryPolicy, should_retry
from offer_analytics.bindbee._route import Route, proxies_in_environment
from offer_analytics.bindbee._status_errors import error_for_status
from offer_analytics.errors import (
    ConfigurationError,
    OfferAnalyticsError,
    SchemaError,
    ServerError,
)

#: Reads a 2xx body; raises ValueError when it is not (whole) JSON.
BodyParser = Callable[[bytes], Any]

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_TIMEOUT",
    "OFFERS_PATH",
    "BindbeeClient",
    "JSONResponse",
    "RequestStats",
]

#: Requests in flight across all connectors. bench/bench_load.py found the knee of one client on
#: 2 shared cores at 8-16 in flight (pages/s fall by a fifth at 32 and by half at 48-64).
DEFAULT_CONCURRENCY: Final = 16
#: Requests in flight at most while one connector's known budget asks for more than
#: ``concurrency`` at once (a window of id batches): four times it, but no more than this.
MAX_BURST: Final = 64
#: A slow page of 200 offers with raw data may take a while; a dead connection must not hang.
DEFAULT_TIMEOUT: Final = httpx.Timeout(connect=10.0, read=60.0, write=10.0, pool=60.0)
#: Shorter than any sane server keep-alive (uvicorn's default is 5 s), so that the client drops an
#: idle connection before the server does instead of racing it.
KEEPALIVE_EXPIRY_S: Final = 4.0
OFFERS_PATH: Final = "/api/ats/v1/offers"
#: Bindbee's documented budget per connector token: 200 requests per 60 s window.
DEFAULT_RATE_LIMIT: Final = (200, 60.0)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default verifying TLS context, built once: loading the CA bundle costs ~30 ms."""
    return httpx.create_ssl_context()


@dataclass
class RequestStats:
    """What one load's requests cost; the loader turns it into a LoadReport."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    budget_wait_s: float = 0.0


@dataclass(frozen=True)
class JSONResponse:
    """A successful response: its raw body and what the parser read from it."""

    status: int
    body: bytes
    data: Any


class BindbeeClient:
    """An async client for the Bindbee ATS offers API, shared by all connectors of a load.

    Parameters
    ----------
    api_key
        The bearer key; defaults to ``BINDBEE_API_KEY``.
    base_url
        The API host; defaults to ``BINDBEE_BASE_URL`` or ``https://api.bindbee.dev``. Plain
        ``http://`` is refused except to a loopback address.
    concurrency
        Requests in flight at most, across all connectors, except where a connector's known
        budget asks for more at once (see ``burst``).
    burst
        Requests in flight at most while one connector has more requests than ``concurrency``
        let through on budget its gate knows is left (a window of id batches then goes out at
        once); ``None``: four times ``concurrency``, at most 64. ``burst=concurrency`` turns
        this off. Requests sent while the budget is unknown never burst.
    timeout
        httpx timeouts per network operation (connect, each read...).
    request_deadline_s
        The longest one attempt may take in all, body included: a server that trickles bytes
        cannot hold a request longer. The attempt then counts as a transport failure.
    retry
        How failed requests are retried.
    rate_limit
        ``(requests, window seconds)`` per connector token until the server's headers show
        otherwise (both are learned from them); Bindbee's is ``(200, 60.0)``.
    max_pause_s
        The longest pause a ``Retry-After`` or ``Reset`` header may impose on a connector;
        ``None``: two rate-limit windows. A server asking for more is capped and noted.
    transport
        An httpx transport to use instead of the network (``httpx.MockTransport`` in tests).
        Without one, the client connects directly, or through the proxy that ``HTTPS_PROXY``,
        ``HTTP_PROXY`` or ``ALL_PROXY`` names (``NO_PROXY`` excepted; on macOS and Windows also
        the system's proxy settings), as httpx does; a given transport is used as it is.
    clock, wall_clock, sleep
        Passed to every :class:`~offer_analytics.bindbee._rate_gate.RateGate`.

    Examples
    --------
    >>> import asyncio, httpx
    >>> def handler(request: httpx.Request) -> httpx.Response:
    ...     return httpx.Response(200, json={"cursor": None, "page_size": 200, "items": []})
    >>> async def main() -> object:
    ...     async with BindbeeClient(api_key="k", transport=httpx.MockTransport(handler)) as client:
    ...         page = await client.get_json(Connector("acme", "t"), OFFERS_PATH)
    ...     return page.data
    >>> asyncio.run(main())
    {'cursor': None, 'page_size': 200, 'items': []}
    >>> BindbeeClient(api_key="secret-key")
    BindbeeClient(base_url='https://api.bindbee.dev', concurrency=16)
    """

    def __init__(
        self,
        *,
        api_key: str | Sealed[str] | None = None,
        base_url: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        burst: int | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        request_deadline_s: float = DEFAULT_REQUEST_DEADLINE_S,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so sharing it is safe
        rate_limit: tuple[int, float] = DEFAULT_RATE_LIMIT,
        max_pause_s: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if concurrency < 1:
            raise ConfigurationError("concurrency must be at least 1")
        if not (math.isfinite(request_deadline_s) and request_deadline_s > 0):
            raise ConfigurationError("request_deadline_s must be a positive number of seconds")
        # Sealed at once: the key must not sit in a plain local of any frame that may raise.
        self._api_key = Sealed(
            resolve_api_key(api_key.open() if isinstance(api_key, Sealed) else api_key)
        )
        self.base_url = resolve_base_url(base_url)
        self.concurrency = concurrency
        self.burst = max(concurrency, min(4 * concurrency, MAX_BURST) if burst is None else burst)
        self.retry = retry
        self.request_deadline_s = request_deadline_s
        self._rate_limit = rate_limit
        self._max_pause_s = max_pause_s
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._gates: dict[str, RateGate] = {}
        self._redact = Redactor([self._api_key.open()])
        self._clock_lead = ClockLead()  # one server, one clock: every gate learns from all
        self._auths: dict[str, BindbeeAuth] = {}
        self._in_flight = InFlightCap(base=concurrency, burst=self.burst)
        # Connections beyond ``concurrency`` (a burst) are closed when idle: every open
        # connection costs httpx's pool some work on every request.
        limits = httpx.Limits(
            max_connections=self.burst,
            max_keepalive_connections=concurrency,
            keepalive_expiry=KEEPALIVE_EXPIRY_S,
        )
        # Auth headers are set per request: the client itself holds no secret in its headers.
        # Plain http (a loopback sandbox, the only one allowed) needs no CA bundle: loading it
        # costs ~0.1 s the first time. No redirect is followed, so TLS never comes up later.
        verify = _tls_context() if self.base_url.startswith("https:") else False
        # Requests go straight to the transport (see _route), unless the environment names a
        # proxy that httpx would apply: only a client that builds its own transport does.
        through_client = transport is None and proxies_in_environment()
        if transport is None and not through_client:
            transport = httpx.AsyncHTTPTransport(verify=verify, limits=limits)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            verify=verify,
            limits=limits,
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            headers={"accept": "application/json", "user-agent": "offer-analytics"},
        )
        self._route = Route(self._http, transport)
        self._url_prefix = str(self._http.base_url)

    def __repr__(self) -> str:
        # getattr: tools that record a traceback's locals call repr on a client whose __init__
        # raised half-way; a repr that raises too would hide the real error.
        base_url = getattr(self, "base_url", None)
        concurrency = getattr(self, "concurrency", None)
        return f"BindbeeClient(base_url={base_url!r}, concurrency={concurrency})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def gate(self, connector: Connector) -> RateGate:
        """The RateGate of a connector's token (created on first use, then shared)."""
        self._redact.add(connector.token)
        gate = self._gates.get(connector.token)
        if gate is None:
            limit, window_s = self._rate_limit
            gate = RateGate(
                limit=limit,
                window_s=window_s,
                max_pause_s=self._max_pause_s,
                label=connector.label,
                clock_lead=self._clock_lead,
                clock=self._clock,
                wall_clock=self._wall_clock,
                sleep=self._sleep,
            )
            self._gates[connector.token] = gate
        return gate

    def _auth(self, connector: Connector) -> BindbeeAuth:
        auth = self._auths.get(connector.token)
        if auth is None:
            auth = self._auths[connector.token] = BindbeeAuth(self._api_key, connector)
        return auth

    def notes(self, connector: Connector) -> list[str]:
        """What the connector's gate had to tell (e.g. a capped pause), oldest first."""
        gate = self._gates.get(connector.token)
        return list(gate.notes) if gate is not None else []

    def offer_url_length(self, params: Mapping[str, str]) -> int:
        """Length of the full list-endpoint URL for these query parameters."""
        return len(request_url(self._url_prefix, OFFERS_PATH, params))

    @staticmethod
    def offer_path(offer_id: str) -> str:
        """Path of one offer; the id is quoted so it cannot change the path."""
        return f"{OFFERS_PATH}/{urllib.parse.quote(offer_id, safe='')}"

    async def get_json(
        self,
        connector: Connector,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        stats: RequestStats | None = None,
        parse: BodyParser = json.loads,
        peek: Peek | None = None,
        on_sent: Callable[[], None] | None = None,
    ) -> JSONResponse:
        """GET ``path`` for a connector, within its budget, retrying what may succeed later.

        ``parse`` reads the body of a 2xx into ``JSONResponse.data``; a ``ValueError`` from it
        (a body cut short, an HTML page) is retried like a transport failure, any other error
        is raised as is. ``peek``, if given, sees the first chunk of each 2xx body of every
        attempt as soon as it arrives; what it returns, if not None, is awaited before the rest
        is read (it must not raise). ``on_sent`` is called when an attempt's request head has
        been written to the connection, or as soon as the attempt has to wait for its budget or
        for a place in flight: when it is on its way or known not to be soon.

        Raises
        ------
        AuthenticationError, ForbiddenError, NotFoundError, RequestValidationError
            At once, without retrying.
        RateLimitedError, ServerError, TransportError
            When every attempt failed.
        """
        stats = stats if stats is not None else RequestStats()
        policy = self.retry
        attempts = stamina.retry_context(
            on=self._should_retry,
            attempts=policy.attempts,
            timeout=policy.timeout_s,
            wait_initial=policy.wait_initial_s,
            wait_max=policy.wait_max_s,
            wait_jitter=policy.wait_jitter_s,
        )
        async for attempt in attempts:
            with attempt:
                if attempt.num > 1:
                    stats.retries += 1
                return await self._send_once(connector, path, params, stats, parse, peek, on_sent)
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

    @property
    def max_pause_s(self) -> float:
        """The longest pause a ``Retry-After`` or ``Reset`` header may impose on a connector."""
        _, window_s = self._rate_limit
        return self._max_pause_s if self._max_pause_s is not None else max(2 * window_s, 60.0)

    def _should_retry(self, exc: Exception) -> bool | float:
        """:func:`should_retry`, but a 5xx's ``Retry-After`` sets the wait (capped like a 429's)."""
        decision = should_retry(exc)
        if decision is True and isinstance(exc, ServerError) and exc.retry_after_s is not None:
            return min(exc.retry_after_s, self.max_pause_s)
        return decision

    async def _send_once(
        self,
        connector: Connector,
        path: str,
        params: Mapping[str, str] | None,
        stats: RequestStats,
        parse: BodyParser,
        peek: Peek | None,
        on_sent: Callable[[], None] | None,
    ) -> JSONResponse:
        gate = self.gate(connector)
        if on_sent is not None and gate.would_wait():
            on_sent()  # not on the wire soon: nobody should wait for it
            on_sent = None
        permit = await gate.acquire()
        stats.budget_wait_s += permit.waited_s
        raw: RawResponse | None = None
        known = permit.known
        try:
            if on_sent is not None and self._in_flight.would_wait(gate, known=known):
                on_sent()
                on_sent = None
            await self._in_flight.acquire(gate, known=known)  # the gate: no token in a local
            try:
                stats.requests += 1
                raw = await fetch(
                    self._route,
                    request_url(self._url_prefix, path, params or {}),
                    path=path,
                    auth=self._auth(connector),
                    label=connector.label,
                    deadline_s=self.request_deadline_s,
                    redact=self._redact,
                    peek=peek,
                    on_sent=on_sent,
                )
            finally:
                self._in_flight.release(gate, known=known)
        finally:
            if raw is None:
                gate.release(permit, status=None, headers={})
            else:
                gate.release(permit, status=raw.status, headers=raw.headers)
        if raw.status == 429:
            stats.rate_limited += 1
        if raw.body is not None and 200 <= raw.status < 300:
            data = parse_body(raw.body, parse, label=connector.label, path=path)
            return JSONResponse(raw.status, raw.body, data)
        error = self._failure(raw, connector, path)
        # A server that echoes a token back put it in the body: not in a local of this frame.
        del raw
        raise error

    def _failure(self, raw: RawResponse, connector: Connector, path: str) -> OfferAnalyticsError:
        if raw.body is None:
            msg = (
                f"The response for connector {connector.label!r} at {path} is larger than "
                f"{MAX_BODY_BYTES // 2**20} MiB; it was not read. Ask for less per request "
                "(a smaller page_size, without include_raw_data)."
            )
            return SchemaError(msg)
        return error_for_status(
            raw.status,
            raw.body,
            connector=connector.label,
            path=path,
            redact=self._redact,
            retry_after=raw.headers.get("retry-after"),
            now=self._wall_clock(),
        )
