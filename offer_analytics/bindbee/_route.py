"""Route: how a request leaves the client, straight to its transport when nothing else applies.

``httpx.AsyncClient.send`` wraps the transport in features this client never uses: a cookie jar
(every response is searched for cookies), redirect handling (none is followed), auth flows that
wait for a response (the credentials are two plain headers), event hooks, a log line per request
(httpx's ``HTTP Request: ...`` at INFO, which this route does not write; httpcore's DEBUG
records remain). Together with building the request from the client's base URL, that cost
0.45-0.8 ms a request on this project's 2-core machine (bench/BENCHMARKS.md, the loader): 2-3%
of a serial listing's round trip, which nothing else overlaps. So a request is built from the
finished URL, given the client's default headers, timeout and the connector's credentials, and
handed to the transport the client would have used.

The one thing the transport alone cannot do is pick a proxy: a client that trusts the
environment sends through ``HTTP_PROXY``, ``HTTPS_PROXY`` or ``ALL_PROXY`` (with ``NO_PROXY``'s
exceptions, and the system's proxy settings on macOS and Windows), but only when it builds its own
transport. So when the environment names any proxy and no transport was given, the client builds
its own and every request goes through it, so that httpx applies its own rules.
"""

from __future__ import annotations

import contextlib
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["Route", "proxies_in_environment"]


def proxies_in_environment() -> bool:
    """Whether the environment names a proxy for http or https, as an httpx client that trusts
    it reads it (``urllib.request.getproxies``: the variables, and the system's settings on
    macOS and Windows).

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"HTTPS_PROXY": "http://proxy.internal:3128"}):
    ...     proxies_in_environment()
    True
    """
    found = urllib.request.getproxies()
    return any(found.get(scheme) for scheme in ("http", "https", "all"))


@dataclass(frozen=True, slots=True)
class Route:
    """The client a request belongs to, and the transport it goes to directly (or ``None``:
    through the client, which then applies proxies from the environment).

    Examples
    --------
    >>> import asyncio
    >>> def handler(request: httpx.Request) -> httpx.Response:
    ...     return httpx.Response(200, text=request.headers["user-agent"])
    >>> async def main() -> str:
    ...     transport = httpx.MockTransport(handler)
    ...     async with httpx.AsyncClient(transport=transport, headers={"user-agent": "me"}) as c:
    ...         route = Route(c, transport)
    ...         async with route.get("http://h.test/a", auth=httpx.BasicAuth("u", "p")) as r:
    ...             return (await r.aread()).decode()
    >>> asyncio.run(main())
    'me'
    """

    client: httpx.AsyncClient
    transport: httpx.AsyncBaseTransport | None

    @contextlib.asynccontextmanager
    async def get(
        self, url: str, *, auth: httpx.Auth, extensions: dict[str, Any] | None = None
    ) -> AsyncIterator[httpx.Response]:
        """``GET url`` (absolute), the response open for streaming inside the block.

        ``auth`` adds headers to the request (its flow's first request is sent, as for
        ``httpx.BasicAuth`` or the connector's credentials; an auth that answers a challenge is
        not supported).

        Raises
        ------
        RuntimeError
            When the client is closed, as ``httpx.AsyncClient`` raises it.
        """
        if self.transport is None:
            async with self.client.stream("GET", url, auth=auth, extensions=extensions) as sent:
                yield sent
            return
        if self.client.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        response = await _send(self.transport, self.client, url, auth, extensions or {})
        try:
            yield response
        finally:
            await response.aclose()


async def _send(
    transport: httpx.AsyncBaseTransport,
    client: httpx.AsyncClient,
    url: str,
    auth: httpx.Auth,
    extensions: dict[str, Any],
) -> httpx.Response:
    """Build, sign and send the request; the response's head has arrived when this returns."""
    request = httpx.Request(
        "GET",
        url,
        headers=client.headers,
        extensions={**extensions, "timeout": client.timeout.as_dict()},
    )
    try:
        request = await _authorised(request, auth)
        return await transport.handle_async_request(request)
    finally:
        # The request carries the credentials: out of this frame before anything leaves it
        # (traceback tools record the locals of every frame an error passed through).
        del request


async def _authorised(request: httpx.Request, auth: httpx.Auth) -> httpx.Request:
    """The request as the auth's first step sends it (the credentials are set inside the auth,
    so that no frame here holds them)."""
    flow = auth.async_auth_flow(request)
    try:
        return await flow.__anext__()
    finally:
        await flow.aclose()
