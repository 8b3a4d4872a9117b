"""One attempt of one request: send it, read the whole answer within bounds, vet the body.

httpx bounds each network read (60 s), not a whole response: a server that sends a byte every
few seconds would hold a request open for ever. So every attempt runs under a total deadline,
and reads at most :data:`MAX_BODY_BYTES`. What the attempt hands back is plain data (status,
the few headers the rate gate reads, the body): the httpx request, whose headers carry the API
key and the connector token, never leaves this module, neither in a return value nor in an
exception's ``__context__`` (errors are raised after the ``except`` block that noticed them).

Bodies that can never parse are told apart from bodies that broke off: invalid UTF-8 and JSON
nested deeper than the parser goes are :class:`~offer_analytics.errors.SchemaError` at once;
a body cut short or not JSON (an HTML page behind a proxy) is a
:class:`~offer_analytics.errors.TransportError`, worth another attempt.
"""

from __future__ import annotations

import asyncio
import re
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import httpx

from offer_analytics.bindbee._route import Route
from offer_analytics.errors import OfferAnalyticsError, SchemaError, TransportError

__all__ = [
    "DEFAULT_REQUEST_DEADLINE_S",
    "MAX_BODY_BYTES",
    "Peek",
    "RawResponse",
    "fetch",
    "parse_body",
    "request_url",
]

#: Largest response body read, decompressed. A 200-offer page with raw data and custom fields is
#: a few MB; a body past this is a server fault, and holding several at once would exhaust memory.
MAX_BODY_BYTES: Final = 64 * 1024 * 1024
#: Longest one attempt may take, from connecting to the body's last byte: twice the read timeout.
DEFAULT_REQUEST_DEADLINE_S: Final = 120.0
#: The response headers anyone after this module reads (the rate gate, the 5xx/429 hint).
_KEPT_HEADERS: Final = frozenset(
    {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after"}
)


#: Characters a query value carries as they are (RFC 3986 unreserved): uuids, cursors, numbers.
_PLAIN: Final = re.compile(r"[A-Za-z0-9._~-]*")


def _quoted(value: str) -> str:
    if _PLAIN.fullmatch(value):
        return value
    if _PLAIN.fullmatch(value.replace(",", "")):  # a list of plain ids
        return value.replace(",", "%2C")
    return urllib.parse.quote_plus(value)


def request_url(prefix: str, path: str, params: Mapping[str, str]) -> str:
    """The whole URL of a request, its query encoded exactly as httpx would encode ``params``.

    httpx builds a request URL from a path and a ``params`` mapping by encoding the query and
    then parsing and checking the whole URL again, character by character: ~0.2 ms per listing
    request and ~0.4 ms per id batch of 20 on this machine, paid on the event loop for every
    request. Handing it the finished URL leaves one parse (bench/BENCHMARKS.md).

    Parameters
    ----------
    prefix
        The client's base URL (scheme, host, maybe a path).
    path
        The request's path (``/api/ats/v1/offers``).
    params
        The query parameters.

    Examples
    --------
    >>> request_url("https://h.io/", "/api/offers", {"ids": "a-1,b-2", "cursor": "x y+z=="})
    'https://h.io/api/offers?ids=a-1%2Cb-2&cursor=x+y%2Bz%3D%3D'
    """
    url = prefix.rstrip("/") + "/" + path.lstrip("/")
    if not params:
        return url
    query = "&".join(f"{_quoted(name)}={_quoted(value)}" for name, value in params.items())
    return f"{url}?{query}"


#: Sees the first chunk of a 2xx body; what it returns, if not None, is awaited before the rest.
Peek: TypeAlias = Callable[[bytes], Awaitable[None] | None]


def _sent_trace(on_sent: Callable[[], None]) -> Callable[[str, Any], Awaitable[None]]:
    """An httpcore trace hook that calls ``on_sent`` once the request head is on the wire."""

    async def trace(event: str, info: Any) -> None:
        if event.endswith("send_request_headers.complete"):
            on_sent()

    return trace


@dataclass(frozen=True, slots=True)
class RawResponse:
    """What one attempt received: status, the rate-limit headers, the whole body."""

    status: int
    headers: Mapping[str, str]
    body: bytes | None
    """None when the body was larger than :data:`MAX_BODY_BYTES` (not read further)."""


async def _read(
    route: Route,
    url: str,
    auth: httpx.Auth,
    redact: Callable[[str], str],
    peek: Peek | None,
    on_sent: Callable[[], None] | None,
) -> RawResponse:
    extensions = {"trace": _sent_trace(on_sent)} if on_sent is not None else None
    async with route.get(url, auth=auth, extensions=extensions) as response:
        # Redacted: a hostile server could echo a token in a header we keep.
        headers = {
            name: redact(value)
            for name, value in response.headers.items()
            if name.lower() in _KEPT_HEADERS
        }
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return RawResponse(response.status_code, headers, None)
        chunks: list[bytes] = []
        size = 0
        if peek is not None and not 200 <= response.status_code < 300:
            peek = None
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return RawResponse(response.status_code, headers, None)
            chunks.append(chunk)
            if peek is not None and chunk:
                waiting = peek(chunk)  # while the rest of the body is still to be read
                peek = None
                if waiting is not None:
                    await waiting
        return RawResponse(response.status_code, headers, b"".join(chunks))


async def fetch(
    route: Route,
    url: str,
    *,
    path: str,
    auth: httpx.Auth,
    label: str,
    deadline_s: float,
    redact: Callable[[str], str],
    peek: Peek | None = None,
    on_sent: Callable[[], None] | None = None,
) -> RawResponse:
    """Send one GET of ``url`` (see :func:`request_url`) by ``route`` and read its whole answer
    within ``deadline_s`` seconds; ``path`` names the request in errors.

    ``peek`` is called with the first chunk of a 2xx body as soon as it arrives, before the rest
    is read (a serial listing takes the next cursor from it); the chunk may be any length. What
    it returns, if not None, is awaited before the rest is read. ``on_sent`` is called once the
    request's head has been written to the connection.

    Raises
    ------
    TransportError
        No whole answer in time, or the connection failed (worth another attempt).
    """
    try:
        async with asyncio.timeout(deadline_s):
            return await _read(route, url, auth, redact, peek, on_sent)
    except TimeoutError:
        reason = f"took longer than {deadline_s:g} s in all (the server sends too slowly)"
    except httpx.TimeoutException as exc:
        reason = f"timed out ({redact(f'{type(exc).__name__}: {exc}')[:200]})"
    except httpx.RequestError as exc:  # the connection, or a body that cannot be decompressed
        reason = f"failed ({redact(f'{type(exc).__name__}: {exc}')[:200]})"
    # Raised here, outside the except blocks: the httpx error (and the request it holds, with
    # its auth headers) must not become this error's __context__.
    raise TransportError(f"Request for connector {label!r} at {path} {reason}.")


def parse_body(body: bytes, parse: Callable[[bytes], Any], *, label: str, path: str) -> Any:
    """``parse(body)``, with its failures sorted into "try again" and "never parses".

    Raises
    ------
    SchemaError
        Invalid UTF-8, JSON nested too deep, or (from ``parse``) JSON of the wrong shape.
    TransportError
        The body broke off or is not JSON: the same request will likely get a whole one.

    Examples
    --------
    >>> import json
    >>> parse_body(b'{"a": 1}', json.loads, label="acme", path="/p")
    {'a': 1}
    >>> parse_body(b'{"a": "\\xff"}', json.loads, label="acme", path="/p")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    offer_analytics.errors.SchemaError: The response for connector 'acme' at /p is not UTF-8 ...
    """
    where = f"The response for connector {label!r} at {path}"
    try:
        return parse(body)
    except OfferAnalyticsError:
        raise  # e.g. a SchemaError (a ValueError too): JSON of the wrong shape, not retried
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":  # cut in the middle of a character
            error: OfferAnalyticsError = TransportError(f"{where} broke off mid-character.")
        else:
            msg = f"{where} is not UTF-8 (invalid byte at position {exc.start}); it cannot be read."
            error = SchemaError(msg)
    except RecursionError:
        error = SchemaError(f"{where} nests JSON deeper than any offer does; it cannot be read.")
    except ValueError:
        # A body that broke off without the connection noticing, or an HTML error page behind
        # a proxy: the same request will most likely get a whole body next time.
        error = TransportError(f"{where} was not valid JSON.")
    raise error
