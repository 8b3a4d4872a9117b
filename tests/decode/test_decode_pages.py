"""API bodies -> the offers frame: exact schema, flexible fields, errors that name the offer."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import httpx
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from offer_analytics import (
    OFFER_SCHEMA,
    ConfigurationError,
    DecodeStats,
    SchemaError,
    TimestampError,
    decode_pages,
    empty_offers_frame,
    offers_to_frame,
)
from offer_analytics.decode import _columns
from offer_analytics.sandbox import SandboxServer, generate_offers
from offer_analytics.schema import OPTIONAL_COLUMNS, offers_schema

GARBAGE = ("2024-02-30T10:00:00Z", "2023-13-01", "0000-00-00T00:00:00Z", "not a date")
TIMESTAMP_COLUMNS = ("sent_at", "closed_at", "remote_created_at", "modified_at", "start_date")


def offer(offer_id: str = "o1", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": offer_id,
        "remote_id": "r1",
        "modified_at": "2025-01-04T10:00:00.123Z",
        "remote_created_at": "2025-01-01T09:00:00Z",
        "sent_at": "2025-01-02T09:00:00+01:00",
        "closed_at": "2025-01-03",
        "start_date": "2025-02-03",
        "status": "SIGNED",
        "application": "app-1",
        "creator": "user-1",
    }
    return {**base, **fields}


def page(
    items: Sequence[Mapping[str, Any]], cursor: str | None = None, **json_options: Any
) -> bytes:
    body = {"cursor": cursor, "page_size": 200, "items": list(items)}
    return json.dumps(body, **json_options).encode()


def pages_of(offers: Sequence[Mapping[str, Any]], size: int = 200) -> list[bytes]:
    return [page(offers[i : i + size], cursor=f"c{i}") for i in range(0, len(offers), size)]


# -- schema ------------------------------------------------------------------------------------


def test_base_columns_and_dtypes_are_exact() -> None:
    frame, stats = decode_pages([page([offer()])])
    assert frame.schema == OFFER_SCHEMA
    assert frame.columns == [
        "connector", "id", "remote_id", "status", "outcome", "sent_at", "closed_at",
        "remote_created_at", "modified_at", "start_date", "application", "creator",
    ]  # fmt: skip
    assert frame.row(0, named=True) == {
        "connector": "default",
        "id": "o1",
        "remote_id": "r1",
        "status": "SIGNED",
        "outcome": "accepted",
        "sent_at": datetime(2025, 1, 2, 8, tzinfo=UTC),
        "closed_at": datetime(2025, 1, 3, tzinfo=UTC),
        "remote_created_at": datetime(2025, 1, 1, 9, tzinfo=UTC),
        "modified_at": datetime(2025, 1, 4, 10, 0, 0, 123000, tzinfo=UTC),
        "start_date": date(2025, 2, 3),
        "application": "app-1",
        "creator": "user-1",
    }
    assert stats == DecodeStats(1, {})


@pytest.mark.parametrize(
    ("options", "extra"),
    [
        ({}, []),
        ({"expand": ["creator"]}, ["creator_data"]),
        ({"expand": "creator,application"}, ["application_data", "creator_data"]),
        ({"include_raw_data": True}, ["raw_data"]),
        (
            {
                "expand": ["application[id,name]"],
                "include_custom_fields": True,
                "include_raw_data": True,
            },
            ["application_data", "custom_fields", "raw_data"],
        ),
    ],
)
def test_optional_columns_only_when_requested_in_fixed_order(
    options: dict[str, Any], extra: list[str]
) -> None:
    item = offer(custom_fields={"a": 1}, raw_data={"b": 2})
    frame, _ = decode_pages([page([item])], **options)
    assert frame.columns == [*OFFER_SCHEMA, *extra]
    assert all(frame.schema[c] == pl.String for c in extra)
    assert [c for c in OPTIONAL_COLUMNS if c in frame.columns] == extra
    assert frame.schema == offers_schema(**options)
    assert empty_offers_frame(**options).schema == frame.schema


def test_connector_comes_from_the_argument() -> None:
    frame, _ = decode_pages([page([offer()])], connector="acme")
    assert frame["connector"].to_list() == ["acme"]


def test_unknown_expand_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="offer_letter"):
        decode_pages([page([offer()])], expand=["offer_letter"])


# -- shapes of input ----------------------------------------------------------------------------


def test_no_pages_and_empty_pages_give_an_empty_typed_frame() -> None:
    assert decode_pages([])[0].schema == OFFER_SCHEMA
    frame, stats = decode_pages([page([]), page([]), page([])], include_raw_data=True)
    assert frame.height == 0
    assert frame.schema == offers_schema(include_raw_data=True)
    assert stats.offers == 0


def test_rows_keep_page_order_across_empty_pages() -> None:
    offers = [offer(f"o{i}") for i in range(450)]
    pages = [*pages_of(offers[:200]), page([]), *pages_of(offers[200:])]
    assert decode_pages(pages)[0]["id"].to_list() == [o["id"] for o in offers]


def test_all_null_columns_keep_their_dtypes() -> None:
    # More than 100 rows of nulls: where Polars' own inference would guess a type.
    nulls = dict.fromkeys(["remote_id", "status", *TIMESTAMP_COLUMNS, "application", "creator"])
    frame, stats = decode_pages(pages_of([offer(f"o{i}", **nulls) for i in range(300)]))
    assert frame.schema == OFFER_SCHEMA
    assert frame.drop("connector", "id", "outcome").null_count().row(0) == (300,) * 9
    assert frame["outcome"].unique().to_list() == ["unknown"]
    assert stats.unparsed == {}


def test_missing_fields_are_null_and_unknown_fields_are_ignored() -> None:
    item = {"id": "o1", "status": "SENT", "salary": {"deep": [1, {"x": None}]}, "tags": ["a"]}
    body = json.dumps({"cursor": None, "page_size": 1, "total": 7, "items": [item]}).encode()
    frame, _ = decode_pages([body])
    row = frame.row(0, named=True)
    assert (row["id"], row["status"], row["outcome"], row["sent_at"]) == (
        "o1",
        "SENT",
        "pending",
        None,
    )


def test_pretty_printed_bodies_decode_the_same() -> None:
    items = [offer("o1", status="line\nbreak"), offer("o2")]
    compact = decode_pages([page(items, separators=(",", ":"))])[0]
    pretty = decode_pages([page(items, indent=2).replace(b"\n", b"\r\n")])[0]
    assert pretty.equals(compact)
    assert pretty["status"][0] == "line\nbreak"


def test_single_offer_bodies() -> None:
    bodies = [json.dumps(offer("o1")).encode(), json.dumps(offer("o2", status="DRAFT")).encode()]
    frame, _ = decode_pages(bodies, kind="offer", connector="acme")
    assert frame.select("connector", "id", "outcome").rows() == [
        ("acme", "o1", "accepted"),
        ("acme", "o2", "draft"),
    ]


def test_start_date_is_the_date_as_written() -> None:
    items = [
        offer("o1", start_date="2025-11-10T00:00:00-05:00"),
        offer("o2", start_date="2025-11-10"),
        offer("o3", start_date="2025-11-10T23:30:00+09:00"),
        offer("o4", start_date=None),
    ]
    frame, _ = decode_pages([page(items)])
    assert frame["start_date"].to_list() == [date(2025, 11, 10)] * 3 + [None]


def test_outcome_mapping_passes_through() -> None:
    items = [offer("o1", status="Extended"), offer("o2", status="DENIED", sent_at=None)]
    frame, _ = decode_pages([page(items)], outcome_mapping={"EXTENDED": "pending"})
    assert frame["outcome"].to_list() == ["pending", "draft"]
    with pytest.raises(ConfigurationError):
        decode_pages([page(items)], outcome_mapping={"EXTENDED": "maybe"})


# -- flexible fields ----------------------------------------------------------------------------


def test_expanded_relations_give_the_id_and_the_objects_json() -> None:
    app = {"id": "app-9", "job": {"title": "Engineer", "levels": [1, 2]}, "note": 'ü"q'}
    items = [
        offer("o1", application=app, creator={"id": "u-2", "email": None}),
        offer("o2"),  # a plain id is fine too
        offer("o3", application=None, creator=None),
    ]
    frame, _ = decode_pages([page(items)], expand=["application", "creator"])
    assert frame["application"].to_list() == ["app-9", "app-1", None]
    assert frame["creator"].to_list() == ["u-2", "user-1", None]
    assert json.loads(frame["application_data"][0]) == app
    assert json.loads(frame["creator_data"][0]) == {"id": "u-2", "email": None}
    assert frame["application_data"].to_list()[1:] == [None, None]


def test_expanded_object_without_id_gives_a_null_id() -> None:
    # expand=application[name] picks fields; the object may then lack its id
    frame, _ = decode_pages([page([offer(application={"name": "x"})])], expand="application[name]")
    assert frame["application"].to_list() == [None]
    assert json.loads(frame["application_data"][0]) == {"name": "x"}


@pytest.mark.parametrize("id_", ["[", "{", "[1]", '{"a": 1}', "{app-1}"])
def test_an_expanded_relation_given_as_an_id_that_starts_like_json_keeps_that_id(id_: str) -> None:
    # Polars' fast reader returns a string and a nested value as the same text: such pages take
    # the exact path (found by the property test during the mutation survey).
    items = [offer("o1", application=id_), offer("o2", application={"id": "app-2"})]
    frame, _ = decode_pages([page(items)], expand=["application"])
    assert frame["application"].to_list() == [id_, "app-2"]
    assert frame["application_data"][0] is None
    assert json.loads(frame["application_data"][1]) == {"id": "app-2"}


@pytest.mark.parametrize("text", ["{", '{"a": 1}', "[1]"])
def test_an_object_field_given_as_a_string_that_starts_like_json_is_refused(text: str) -> None:
    with pytest.raises(SchemaError, match="custom_fields is a string, expected an object"):
        decode_pages([page([offer("o1", custom_fields=text)])], include_custom_fields=True)


def test_json_columns_round_trip_awkward_values() -> None:
    awkward: list[dict[str, Any]] = [
        {"base_salary": 93500, "currency": "EUR", "signing_bonus": None},
        {"tab": "a\tb", "ctl": "\x01\x1f", "quote": 'say "hi"', "bsl": "a\\b", 'k"ey': 1},
        {"big": 1e300, "tiny": 1.5e-10, "huge_int": 123456789012345678901234567890, "neg0": -0.0},
        {"unicode": "naïve ✓ 😀", "nested": {"deep": [1, 2.5, True, None, []]}},
        {},
    ]
    items = [offer(f"o{i}", custom_fields=o) for i, o in enumerate(awkward)]
    items.append(offer("o-null", custom_fields=None))
    for ascii in (True, False):
        frame, _ = decode_pages([page(items, ensure_ascii=ascii)], include_custom_fields=True)
        assert [json.loads(v) for v in frame["custom_fields"].to_list()[:-1]] == awkward
        assert frame["custom_fields"].to_list()[-1] is None


def test_json_fields_not_requested_are_not_read() -> None:
    frame, _ = decode_pages([page([offer(custom_fields="not even an object")])])
    assert "custom_fields" not in frame.columns


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "options", "offer_id", "field", "message"),
    [
        ([offer("o1"), offer("o2", status=5)], {}, "o2", "status", "o2: status is a number"),
        ([offer("o1", sent_at=True)], {}, "o1", "sent_at", "sent_at is a boolean"),
        ([offer("o1", remote_id=7)], {}, "o1", "remote_id", "remote_id is a number"),
        ([offer("o1"), {"status": "SENT"}], {}, None, "id", "offer 1 of page 1 has no id"),
        ([offer("o1", id=None)], {}, None, "id", "has no id"),
        ([offer(id=12)], {}, None, "id", "has a number as id"),
        (
            [offer("o3", application={"id": "a"})],
            {},
            "o3",
            "application",
            r"expand=\['application'\]",
        ),
        ([offer("o4", creator=["u"])], {"expand": ["creator"]}, "o4", "creator", "an array"),
        (
            [offer("o5", custom_fields="x")],
            {"include_custom_fields": True},
            "o5",
            "custom_fields",
            "custom_fields is a string, expected an object",
        ),
        ([offer("o6", raw_data=[1])], {"include_raw_data": True}, "o6", "raw_data", "an array"),
        (["not an offer"], {}, None, "items", "offer 0 of page 1 is a string"),
        ([None], {}, None, "items", "is null"),
    ],
)
def test_wrong_shapes_name_the_offer_and_field(
    items: list[Any], options: dict[str, Any], offer_id: str | None, field: str, message: str
) -> None:
    with pytest.raises(SchemaError, match=message) as info:
        decode_pages([page([offer("ok")]), page(items)], **options)
    assert (info.value.offer_id, info.value.field) == (offer_id, field)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"items": [{"id": "o1"}', "page 1 is not valid JSON"),
        (b"<html>502 Bad Gateway</html>", "page 1 is not valid JSON"),
        (b"", "page 1 is empty"),
        (b"   ", "page 1 is empty"),
        (b'{"items": []} {"items": []}', "page 1 is not valid JSON"),
        (b'{"items": {"id": "o1"}}', "page 1 has items as an object"),
        (b'{"cursor": null}', "page 1 has no items"),
        (b"[]", "page 1 is an array"),
    ],
)
def test_malformed_bodies_are_schema_errors(body: bytes, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        decode_pages([page([offer()]), body])


# -- timestamps through decoding -------------------------------------------------------------


def test_unparseable_timestamps_are_null_and_counted_per_column() -> None:
    items = [
        offer("o1", sent_at=GARBAGE[0], closed_at=GARBAGE[1]),
        offer("o2", sent_at=GARBAGE[2], start_date=GARBAGE[3]),
        offer("o3", modified_at="", remote_created_at=None),  # absent, not unparseable
        offer("o4"),
    ]
    frame, stats = decode_pages([page(items)])
    assert stats.unparsed == {"sent_at": ["o1", "o2"], "closed_at": ["o1"], "start_date": ["o2"]}
    assert frame["sent_at"].to_list()[:2] == [None, None]
    assert frame["start_date"].to_list()[1] is None
    assert frame["status"].to_list() == ["SIGNED"] * 4  # the rest of the row is intact


def test_strict_raises_naming_offer_and_raw_value() -> None:
    items = [offer("o1"), offer("o2", closed_at="not a date")]
    with pytest.raises(TimestampError, match=r"closed_at.*offer o2: 'not a date'") as info:
        decode_pages([page(items)], strict=True)
    assert info.value.column == "closed_at"
    assert info.value.rows == [("o2", "not a date")]
    assert info.value.offer_id == "o2"
    decode_pages([page([offer("o1")])], strict=True)  # clean data passes


def test_stats_add_up_across_decodes() -> None:
    a = DecodeStats(2, {"sent_at": ["a"]})
    b = DecodeStats(3, {"sent_at": ["b"], "closed_at": ["c"]})
    assert a + b == DecodeStats(5, {"sent_at": ["a", "b"], "closed_at": ["c"]})
    assert a == DecodeStats(2, {"sent_at": ["a"]})  # operands untouched


# -- offers_to_frame and the generator ----------------------------------------------------------


def test_offers_to_frame_sets_connectors_from_labels_and_matches_decode_pages() -> None:
    data = generate_offers(600, connectors=3, seed=4)
    frame = offers_to_frame(data, include_custom_fields=True)
    assert frame["connector"].unique(maintain_order=True).to_list() == ["acme", "globex", "initech"]
    assert frame["id"].to_list() == [o["id"] for label in data for o in data[label]]
    direct, _ = decode_pages(
        pages_of(data["globex"]), connector="globex", include_custom_fields=True
    )
    assert frame.filter(pl.col("connector") == "globex").equals(direct)
    assert offers_to_frame([offer()])["connector"].to_list() == ["default"]
    assert offers_to_frame({}).schema == OFFER_SCHEMA


def test_offers_to_frame_detects_expanded_objects() -> None:
    frame = offers_to_frame([offer(creator={"id": "u9", "name": "N"}), offer("o2")])
    assert frame["creator"].to_list() == ["u9", "user-1"]
    assert frame.columns[-1] == "creator_data"


def test_offers_to_frame_rejects_what_json_cannot_hold() -> None:
    with pytest.raises(SchemaError, match="JSON"):
        offers_to_frame([offer(sent_at=datetime(2024, 1, 1))])


def test_generated_offers_decode_with_exactly_the_planted_garbage_unparsed() -> None:
    data = generate_offers(30_000, connectors=3, seed=0)
    frames, total = [], DecodeStats(0)
    for label, offers in data.items():
        frame, stats = decode_pages(
            pages_of(offers), connector=label, include_custom_fields=True, include_raw_data=True
        )
        frames.append(frame)
        total = total + stats
    frame = pl.concat(frames)
    assert total.offers == frame.height == 30_000
    everything = [o for offers in data.values() for o in offers]
    for column in TIMESTAMP_COLUMNS:
        planted = [o["id"] for o in everything if o[column] in GARBAGE]
        assert total.unparsed.get(column, []) == planted
        assert frame[column].null_count() == sum(o[column] is None for o in everything) + len(
            planted
        )
    assert sum(len(ids) for ids in total.unparsed.values()) > 0
    assert frame["status"].to_list() == [o["status"] for o in everything]
    sample = frame.gather([0, 12_345, 29_999])
    for row in sample.iter_rows(named=True):
        source = next(o for o in everything if o["id"] == row["id"])
        assert json.loads(row["custom_fields"]) == source["custom_fields"]
        assert json.loads(row["raw_data"]) == source["raw_data"]


def test_both_polars_engines_type_the_same_offers_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    # Small calls (the loader's chunks) run on the in-memory engine, large ones on the default.
    offers = generate_offers(3_000, connectors=1, seed=7)["default"]
    pages = pages_of(offers)
    small, small_stats = decode_pages(pages, include_custom_fields=True)
    monkeypatch.setattr(_columns, "IN_MEMORY_ROWS", 0)
    large, large_stats = decode_pages(pages, include_custom_fields=True)
    assert_frame_equal(small, large)
    assert small_stats == large_stats
    assert sum(len(ids) for ids in small_stats.unparsed.values()) > 0  # garbage was planted


def test_sandbox_bodies_decode_to_the_served_offers() -> None:
    # The bytes as the sandbox server really sends them, over HTTP on loopback.
    with SandboxServer(n_offers=700, connectors=1, seed=3, rate_limit=10_000) as server:
        headers = {
            "Authorization": f"Bearer {server.api_key}",
            "x-connector-token": server.connector_tokens["default"],
        }
        params: dict[str, Any] = {
            "page_size": 200,
            "expand": "application,creator",
            "include_custom_fields": "true",
            "include_raw_data": "true",
        }
        bodies: list[bytes] = []
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=10) as client:
            while True:
                response = client.get("/api/ats/v1/offers", params=params)
                response.raise_for_status()
                bodies.append(response.content)
                cursor = response.json()["cursor"]
                if cursor is None:
                    break
                params["cursor"] = cursor
            first = server.offers("default")[0]["id"]
            single = client.get(f"/api/ats/v1/offers/{first}").content
        served = server.offers("default")
    options: dict[str, Any] = {"include_custom_fields": True, "include_raw_data": True}
    frame, stats = decode_pages(bodies, expand=["application", "creator"], **options)
    assert stats.offers == len(served) == 700
    expected = offers_to_frame(served, **options)
    assert frame.select(expected.columns).equals(expected)
    for row in frame.filter(pl.col("application").is_not_null()).head(20).iter_rows(named=True):
        assert json.loads(row["application_data"])["id"] == row["application"]
    one, _ = decode_pages([single], kind="offer")
    assert one.row(0) == expected.drop("custom_fields", "raw_data").row(0)


def test_package_root_exports_the_decoding_api_and_errors() -> None:
    import offer_analytics
    from offer_analytics import errors

    expected = {
        "OFFER_SCHEMA",
        "OUTCOMES",
        "OUTCOME_DTYPE",
        "DEFAULT_OUTCOME_MAPPING",
        "outcome_expr",
        "decode_pages",
        "offers_to_frame",
        "empty_offers_frame",
        "DecodeStats",
        *errors.__all__,
    }
    assert expected <= set(offer_analytics.__all__)
    assert all(hasattr(offer_analytics, name) for name in offer_analytics.__all__)
    assert len(set(offer_analytics.__all__)) == len(offer_analytics.__all__)


def test_expand_text_with_picked_fields_names_the_relations() -> None:
    from offer_analytics.schema import offers_schema

    schema = offers_schema(expand="application[id,name],creator")
    assert list(schema)[-2:] == ["application_data", "creator_data"]


# -- rules pinned by mutation testing -------------------------------------------------------


@pytest.mark.parametrize("line_break", [b"\n", b"\r", b"\r\n"], ids=["lf", "cr", "crlf"])
def test_pretty_printed_pages_larger_than_a_reader_block_decode_the_same(
    line_break: bytes,
) -> None:
    # The reader cuts its input into blocks of about 1 MiB at line ends: a line break inside a
    # page must not be taken for the end of that page.
    items = [offer(f"o{i}", status="DRAFT" if i % 3 else "SENT") for i in range(4_000)]
    pretty = [page(items[i::2], indent=2).replace(b"\n", line_break) for i in range(2)]
    assert sum(map(len, pretty)) > 1 << 20
    compact = [page(items[i::2]) for i in range(2)]
    assert decode_pages(pretty)[0].equals(decode_pages(compact)[0])


def test_kind_is_compared_by_value_not_identity() -> None:
    # A kind read from a file or the command line is an equal string, not the literal itself.
    kind = json.loads('"offer"')
    frame, _ = decode_pages([json.dumps(offer("o1")).encode()], kind=kind)
    assert frame["id"].to_list() == ["o1"]
    with pytest.raises(SchemaError, match="o2: status is a number") as info:
        decode_pages([json.dumps(offer("o2", status=5)).encode()], kind=kind)
    assert (info.value.offer_id, info.value.field) == ("o2", "status")


def test_a_null_field_does_not_hide_a_wrong_one_after_it() -> None:
    item = offer("o2", sent_at=None, status=5)  # sent_at comes before status in the offer
    assert list(item).index("sent_at") < list(item).index("status")
    with pytest.raises(SchemaError, match="o2: status is a number") as info:
        decode_pages([page([offer("o1"), item])])
    assert (info.value.offer_id, info.value.field) == ("o2", "status")


def test_a_valid_expanded_object_is_never_blamed_for_a_later_error() -> None:
    items = [offer("o1", creator={"id": "u-2"}), offer("o2", status=5)]
    with pytest.raises(SchemaError, match="o2: status is a number") as info:
        decode_pages([page(items)], expand=["creator"])
    assert (info.value.offer_id, info.value.field) == ("o2", "status")


def test_a_page_longer_than_a_mebibyte_decodes() -> None:
    # The reader's blocks grow with the longest page (a page must not span three blocks).
    many = [offer(f"o{i}", remote_id="r" * 100) for i in range(4_000)]
    pages = [page(many)] * 3
    assert len(pages[0]) > 1 << 20
    frame, stats = decode_pages(pages)
    assert stats.offers == frame.height == 12_000
    assert frame["id"].to_list() == [o["id"] for o in many * 3]


def test_a_page_decodes_wherever_it_falls_in_the_readers_blocks() -> None:
    # The worst place for a long page: it starts on the last byte a block of its own length
    # would hold, so a block sized to the page alone could not contain any line end.
    many = page([offer(f"o{i}", remote_id="r" * 100) for i in range(3_000)])
    long = many + b" " * (2 - len(many) % 4 + 4)  # a length with bit 1 set: 4k + 2
    short = page([offer("first")])
    short += b" " * (len(long) - 4 - len(short))  # ends 3 bytes before the long one's length
    assert len(long) > 1 << 20
    assert len(long) % 4 == 2
    assert len(short) == len(long) - 4
    frame, _ = decode_pages([short, long])
    assert frame.height == 3_001
