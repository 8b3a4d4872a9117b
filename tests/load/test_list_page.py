"""The loader's fast page-head reader must read every body exactly as the full reader does: the
same cursor, count and ids, and the same verdict ("retry" or "never parses") on a bad body."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offer_analytics.decode._page_head import PageHead, read_page_head
from offer_analytics.errors import SchemaError
from offer_analytics.load._list_page import ListPage, read_list_page

ids = st.none() | st.text(max_size=5) | st.integers() | st.just("é\u2028")
items = st.lists(
    st.fixed_dictionaries({"id": ids}, optional={"status": st.text(max_size=3)})
    | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
    | st.integers(),
    max_size=4,
)
cursors = st.none() | st.text(max_size=6) | st.integers() | st.booleans()
pages = st.fixed_dictionaries({"items": items}, optional={"cursor": cursors}).map(
    lambda page: json.dumps(page, ensure_ascii=False).encode()
)
bodies = pages | pages.map(lambda body: body[: len(body) // 2]) | st.binary(max_size=60)


def _outcome(read: Callable[..., ListPage | PageHead], body: bytes) -> object:
    try:
        page = read(body, label="acme")
    except SchemaError as exc:
        return ("never parses", str(exc))
    except (ValueError, RecursionError) as exc:
        return ("retry or sorted by parse_body", type(exc).__name__)
    if isinstance(page, ListPage):
        return page.cursor, page.items, page.ids(), page.signature
    return page.cursor, page.items, page.ids(), page.signature()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies)
def test_fast_and_full_readers_agree_on_any_body(body: bytes) -> None:
    assert _outcome(read_list_page, body) == _outcome(read_page_head, body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"cursor": "c", "items": [{"id": "a", "note": "\xff"}]}',  # invalid UTF-8, skipped field
        b'{"cursor": "c", "items": [{"id": "a", "note": "\xe2\x82"}]}',  # cut mid-character
        b'{"cursor": "c", "items": [{"id": "a", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}]}",
        b'{"cursor": "c", "items": [{"id": "a", "salary": NaN}]}',
        b'{"cursor": "c", "items": [{"id": "a"}]} trailing',
        b'{"cursor": "c\\u00e9", "items": [{"id": "a"}, {"id": "a"}]}',
    ],
    ids=["bad-utf8", "cut-utf8", "deep", "nan", "trailing", "escaped-cursor"],
)
def test_bodies_the_fast_path_must_not_accept_alone(body: bytes) -> None:
    assert _outcome(read_list_page, body) == _outcome(read_page_head, body)
