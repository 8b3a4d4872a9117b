"""BindbeeClient through httpx.MockTransport: headers, retries, typed errors, no secrets."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from offer_analytics.bindbee._client import OFFERS_PATH, BindbeeClient, JSONResponse, RequestStats
from offer_analytics.bindbee._credentials import Connector, resolve_base_url, resolve_connectors
from offer_analytics.bindbee._retry import RetryPolicy
from offer_analytics.errors import (
    AuthenticationError,
    BindbeeAPIError,
    ConfigurationError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    RequestValidationError,
    ServerError,
    TransportError,
)

API_KEY = "sk-live-SECRETKEY123"
TOKEN = "ct-SECRETTOKEN456"
ACME = Connector("acme", TOKEN)
FAST_RETRY = RetryPolicy(attempts=4, wait_initial_s=0.001, wait_max_s=0.005, wait_jitter_s=0.001)
PAGE = {"cursor": None, "page_size": 200, "items": [{"id": "o-1"}]}

Handler = Callable[[httpx.Request], httpx.Response]


def run(
    handler: Handler, *, stats: RequestStats | None = None, path: str = OFFERS_PATH
) -> JSONResponse:
    async def main() -> JSONResponse:
        async with BindbeeClient(
            api_key=API_KEY,
            base_url="https://eu.api.bindbee.dev",
            retry=FAST_RETRY,
            rate_limit=(10_000, 1.0),  # no pacing to speak of: these tests are about retries
            transport=httpx.MockTransport(handler),
        ) as client:
            return await client.get_json(ACME, path, {"page_size": "200"}, stats=stats)

    return asyncio.run(main())


def scripted(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering with these responses (or raising these errors) in turn."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        item = responses[min(len(seen), len(responses) - 1)]
        seen.append(request)
        if isinstance(item, Exception):
            raise item
        return item

    return handler, seen


def assert_no_secret(text: str) -> None:
    assert API_KEY not in text
    assert TOKEN not in text


def test_every_request_carries_the_auth_headers_and_goes_to_the_configured_host() -> None:
    handler, seen = scripted(httpx.Response(200, json=PAGE))
    page = run(handler)
    assert page.data == PAGE
    assert json.loads(page.body) == PAGE
    request = seen[0]
    assert request.url.host == "eu.api.bindbee.dev"
    assert request.url.path == OFFERS_PATH
    assert request.url.params["page_size"] == "200"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["x-connector-token"] == TOKEN


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_until_success(status: int) -> None:
    handler, seen = scripted(
        httpx.Response(status, json={"detail": "try later"}),
        httpx.Response(200, json=PAGE),
    )
    stats = RequestStats()
    assert run(handler, stats=stats).data == PAGE
    assert len(seen) == 2
    assert (stats.requests, stats.retries) == (2, 1)


def test_429_waits_in_the_gate_not_in_stamina() -> None:
    handler, seen = scripted(
        httpx.Response(429, json={"detail": "slow down"}, headers={"retry-after": "1"}),
        httpx.Response(200, json=PAGE),
    )
    slept: list[float] = []
    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    async def main() -> RequestStats:
        stats = RequestStats()
        async with BindbeeClient(
            api_key=API_KEY,
            retry=FAST_RETRY,
            transport=httpx.MockTransport(handler),
            clock=lambda: now[0],
            wall_clock=lambda: 1_700_000_000 + now[0],
            sleep=fake_sleep,
        ) as client:
            await client.get_json(ACME, OFFERS_PATH, stats=stats)
        return stats

    stats = asyncio.run(main())
    assert len(seen) == 2
    assert stats.rate_limited == 1
    assert stats.retries == 1
    assert slept
    assert slept[0] == pytest.approx(1.0, abs=0.05)


def test_a_server_that_keeps_answering_429_ends_in_rate_limited_error_in_bounded_time() -> None:
    storm = httpx.Response(429, json={"detail": "slow down"}, headers={"retry-after": "31536000"})
    handler, seen = scripted(storm)
    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    async def main() -> JSONResponse:
        async with BindbeeClient(
            api_key=API_KEY,
            retry=FAST_RETRY,
            rate_limit=(200, 60.0),
            transport=httpx.MockTransport(handler),
            clock=lambda: now[0],
            wall_clock=lambda: 1_700_000_000 + now[0],
            sleep=fake_sleep,
        ) as client:
            return await client.get_json(ACME, OFFERS_PATH)

    with pytest.raises(RateLimitedError) as info:
        asyncio.run(main())
    assert len(seen) == FAST_RETRY.attempts
    # Each pause is cut to two windows of 60 s, instead of the year the server asked for.
    assert now[0] <= (FAST_RETRY.attempts - 1) * 120.0 + 1.0
    message = str(info.value)
    assert "acme" in message
    assert "31,536,000 s" in message
    assert "rate_limit=" in message
    assert_no_secret(message)


@pytest.mark.parametrize(
    "failure",
    [
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ConnectError("Connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.ReadError("peer closed connection without sending complete message body"),
        httpx.Response(200, content=b'{"cursor": null, "items": [{"id": "o-'),
        httpx.Response(
            200, content=b"<html>Bad gateway</html>", headers={"content-type": "text/html"}
        ),
    ],
    ids=["disconnected", "connect", "timeout", "broken-body", "truncated-json", "html"],
)
def test_transport_failures_and_bad_bodies_are_retried(failure: httpx.Response | Exception) -> None:
    handler, seen = scripted(failure, failure, httpx.Response(200, json=PAGE))
    stats = RequestStats()
    assert run(handler, stats=stats).data == PAGE
    assert len(seen) == 3
    assert stats.retries == 2


def test_persistent_server_errors_raise_after_every_attempt() -> None:
    handler, seen = scripted(httpx.Response(503, json={"detail": f"down, token {TOKEN}"}))
    with pytest.raises(ServerError) as info:
        run(handler)
    assert len(seen) == FAST_RETRY.attempts
    assert info.value.status_code == 503
    assert info.value.connector == "acme"
    assert_no_secret(str(info.value))
    assert_no_secret(repr(info.value.detail))


def test_persistent_transport_failure_raises_transport_error() -> None:
    handler, seen = scripted(httpx.ConnectError("Connection refused"))
    with pytest.raises(TransportError, match="acme"):
        run(handler)
    assert len(seen) == FAST_RETRY.attempts


VALIDATION = {
    "detail": [
        {"loc": ["query", "page_size"], "msg": "must be <= 100", "type": "less_than_equal"},
    ]
}


@pytest.mark.parametrize(
    ("status", "body", "error", "advice"),
    [
        (401, {"detail": "Invalid API key"}, AuthenticationError, "BINDBEE_API_KEY"),
        (403, {"detail": f"token {TOKEN} is HRIS"}, ForbiddenError, "not ATS"),
        (404, {"detail": "Not found"}, NotFoundError, "base_url"),
        (422, VALIDATION, RequestValidationError, "query.page_size: must be <= 100"),
        (400, {"detail": f"bad {API_KEY}"}, BindbeeAPIError, "refused"),
    ],
)
def test_client_errors_are_not_retried_and_say_what_to_do(
    status: int, body: dict[str, Any], error: type[BindbeeAPIError], advice: str
) -> None:
    handler, seen = scripted(httpx.Response(status, json=body))
    with pytest.raises(error) as info:
        run(handler)
    assert len(seen) == 1, "never retried"
    assert type(info.value) is error
    message = str(info.value)
    assert advice.replace("not ATS", "non-ATS") in message or advice in message
    assert "acme" in message
    for text in (message, repr(info.value), repr(info.value.detail), repr(info.value.args)):
        assert_no_secret(text)


def test_validation_error_exposes_the_server_details() -> None:
    handler, _ = scripted(httpx.Response(422, json=VALIDATION))
    with pytest.raises(RequestValidationError) as info:
        run(handler)
    assert info.value.details[0]["loc"] == ["query", "page_size"]


def frame_locals(error: BaseException) -> Iterator[tuple[str, str, str]]:
    """(function, name, repr) of every local of every frame of the error's traceback.

    What Sentry, ``rich`` with ``show_locals`` or ``TracebackException(capture_locals=True)``
    would record.
    """
    tb = error.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        for name, value in list(frame.f_locals.items()):
            yield frame.f_code.co_name, name, repr(value)
        tb = tb.tb_next


@pytest.mark.parametrize("status", [401, 403, 503])
def test_no_secret_in_the_locals_of_a_failed_requests_traceback(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    handler, _ = scripted(httpx.Response(status, json={"detail": "no"}))
    with pytest.raises(BindbeeAPIError) as info:
        run(handler)
    leaks = [
        (function, name)
        for function, name, text in frame_locals(info.value)
        if API_KEY in text or TOKEN in text
    ]
    assert leaks == []
    for record in caplog.records:
        assert_no_secret(repr(record.args))
        assert_no_secret(repr(vars(record)))  # any extra= a handler or library attached


def test_no_secret_in_reprs_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    handler, _ = scripted(
        httpx.Response(503, json={"detail": "down"}),
        httpx.ConnectError("refused"),
        httpx.Response(200, json=PAGE),
    )
    run(handler)
    client = BindbeeClient(api_key=API_KEY)
    assert_no_secret(repr(client))
    assert_no_secret(repr(client.gate(ACME)))
    assert_no_secret(repr(ACME))
    assert caplog.records, "httpcore and stamina log requests and retries at DEBUG/INFO"
    for record in caplog.records:
        assert_no_secret(record.getMessage())
        assert_no_secret(repr(record.__dict__))


def test_offer_path_cannot_escape_the_offers_endpoint() -> None:
    assert BindbeeClient.offer_path("../../admin?x=1") == f"{OFFERS_PATH}/..%2F..%2Fadmin%3Fx%3D1"


@pytest.mark.parametrize(
    "url",
    ["http://api.bindbee.dev", "http://10.0.0.5:8000", "ftp://api.bindbee.dev", "https://u:p@h.io"],
)
def test_unsafe_base_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        BindbeeClient(api_key=API_KEY, base_url=url)
    assert "u:p" not in str(info.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "http://localhost:8000", "http://[::1]:80"])
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    assert resolve_base_url(url) == url


def test_environment_fallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINDBEE_API_KEY", API_KEY)
    monkeypatch.setenv("BINDBEE_CONNECTOR_TOKEN", TOKEN)
    monkeypatch.setenv("BINDBEE_BASE_URL", "https://eu.api.bindbee.dev")
    client = BindbeeClient()
    assert client.base_url == "https://eu.api.bindbee.dev"
    assert resolve_connectors(None, None) == (Connector("default", TOKEN),)


def test_missing_credentials_say_where_to_put_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BINDBEE_API_KEY", raising=False)
    monkeypatch.delenv("BINDBEE_CONNECTOR_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="BINDBEE_API_KEY"):
        BindbeeClient()
    with pytest.raises(ConfigurationError, match="BINDBEE_CONNECTOR_TOKEN"):
        resolve_connectors(None, None)
    with pytest.raises(ConfigurationError, match="not both"):
        resolve_connectors(TOKEN, {"acme": TOKEN})


# --- Hooks of a serial listing: the first chunk of a page, and when a request is on its way ---


def test_peek_sees_the_first_chunk_of_a_2xx_body_once_per_attempt_and_never_an_error_body() -> None:
    handler, seen = scripted(
        httpx.Response(503, json={"detail": "busy"}),
        httpx.Response(200, content=json.dumps(PAGE).encode()),
    )
    chunks: list[bytes] = []

    async def main() -> JSONResponse:
        async with BindbeeClient(
            api_key=API_KEY,
            base_url="https://eu.api.bindbee.dev",
            retry=FAST_RETRY,
            rate_limit=(10_000, 1.0),
            transport=httpx.MockTransport(handler),
        ) as client:
            return await client.get_json(ACME, OFFERS_PATH, peek=chunks.append)

    response = asyncio.run(main())
    assert len(seen) == 2
    assert len(chunks) == 1
    assert response.body.startswith(chunks[0])


def test_on_sent_is_called_once_the_request_is_on_a_real_connection() -> None:
    from offer_analytics.sandbox import SandboxServer

    events: list[str] = []

    async def main(server: SandboxServer) -> None:
        label, token = next(iter(server.connector_tokens.items()))
        async with BindbeeClient(api_key=server.api_key, base_url=server.base_url) as client:

            def peek(chunk: bytes) -> None:
                events.append("first chunk")

            await client.get_json(
                Connector(label, token),
                OFFERS_PATH,
                {"page_size": "5"},
                peek=peek,
                on_sent=lambda: events.append("sent"),
            )

    with SandboxServer(n_offers=10, connectors=1) as server:
        asyncio.run(main(server))
    assert events == ["sent", "first chunk"]


def test_on_sent_is_called_at_once_for_a_request_the_budget_holds_back() -> None:
    """A request that must wait for its window says so before waiting: whoever waits for it to
    leave need not wait for the window too."""
    handler, _ = scripted(httpx.Response(200, content=json.dumps(PAGE).encode()))

    async def main() -> tuple[bool, bool]:
        async with BindbeeClient(
            api_key=API_KEY,
            base_url="https://eu.api.bindbee.dev",
            retry=FAST_RETRY,
            rate_limit=(1, 0.2),  # one request per 0.2 s: the second waits
            transport=httpx.MockTransport(handler),
        ) as client:
            await client.get_json(ACME, OFFERS_PATH)
            sent = asyncio.Event()
            second = asyncio.ensure_future(client.get_json(ACME, OFFERS_PATH, on_sent=sent.set))
            await asyncio.sleep(0.02)
            told_early = sent.is_set() and not second.done()
            await second
            return told_early, sent.is_set()

    assert asyncio.run(main()) == (True, True)
