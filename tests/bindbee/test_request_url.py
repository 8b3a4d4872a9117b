"""The client builds each request's URL itself (httpx re-parses a URL built from ``params``
character by character); the result must be exactly what httpx would have sent."""

from __future__ import annotations

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from offer_analytics.bindbee._exchange import request_url

values = st.text(max_size=12) | st.lists(st.uuids().map(str), max_size=5).map(",".join)
params = st.dictionaries(st.sampled_from(["ids", "cursor", "page_size", "a b", "é"]), values)


@settings(max_examples=200, deadline=None)
@given(
    params,
    st.sampled_from(["https://api.bindbee.dev", "https://h.io/", "http://127.0.0.1:8000/eu/"]),
)
def test_the_url_is_the_one_httpx_builds_from_params(query: dict[str, str], prefix: str) -> None:
    ours = httpx.URL(request_url(prefix, "/api/ats/v1/offers", query))
    theirs = httpx.Client(base_url=prefix).build_request("GET", "/api/ats/v1/offers", params=query)
    assert str(ours) == str(theirs.url)
    assert dict(ours.params) == query
