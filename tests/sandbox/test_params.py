"""Query parsing: what the API accepts, and FastAPI's 422 shapes for what it refuses."""

from __future__ import annotations

import pytest

from offer_analytics.sandbox._params import (
    QueryError,
    parse_expand,
    parse_list_query,
    parse_offer_query,
)


def test_defaults_and_empty_filters() -> None:
    query = parse_list_query({"ids": " , ", "remote_id": "", "cursor": ""})
    assert query.page_size == 50
    assert (query.ids, query.remote_id, query.cursor) == (None, None, "")
    assert not query.include_raw_data
    assert not query.include_custom_fields
    assert query.expand == ()
    assert parse_list_query({"ids": " a , b ,a"}).ids == ("a", "b", "a")


@pytest.mark.parametrize(
    ("value", "micros"),
    [
        ("2024-01-01T00:00:00Z", 1_704_067_200_000_000),
        ("2024-01-01T00:00:00", 1_704_067_200_000_000),  # naive means UTC
        ("2024-01-01", 1_704_067_200_000_000),
        ("2024-01-01T02:00:00+02:00", 1_704_067_200_000_000),
        ("2024-01-01T00:00:00.250Z", 1_704_067_200_250_000),
    ],
)
def test_modified_after_formats(value: str, micros: int) -> None:
    assert parse_list_query({"modified_after": value}).modified_after_us == micros


def test_expand_grammar() -> None:
    assert parse_expand("creator,application") == (("creator", None), ("application", None))
    assert parse_expand("application[]") == (("application", ()),)
    assert parse_expand("creator,creator[email]") == (("creator", ("email",)),)
    for bad in ("application[job", "app lication", "creator[email],owner", "creator[pay]"):
        with pytest.raises(ValueError, match=r"relation|field|cannot read"):
            parse_expand(bad)


def test_error_items_have_fastapi_shape() -> None:
    with pytest.raises(QueryError) as caught:
        parse_list_query({"page_size": "-3", "expand": "x", "include_custom_fields": "nope"})
    for item in caught.value.errors:
        assert set(item) >= {"type", "loc", "msg", "input"}
        assert item["loc"][0] == "query"
    ranged = next(e for e in caught.value.errors if e["loc"] == ["query", "page_size"])
    assert ranged["ctx"] == {"ge": 1}
    with pytest.raises(QueryError):
        parse_offer_query({"include_raw_data": "2"})
    assert parse_offer_query({"include_raw_data": "ON"}).include_raw_data
