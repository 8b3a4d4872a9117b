"""Contract tests: the sandbox over real HTTP behaves as the Bindbee offers API does."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from offer_analytics.sandbox import SandboxServer, generate_offers

Lister = Callable[[httpx.Client, dict[str, Any] | None], list[dict[str, Any]]]
Offer = dict[str, Any]
OFFERS = "/api/ats/v1/offers"


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _bare(offer: Offer) -> Offer:
    return {**offer, "custom_fields": None, "raw_data": None}


# --- listing and pagination -------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [7, 50, 200])
def test_listing_returns_every_offer_exactly_once_in_creation_order(
    sandbox: SandboxServer, client_for: Any, listing: Lister, page_size: int
) -> None:
    client = client_for(sandbox, "globex")
    items = listing(client, {"page_size": page_size, "include_custom_fields": "true"})
    expected = [{**o, "raw_data": None} for o in sandbox.offers("globex")]
    assert items == expected


def test_page_size_one_walks_every_offer(client_for: Any, listing: Lister) -> None:
    with SandboxServer(n_offers=40, connectors=1, seed=2) as server:
        client = client_for(server, "default")
        items = listing(client, {"page_size": 1})
        assert [o["id"] for o in items] == [o["id"] for o in server.offers("default")]
        assert len(server.request_log) == 40  # the last page has a null cursor, no empty page


def test_page_shape_and_default_page_size(sandbox: SandboxServer, client_for: Any) -> None:
    page = client_for(sandbox, "acme").get(OFFERS).json()
    assert set(page) == {"cursor", "page_size", "items"}
    assert page["page_size"] == 50
    assert len(page["items"]) == 50
    assert isinstance(page["cursor"], str)


def test_connectors_see_only_their_own_offers(sandbox: SandboxServer, client_for: Any) -> None:
    acme = {o["id"] for o in sandbox.offers("acme")}
    page = client_for(sandbox, "globex").get(OFFERS, params={"page_size": 200}).json()
    assert not acme & {o["id"] for o in page["items"]}
    other = sandbox.offers("globex")[0]["id"]
    assert client_for(sandbox, "acme").get(f"{OFFERS}/{other}").status_code == 404


# --- filters -------------------------------------------------------------------------------


def _cases(offers: list[Offer]) -> list[tuple[dict[str, str], Callable[[Offer], bool]]]:
    rng = random.Random(3)
    some = rng.sample(offers, 25)
    ids = [o["id"] for o in some] + ["not-an-id"]
    with_app = next(o for o in offers if o["application"] and o["status"] == "DEPRECATED")
    with_creator = next(o for o in offers if o["creator"])
    with_remote = next(o for o in offers if o["remote_id"])
    cut = sorted(_instant(o["modified_at"]) for o in offers)[len(offers) // 2]
    naive = cut.replace(tzinfo=None).isoformat()
    offset = cut.astimezone().isoformat()
    return [
        ({"ids": ",".join(ids)}, lambda o: o["id"] in ids),
        (
            {"remote_id": with_remote["remote_id"]},
            lambda o: o["remote_id"] == with_remote["remote_id"],
        ),
        (
            {"application": with_app["application"]},
            lambda o: o["application"] == with_app["application"],
        ),
        ({"creator": with_creator["creator"]}, lambda o: o["creator"] == with_creator["creator"]),
        ({"modified_after": cut.isoformat()}, lambda o: _instant(o["modified_at"]) > cut),
        ({"modified_after": naive}, lambda o: _instant(o["modified_at"]) > cut),
        ({"modified_after": offset}, lambda o: _instant(o["modified_at"]) > cut),
        (
            {"modified_after": cut.date().isoformat()},
            lambda o: (
                _instant(o["modified_at"]) > datetime.combine(cut.date(), datetime.min.time(), UTC)
            ),
        ),
        (
            {"creator": with_creator["creator"], "modified_after": cut.isoformat()},
            lambda o: o["creator"] == with_creator["creator"] and _instant(o["modified_at"]) > cut,
        ),
        (
            {"ids": ",".join(ids), "modified_after": cut.isoformat()},
            lambda o: o["id"] in ids and _instant(o["modified_at"]) > cut,
        ),
    ]


def test_filters_select_exactly_the_matching_offers(
    sandbox: SandboxServer, client_for: Any, listing: Lister
) -> None:
    offers = sandbox.offers("initech")
    client = client_for(sandbox, "initech")
    for params, keep in _cases(offers):
        expected = [_bare(o) for o in offers if keep(o)]
        assert expected, params  # every case selects something
        assert listing(client, {**params, "page_size": 7}) == expected, params


def test_unknown_filter_values_select_nothing(sandbox: SandboxServer, client_for: Any) -> None:
    client = client_for(sandbox, "acme")
    for params in ({"ids": "nope"}, {"remote_id": "nope"}, {"modified_after": "2999-01-01"}):
        page = client.get(OFFERS, params=params).json()
        assert page == {"cursor": None, "page_size": 50, "items": []}


def test_a_cursor_is_bound_to_its_query(sandbox: SandboxServer, client_for: Any) -> None:
    client = client_for(sandbox, "acme")
    cursor = client.get(OFFERS, params={"page_size": 5}).json()["cursor"]
    response = client.get(OFFERS, params={"cursor": cursor, "remote_id": "100001"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "cursor"]
    # Another connector's client cannot use it either.
    other = client_for(sandbox, "globex").get(OFFERS, params={"page_size": 5, "cursor": cursor})
    assert other.status_code == 422


# --- offer shapes ----------------------------------------------------------------------------


def test_custom_fields_and_raw_data_are_null_unless_requested(
    sandbox: SandboxServer, client_for: Any
) -> None:
    client = client_for(sandbox, "acme")
    source = sandbox.offers("acme")[:3]
    plain = client.get(OFFERS, params={"page_size": 3}).json()["items"]
    assert plain == [_bare(o) for o in source]
    for flag in ("true", "1", "True", "yes"):
        full = client.get(
            OFFERS,
            params={"page_size": 3, "include_custom_fields": flag, "include_raw_data": flag},
        ).json()["items"]
        assert full == source
    only_raw = client.get(OFFERS, params={"page_size": 1, "include_raw_data": "true"}).json()
    assert only_raw["items"][0]["custom_fields"] is None
    assert only_raw["items"][0]["raw_data"] == source[0]["raw_data"]


def test_get_one_offer_matches_the_listing(sandbox: SandboxServer, client_for: Any) -> None:
    client = client_for(sandbox, "globex")
    offer = sandbox.offers("globex")[17]
    response = client.get(f"{OFFERS}/{offer['id']}", params={"include_custom_fields": "true"})
    assert response.status_code == 200
    assert "x-ratelimit-remaining" in response.headers
    assert response.json() == {**offer, "raw_data": None}


def test_expand_replaces_ids_with_objects(sandbox: SandboxServer, client_for: Any) -> None:
    client = client_for(sandbox, "acme")
    source = sandbox.offers("acme")
    items = client.get(OFFERS, params={"page_size": 200, "expand": "application,creator"}).json()[
        "items"
    ]
    related = sandbox.related("acme")
    for offer, item in zip(source, items, strict=False):
        for relation, resource in (("application", "applications"), ("creator", "users")):
            listed = related.find(resource, offer[relation])
            if offer[relation] is None:
                assert item[relation] is None
            elif listed is None:  # a dangling reference stays the id
                assert item[relation] == offer[relation]
            else:  # the very object the resource's own endpoint lists
                assert item[relation] == listed
    assert any(o["creator"] is None for o in source[:200])  # the null case was exercised
    picked = client.get(
        OFFERS, params={"page_size": 20, "expand": "application[job,candidate],creator[email]"}
    ).json()["items"]
    app = next(i["application"] for i in picked if i["application"])
    assert set(app) == {"id", "job", "candidate"}
    creator = next(i["creator"] for i in picked if i["creator"])
    assert set(creator) == {"id", "email"}
    one = client.get(f"{OFFERS}/{source[0]['id']}", params={"expand": "creator"}).json()
    assert one["creator"] == items[0]["creator"]
    assert one["application"] == source[0]["application"]  # not expanded: still the id


# --- errors ----------------------------------------------------------------------------------


def _assert_detail(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail"}
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return str(body["detail"])


def test_401_without_or_with_a_wrong_api_key(sandbox: SandboxServer) -> None:
    token = sandbox.connector_tokens["acme"]
    cases: list[dict[str, str]] = [
        {"x-connector-token": token},
        {"x-connector-token": token, "Authorization": "Bearer wrong"},
        {"x-connector-token": token, "Authorization": sandbox.api_key},  # no scheme
    ]
    for headers in cases:
        response = httpx.get(sandbox.offers_url, headers=headers)
        detail = _assert_detail(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
        assert sandbox.api_key not in detail
        assert "x-ratelimit-limit" not in response.headers
    ok = {"x-connector-token": token, "authorization": f"bearer {sandbox.api_key}"}
    assert httpx.get(sandbox.offers_url, headers=ok).status_code == 200


def test_403_for_hris_and_unknown_connector_tokens(sandbox: SandboxServer) -> None:
    auth = {"Authorization": f"Bearer {sandbox.api_key}"}
    hris = httpx.get(
        sandbox.offers_url, headers={**auth, "x-connector-token": sandbox.forbidden_token}
    )
    assert "HRIS" in _assert_detail(hris, 403)
    unknown = httpx.get(sandbox.offers_url, headers={**auth, "x-connector-token": "made-up"})
    assert "Unknown connector token" in _assert_detail(unknown, 403)
    missing = httpx.get(sandbox.offers_url, headers=auth)
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["header", "x-connector-token"]


def test_404_for_unknown_offer_and_path(sandbox: SandboxServer, client_for: Any) -> None:
    client = client_for(sandbox, "acme")
    assert _assert_detail(client.get(f"{OFFERS}/00000000-0000-0000-0000-000000000000"), 404)
    assert _assert_detail(client.get("/api/ats/v1/candidates"), 404)
    assert _assert_detail(client.post(OFFERS), 405)


@pytest.mark.parametrize(
    ("params", "name", "kind"),
    [
        ({"page_size": "0"}, "page_size", "greater_than_equal"),
        ({"page_size": "201"}, "page_size", "less_than_equal"),
        ({"page_size": "ten"}, "page_size", "int_parsing"),
        ({"include_raw_data": "maybe"}, "include_raw_data", "bool_parsing"),
        ({"include_custom_fields": "2"}, "include_custom_fields", "bool_parsing"),
        ({"modified_after": "last tuesday"}, "modified_after", "datetime_from_date_parsing"),
        (
            {"modified_after": "2024-01-01T00:00:00 02:00"},
            "modified_after",
            "datetime_from_date_parsing",
        ),
        ({"expand": "owner"}, "expand", "value_error"),
        ({"expand": "creator[salary]"}, "expand", "value_error"),
        ({"cursor": "garbage"}, "cursor", "value_error"),
    ],
)
def test_422_names_the_bad_parameter(
    sandbox: SandboxServer, client_for: Any, params: dict[str, str], name: str, kind: str
) -> None:
    response = client_for(sandbox, "acme").get(OFFERS, params=params)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    assert len(detail) == 1
    assert detail[0]["loc"] == ["query", name]
    assert detail[0]["type"] == kind
    assert isinstance(detail[0]["msg"], str)
    assert detail[0]["msg"]


def test_422_lists_every_bad_parameter_at_once(sandbox: SandboxServer, client_for: Any) -> None:
    params = {"page_size": "500", "include_raw_data": "x", "modified_after": "y"}
    detail = client_for(sandbox, "acme").get(OFFERS, params=params).json()["detail"]
    assert sorted(d["loc"][1] for d in detail) == [
        "include_raw_data",
        "modified_after",
        "page_size",
    ]


def test_tampered_cursor_is_rejected(sandbox: SandboxServer, client_for: Any) -> None:
    client = client_for(sandbox, "acme")
    cursor = client.get(OFFERS, params={"page_size": 5}).json()["cursor"]
    head, _, _mac = cursor.partition(".")
    for bad in (cursor[:-1] + ("A" if cursor[-1] != "A" else "B"), "x" + cursor, f"{head}."):
        response = client.get(OFFERS, params={"page_size": 5, "cursor": bad})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_overlong_urls_get_414(sandbox: SandboxServer, client_for: Any) -> None:
    ids = ",".join(o["id"] for o in generate_offers(300, seed=1)["default"])
    response = client_for(sandbox, "acme").get(OFFERS, params={"ids": ids})
    assert _assert_detail(response, 414)
    assert sandbox.request_log[-1].url_length > sandbox.max_url_length
