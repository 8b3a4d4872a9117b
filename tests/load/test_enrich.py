"""load_offers(enrich=True) against the sandbox: every offer resolved as the generator says."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any
from urllib.parse import parse_qs

import polars as pl
import pytest

from offer_analytics import BindbeeClient, enrich_offers, load_offers
from offer_analytics.bindbee._credentials import Connector
from offer_analytics.enrich import ENRICHED_COLUMNS
from offer_analytics.load import RelatedLoad, fetch_related
from offer_analytics.sandbox import Faults, SandboxServer

pytestmark = pytest.mark.slow

RELATED = {f"/api/ats/v1/{r}" for r in ("applications", "jobs", "departments", "offices", "users")}


def _expected(server: SandboxServer) -> pl.DataFrame:
    rows = []
    for label in server.labels:
        related = server.related(label)
        rows += [
            {"connector": label, "id": offer["id"], **related.resolve(offer)}
            for offer in server.offers(label)
        ]
    return pl.DataFrame(rows, schema_overrides={"departments": pl.List(pl.String)})


def _dangling(server: SandboxServer) -> set[tuple[str, str]]:
    """(connector, application id) of offers whose application does not exist."""
    return {
        (label, offer["application"])
        for label in server.labels
        for offer in server.offers(label)
        if offer["application"]
        and server.related(label).find("applications", offer["application"]) is None
    }


@pytest.fixture(scope="module")
def enriched() -> tuple[pl.DataFrame, Any, list[Any], pl.DataFrame, set[tuple[str, str]]]:
    with SandboxServer(
        n_offers=20_000, connectors=3, seed=21, rate_limit=60, rate_window_s=0.5
    ) as server:
        frame, report = load_offers(
            connectors=server.connector_tokens,
            api_key=server.api_key,
            base_url=server.base_url,
            rate_limit=(60, 0.5),
            enrich=True,
        )
        return frame, report, server.request_log, _expected(server), _dangling(server)


def test_every_offer_gets_the_generators_department_job_office_and_recruiter(
    enriched: tuple[pl.DataFrame, Any, list[Any], pl.DataFrame, set[tuple[str, str]]],
) -> None:
    frame, _, _, expected, _ = enriched
    assert frame.height == 20_000
    assert frame.columns[-len(ENRICHED_COLUMNS) :] == list(ENRICHED_COLUMNS)
    got = frame.select("connector", "id", *ENRICHED_COLUMNS).sort("connector", "id")
    want = expected.select(got.columns).sort("connector", "id")
    mismatched = got.join(want, on=["connector", "id"], suffix="_want").filter(
        pl.any_horizontal(pl.col(c).ne_missing(pl.col(f"{c}_want")) for c in ENRICHED_COLUMNS)
    )
    assert mismatched.height == 0, mismatched.head()
    # The data exercised every case: unresolved offers, two departments, the creator fallback.
    assert 0 < frame["job_id"].null_count() < 0.05 * frame.height
    assert (frame["departments"].list.len() == 2).any()
    assert frame["department"].n_unique() > 5


def test_enrichment_spends_few_reported_requests_and_no_429(
    enriched: tuple[pl.DataFrame, Any, list[Any], pl.DataFrame, set[tuple[str, str]]],
) -> None:
    frame, report, log, _, dangling = enriched
    related = [r for r in log if r.path in RELATED]
    assert report.enrich_requests == len(related) > 0
    assert report.requests == len(log)
    assert report.rate_limited == 0
    assert [r for r in log if r.status == 429] == []
    assert any(note.startswith("Enrichment:") for note in report.notes)
    # Only ids the offers need, each asked once, in batches of many.
    asked = Counter(
        (r.connector, r.path, i) for r in related for i in parse_qs(r.query)["ids"][0].split(",")
    )
    assert max(asked.values()) == 1
    # Applications come expanded on the offers pages: only the dangling ones are asked for.
    offer_pages = [r for r in log if r.path == "/api/ats/v1/offers"]
    assert all("expand=application%5Bid%2Cjob%5D" in r.query for r in offer_pages)
    assert "application_data" not in frame.columns
    apps = {(c, i) for (c, p, i) in asked if p.endswith("/applications")}
    assert apps == dangling
    assert len(related) < len(offer_pages) / 2


def test_enrichment_survives_faults_and_fetch_related_serves_a_store() -> None:
    faults = Faults(seed=3, error_rate=0.08, truncate_rate=0.04, drop_rate=0.02)
    with SandboxServer(n_offers=1_500, connectors=2, seed=8, faults=faults) as server:
        frame, report = load_offers(
            connectors=server.connector_tokens,
            api_key=server.api_key,
            base_url=server.base_url,
            enrich=True,
        )
        expected = _expected(server)

        async def related_of(offers: pl.DataFrame) -> RelatedLoad:
            async with BindbeeClient(api_key=server.api_key, base_url=server.base_url) as client:
                connectors = [Connector(k, v) for k, v in server.connector_tokens.items()]
                return await fetch_related(offers, client=client, connectors=connectors)

        # What a store does with the offers a sync added: the tables, then the join.
        plain = frame.drop(ENRICHED_COLUMNS)
        fetched = asyncio.run(related_of(plain))
    assert report.retries > 0
    assert report.complete
    got = frame.select("connector", "id", *ENRICHED_COLUMNS).sort("connector", "id")
    assert got.equals(expected.select(got.columns).sort("connector", "id"))
    assert enrich_offers(plain, fetched.tables).equals(frame)
    assert fetched.requests["applications"] > 0  # no expanded applications to start from


def test_fetch_related_lists_what_changed_since_a_watermark() -> None:
    with SandboxServer(n_offers=800, connectors=1, seed=4) as server:
        jobs = server.related("default").jobs
        since = sorted(j["modified_at"] for j in jobs)[len(jobs) // 2]

        async def changed() -> RelatedLoad:
            async with BindbeeClient(api_key=server.api_key, base_url=server.base_url) as client:
                connectors = [Connector("default", server.connector_tokens["default"])]
                no_offers = pl.DataFrame(
                    schema={"connector": pl.String, "application": pl.String, "creator": pl.String}
                )
                return await fetch_related(
                    no_offers, client=client, connectors=connectors, modified_after=since
                )

        fetched = asyncio.run(changed())
    assert set(fetched.tables.jobs["id"]) == {j["id"] for j in jobs if j["modified_at"] > since}
    assert fetched.tables.applications.height == 0  # applications are never listed
    assert fetched.requests["jobs (modified)"] >= 1
