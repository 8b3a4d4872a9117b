"""ListPage: what the fetch loop acts on in a list page, read without Polars on the event loop.

A serial listing waits for page n's cursor before it can ask for page n + 1, so the time spent
reading it is paid once per page. Polars' reader
(:func:`~offer_analytics.decode._page_head.read_page_head`) needs 0.6 ms of the loop thread per
200-offer page on a quiet machine, and much more while the decode thread keeps Polars' thread
pool busy: in a 293-page listing on 2 loaded cores it left 1.5 ms (median) and 2.5 ms (mean)
between a response and the next request. A typed msgspec decoder that skips every field but the
cursor and the ids needs 0.2 ms and touches no thread pool (bench/BENCHMARKS.md).

The fast path only handles the plain case: valid UTF-8, a JSON object whose ``cursor`` is a
string or null and whose ``items`` are objects with a string (or null, or no) ``id``. Anything
else (a body cut short, not JSON, not UTF-8, nested too deep, of another shape) is read again by
the full reader, whose errors tell "retry" from "never parses": both paths fail alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import msgspec

from offer_analytics.decode._page_head import read_page_head

__all__ = ["ListPage", "read_list_page"]


# Not tracked by the garbage collector (they hold strings only, so no cycle can pass through
# them): 200 ids a page would otherwise set off a collection every few pages, and a full one,
# whose cost grows with everything else the process holds, now and then (tens of ms).
class _Item(msgspec.Struct, gc=False):
    id: str | None = None


class _Head(msgspec.Struct, kw_only=True, gc=False):
    cursor: str | None = None
    items: list[_Item]


_DECODER: Final = msgspec.json.Decoder(_Head)


@dataclass(frozen=True, slots=True)
class ListPage:
    """The parts of a list page that the fetch loop acts on.

    Attributes
    ----------
    cursor
        The next page's cursor, ``None`` at the end of the listing (an empty cursor too).
    items
        Number of offers on the page.
    signature
        First id, last id and count: the same for a page served twice; None when empty.
    """

    cursor: str | None
    items: int
    signature: tuple[str | None, str | None, int] | None
    _ids: Callable[[], list[str]]

    def ids(self) -> list[str]:
        """The ids of the page's offers (those that have one); only id batches ask."""
        return self._ids()


def read_list_page(body: bytes, *, label: str = "default") -> ListPage:
    """The cursor, item count and ids of a list page body.

    Parameters
    ----------
    body
        The raw body of a list endpoint (``GET /api/ats/v1/offers``).
    label
        The connector's label, for the error message.

    Raises
    ------
    ValueError
        The body is not (whole) JSON, or not UTF-8 (``UnicodeDecodeError``): the client's
        ``parse_body`` sorts these into "retry" and "never parses".
    RecursionError
        The body nests JSON deeper than Python's parser goes.
    SchemaError
        The body is JSON but not ``{"cursor", "items": [...]}``: retrying will not help.

    Examples
    --------
    >>> page = read_list_page(b'{"cursor":"c2","page_size":2,"items":[{"id":"a"},{"id":"b"}]}')
    >>> page.cursor, page.items, page.ids(), page.signature
    ('c2', 2, ['a', 'b'], ('a', 'b', 2))
    >>> read_list_page(b'{"cursor": "", "items": [{"status": "SENT"}]}').cursor is None
    True
    >>> read_list_page(b'{"cursor": null, "items": [{"id": "a"')  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    json.decoder.JSONDecodeError: ...
    """
    try:
        # msgspec skips the fields it does not keep without checking their UTF-8; invalid
        # UTF-8 anywhere must fail the same way as with the full reader.
        body.decode("utf-8")
        head = _DECODER.decode(body)
    except Exception:  # any doubt: the full reader decides, with its own errors
        slow = read_page_head(body, label=label)
        return ListPage(slow.cursor, slow.items, slow.signature(), slow.ids)
    items = head.items
    signature = (items[0].id, items[-1].id, len(items)) if items else None
    return ListPage(head.cursor or None, len(items), signature, lambda: _ids(items))


def _ids(items: list[_Item]) -> list[str]:
    return [item.id for item in items if item.id is not None]
