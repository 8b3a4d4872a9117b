"""Cursors are opaque to clients and cannot be forged, altered or moved to another query."""

from __future__ import annotations

import base64
import json

import pytest

from offer_analytics.sandbox._cursor import CursorCodec, InvalidCursor, query_fingerprint


def test_round_trip_and_binding() -> None:
    codec = CursorCodec(b"secret" * 6)
    fingerprint = query_fingerprint(["acme", None])
    token = codec.encode(1234, fingerprint)
    assert codec.decode(token, fingerprint) == 1234
    assert "1234" not in token  # opaque: nothing readable at a glance
    with pytest.raises(InvalidCursor):
        CursorCodec(b"other" * 6).decode(token, fingerprint)  # another server's cursor
    with pytest.raises(InvalidCursor):
        codec.decode(token, query_fingerprint(["globex", None]))


def test_every_single_character_change_is_rejected() -> None:
    codec = CursorCodec(b"k" * 32)
    token = codec.encode(7, "q")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    for i, char in enumerate(token):
        replacement = alphabet[(alphabet.index(char) + 1) % len(alphabet)]
        with pytest.raises(InvalidCursor):
            codec.decode(token[:i] + replacement + token[i + 1 :], "q")


def test_forged_payloads_are_rejected() -> None:
    codec = CursorCodec(b"k" * 32)
    payload = base64.urlsafe_b64encode(json.dumps({"p": 0, "q": "q"}).encode()).decode()
    for forged in (payload, f"{payload}.", f"{payload}.AAAA", "", "....", "%%%"):
        with pytest.raises(InvalidCursor):
            codec.decode(forged, "q")
