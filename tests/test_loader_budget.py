"""The request budget against the sandbox's fixed windows: no 429s, near the bound, 429 pauses."""

from __future__ import annotations

from collections import Counter

import polars as pl
from polars.testing import assert_frame_equal

from offer_analytics import load_offers, offers_to_frame
from offer_analytics.sandbox import Faults, SandboxServer, generate_offers


def test_a_budget_limited_load_triggers_no_429_and_runs_near_the_budget_bound() -> None:
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
    # The bound: the busiest connector's requests at the budget's sustained rate (limit per
    # window); each connector has a budget of its own.
    per_connector = Counter(r.connector for r in log)
    bound_s = max(per_connector.values()) * window_s / limit
    assert report.duration_s <= 1.15 * bound_s, (report.duration_s, bound_s)
    assert report.budget_wait_s > 0


def test_after_a_429_no_request_of_that_connector_goes_out_before_retry_after() -> None:
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
    for hit in storms:
        later = [r.time for r in log if r.connector == hit.connector and r.time > hit.time]
        assert not later or min(later) >= hit.time + 1.0, "a request went out inside Retry-After"
    assert frame.group_by("connector").len().sort("connector")["len"].to_list() == [
        len(data[label]) for label in sorted(data)
    ]
    assert pl.Series(frame["id"]).is_unique().all()
