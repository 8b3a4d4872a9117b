"""The offer store: selections stay right after changes, encodings match the options."""

from __future__ import annotations

import json

import pytest

from offer_analytics.sandbox import generate_offers
from offer_analytics.sandbox._dataset import ConnectorOffers
from offer_analytics.sandbox._params import parse_list_query, parse_offer_query


def test_indexes_and_caches_follow_updates() -> None:
    offers = generate_offers(50, seed=2)["default"]
    data = ConnectorOffers(offers)
    target = offers[10]
    by_app = parse_list_query({"application": "app-new", "page_size": "200"})
    assert data.page(by_app, after=-1) == ([], False)  # builds and caches the index
    before = data.encode([10], parse_offer_query({}))[0]
    data.update(target["id"], {"application": "app-new", "status": "HIRED"}, now=2e9)
    assert data.page(by_app, after=-1) == ([10], False)
    after = json.loads(data.encode([10], parse_offer_query({}))[0])
    assert after["status"] == "HIRED"
    assert after["modified_at"] == "2033-05-18T03:33:20.000Z"
    assert before != data.encode([10], parse_offer_query({}))[0]
    newer = parse_list_query({"modified_after": "2033-01-01", "page_size": "200"})
    assert data.page(newer, after=-1) == ([10], False)


def test_update_never_moves_modified_at_backwards() -> None:
    data = ConnectorOffers([{"id": "x", "modified_at": "2030-01-01T00:00:00.000Z"}])
    updated = data.update("x", {"status": "SENT"}, now=0.0)  # a clock behind the data
    assert updated["modified_at"] == "2030-01-01T00:00:00.001Z"


def test_snapshot_is_a_copy() -> None:
    data = ConnectorOffers(generate_offers(3, seed=1)["default"])
    snap = data.snapshot()
    snap[0]["custom_fields"]["base_salary"] = -1
    assert data.snapshot()[0]["custom_fields"]["base_salary"] != -1
    assert len(data) == 3


def test_removed_offers_are_neither_listed_nor_found() -> None:
    offers = generate_offers(6, seed=3)["default"]
    data = ConnectorOffers(offers)
    gone = [offers[1]["id"], offers[4]["id"]]
    data.remove(gone)
    everything = parse_list_query({"page_size": "200"})
    assert data.page(everything, after=-1) == ([0, 2, 3, 5], False)
    by_ids = parse_list_query({"ids": ",".join(o["id"] for o in offers)})
    assert data.page(by_ids, after=-1) == ([0, 2, 3, 5], False)
    assert data.find(gone[0]) is None
    assert len(data) == 4
    assert [o["id"] for o in data.snapshot()] == [offers[i]["id"] for i in (0, 2, 3, 5)]
    with pytest.raises(KeyError):
        data.remove([gone[0]])  # already deleted
