"""Every load ends: a server that stalls, never answers or trickles ends it at its deadline with
a typed error naming what was loaded and what was not."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from offer_analytics import (
    BindbeeClient,
    LoadResult,
    LoadTimeoutError,
    PartialLoadError,
    RetryPolicy,
    fetch_offers,
)
from offer_analytics.errors import ConfigurationError

QUICK = RetryPolicy(attempts=50, wait_initial_s=0.01, wait_max_s=0.02, wait_jitter_s=0.0)


def stalling_api(answered: int) -> httpx.MockTransport:
    """Listing pages (and id batches) of 2 offers; after ``answered`` requests, no answer ever."""
    count = [0]

    async def handler(request: httpx.Request) -> httpx.Response:
        count[0] += 1
        if count[0] > answered:
            await asyncio.sleep(3_600)
        if "ids" in request.url.params:
            ids = request.url.params["ids"].split(",")
            return httpx.Response(200, json={"cursor": None, "items": [{"id": i} for i in ids]})
        page = int(request.url.params.get("cursor", "0"))
        items = [{"id": f"o{page}-{k}"} for k in range(2)]
        return httpx.Response(200, json={"cursor": str(page + 1), "page_size": 2, "items": items})

    return httpx.MockTransport(handler)


def load(
    transport: httpx.MockTransport,
    *,
    request_deadline_s: float = 60.0,
    max_pause_s: float = 0.1,
    concurrency: int = 16,
    **options: Any,
) -> LoadResult:
    async def main() -> LoadResult:
        async with BindbeeClient(
            api_key="key",
            base_url="https://api.test",
            retry=QUICK,
            rate_limit=(10_000, 1.0),
            request_deadline_s=request_deadline_s,
            max_pause_s=max_pause_s,
            concurrency=concurrency,
            transport=transport,
        ) as client:
            return await fetch_offers(connectors={"acme": "t"}, client=client, **options)

    return asyncio.run(main())


def test_a_stalled_listing_ends_at_deadline_s_with_what_was_loaded() -> None:
    started = time.perf_counter()
    with pytest.raises(LoadTimeoutError) as info:
        load(stalling_api(answered=3), deadline_s=0.5)
    elapsed = time.perf_counter() - started
    assert 0.5 <= elapsed < 5
    error = info.value
    assert isinstance(error, PartialLoadError), "except PartialLoadError catches it too"
    assert error.frame["id"].to_list() == ["o0-0", "o0-1", "o1-0", "o1-1", "o2-0", "o2-1"]
    assert error.missing == {"acme": ["<listing>"]}
    assert error.report.failed == {"acme": ("<listing>",)}
    assert "deadline_s=0.5" in str(error)
    assert "Loaded 6 offers ('acme' 6)" in str(error)
    assert "connector 'acme': the rest of its listing" in str(error)


def test_a_stalled_id_load_names_the_ids_not_loaded() -> None:
    ids = [f"id-{i}" for i in range(10)]
    with pytest.raises(LoadTimeoutError) as info:
        load(stalling_api(answered=2), ids=ids, page_size=2, concurrency=1, deadline_s=0.5)
    error = info.value
    loaded = error.frame["id"].to_list()
    assert len(loaded) == 4
    assert sorted(loaded + error.missing["acme"]) == sorted(ids)
    assert "6 ids" in str(error)


def test_keep_partial_returns_what_the_deadline_left() -> None:
    frame, report = load(stalling_api(answered=2), deadline_s=0.3, keep_partial=True)
    assert frame.height == 4
    assert report.failed == {"acme": ("<listing>",)}
    assert not report.complete
    assert any("deadline" in note for note in report.notes)


def test_the_automatic_deadline_catches_a_server_that_never_answers() -> None:
    # Each attempt gives up after 0.1 s and is retried (50 attempts); the load's own deadline,
    # two request deadlines and a maximal pause after the last page, ends it first.
    started = time.perf_counter()
    with pytest.raises(LoadTimeoutError, match="automatic deadline"):
        load(stalling_api(answered=1), request_deadline_s=0.1)
    assert time.perf_counter() - started < 5


def test_the_automatic_deadline_lets_a_slow_but_steady_listing_finish() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)  # slower than the budget, but never stalled
        page = int(request.url.params.get("cursor", "0"))
        cursor = str(page + 1) if page < 29 else None
        return httpx.Response(200, json={"cursor": cursor, "items": [{"id": f"o{page}"}]})

    frame, report = load(httpx.MockTransport(slow), request_deadline_s=0.2)
    assert frame.height == 30
    assert report.duration_s > 2 * 0.2 + 0.1, "longer than the slack alone"


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "soon", True])
def test_deadline_s_must_be_seconds_none_or_auto(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="deadline_s"):
        load(stalling_api(answered=0), deadline_s=bad)


def test_no_deadline_means_none() -> None:
    frame, _ = load(stalling_api(answered=10**6), ids=["a", "b"], deadline_s=None)
    assert frame["id"].to_list() == ["a", "b"]
