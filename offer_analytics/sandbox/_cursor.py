"""Opaque, signed pagination cursors.

A cursor names the position of the last offer a page returned (its index in creation order) and a
fingerprint of the query it belongs to, signed with the server's secret. Clients cannot build or
alter one: a changed byte, a cursor from another server or one replayed with different filters is
rejected, and the API answers 422 on ``["query", "cursor"]``.

Positions rather than offsets keep a listing stable while offers change: an offer updated or added
mid-listing does not shift the pages after the cursor.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence

__all__ = ["CursorCodec", "InvalidCursor", "query_fingerprint"]


class InvalidCursor(ValueError):
    """The cursor was not issued by this server for this query."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def query_fingerprint(parts: Sequence[object]) -> str:
    """A short stable digest of the parts of a query that define its result set.

    Examples
    --------
    >>> query_fingerprint(["acme", None, "r1"]) == query_fingerprint(["acme", None, "r1"])
    True
    >>> query_fingerprint(["acme"]) == query_fingerprint(["globex"])
    False
    """
    text = json.dumps(list(parts), separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class CursorCodec:
    """Encode and verify cursors with an HMAC key.

    Examples
    --------
    >>> codec = CursorCodec(b"k" * 32)
    >>> token = codec.encode(41, "f00d")
    >>> codec.decode(token, "f00d")
    41
    >>> codec.decode(token, "beef")
    Traceback (most recent call last):
    ...
    offer_analytics.sandbox._cursor.InvalidCursor: the cursor belongs to a different query
    >>> codec.decode(token[:-2] + "xx", "f00d")
    Traceback (most recent call last):
    ...
    offer_analytics.sandbox._cursor.InvalidCursor: the cursor is not one this server issued
    """

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    def encode(self, position: int, fingerprint: str) -> str:
        """Return the cursor for "after ``position``" in the query ``fingerprint``."""
        payload = json.dumps({"p": position, "q": fingerprint}, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def decode(self, cursor: str, fingerprint: str) -> int:
        """Return the position a cursor names, or raise :class:`InvalidCursor`."""
        try:
            head, _, tail = cursor.partition(".")
            payload, mac = _unb64(head), _unb64(tail)
        except (binascii.Error, ValueError):
            raise InvalidCursor("the cursor is not one this server issued") from None
        # base64 decoding ignores stray bits in the last character: insist on the exact text.
        if _b64(payload) != head or _b64(mac) != tail:
            raise InvalidCursor("the cursor is not one this server issued")
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidCursor("the cursor is not one this server issued")
        data = json.loads(payload)
        if data.get("q") != fingerprint:
            raise InvalidCursor("the cursor belongs to a different query")
        position = data.get("p")
        if not isinstance(position, int) or position < -1:
            raise InvalidCursor("the cursor is not one this server issued")
        return position
