"""The request budget against the sandbox's fixed windows: no 429s, bursts of known budget, pauses.

The sandbox's windows are aligned to the unix clock, so a test may start just before a reset:
every timing assertion below holds whatever the phase.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from typing import Any

import polars as pl
from polars.testing import assert_frame_equal

from offer_analytics import load_offers, offers_to_frame
from offer_analytics.sandbox import Faults, SandboxServer, generate_offers


def test_a_budget_limited_load_triggers_no_429() -> None:
    # Id batches, not a listing: every connector then has dozens of requests ready at once, so
    # only the RateGate stands between them and a burst of 429s.
    data = generate_offers(2_010, connectors=3, seed=2)
    limit, window_s = 30, 2.0
    with SandboxServer(
        offers=data,
        rate_limit=limit,
        rate_window_s=window_s,
        faults=Faults(latency_ms=40, seed=1),
    ) as server:
        frame, report = load_offers(
            ids={label: [o["id"] for o in offers] for label, offers in data.items()},
            connectors=server.connector_tokens,
            api_key=server.api_key,
            base_url=server.base_url,
            rate_limit=(limit, window_s),
            page_size=10,  # ten ids per batch: 201 requests for 2,010 offers
        )
        log = server.request_log
    assert frame.height == 2_010
    assert len(log) == 201
    assert [r for r in log if r.status == 429] == []
    assert report.rate_limited == 0
    assert Counter(r.connector for r in log) == dict.fromkeys(data, 67)
    assert report.budget_wait_s > 0, "67 requests per connector need a second window"
    # How close to the bound set by budget and latency: bench/bench_load.py, not a test.


def ids_load(server: SandboxServer, data: dict[str, list[dict[str, Any]]], **options: Any) -> Any:
    return load_offers(
        ids={label: [o["id"] for o in offers] for label, offers in data.items()},
        connectors=server.connector_tokens,
        api_key=server.api_key,
        base_url=server.base_url,
        **options,
    )


def test_a_load_within_the_budget_waits_for_no_window() -> None:
    # 20 id batches per connector against Bindbee's budget of 200 per minute: the server serves
    # all of it at once, and nothing may wait for a window to end.
    data = generate_offers(600, connectors=3, seed=6)
    limit, window_s = 200, 60.0
    with SandboxServer(
        offers=data, rate_limit=limit, rate_window_s=window_s, faults=Faults(latency_ms=40, seed=1)
    ) as server:
        frame, report = ids_load(server, data, rate_limit=(limit, window_s), page_size=10)
        log = server.request_log
    assert frame.height == 600
    assert Counter(r.connector for r in log) == dict.fromkeys(data, 20)
    assert [r for r in log if r.status == 429] == []
    # Only the first answer of each connector is waited for (its budget), never a window's end.
    # That the rest goes at once is shown on a fake clock in tests/bindbee/test_rate_gate.py;
    # the wall time against the bound is measured in bench/bench_load.py, not here.
    assert report.budget_wait_s < window_s


def test_a_long_load_across_several_windows_triggers_no_429() -> None:
    data = generate_offers(1_600, connectors=2, seed=7)
    limit, window_s = 25, 1.0
    with SandboxServer(
        offers=data, rate_limit=limit, rate_window_s=window_s, faults=Faults(latency_ms=20, seed=2)
    ) as server:
        frame, report = ids_load(server, data, rate_limit=(limit, window_s), page_size=10)
        log = server.request_log
    assert frame.height == 1_600
    assert [r for r in log if r.status == 429] == []
    assert report.rate_limited == 0
    per_connector = Counter(r.connector for r in log)
    assert per_connector == dict.fromkeys(data, 80)
    assert report.budget_wait_s > 0, "80 requests at 25 per window wait for resets"


def test_after_a_429_no_request_of_that_connector_goes_out_before_the_pause_ends() -> None:
    data = generate_offers(160, connectors=2, seed=4)
    storm = Faults(rate_limit_storm_rate=0.2, storm_retry_after_s=1, seed=5)
    with SandboxServer(offers=data, rate_limit=1_000, rate_window_s=1.0, faults=storm) as server:
        frame, report = load_offers(
            connectors=server.connector_tokens,
            api_key=server.api_key,
            base_url=server.base_url,
            rate_limit=(1_000, 1.0),
            page_size=10,
        )
        log = server.request_log
    assert_frame_equal(frame.sort("connector", "id"), offers_to_frame(data).sort("connector", "id"))
    storms = [r for r in log if r.status == 429]
    assert storms, "the seed must produce at least one storm 429"
    assert report.rate_limited == len(storms)
    # A storm 429 says Retry-After: 1 and, as its window's end, the next whole unix second: the
    # gate waits for the earlier of the two (a fixed window's budget is back at its end).
    wall_minus_monotonic = time.time() - time.monotonic()
    for hit in storms:
        reset = math.floor(hit.time + wall_minus_monotonic) + 1 - wall_minus_monotonic
        pause_end = min(hit.time + 1.0, reset) - 0.005  # the two clocks' offset drifts by µs
        later = [r.time for r in log if r.connector == hit.connector and r.time > hit.time]
        assert not later or min(later) >= pause_end, "a request went out inside the pause"
    assert frame.group_by("connector").len().sort("connector")["len"].to_list() == [
        len(data[label]) for label in sorted(data)
    ]
    assert pl.Series(frame["id"]).is_unique().all()
