"""Pages no honest server sends: decoding ends in a SchemaError, never in a parser's own error."""

from __future__ import annotations

import pytest

from offer_analytics.decode import decode_pages
from offer_analytics.errors import SchemaError

DEEP = b"[" * 100_000 + b"]" * 100_000
DEEPISH = b"[" * 1_000 + b"]" * 1_000


def page(**fields: bytes) -> bytes:
    items = b",".join(b'"%s": %s' % (name.encode(), value) for name, value in fields.items())
    return b'{"cursor": null, "items": [{"id": "o-1", ' + items + b"}]}"


@pytest.mark.parametrize("nesting", [DEEP, DEEPISH], ids=["100000", "1000"])
@pytest.mark.parametrize(
    ("field", "options"),
    [
        ("custom_fields", {"include_custom_fields": True}),
        ("raw_data", {"include_raw_data": True}),
        ("application", {"expand": "application"}),
        ("status", {}),
    ],
)
def test_json_nested_too_deep_in_any_field_is_a_schema_error(
    nesting: bytes, field: str, options: dict[str, object]
) -> None:
    with pytest.raises(SchemaError):
        decode_pages([page(**{field: nesting})], **options)  # type: ignore[arg-type]


def test_a_deep_field_that_is_not_decoded_is_ignored_like_any_unknown_field() -> None:
    frame, _ = decode_pages([page(x_vendor=DEEP, status=b'"SENT"')])
    assert frame["id"].to_list() == ["o-1"]
    assert frame["status"].to_list() == ["SENT"]


def test_invalid_utf8_in_a_page_is_a_schema_error() -> None:
    with pytest.raises(SchemaError):
        decode_pages([page(status=b'"SE\xffNT"')])
