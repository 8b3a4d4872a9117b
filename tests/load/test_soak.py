"""Soak: 100,000 offers over four connectors through 5% mixed faults, loaded exactly."""

from __future__ import annotations

import asyncio
import time

import pytest
from polars.testing import assert_frame_equal

from offer_analytics import BindbeeClient, LoadResult, RetryPolicy, fetch_offers, offers_to_frame
from offer_analytics.sandbox import Faults, SandboxServer, generate_offers

#: 5% of requests meet a fault, of every kind the sandbox draws per request.
MIXED = Faults(
    error_rate=0.015,
    drop_rate=0.01,
    truncate_rate=0.01,
    non_json_rate=0.005,
    rate_limit_storm_rate=0.005,
    storm_retry_after_s=1,
    trickle_rate=0.005,
    trickle_bytes_per_s=2_000,
    seed=13,
)


@pytest.mark.slow
def test_100k_offers_over_4_connectors_through_5_percent_faults_arrive_exactly() -> None:
    data = generate_offers(100_000, connectors=4, seed=13)

    async def main(server: SandboxServer) -> LoadResult:
        async with BindbeeClient(
            api_key=server.api_key,
            base_url=server.base_url,
            retry=RetryPolicy(attempts=10, wait_initial_s=0.05, wait_max_s=0.5),
            rate_limit=(100_000, 1.0),
            request_deadline_s=2.0,  # a trickled page takes minutes; a whole one milliseconds
        ) as client:
            return await fetch_offers(connectors=server.connector_tokens, client=client)

    started = time.perf_counter()
    with SandboxServer(offers=data, faults=MIXED, rate_limit=100_000, rate_window_s=1.0) as srv:
        frame, report = asyncio.run(main(srv))
        log = srv.request_log
    elapsed = time.perf_counter() - started
    faults = [r.fault for r in log if r.fault]
    assert len(faults) / len(log) > 0.02, "the faults did happen"
    assert {"error", "drop", "truncate", "non_json", "storm", "trickle"} <= set(faults)
    assert report.complete
    assert report.retries >= len(faults) - 1
    assert_frame_equal(frame, offers_to_frame(data))
    assert elapsed < 120, elapsed  # generous: about 20-30 s on two busy cores
