"""The sandbox's gateway over real HTTP: rate-limit headers and budget, and every fault knob."""

from __future__ import annotations

import collections
import json
import time
from typing import Any

import httpx
import pytest

from offer_analytics.sandbox import Faults, SandboxServer

OFFERS = "/api/ats/v1/offers"
LIMIT_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


def _wait_for_window_start(window_s: float) -> None:
    # Windows are aligned on the Unix clock; starting just after a boundary leaves the whole window.
    now = time.time()
    time.sleep(window_s - now % window_s + 0.02)


def test_every_2xx_carries_the_rate_limit_headers(client_for: Any) -> None:
    with SandboxServer(n_offers=50, connectors=1, rate_limit=1_000, rate_window_s=3600) as server:
        client = client_for(server, "default")
        first = server.offers("default")[0]["id"]
        requests = [
            (OFFERS, {}),
            (OFFERS, {"page_size": 1, "include_raw_data": "true", "expand": "creator"}),
            (OFFERS, {"ids": first}),
            (f"{OFFERS}/{first}", {"include_custom_fields": "1"}),
        ]
        remaining = []
        for path, params in requests:
            response = client.get(path, params=params)
            assert response.status_code == 200
            values = [int(response.headers[name]) for name in LIMIT_HEADERS]
            assert values[0] == 1_000
            assert values[2] >= time.time()
            remaining.append(values[1])
        assert remaining == [999, 998, 997, 996]


def test_request_over_budget_gets_429_and_next_window_serves(client_for: Any) -> None:
    window = 1.0
    with SandboxServer(n_offers=20, connectors=2, rate_limit=5, rate_window_s=window) as server:
        acme, globex = client_for(server, "acme"), client_for(server, "globex")
        unauthenticated = client_for(server)
        for _attempt in range(3):  # retried only if a window boundary fell inside the burst
            _wait_for_window_start(window)
            assert unauthenticated.get(OFFERS).status_code == 422  # refused: spends no budget
            burst = [acme.get(OFFERS) for _ in range(6)]
            if len({r.headers["x-ratelimit-reset"] for r in burst}) == 1:
                break
        else:
            pytest.fail("could not fit 6 requests into one 1 s window")
        assert [r.status_code for r in burst] == [200] * 5 + [429]
        assert [r.headers["x-ratelimit-remaining"] for r in burst] == ["4", "3", "2", "1", "0", "0"]
        refused = burst[-1]
        assert int(refused.headers["retry-after"]) >= 1
        assert set(refused.json()) == {"detail"}
        assert "items" not in refused.text  # not served
        assert globex.get(OFFERS).status_code == 200  # the budget is per connector token
        reset = int(refused.headers["x-ratelimit-reset"])
        time.sleep(max(0.0, reset - time.time()) + 0.02)
        again = acme.get(OFFERS)
        assert again.status_code == 200
        assert int(again.headers["x-ratelimit-remaining"]) == 4


def _symptom(client: httpx.Client) -> str:
    """Classify one request by what a client sees."""
    try:
        response = client.get(OFFERS, params={"page_size": 5})
    except httpx.RemoteProtocolError as exc:
        return "drop" if "without sending a response" in str(exc) else "truncate"
    if response.status_code in (500, 502, 503, 504):
        assert isinstance(response.json()["detail"], str)
        return "error"
    if response.status_code == 429:
        assert response.headers["retry-after"] == "3"
        assert all(name in response.headers for name in LIMIT_HEADERS)
        return "storm"
    assert response.status_code == 200
    assert all(name in response.headers for name in LIMIT_HEADERS)
    if response.headers["content-type"].startswith("text/html"):
        return "non_json"
    try:
        json.loads(response.content)
    except ValueError:
        return "truncate"
    return "ok"


@pytest.mark.parametrize(
    "knob", ["error_rate", "rate_limit_storm_rate", "drop_rate", "truncate_rate", "non_json_rate"]
)
def test_each_fault_knob_produces_its_fault_at_the_configured_rate(
    client_for: Any, knob: str
) -> None:
    rate: dict[str, Any] = {knob: 0.2}
    faults = Faults(seed=17, storm_retry_after_s=2.5, **rate)
    expected = {
        "error_rate": "error",
        "rate_limit_storm_rate": "storm",
        "drop_rate": "drop",
        "truncate_rate": "truncate",
        "non_json_rate": "non_json",
    }[knob]
    with SandboxServer(n_offers=30, connectors=1, rate_limit=10_000, faults=faults) as server:
        client = client_for(server, "default")
        seen = collections.Counter(_symptom(client) for _ in range(500))
        assert set(seen) == {"ok", expected}
        assert 70 <= seen[expected] <= 130, seen  # 100 expected; the seed makes it exact anyway
        logged = collections.Counter(record.fault for record in server.request_log)
        assert logged[expected] == seen[expected]


def test_same_seed_same_fault_sequence(client_for: Any) -> None:
    def run(seed: int) -> list[str]:
        rates: dict[str, Any] = {
            "error_rate": 0.1,
            "rate_limit_storm_rate": 0.1,
            "drop_rate": 0.1,
            "truncate_rate": 0.1,
            "non_json_rate": 0.1,
        }
        faults = Faults(seed=seed, storm_retry_after_s=3, **rates)
        with SandboxServer(n_offers=10, connectors=1, rate_limit=10_000, faults=faults) as server:
            client = client_for(server, "default")
            return [_symptom(client) for _ in range(120)]

    first = run(4)
    assert first == run(4)
    assert first != run(5)
    assert set(first) == {"ok", "error", "storm", "drop", "truncate", "non_json"}


@pytest.mark.parametrize("style", ["cut", "short"])
def test_truncate_styles(client_for: Any, style: str) -> None:
    faults = Faults(seed=1, truncate_rate=1.0, truncate_style=style)  # type: ignore[arg-type]
    with SandboxServer(n_offers=30, connectors=1, faults=faults) as server:
        client = client_for(server, "default")
        if style == "cut":
            with pytest.raises(httpx.RemoteProtocolError, match=r"complete message"):
                client.get(OFFERS)
        else:
            response = client.get(OFFERS)
            assert int(response.headers["content-length"]) == len(response.content)
            with pytest.raises(ValueError, match=r"Unterminated|Expecting|Invalid"):
                response.json()
        # A 404 is not a 200 and is left alone.
        assert client.get(f"{OFFERS}/nope").status_code == 404


def test_error_faults_use_every_gateway_status(client_for: Any) -> None:
    with SandboxServer(n_offers=5, connectors=1, faults=Faults(error_rate=1.0)) as server:
        client = client_for(server, "default")
        statuses = {client.get(OFFERS).status_code for _ in range(60)}
        assert statuses == {500, 502, 503, 504}


def test_latency_is_added_to_every_response(client_for: Any) -> None:
    faults = Faults(latency_ms=60, latency_jitter_ms=20)
    with SandboxServer(n_offers=5, connectors=1, faults=faults) as server:
        client = client_for(server, "default")
        unauthenticated = client_for(server)
        for c in (client, client, client, unauthenticated):
            start = time.perf_counter()
            c.get(OFFERS)
            assert time.perf_counter() - start >= 0.038


def test_repeat_cursor_returns_a_cursor_already_returned(client_for: Any) -> None:
    with SandboxServer(n_offers=30, connectors=1, faults=Faults(repeat_cursor=True)) as server:
        client = client_for(server, "default")
        first = client.get(OFFERS, params={"page_size": 5}).json()
        second = client.get(OFFERS, params={"page_size": 5, "cursor": first["cursor"]}).json()
        assert second["cursor"] == first["cursor"]
        assert second["items"] != first["items"]  # the page itself is the next one
        assert server.request_log[-1].fault == "repeat_cursor"
