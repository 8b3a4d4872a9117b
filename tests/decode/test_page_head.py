"""What the fetch loop reads from a list page: the cursor exactly as sent, the ids, and the verdict
on a broken body (retry) versus a page of the wrong shape (report)."""

from __future__ import annotations

import json

import pytest

from offer_analytics.decode._page_head import read_page_head
from offer_analytics.errors import SchemaError


def test_a_page_with_nan_or_infinity_still_loads() -> None:
    body = b'{"cursor": "c2", "items": [{"id": "a", "salary": NaN}, {"id": "b", "x": Infinity}]}'
    head = read_page_head(body)
    assert (head.cursor, head.items, head.ids()) == ("c2", 2, ["a", "b"])


@pytest.mark.parametrize(
    "body",
    [
        b'[{"cursor": "c", "items": [{"id": "a"}]}]',  # an array holding a page is not a page
        b'{"cursor": 5, "items": [{"id": "a"}]}',  # a cursor is a string or null
        b'{"cursor": true, "items": []}',
        b'{"cursor": "c", "items": {"id": "a"}}',
    ],
)
def test_json_of_another_shape_is_a_schema_error(body: bytes) -> None:
    with pytest.raises(SchemaError, match="connector 'acme'"):
        read_page_head(body, label="acme")


@pytest.mark.parametrize("body", [b'{"cursor": null, "items": [{"id": "a"', b"<html>", b""])
def test_a_broken_body_is_a_value_error_to_retry(body: bytes) -> None:
    with pytest.raises(ValueError, match=r".") as caught:  # json's own message varies by body
        read_page_head(body)
    assert not isinstance(caught.value, SchemaError)


def test_the_cursor_comes_back_exactly_as_sent() -> None:
    cursor = "eyJwIjoxfQ.A97f_7Poz6-NIvgJ=="
    body = json.dumps({"cursor": cursor, "items": [{"id": "é"}]}, ensure_ascii=False).encode()
    assert read_page_head(body).cursor == cursor
    assert read_page_head(b'{"items": [], "cursor": null}').cursor is None
