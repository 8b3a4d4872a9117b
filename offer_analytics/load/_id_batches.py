"""Packing offer ids into list requests whose URL stays under a safe length.

Fetching one offer per request moves 200 offers a minute per connector; the list endpoint's ``ids``
filter moves a page of them per request. Gateways and proxies reject long URLs (often at 8 KB), so
each batch is packed greedily up to a bound on the *whole* URL, ids encoded as they will be sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Final

import httpx

__all__ = ["MAX_URL_LENGTH", "batch_ids", "unique_ids"]

#: Longest URL sent, scheme and host included: under the 8 KB many proxies and gateways accept.
MAX_URL_LENGTH: Final = 6_000


def unique_ids(ids: Iterable[str]) -> list[str]:
    """Ids in first-seen order without repeats or blanks.

    Examples
    --------
    >>> unique_ids(["b", "a", "b", " ", "c"])
    ['b', 'a', 'c']
    """
    return list(dict.fromkeys(i.strip() for i in ids if isinstance(i, str) and i.strip()))


#: Characters a query value carries unencoded (RFC 3986 unreserved): uuids, most ATS ids.
_UNRESERVED: Final = re.compile(r"[A-Za-z0-9._~-]*")


def _encoded_length(value: str) -> int:
    if _UNRESERVED.fullmatch(value):
        return len(value)  # the fast path: httpx's encoder costs ~10 µs per id
    return len(str(httpx.QueryParams({"x": value}))) - 2


def batch_ids(
    ids: Sequence[str],
    *,
    url_length: Callable[[Mapping[str, str]], int],
    params: Mapping[str, str],
    max_ids: int,
    max_url_length: int = MAX_URL_LENGTH,
) -> Iterator[list[str]]:
    """Split ids into batches for the ``ids`` filter, each URL at most ``max_url_length`` long.

    Parameters
    ----------
    ids
        Distinct ids, in the order to fetch them.
    url_length
        Length of the full URL for given query parameters (the client knows its base URL).
    params
        The other query parameters of every batch request.
    max_ids
        At most this many ids per batch (the page size, so that one batch is one page).
    max_url_length
        Bound on the whole URL.

    Examples
    --------
    >>> import httpx
    >>> def length(params):
    ...     return len(str(httpx.URL("https://h.io/offers", params=dict(params))))
    >>> [len(b) for b in batch_ids([f"id-{i:03}" for i in range(10)], url_length=length,
    ...                            params={}, max_ids=4)]
    [4, 4, 2]
    >>> [len(b) for b in batch_ids([f"id-{i:03}" for i in range(10)], url_length=length,
    ...                            params={}, max_ids=200, max_url_length=50)]
    [3, 3, 3, 1]
    """
    separator = _encoded_length(",")
    fixed = url_length({**params, "ids": ""})
    batch: list[str] = []
    length = fixed
    for offer_id in ids:
        cost = _encoded_length(offer_id) + (separator if batch else 0)
        if batch and (len(batch) >= max_ids or length + cost > max_url_length):
            yield batch
            batch, length = [], fixed
            cost = _encoded_length(offer_id)
        if fixed + cost > max_url_length:
            raise ValueError("An offer id is too long to fit in any request URL.")
        batch.append(offer_id)
        length += cost
    if batch:
        yield batch
