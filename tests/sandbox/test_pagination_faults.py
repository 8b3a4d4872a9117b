"""The faults added for the loader's reliability matrix, seen from a plain HTTP client."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from offer_analytics.sandbox import Faults, SandboxServer, generate_offers

OFFERS = "/api/ats/v1/offers"


def pages(client: httpx.Client, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Up to ``limit`` pages of a listing, following cursors without any loop check."""
    out: list[dict[str, Any]] = []
    cursor = None
    while len(out) < limit:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = client.get(OFFERS, params=query).json()
        out.append(page)
        cursor = page["cursor"]
        if cursor is None:
            break
    return out


def test_an_endless_cursor_follows_the_last_page_with_new_cursors_and_empty_pages(
    client_for: Any,
) -> None:
    with SandboxServer(n_offers=10, connectors=1, faults=Faults(endless_cursor=True)) as server:
        got = pages(client_for(server, "default"), 8, page_size=5)
    assert [len(p["items"]) for p in got] == [5, 5, 0, 0, 0, 0, 0, 0]
    cursors = [p["cursor"] for p in got]
    assert None not in cursors
    assert len(set(cursors)) == len(cursors), "every cursor is new"


def test_overlapping_pages_repeat_the_last_offer_of_the_page_before(client_for: Any) -> None:
    with SandboxServer(n_offers=12, connectors=1, faults=Faults(overlap_pages=True)) as server:
        got = pages(client_for(server, "default"), 10, page_size=5)
        expected = [o["id"] for o in server.offers("default")]
    ids = [[o["id"] for o in p["items"]] for p in got]
    assert ids[1][0] == ids[0][-1]
    assert ids[2][0] == ids[1][-1]
    assert sorted({i for page in ids for i in page}) == sorted(expected)


def test_a_trickled_body_is_whole_but_slow(client_for: Any) -> None:
    faults = Faults(trickle_rate=1.0, trickle_bytes_per_s=20_000)
    with SandboxServer(n_offers=5, connectors=1, faults=faults) as server:
        client = client_for(server, "default")
        started = time.perf_counter()
        response = client.get(OFFERS, params={"page_size": 5})
        elapsed = time.perf_counter() - started
        logged = [r.fault for r in server.request_log]
    assert len(response.json()["items"]) == 5
    assert elapsed >= len(response.content) / 20_000 * 0.5
    assert logged == ["trickle"]


@pytest.mark.parametrize("drift", ["extra_field", "wrong_type", "missing_field"])
def test_schema_drift_changes_what_it_says_and_nothing_else(client_for: Any, drift: Any) -> None:
    data = generate_offers(20, connectors=1, seed=3)
    with SandboxServer(offers=data, faults=Faults(schema_drift=drift, seed=4)) as server:
        served = client_for(server, "default").get(OFFERS, params={"page_size": 20}).json()
        target = server.drifted_offers.get("default")
    items = served["items"]
    if drift == "extra_field":
        assert target is None
        assert all("x_vendor_note" in item for item in items)
        return
    # Served without custom fields and raw data, which were not asked for.
    originals = {o["id"]: {**o, "custom_fields": None, "raw_data": None} for o in data["default"]}
    assert target in originals
    changed = [i for i, item in enumerate(items) if item != originals.get(item.get("id"))]
    assert len(changed) == 1
    item = items[changed[0]]
    if drift == "wrong_type":
        assert item["id"] == target
        assert isinstance(item["sent_at"], int)
    else:
        assert "id" not in item
        assert json.dumps({**item, "id": target}, sort_keys=True) == json.dumps(
            originals[target], sort_keys=True
        )
