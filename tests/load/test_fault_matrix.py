"""The fault matrix: every fault the sandbox can inject, against listings and id loads, from one
connector and from four. Each ends in exactly the offers served, or in the typed error that names
what is wrong and what is missing -- within a bounded time. The table of docs/reliability.md
lists the same faults and outcomes."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from polars.testing import assert_frame_equal

from offer_analytics import (
    BindbeeClient,
    LoadResult,
    LoadTimeoutError,
    RetryPolicy,
    fetch_offers,
    offers_to_frame,
)
from offer_analytics.errors import CursorLoopError, OfferAnalyticsError, SchemaError
from offer_analytics.sandbox import Faults, SandboxServer, generate_offers

Mode = Literal["listing", "ids"]
#: Generous: each case takes well under a second to a few seconds on two busy cores.
BOUND_S = 30.0
RETRY = RetryPolicy(attempts=12, wait_initial_s=0.01, wait_max_s=0.05, wait_jitter_s=0.01)
#: Shorter than a trickled page takes, far longer than a whole page takes on loopback.
REQUEST_DEADLINE_S = 0.5


@dataclass(frozen=True)
class Case:
    """One fault and what a load meeting it must end in."""

    faults: Faults
    listing: type[OfferAnalyticsError] | None = None  # None: exact data
    ids: type[OfferAnalyticsError] | None = None
    field: str | None = None  # the field a SchemaError must name
    pages_only: bool = False  # acts on pages fetched with a cursor: an id batch never is one


CASES: dict[str, Case] = {
    "5xx 20%": Case(Faults(error_rate=0.2, seed=1)),
    "429 storms": Case(Faults(rate_limit_storm_rate=0.15, storm_retry_after_s=1, seed=2)),
    "dropped connections": Case(Faults(drop_rate=0.2, seed=3)),
    "truncated bodies": Case(Faults(truncate_rate=0.2, seed=4)),
    "non-JSON 200s": Case(Faults(non_json_rate=0.2, seed=5)),
    "trickling bodies": Case(Faults(trickle_rate=0.2, trickle_bytes_per_s=400, seed=6)),
    "same offer on two pages": Case(Faults(overlap_pages=True), pages_only=True),
    "repeating cursor": Case(Faults(repeat_cursor=True), listing=CursorLoopError, pages_only=True),
    "endless cursor": Case(Faults(endless_cursor=True), listing=CursorLoopError),
    "unknown extra field": Case(Faults(schema_drift="extra_field")),
    "wrong type in one record": Case(
        Faults(schema_drift="wrong_type", seed=7),
        listing=SchemaError,
        ids=SchemaError,
        field="sent_at",
    ),
    "missing required field": Case(
        Faults(schema_drift="missing_field", seed=8),
        listing=SchemaError,
        ids=SchemaError,
        field="id",
    ),
}


def run_load(server: SandboxServer, mode: Mode, data: dict[str, Any], **options: Any) -> LoadResult:
    async def main() -> LoadResult:
        async with BindbeeClient(
            api_key=server.api_key,
            base_url=server.base_url,
            retry=RETRY,
            rate_limit=(10_000, 1.0),
            request_deadline_s=REQUEST_DEADLINE_S,
        ) as client:
            if mode == "ids":
                options["ids"] = {
                    label: [o["id"] for o in offers] for label, offers in data.items()
                }
            return await fetch_offers(
                connectors=server.connector_tokens, client=client, page_size=5, **options
            )

    return asyncio.run(main())


@pytest.mark.parametrize("connectors", [1, 4])
@pytest.mark.parametrize("mode", ["listing", "ids"])
@pytest.mark.parametrize("name", list(CASES))
def test_fault(name: str, mode: Mode, connectors: int) -> None:
    case = CASES[name]
    # 20 requests per connector: every rate above shows up at least once.
    data = generate_offers(100 * connectors, connectors=connectors, seed=connectors)
    expected_error = case.listing if mode == "listing" else case.ids
    started = time.perf_counter()
    with SandboxServer(
        offers=data, faults=case.faults, rate_limit=10_000, rate_window_s=1.0
    ) as server:
        drifted = server.drifted_offers
        if expected_error is None:
            frame, report = run_load(server, mode, data)
        else:
            with pytest.raises(expected_error) as info:
                run_load(server, mode, data)
        log = server.request_log
    elapsed = time.perf_counter() - started
    assert elapsed < BOUND_S, f"{name}: {elapsed:.1f} s"
    if expected_error is None:
        assert_frame_equal(
            frame.sort("connector", "id"), offers_to_frame(data).sort("connector", "id")
        )
        assert report.complete
        assert report.missing == {}
    else:
        error = info.value
        if isinstance(error, SchemaError):  # names the offer (when it has an id) and the field
            assert error.field == case.field
            if case.field != "id":
                assert error.offer_id in drifted.values()
        else:
            assert any(f"{label!r}" in str(error) for label in data), "names the connector"
    injected = {record.fault for record in log} - {None}
    assert injected or (mode == "ids" and case.pages_only), f"{name}: nothing was injected"


def test_a_server_that_only_trickles_ends_at_the_deadline_naming_what_is_missing() -> None:
    data = generate_offers(120, connectors=4, seed=9)
    faults = Faults(trickle_rate=1.0, trickle_bytes_per_s=50)
    started = time.perf_counter()
    with (
        SandboxServer(offers=data, faults=faults, rate_limit=10_000, rate_window_s=1.0) as server,
        pytest.raises(LoadTimeoutError) as info,
    ):
        run_load(server, "listing", data, deadline_s=2.0)
    assert time.perf_counter() - started < BOUND_S
    error = info.value
    assert error.frame.height == 0
    assert error.missing == {label: ["<listing>"] for label in data}
    assert "deadline_s=2" in str(error)


@pytest.mark.parametrize(
    ("page", "heading"), [("docs/reliability.md", "# Reliability"), ("README.md", "## Reliability")]
)
def test_the_reliability_tables_list_these_faults_and_outcomes(page: str, heading: str) -> None:
    text = (Path(__file__).parents[2] / page).read_text(encoding="utf-8")
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = {
        cells[0]: cells[1:]
        for line in section.splitlines()
        if line.startswith("| ")
        and len(cells := [c.strip() for c in line.strip("|").split("|")]) == 3
    }
    assert set(rows) >= set(CASES), f"{page} misses {set(CASES) - set(rows)}"
    for name, case in CASES.items():
        for cell, error in zip(rows[name], (case.listing, case.ids), strict=True):
            assert cell == "exact data" if error is None else cell.startswith(f"`{error.__name__}`")
