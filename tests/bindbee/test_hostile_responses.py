"""Answers a hostile or broken server may send: each ends in a typed error, at once or in bounded
time, and no error carries the API key, a token, or the httpx request that holds them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence

import httpx
import pytest

from offer_analytics.bindbee import _exchange
from offer_analytics.bindbee._client import OFFERS_PATH, BindbeeClient, JSONResponse
from offer_analytics.bindbee._credentials import Connector, resolve_base_url
from offer_analytics.bindbee._rate_headers import parse_retry_after, read_headers
from offer_analytics.bindbee._retry import RetryPolicy
from offer_analytics.decode._page_head import read_page_head
from offer_analytics.errors import (
    BindbeeAPIError,
    ConfigurationError,
    OfferAnalyticsError,
    RateLimitedError,
    RequestValidationError,
    SchemaError,
    ServerError,
    TransportError,
)

API_KEY = "sk-live-HOSTILEKEY789"
TOKEN = "ct-HOSTILETOKEN012"
SECRETS = (API_KEY, TOKEN)
ACME = Connector("acme", TOKEN)
FAST_RETRY = RetryPolicy(attempts=3, wait_initial_s=0.001, wait_max_s=0.005, wait_jitter_s=0.001)
DEEP = b"[" * 100_000 + b"]" * 100_000
LeakFinder = Callable[[BaseException, Sequence[str]], list[str]]


def run(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    parse: Callable[[bytes], object] | None = None,
    **client_options: object,
) -> tuple[JSONResponse, int]:
    """One get_json through a mock server; the response and how many requests it took."""
    seen = [0]

    def counting(request: httpx.Request) -> httpx.Response:
        seen[0] += 1
        return handler(request)

    async def main() -> JSONResponse:
        options: dict[str, object] = {"retry": FAST_RETRY, "rate_limit": (10_000, 1.0)}
        options.update(client_options)
        async with BindbeeClient(
            api_key=API_KEY,
            base_url="https://api.test",
            transport=httpx.MockTransport(counting),
            **options,  # type: ignore[arg-type]
        ) as client:
            extra = {} if parse is None else {"parse": parse}
            return await client.get_json(ACME, OFFERS_PATH, {"page_size": "2"}, **extra)  # type: ignore[arg-type]

    try:
        return asyncio.run(main()), seen[0]
    except BaseException as error:
        error.add_note(f"requests sent: {seen[0]}")
        raise


def requests_sent(error: BaseException) -> int:
    return int(next(n for n in error.__notes__ if n.startswith("requests sent")).split(": ")[1])


# --- Retry-After and rate-limit headers ----------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "²",
        "٣",
        "1٣",
        " ５ ",
        "-3",
        "0",
        "soon",
        "Thu, 01 Jan 99999999999 00:00:00 GMT",  # a year past C's int
        "Thu, 01 Jan 99999 00:00:00 GMT",  # a year past datetime's
    ],
)
def test_retry_after_that_is_not_ascii_digits_or_a_usable_date_is_no_hint(value: str) -> None:
    assert parse_retry_after(value, now=0.0) is None
    assert read_headers({"retry-after": value}, now=0.0).retry_after is None


def test_a_429_with_a_superscript_retry_after_is_a_typed_error_and_leaks_nothing(
    leaks: LeakFinder,
) -> None:
    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429, json={"detail": "slow"}, headers=[(b"retry-after", "²".encode())]
        )

    with pytest.raises(RateLimitedError) as info:
        run(handler, clock=lambda: now[0], wall_clock=lambda: 1e9 + now[0], sleep=fake_sleep)
    assert "asked for" not in str(info.value), "garbage is not quoted as a wait"
    assert leaks(info.value, SECRETS) == []


def test_a_negative_remaining_means_not_said() -> None:
    said = read_headers({"x-ratelimit-remaining": "-1", "x-ratelimit-reset": "1700000060"}, now=0)
    assert said.remaining is None


def test_a_5xx_retry_after_is_honoured_as_the_wait_before_the_next_attempt() -> None:
    answers = iter(
        [
            httpx.Response(503, json={"detail": "maintenance"}, headers={"retry-after": "1"}),
            httpx.Response(200, json={"cursor": None, "items": []}),
        ]
    )
    started = time.perf_counter()
    response, sent = run(lambda request: next(answers))
    assert response.status == 200
    assert sent == 2
    assert time.perf_counter() - started >= 0.9, "FAST_RETRY alone would wait 5 ms at most"


def test_a_5xx_keeps_its_retry_after_on_the_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"retry-after": "0.01"})

    with pytest.raises(ServerError) as info:
        run(handler)
    assert info.value.retry_after_s == pytest.approx(0.01)


# --- bodies that never parse ---------------------------------------------------------------------


@pytest.mark.parametrize("parse", [None, read_page_head], ids=["json.loads", "page-head"])
def test_invalid_utf8_is_a_schema_error_at_once(parse: Callable[[bytes], object] | None) -> None:
    body = b'{"cursor": null, "items": [{"id": "o-\xff\xfe"}]}'
    with pytest.raises(SchemaError, match="not UTF-8") as info:
        run(lambda request: httpx.Response(200, content=body), parse=parse)
    assert requests_sent(info.value) == 1


def test_a_body_cut_in_the_middle_of_a_character_is_retried() -> None:
    answers = iter(
        [
            httpx.Response(200, content='{"cursor": null, "items": [{"id": "é'.encode()[:-1]),
            httpx.Response(200, json={"cursor": None, "items": []}),
        ]
    )
    _, sent = run(lambda request: next(answers), parse=read_page_head)
    assert sent == 2


@pytest.mark.parametrize("parse", [None, read_page_head], ids=["json.loads", "page-head"])
def test_json_nested_too_deep_in_a_page_is_a_schema_error(
    parse: Callable[[bytes], object] | None,
) -> None:
    body = b'{"cursor": null, "items": [{"id": "o-1", "custom_fields": ' + DEEP + b"}]}"
    with pytest.raises(SchemaError, match="nests JSON deeper") as info:
        run(lambda request: httpx.Response(200, content=body), parse=parse)
    assert requests_sent(info.value) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, BindbeeAPIError), (422, RequestValidationError), (503, ServerError)],
)
def test_json_nested_too_deep_in_an_error_body_still_gives_the_typed_error(
    status: int, error: type[BindbeeAPIError]
) -> None:
    for body in (b'{"detail": ' + DEEP + b"}", b'{"detail": [' + b"[" * 40 + b"]" * 40 + b"]}"):
        with pytest.raises(error) as info:
            run(lambda request, body=body: httpx.Response(status, content=body))  # type: ignore[misc]
        assert info.value.detail is None
        str(info.value), repr(info.value)


def test_an_oversized_body_is_refused_without_being_read_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_exchange, "MAX_BODY_BYTES", 1_000)
    delivered = [0]

    async def stream() -> AsyncIterator[bytes]:
        for _ in range(100):
            delivered[0] += 1
            yield b" " * 100

    class Endless(httpx.AsyncByteStream):
        def __aiter__(self) -> AsyncIterator[bytes]:
            return stream()

    with pytest.raises(SchemaError, match="larger than") as info:
        run(lambda request: httpx.Response(200, stream=Endless()))
    assert requests_sent(info.value) == 1
    assert delivered[0] <= 11


def test_an_oversized_declared_length_is_refused_before_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_exchange, "MAX_BODY_BYTES", 1_000)
    body = b'{"cursor": null, "items": []}' + b" " * 2_000
    with pytest.raises(SchemaError, match="larger than"):
        run(lambda request: httpx.Response(200, content=body))


# --- time ----------------------------------------------------------------------------------------


def test_a_trickling_server_cannot_hold_a_request_past_its_deadline() -> None:
    async def trickle() -> AsyncIterator[bytes]:
        yield b'{"cursor": null, "items": ['
        while True:
            await asyncio.sleep(0.05)  # far below httpx's 60 s read timeout, for ever
            yield b" "

    class Trickle(httpx.AsyncByteStream):
        def __aiter__(self) -> AsyncIterator[bytes]:
            return trickle()

    started = time.perf_counter()
    with pytest.raises(TransportError, match=r"took longer than 0\.2 s") as info:
        run(lambda request: httpx.Response(200, stream=Trickle()), request_deadline_s=0.2)
    assert requests_sent(info.value) == FAST_RETRY.attempts
    assert time.perf_counter() - started < 5


def test_the_request_deadline_must_be_positive() -> None:
    with pytest.raises(ConfigurationError):
        BindbeeClient(api_key=API_KEY, request_deadline_s=0)


# --- what an error carries -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
    ids=["connect", "timeout", "disconnect"],
)
def test_no_request_is_reachable_from_a_transport_error(
    failure: Exception, leaks: LeakFinder
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    with pytest.raises(TransportError) as info:
        run(handler)
    assert info.value.__context__ is None
    assert leaks(info.value, SECRETS) == []


@pytest.mark.parametrize("status", [401, 403, 404, 422, 429, 500, 503])
def test_no_secret_reachable_from_a_status_error_even_when_the_server_echoes_it(
    status: int, leaks: LeakFinder
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        echoed = f"{request.headers['authorization']} {request.headers['x-connector-token']}"
        headers = {"retry-after": TOKEN, "x-ratelimit-reset": API_KEY}
        return httpx.Response(status, json={"detail": echoed}, headers=headers)

    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(OfferAnalyticsError) as info:
        run(handler, clock=lambda: now[0], wall_clock=lambda: 1e9 + now[0], sleep=fake_sleep)
    assert leaks(info.value, SECRETS) == []
    assert "***" in str(info.value) or status == 429


# --- where requests may go -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://evil.localhost", "http://localhost.evil.com", "http://127.0.0.1.nip.io"],
)
def test_only_literal_loopback_addresses_and_localhost_get_plain_http(url: str) -> None:
    with pytest.raises(ConfigurationError, match="Refusing plain http"):
        resolve_base_url(url)


@pytest.mark.parametrize("url", ["http://127.8.9.10:1", "http://[::1]:2", "http://localhost:3"])
def test_literal_loopback_still_gets_plain_http(url: str) -> None:
    assert resolve_base_url(url) == url
