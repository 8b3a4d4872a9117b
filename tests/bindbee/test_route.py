"""Requests go straight to the transport, as httpx's client would have sent them; through the
client when the environment names a proxy."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Callable, Sequence

import httpx
import pytest

from offer_analytics.bindbee._client import OFFERS_PATH, BindbeeClient
from offer_analytics.bindbee._credentials import Connector
from offer_analytics.bindbee._retry import RetryPolicy
from offer_analytics.bindbee._route import Route, proxies_in_environment
from offer_analytics.errors import TransportError
from offer_analytics.sandbox import SandboxServer

LeakFinder = Callable[[BaseException, Sequence[str]], list[str]]
PAGE: dict[str, object] = {"cursor": None, "page_size": 50, "items": []}
ONCE = RetryPolicy(attempts=1)


PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    # The variables only: not the system's settings of a macOS or Windows machine.
    monkeypatch.setattr(urllib.request, "getproxies", urllib.request.getproxies_environment)
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def recording() -> tuple[list[httpx.Request], httpx.MockTransport]:
    """A transport that answers every request with an empty page, and the requests it got."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=json.dumps(PAGE).encode())

    return seen, httpx.MockTransport(handler)


def test_a_request_sent_straight_to_the_transport_carries_what_the_client_would_set() -> None:
    seen, transport = recording()

    async def main() -> None:
        timeout = httpx.Timeout(7.0, connect=3.0)
        async with BindbeeClient(
            api_key="sk-1", timeout=timeout, transport=transport, retry=ONCE
        ) as client:
            await client.get_json(Connector("acme", "tok-1"), OFFERS_PATH, {"page_size": "50"})

    asyncio.run(main())
    (request,) = seen
    assert str(request.url) == "https://api.bindbee.dev/api/ats/v1/offers?page_size=50"
    assert request.headers["authorization"] == "Bearer sk-1"
    assert request.headers["x-connector-token"] == "tok-1"
    assert request.headers["user-agent"] == "offer-analytics"
    assert request.headers["accept"] == "application/json"
    assert request.headers["host"] == "api.bindbee.dev"
    assert request.extensions["timeout"] == {"connect": 3.0, "read": 7.0, "write": 7.0, "pool": 7.0}


def test_a_closed_client_sends_nothing() -> None:
    sent, transport = recording()

    async def main() -> None:
        client = BindbeeClient(api_key="sk-1", transport=transport)
        await client.aclose()
        await client.get_json(Connector("acme", "tok-1"), OFFERS_PATH)

    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(main())
    assert sent == []


def test_a_body_that_cannot_be_decompressed_is_retried_and_leaks_no_secret(
    leaks: LeakFinder,
) -> None:
    def garbled_then_good() -> Callable[[httpx.Request], httpx.Response]:
        answers = iter(
            [
                httpx.Response(
                    200,
                    headers={"content-encoding": "gzip"},
                    stream=httpx.ByteStream(b"not gzip"),  # read only when streamed
                ),
                httpx.Response(200, content=json.dumps(PAGE).encode()),
            ]
        )
        return lambda request: next(answers)

    async def main(retry: RetryPolicy) -> None:
        transport = httpx.MockTransport(garbled_then_good())
        async with BindbeeClient(api_key="sk-1", transport=transport, retry=retry) as client:
            await client.get_json(Connector("acme", "tok-1"), OFFERS_PATH)

    with pytest.raises(TransportError, match="DecodingError") as info:
        asyncio.run(main(ONCE))
    assert leaks(info.value, ["sk-1", "tok-1"]) == []
    asyncio.run(main(RetryPolicy(attempts=2, wait_initial_s=0.0, wait_jitter_s=0.0)))


def test_an_error_inside_the_transport_leaves_no_secret_in_our_frames(leaks: LeakFinder) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise LookupError("a transport with a bug")

    async def main() -> None:
        transport = httpx.MockTransport(broken)
        async with BindbeeClient(api_key="sk-1", transport=transport, retry=ONCE) as client:
            await client.get_json(Connector("acme", "tok-1"), OFFERS_PATH)

    with pytest.raises(LookupError) as info:
        asyncio.run(main())
    assert leaks(info.value, ["sk-1", "tok-1"]) == []


def test_both_routes_send_the_same_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="ok")

    async def main() -> list[str]:
        transport = httpx.MockTransport(handler)
        bodies = []
        async with httpx.AsyncClient(transport=transport, headers={"user-agent": "t"}) as client:
            for route in (Route(client, transport), Route(client, None)):
                async with route.get("http://h.test/a?b=1", auth=httpx.BasicAuth("u", "p")) as r:
                    bodies.append((await r.aread()).decode())
        return bodies

    assert asyncio.run(main()) == ["ok", "ok"]
    direct, through_client = seen
    assert direct.url == through_client.url
    assert sorted(direct.headers.multi_items()) == sorted(through_client.headers.multi_items())


def test_a_proxy_named_by_the_environment_is_used() -> None:
    # Nothing listens on the proxy's port: a client that honours it cannot reach the sandbox.
    with SandboxServer(n_offers=5, connectors=1) as server:
        connector = Connector("default", server.connector_tokens["default"])

        async def main() -> None:
            async with BindbeeClient(
                api_key=server.api_key, base_url=server.base_url, retry=ONCE
            ) as client:
                await client.get_json(connector, OFFERS_PATH)

        asyncio.run(main())  # straight to the transport
        with pytest.MonkeyPatch.context() as env:
            env.setenv("HTTP_PROXY", "http://127.0.0.1:9")
            with pytest.raises(TransportError):
                asyncio.run(main())


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, False),
        ({"NO_PROXY": "*"}, False),
        ({"https_proxy": ""}, False),
        ({"HTTP_PROXY": "http://p:3128"}, True),
        ({"https_proxy": "http://p:3128", "no_proxy": "localhost"}, True),
        ({"ALL_PROXY": "socks5://p:1080"}, True),
    ],
)
def test_proxies_in_the_environment(
    environ: dict[str, str], expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert proxies_in_environment() is expected
