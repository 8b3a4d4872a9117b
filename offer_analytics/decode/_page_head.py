"""Reading what the fetch loop needs from a list page — cursor, item count, ids — in Rust.

The page's offers are decoded later, in a worker thread, from the same bytes. The fetch loop only
needs the next cursor (now, to ask for the next page), the number of items (progress) and, for id
batches, the ids returned; and it must notice at once a body that broke off or is not JSON, so
that the request is retried. Parsing the whole page into Python objects for that
(``json.loads``) cost 0.18 ms per 200-offer page (0.39 ms with custom fields and raw data) on
the event loop. Measured on the same generated pages, 2 shared cores: ``pyarrow.json`` with the
minimal schema ``{cursor, items: [{id}]}`` took 0.16 (0.26) ms, ``pl.read_json`` with it 0.08
(0.14) ms. Both reject the same truncated and non-JSON bodies; Polars is the fastest and creates no
per-offer Python objects, so it is used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

import polars as pl

from offer_analytics.errors import SchemaError

__all__ = ["PageHead", "read_page_head"]

_HEAD_SCHEMA: Final[dict[str, pl.DataType]] = {
    "cursor": pl.String(),
    "items": pl.List(pl.Struct({"id": pl.String})),
}


@dataclass(frozen=True, slots=True)
class PageHead:
    """The parts of a list page that the fetch loop acts on.

    Attributes
    ----------
    cursor
        The next page's cursor, ``None`` at the end of the listing.
    items
        Number of offers on the page.
    """

    cursor: str | None
    items: int
    _ids: pl.Series

    def ids(self) -> list[str]:
        """The ids of the page's offers (those that have one)."""
        return self._ids.drop_nulls().to_list()

    def signature(self) -> tuple[str | None, str | None, int] | None:
        """First id, last id and count: the same for a page served twice; None when empty."""
        if not self.items:
            return None
        return self._ids[0], self._ids[-1], self.items


def read_page_head(body: bytes, *, label: str = "default") -> PageHead:
    """The cursor, item count and ids of a list page body.

    Parameters
    ----------
    body
        The raw body of ``GET /api/ats/v1/offers``.
    label
        The connector's label, for the error message.

    Raises
    ------
    ValueError
        The body is not (whole) JSON: the request is worth retrying.
    SchemaError
        The body is JSON but not ``{"cursor", "items": [...]}``: retrying will not help.

    Examples
    --------
    >>> head = read_page_head(b'{"cursor": "c2", "items": [{"id": "a"}, {"id": "b"}]}')
    >>> head.cursor, head.items, head.ids()
    ('c2', 2, ['a', 'b'])
    >>> read_page_head(b'{"cursor": null, "items": [{"id": "a"')  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    json.decoder.JSONDecodeError: ...
    """
    head = None
    if body.lstrip()[:1] == b"{":  # Polars would also read a one-element array as the page
        try:
            head = pl.read_json(body, schema=_HEAD_SCHEMA)
        except pl.exceptions.PolarsError:
            head = None
    items = head["items"][0] if head is not None and head.height == 1 else None
    if head is not None and items is not None:
        cursor = head["cursor"][0]
        # Polars turns a numeric or boolean cursor into text; the cursor must come back exactly
        # as the server wrote it, so a cursor not found verbatim as a JSON string takes the slow
        # path below (opaque cursors are plain ASCII: this is one substring search).
        if cursor is None or json.dumps(cursor).encode() in body:
            return PageHead(cursor or None, len(items), items.struct.field("id"))
    # Rare: NaN/Infinity (which Polars refuses), odd cursors, or a body of another shape. Tell
    # "not JSON" (ValueError: retry) from "JSON of another shape" (a bug to report).
    return _head_from_python(json.loads(body), label=label)


def _head_from_python(page: object, *, label: str) -> PageHead:
    items = page.get("items") if isinstance(page, dict) else None
    cursor = page.get("cursor") if isinstance(page, dict) else None
    if (
        not isinstance(items, list)
        or not isinstance(cursor, str | None)
        or not all(isinstance(item, dict) for item in items)
    ):
        msg = f"A list page of connector {label!r} is not {{'cursor', 'items': [...]}}."
        raise SchemaError(msg)
    ids = [item.get("id") for item in items]
    ids_series = pl.Series([i if isinstance(i, str) else None for i in ids], dtype=pl.String)
    return PageHead(cursor or None, len(items), ids_series)
