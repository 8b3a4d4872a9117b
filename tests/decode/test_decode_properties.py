"""Decoding holds up against any input (hypothesis): whatever JSON-shaped offers (or bytes) a
server sends, the page -> frame path and the page head raise nothing but the package's errors;
offers of the documented shape always decode, one row each; JSON columns round-trip exactly.

(Every timestamp shape landing on Python's instant is checked in test_timestamps.py.)
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offer_analytics import OfferAnalyticsError, decode_pages
from offer_analytics.decode._page_head import read_page_head

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FIELDS = (
    "id", "remote_id", "status", "sent_at", "closed_at", "remote_created_at", "modified_at",
    "start_date", "application", "creator", "custom_fields", "raw_data",
)  # fmt: skip

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=6), json_values, max_size=5)


#: Offers of any JSON shape: known fields with values of any type, and unknown fields.
any_offers = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), json_values, max_size=8)
timestamps = st.sampled_from(
    ["2024-03-01T14:00:00Z", "2024-03-01T14:00:00.5+02:00", "2024-03-01", "2024-02-30", "", "x"]
)
#: Offers of the documented shape (id and string fields), with odd timestamps and statuses.
good_offers = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=8)},
    optional={
        "status": st.none() | st.sampled_from(["SIGNED", "DENIED", "SENT", "DRAFT", "huh"]),
        "sent_at": st.none() | timestamps,
        "closed_at": st.none() | timestamps,
        "start_date": st.none() | timestamps,
        "application": st.none() | st.text(max_size=5),
        "custom_fields": st.none() | st.dictionaries(st.text(max_size=4), json_values, max_size=3),
        "x_unknown": json_values,
    },
)
options = st.fixed_dictionaries(
    {
        "include_custom_fields": st.booleans(),
        "include_raw_data": st.booleans(),
        "expand": st.sampled_from([(), ("application",), ("application", "creator")]),
        "strict": st.booleans(),
    }
)


def page_bytes(offers: list[Any], ascii: bool) -> bytes:
    return json.dumps({"cursor": None, "items": offers}, ensure_ascii=ascii).encode()


@SETTINGS
@given(st.lists(st.lists(any_offers, max_size=4), min_size=1, max_size=3), options, st.booleans())
def test_decoding_any_json_offers_raises_only_package_errors(
    pages: list[list[dict[str, Any]]], decode_options: dict[str, Any], ascii: bool
) -> None:
    bodies = [page_bytes(offers, ascii) for offers in pages]
    try:
        frame, _ = decode_pages(bodies, **decode_options)
    except OfferAnalyticsError:
        return
    assert frame.height == sum(len(offers) for offers in pages)


@SETTINGS
@given(st.lists(good_offers, max_size=6), options, st.booleans())
def test_documented_offers_always_decode_one_row_each(
    offers: list[dict[str, Any]], decode_options: dict[str, Any], ascii: bool
) -> None:
    decode_options["strict"] = False  # unparseable timestamps are counted, not raised
    frame, stats = decode_pages([page_bytes(offers, ascii)], **decode_options)
    assert frame["id"].to_list() == [o["id"] for o in offers]
    for column, ids in stats.unparsed.items():
        assert set(ids) <= {o["id"] for o in offers if o.get(column) not in (None, "")}


@SETTINGS
@given(st.binary(max_size=200) | any_offers.map(lambda o: json.dumps(o).encode()[:-1]))
def test_any_bytes_decode_or_raise_a_package_error(body: bytes) -> None:
    for kind in ("list", "offer"):
        with contextlib.suppress(OfferAnalyticsError):
            decode_pages([body], kind=kind)


@SETTINGS
@given(st.binary(max_size=200) | any_offers.map(lambda o: json.dumps({"items": [o]}).encode()))
def test_the_page_head_raises_only_value_errors_for_the_retry_rule(body: bytes) -> None:
    # ValueError = "retry"; SchemaError (also a ValueError) = "never parses"; nothing else.
    with contextlib.suppress(ValueError):
        read_page_head(body)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(json_objects, max_size=4), min_size=1, max_size=4), st.booleans())
def test_json_columns_round_trip(pages_of_objects: list[list[dict[str, Any]]], ascii: bool) -> None:
    # Pages with and without escapes take different paths; both must give json.loads-equal text.
    n = 0
    pages = []
    for objects in pages_of_objects:
        items = [
            {"id": f"o{n + i}", "custom_fields": o, "raw_data": {"i": n + i, "o": o}}
            | {"creator": o | {"id": "u"}}
            for i, o in enumerate(objects)
        ]
        n += len(items)
        pages.append(page_bytes(items, ascii))
    frame, _ = decode_pages(
        pages, expand=["creator"], include_custom_fields=True, include_raw_data=True
    )
    expected = [o for objects in pages_of_objects for o in objects]
    assert [json.loads(v) for v in frame["custom_fields"]] == expected
    assert [json.loads(v) for v in frame["raw_data"]] == [
        {"i": i, "o": o} for i, o in enumerate(expected)
    ]
    assert [json.loads(v) for v in frame["creator_data"]] == [o | {"id": "u"} for o in expected]
    assert frame["creator"].to_list() == ["u"] * n
