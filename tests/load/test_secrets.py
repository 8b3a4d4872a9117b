"""No secret on any error path of a load: not in the message, the exception chain, the
attributes, the locals of any frame of any traceback, the logs, the report, the HTML report.

Every path is driven through the public entry points with distinctive key and token values, and
the whole exception is searched the way error trackers read it (see tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from offer_analytics import (
    BindbeeClient,
    LoadResult,
    RetryPolicy,
    fetch_offers,
    html_report,
    load_offers,
)
from offer_analytics.errors import (
    AuthenticationError,
    ConfigurationError,
    CursorLoopError,
    ForbiddenError,
    LoadTimeoutError,
    NotFoundError,
    OfferAnalyticsError,
    PartialLoadError,
    RequestValidationError,
    SchemaError,
    TimestampError,
)
from offer_analytics.sandbox import Faults, SandboxServer, generate_offers

KEY = "sk-live-LEAKCHECK-KEY-7f3a9"
TOKEN = "ct-LEAKCHECK-TOKEN-c41d2"
OTHER = "ct-LEAKCHECK-OTHER-9be07"
SECRETS = (KEY, TOKEN, OTHER)
QUICK = RetryPolicy(attempts=3, wait_initial_s=0.001, wait_max_s=0.002, wait_jitter_s=0.0)
LeakFinder = Callable[[BaseException, Sequence[str]], list[str]]

Handler = Callable[[httpx.Request], httpx.Response]


def page(items: list[dict[str, Any]], cursor: str | None = None) -> httpx.Response:
    return httpx.Response(200, json={"cursor": cursor, "page_size": 10, "items": items})


def echo(status: int) -> Handler:
    """An error status whose body and headers echo the credentials back, as a hostile server."""

    def handler(request: httpx.Request) -> httpx.Response:
        said = f"{request.headers['authorization']} / {request.headers['x-connector-token']}"
        body: dict[str, Any] = {"detail": said}
        if status == 422:
            body = {"detail": [{"loc": ["query", said], "msg": said, "type": "x"}]}
        return httpx.Response(status, json=body, headers={"x-echo": said})

    return handler


def raising(error: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return handler


def drifting(request: httpx.Request) -> httpx.Response:
    return page([{"id": "o-1", "sent_at": 17}])


def looping(request: httpx.Request) -> httpx.Response:
    return page([{"id": "o-1"}], cursor="same")


def bad_timestamp(request: httpx.Request) -> httpx.Response:
    return page([{"id": "o-1", "sent_at": "yesterday"}])


async def never(request: httpx.Request) -> httpx.Response:
    await asyncio.sleep(3_600)
    raise AssertionError("unreachable")


PATHS: dict[str, tuple[Any, type[OfferAnalyticsError], dict[str, Any]]] = {
    "401": (echo(401), AuthenticationError, {}),
    "403": (echo(403), ForbiddenError, {}),
    "404": (echo(404), NotFoundError, {}),
    "422": (echo(422), RequestValidationError, {}),
    "429 for ever": (echo(429), PartialLoadError, {}),
    "503 for ever": (echo(503), PartialLoadError, {}),
    "connection refused": (raising(httpx.ConnectError("refused")), PartialLoadError, {}),
    "read timeout": (raising(httpx.ReadTimeout("slow")), PartialLoadError, {}),
    "wrong type": (drifting, SchemaError, {}),
    "cursor loop": (looping, CursorLoopError, {}),
    "strict timestamps": (bad_timestamp, TimestampError, {"strict": True}),
    "deadline": (never, LoadTimeoutError, {"deadline_s": 0.2}),
    "id batch 503": (echo(503), PartialLoadError, {"ids": {"acme": ["a", "b"]}}),
}


def run(handler: Any, **options: Any) -> LoadResult:
    async def main() -> LoadResult:
        async with BindbeeClient(
            api_key=KEY,
            base_url="https://api.test",
            retry=QUICK,
            rate_limit=(10_000, 1.0),
            max_pause_s=0.01,
            transport=httpx.MockTransport(handler),
        ) as client:
            return await fetch_offers(
                connectors={"acme": TOKEN, "globex": OTHER}, client=client, **options
            )

    return asyncio.run(main())


@pytest.mark.parametrize("path", list(PATHS))
def test_no_secret_on_any_error_path(
    path: str, leaks: LeakFinder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    handler, error, options = PATHS[path]
    with pytest.raises(error) as info:
        run(handler, **options)
    assert leaks(info.value, SECRETS) == []
    report = getattr(info.value, "report", None)
    if report is not None:
        assert not any(s in repr(report) or s in str(report.notes) for s in SECRETS)
    for record in caplog.records:
        text = f"{record.getMessage()} {record.__dict__!r}"
        assert not any(s in text for s in SECRETS), record.getMessage()


@pytest.mark.parametrize(
    "options",
    [
        {"page_size": 500},
        {"connector_token": TOKEN},  # together with connectors=: ambiguous
        {"deadline_s": -1},
        {"expand": "owner"},
        {"base_url": f"http://{TOKEN}.example.com"},
    ],
    ids=["page-size", "two-credentials", "deadline", "expand", "plain-http"],
)
def test_no_secret_in_configuration_errors(options: dict[str, Any], leaks: LeakFinder) -> None:
    arguments: dict[str, Any] = {"api_key": KEY, "connectors": {"acme": TOKEN}, **options}
    for entry in (load_offers, lambda **kw: asyncio.run(fetch_offers(**kw))):
        with pytest.raises(ConfigurationError) as info:
            entry(**arguments)
        found = leaks(info.value, SECRETS)
        # The host the caller chose is named when refused; the token stands in it here on
        # purpose, so only that message may hold it.
        assert found == [] or options.get("base_url"), found


def test_no_secret_from_the_blocking_twin_in_a_running_loop(leaks: LeakFinder) -> None:
    # load_offers inside a running loop runs in a thread of its own: the error crosses over.
    with SandboxServer(n_offers=5, connectors=1) as server:
        token = server.connector_tokens["default"]

        async def inside_a_notebook() -> None:
            load_offers(api_key=KEY, connector_token=token, base_url=server.base_url)

        with pytest.raises(AuthenticationError) as info:
            asyncio.run(inside_a_notebook())
    assert leaks(info.value, [KEY, token, server.api_key]) == []


def test_no_secret_in_a_loaded_frame_report_or_html_report(tmp_path: Path) -> None:
    data = generate_offers(60, connectors=2, seed=4)
    faults = Faults(error_rate=0.1, drop_rate=0.05, seed=3)
    with SandboxServer(offers=data, faults=faults, rate_limit=10_000, rate_window_s=1.0) as srv:
        secrets = [srv.api_key, *srv.connector_tokens.values()]
        frame, report = load_offers(
            connectors=srv.connector_tokens,
            api_key=srv.api_key,
            base_url=srv.base_url,
            include_raw_data=True,
            include_custom_fields=True,
            expand=("application", "creator"),
        )
    written = html_report(frame, tmp_path / "report.html").read_text()
    texts = [written, repr(report), str(report.notes), frame.write_csv()]
    assert not any(secret in text for secret in secrets for text in texts)
