"""Failures during a load: what is retried, what is raised, what is kept, and never a secret."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from offer_analytics import (
    BindbeeClient,
    LoadResult,
    RetryPolicy,
    fetch_offers,
    offers_to_frame,
)
from offer_analytics.bindbee._credentials import Connector
from offer_analytics.decode import decode_pages
from offer_analytics.decode._page_head import read_page_head
from offer_analytics.errors import (
    AuthenticationError,
    BindbeeAPIError,
    CursorLoopError,
    ForbiddenError,
    NotFoundError,
    PartialLoadError,
    RateLimitedError,
    RequestValidationError,
    SchemaError,
    TimestampError,
)
from offer_analytics.load import _arguments as load_arguments
from offer_analytics.load import _entry as loader
from offer_analytics.load import _job as offer_fetch
from offer_analytics.load._id_batches import unique_ids
from offer_analytics.load._job import MAX_EMPTY_PAGES, FetchJob
from offer_analytics.load._sink import PageSink
from offer_analytics.sandbox import Faults, SandboxServer, generate_offers

FAST = RetryPolicy(attempts=8, wait_initial_s=0.005, wait_max_s=0.05, wait_jitter_s=0.005)
DATA = generate_offers(180, connectors=3, seed=8)


def load(
    base_url: str,
    api_key: str,
    connectors: Mapping[str, str],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    **options: Any,
) -> LoadResult:
    """A load with quick retries and no pacing to speak of, on a client made inside the loop."""

    async def main() -> LoadResult:
        async with BindbeeClient(
            api_key=api_key,
            base_url=base_url,
            retry=FAST,
            rate_limit=(10_000, 1.0),
            transport=transport,
        ) as client:
            return await fetch_offers(connectors=connectors, client=client, **options)

    return asyncio.run(main())


def test_5xx_drops_truncated_and_non_json_bodies_are_retried_and_nothing_is_lost() -> None:
    faults = Faults(
        error_rate=0.1,
        drop_rate=0.06,
        truncate_rate=0.08,
        truncate_style="mixed",
        non_json_rate=0.06,
        seed=3,
    )
    with SandboxServer(offers=DATA, faults=faults, rate_limit=10_000, rate_window_s=1.0) as srv:
        frame, report = load(srv.base_url, srv.api_key, srv.connector_tokens, page_size=10)
        log = srv.request_log
    assert_frame_equal(frame.sort("connector", "id"), offers_to_frame(DATA).sort("connector", "id"))
    kinds = {r.fault for r in log if r.fault}
    assert {"error", "drop", "truncate", "non_json"} <= kinds
    assert report.retries == len([r for r in log if r.fault])
    assert report.requests == len(log)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(offers=DATA, rate_limit=10_000, rate_window_s=1.0) as running:
        yield running


def secrets_of(server: SandboxServer) -> list[str]:
    return [server.api_key, server.forbidden_token, *server.connector_tokens.values()]


@pytest.mark.parametrize(
    ("case", "error", "advice"),
    [
        ("bad-key", AuthenticationError, "BINDBEE_API_KEY"),
        ("hris-token", ForbiddenError, "non-ATS"),
        ("wrong-base-url", NotFoundError, "base_url"),
        ("bad-expand", RequestValidationError, "query.expand"),
    ],
)
def test_client_errors_are_raised_at_once_with_advice_and_no_secret(
    server: SandboxServer,
    caplog: pytest.LogCaptureFixture,
    case: str,
    error: type[BindbeeAPIError],
    advice: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    key, base_url = server.api_key, server.base_url
    connectors = {"acme": server.connector_tokens["acme"]}
    options: dict[str, Any] = {}
    if case == "bad-key":
        key = "sbx_key_wrong-but-still-secret"
    elif case == "hris-token":
        connectors = {"acme": server.forbidden_token}
    elif case == "wrong-base-url":
        base_url += "/v2"
    else:
        options["expand"] = ("application[id",)  # known relation, broken syntax
    server.clear_request_log()
    with pytest.raises(error) as info:
        load(base_url, key, connectors, **options)
    assert len(server.request_log) == 1, "client errors are never retried"
    assert advice in str(info.value)
    assert info.value.connector == "acme"
    texts = [str(info.value), repr(info.value), repr(info.value.detail)]
    texts += [r.getMessage() for r in caplog.records]
    for text in texts:
        for secret in [*secrets_of(server), key]:
            assert secret not in text


def _mock_api(
    offers: Mapping[str, Sequence[dict[str, Any]]],
    *,
    failing: str | None = None,
    max_page_size: int = 200,
    seen: list[httpx.Request] | None = None,
) -> httpx.MockTransport:
    """A minimal offers API: numeric-offset cursors, per-token data, optional failure modes."""

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        label = request.headers["x-connector-token"].removeprefix("token-")
        wanted = request.url.params.get("ids", "").split(",")
        if label == failing or failing in wanted:
            return httpx.Response(503, json={"detail": "maintenance"})
        data = list(offers[label])
        if request.url.path.startswith("/api/ats/v1/offers/"):
            one = [o for o in data if o["id"] == request.url.path.rsplit("/", 1)[-1]]
            return httpx.Response(200, json=one[0]) if one else httpx.Response(404)
        if "ids" in request.url.params:
            data = [o for o in data if o["id"] in wanted]
        size = int(request.url.params.get("page_size", "50"))
        if size > max_page_size:
            loc = {"loc": ["query", "page_size"], "msg": f"must be <= {max_page_size}"}
            return httpx.Response(422, json={"detail": [{**loc, "type": "less_than_equal"}]})
        start = int(request.url.params.get("cursor", "0"))
        items = data[start : start + size]
        more = start + size < len(data)
        page = {"cursor": str(start + size) if more else None, "page_size": size, "items": items}
        return httpx.Response(200, content=json.dumps(page).encode())

    return httpx.MockTransport(handler)


TOKENS = {label: f"token-{label}" for label in DATA}


def test_a_failed_connector_raises_partial_load_error_carrying_the_rest() -> None:
    transport = _mock_api(DATA, failing="globex")
    with pytest.raises(PartialLoadError) as info:
        load("https://api.test", "key", TOKENS, transport=transport)
    error = info.value
    assert error.missing == {"globex": ["<listing>"]}
    assert sorted(error.frame["connector"].unique()) == ["acme", "initech"]
    assert error.frame.height == len(DATA["acme"]) + len(DATA["initech"])
    assert error.report.failed == {"globex": ("<listing>",)}
    assert "keep_partial=True" in str(error)
    assert "token-" not in str(error)


def test_keep_partial_returns_what_was_loaded() -> None:
    transport = _mock_api(DATA, failing="globex")
    frame, report = load("https://api.test", "key", TOKENS, transport=transport, keep_partial=True)
    assert not report.complete
    assert report.failed == {"globex": ("<listing>",)}
    assert frame.filter(pl.col("connector") == "globex").height == 0
    assert report.retries == FAST.attempts - 1


def test_a_refused_page_size_steps_down_to_100_once_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    offers = {"acme": generate_offers(250, connectors=1, seed=9)["default"]}
    seen: list[httpx.Request] = []
    transport = _mock_api(offers, max_page_size=100, seen=seen)
    with caplog.at_level(logging.WARNING, logger="offer_analytics"):
        frame, report = load("https://api.test", "key", {"acme": "token-acme"}, transport=transport)
    assert frame.height == 250
    assert [r.url.params["page_size"] for r in seen] == ["200", "100", "100", "100"]
    assert report.notes == ("Connector 'acme' refused page_size=200; using 100 for it.",)
    assert [r.getMessage() for r in caplog.records] == list(report.notes)


def test_a_failed_id_batch_is_reported_and_unknown_ids_are_only_missing() -> None:
    known = [o["id"] for o in DATA["acme"][:30]]
    transport = _mock_api(DATA, failing=known[12])
    with pytest.raises(PartialLoadError) as info:
        load(
            "https://api.test",
            "key",
            {"acme": "token-acme"},
            transport=transport,
            ids=[*known, "no-such-offer"],
            page_size=10,
        )
    error = info.value
    assert error.missing == {"acme": known[10:20]}, "the whole failed batch, nothing else"
    assert error.report.missing == {"acme": ("no-such-offer",)}
    assert error.frame["id"].to_list() == known[:10] + known[20:]


def test_a_cursor_that_never_ends_stops_after_a_few_empty_pages() -> None:
    pages = itertools.count()

    def endless(request: httpx.Request) -> httpx.Response:
        # A fresh cursor every time: no repeat to notice, only the empty pages give it away.
        return httpx.Response(200, json={"cursor": f"c{next(pages)}", "page_size": 1, "items": []})

    async def main() -> None:
        async with BindbeeClient(
            api_key="key", rate_limit=(10_000, 1.0), transport=httpx.MockTransport(endless)
        ) as client:
            job = FetchJob(client, params={}, page_size=1)
            with ThreadPoolExecutor(max_workers=1) as executor:
                sink = PageSink(decode_pages, executor=executor)
                await job.listing(Connector("acme", "token"), sink)

    with pytest.raises(CursorLoopError, match=f"sent {MAX_EMPTY_PAGES} empty pages in a row"):
        asyncio.run(main())
    assert next(pages) == MAX_EMPTY_PAGES


def test_a_listing_that_starts_over_under_new_cursors_stops_at_the_first_repeated_page() -> None:
    requests = itertools.count()

    def wrapping(request: httpx.Request) -> httpx.Response:
        # Three pages of offers, then the same three again for ever, each under a new cursor.
        n = next(requests)
        items = [{"id": f"o{n % 3}-{k}"} for k in range(2)]
        return httpx.Response(200, json={"cursor": f"c{n}", "page_size": 2, "items": items})

    with pytest.raises(CursorLoopError, match="served a page it had served before"):
        load("https://api.test", "key", {"acme": "t"}, transport=httpx.MockTransport(wrapping))
    assert next(requests) == 4


def test_a_year_long_retry_after_is_capped_noted_and_ends_in_advice() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"detail": "slow"}, headers={"retry-after": "31536000"})

    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    async def main() -> LoadResult:
        async with BindbeeClient(
            api_key="key",
            base_url="https://api.test",
            retry=RetryPolicy(attempts=3, wait_initial_s=0.001, wait_max_s=0.001),
            transport=httpx.MockTransport(handler),
            clock=lambda: now[0],
            wall_clock=lambda: 1_700_000_000 + now[0],
            sleep=fake_sleep,
        ) as client:
            return await fetch_offers(connectors={"acme": "token-acme"}, client=client)

    with pytest.raises(PartialLoadError) as info:
        asyncio.run(main())
    assert now[0] <= 2 * 120.0 + 1.0, "two capped pauses between three attempts"
    assert info.value.report.notes == (
        "Connector 'acme' asked for a pause of 31,536,000 s (Retry-After); waiting 120 s at most "
        "before trying again.",
    )
    assert isinstance(info.value.__cause__, RateLimitedError)
    assert "Rate limit still exceeded" in str(info.value)


def test_a_page_that_fails_to_decode_stops_the_load_at_once() -> None:
    requests = [0]

    async def handler(request: httpx.Request) -> httpx.Response:
        requests[0] += 1
        page = int(request.url.params.get("cursor", "0"))
        await asyncio.sleep(0.002)  # a quick server, but not infinitely quick
        sent_at = "not a timestamp" if page == 0 else None
        items = [{"id": f"o{page}-{k}", "sent_at": sent_at} for k in range(3)]
        cursor = str(page + 1) if page < 199 else None
        return httpx.Response(200, json={"cursor": cursor, "page_size": 3, "items": items})

    with pytest.raises(TimestampError):
        load(
            "https://api.test",
            "key",
            {"acme": "token-acme"},
            transport=httpx.MockTransport(handler),
            strict=True,
        )
    # The first chunk of pages fails to decode; fetching the other 190-odd pages is pointless.
    assert requests[0] < 100


def test_list_pages_are_not_parsed_into_python_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = [0]
    real_loads = json.loads

    def counting_loads(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return real_loads(*args, **kwargs)

    transport = _mock_api(DATA)  # builds its pages before json.loads is watched
    monkeypatch.setattr(json, "loads", counting_loads)
    frame, report = load("https://api.test", "key", TOKENS, transport=transport, page_size=20)
    assert frame.height == sum(len(offers) for offers in DATA.values())
    assert report.pages > 3
    assert calls[0] == 0, "the cursor and ids are read without json.loads"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"cursor": null, "items": [{"id": "o-', ValueError),
        (b"<html>Bad gateway</html>", ValueError),
        (b"", ValueError),
        (b'{"cursor": null}', SchemaError),
        (b'[{"id": "o-1"}]', SchemaError),
        (b'{"cursor": null, "items": 3}', SchemaError),
    ],
    ids=["truncated", "html", "empty", "no-items", "a-list", "items-not-a-list"],
)
def test_page_head_retries_broken_bodies_and_refuses_other_shapes(
    body: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error) as info:
        read_page_head(body, label="acme")
    if error is SchemaError:
        assert "'acme'" in str(info.value)


def test_a_page_of_another_shape_fails_the_load_without_retries() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"results": [], "next": None})

    with pytest.raises(SchemaError, match="'acme'"):
        load("https://api.test", "key", {"acme": "t"}, transport=httpx.MockTransport(handler))
    assert len(seen) == 1


def test_requested_ids_are_deduplicated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def counting_unique_ids(ids: Any) -> list[str]:
        result = unique_ids(ids)
        seen.append(len(result))
        return result

    for module in (load_arguments, loader, offer_fetch):  # wherever the load might call it
        monkeypatch.setattr(module, "unique_ids", counting_unique_ids, raising=False)
    known = [o["id"] for o in DATA["acme"][:30]]
    frame, _ = load(
        "https://api.test",
        "key",
        {"acme": "token-acme"},
        transport=_mock_api(DATA),
        ids=[*known, *known[:5]],
    )
    assert frame["id"].to_list() == known
    assert seen == [30], "one pass over the ids, not one per step of the load"
