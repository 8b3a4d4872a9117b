"""The related ATS resources: realistic generated shapes, served like offers, on one budget."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from offer_analytics.sandbox import SandboxServer, generate_offers, generate_related

API = "/api/ats/v1"
RESOURCES = ("applications", "jobs", "departments", "offices", "users")


@pytest.fixture(scope="module")
def generated() -> tuple[dict[str, list[dict[str, Any]]], Any]:
    offers = generate_offers(20_000, seed=11)
    return offers, generate_related(offers, seed=11)["default"]


def test_related_data_is_deterministic_and_leaves_the_offers_alone() -> None:
    offers = generate_offers(500, connectors=2, seed=4)
    first, again = generate_related(offers, seed=4), generate_related(offers, seed=4)
    assert [first[k].jobs for k in first] == [again[k].jobs for k in again]
    assert generate_offers(500, connectors=2, seed=4) == offers
    assert first["acme"].jobs != generate_related(offers, seed=5)["acme"].jobs


def test_departments_and_recruiters_have_very_different_sizes(generated: Any) -> None:
    _, related = generated
    per_department = Counter(job["departments"][0] for job in related.jobs)
    assert len(per_department) >= 5
    assert max(per_department.values()) >= 5 * min(per_department.values())
    per_recruiter = Counter(job["recruiters"][0] for job in related.jobs if job["recruiters"])
    assert max(per_recruiter.values()) >= 10 * min(per_recruiter.values())
    assert any(len(job["departments"]) == 2 for job in related.jobs)
    assert any(not job["recruiters"] for job in related.jobs)


def test_some_references_dangle_and_resolve_to_nothing(generated: Any) -> None:
    offers, related = generated
    apps = {a["id"] for a in related.applications}
    jobs = {j["id"] for j in related.jobs}
    named = {o["application"] for o in offers["default"] if o["application"]}
    assert 0 < len(named - apps) < 0.02 * len(named)
    ghost_jobs = [a for a in related.applications if a["job"] not in jobs]
    assert 0 < len(ghost_jobs) < 0.02 * len(apps)
    lost = next(o for o in offers["default"] if o["application"] in named - apps)
    assert set(related.resolve(lost).values()) == {None}


def test_resolve_takes_the_first_department_and_falls_back_to_the_creator(generated: Any) -> None:
    offers, related = generated
    jobs = {j["id"]: j for j in related.jobs}
    resolved = [
        (
            o,
            related.resolve(o),
            jobs.get((related.find("applications", o["application"]) or {}).get("job")),
        )
        for o in offers["default"]
    ]
    two = next((t, j) for _, t, j in resolved if j and len(j["departments"]) == 2)
    assert two[0]["departments"] == [
        related.find("departments", d)["name"] for d in two[1]["departments"]
    ]
    assert two[0]["department_id"] == two[1]["departments"][0]
    fallback = next((o, t) for o, t, j in resolved if j and not j["recruiters"] and o["creator"])
    assert fallback[1]["recruiter_id"] == fallback[0]["creator"]


def test_each_resource_is_listed_whole_filtered_and_fetched_by_id(
    client_for: Any, listing: Callable[..., list[dict[str, Any]]]
) -> None:
    with SandboxServer(n_offers=600, connectors=2, seed=3, rate_limit=10_000) as server:
        client = client_for(server, "globex")
        related = server.related("globex")
        for resource in RESOURCES:
            table = related.table(resource)
            path = f"{API}/{resource}"
            assert listing(client, {"page_size": 37}, path) == table
            picked = [table[-1]["id"], table[0]["id"], "no-such-id"]
            page = client.get(path, params={"ids": ",".join(picked)}).json()
            assert page["cursor"] is None
            assert page["items"] == [table[0], table[-1]]
            one = client.get(f"{path}/{table[0]['id']}")
            assert one.json() == table[0]
            missing = client.get(f"{path}/no-such-id")
            assert missing.status_code == 404
            assert "not found" in missing.json()["detail"]
        middle = sorted(j["modified_at"] for j in related.jobs)[len(related.jobs) // 2]
        recent = client.get(f"{API}/jobs", params={"modified_after": middle}).json()
        expected = {j["id"] for j in related.jobs if j["modified_at"] > middle}
        assert {j["id"] for j in recent["items"]} == expected
        assert expected
        cursor = client.get(f"{API}/jobs", params={"page_size": 2}).json()["cursor"]
        crossed = client.get(f"{API}/users", params={"page_size": 2, "cursor": cursor})
        assert crossed.status_code == 422  # a cursor belongs to its resource


def test_every_endpoint_spends_the_connectors_one_budget(client_for: Any) -> None:
    with SandboxServer(n_offers=50, connectors=1, seed=1, rate_limit=3) as server:
        client = client_for(server, "default")
        statuses = [
            client.get(f"{API}/{r}").status_code for r in ("offers", "jobs", "users", "offices")
        ]
    assert statuses == [200, 200, 200, 429]
