"""Requests no client should send still get the answer a production gateway gives, never a 500
or a reset connection."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from offer_analytics.sandbox import SandboxServer


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("9" * 4_301, "less_than_equal"),
        ("-" + "9" * 5_000, "greater_than_equal"),
        ("0" * 5_000 + "7", None),
    ],
    ids=["huge", "hugely-negative", "zero-padded"],
)
def test_a_page_size_with_thousands_of_digits_is_a_422_not_a_500(
    sandbox: SandboxServer, client_for: Any, value: str, kind: str | None
) -> None:
    response = client_for(sandbox, "acme").get("/api/ats/v1/offers", params={"page_size": value})
    assert response.headers["content-type"] == "application/json"
    if kind is None:
        assert response.status_code == 200
        assert len(response.json()["items"]) == 7
    else:
        assert response.status_code == 422
        assert [e["type"] for e in response.json()["detail"]] == [kind]


def _raw_get(server: SandboxServer, target: str, headers: str = "") -> bytes:
    """Send a GET by hand (httpx refuses such URLs) and read the whole answer."""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        request = f"GET {target} HTTP/1.1\r\nHost: sandbox\r\nConnection: close\r\n{headers}\r\n"
        sock.sendall(request.encode())
        received = b""
        while chunk := sock.recv(65_536):
            received += chunk
        return received


@pytest.mark.parametrize("length", [20_000, 200_000, 3_000_000])
def test_a_url_of_any_length_gets_414_json(sandbox: SandboxServer, length: int) -> None:
    answer = _raw_get(sandbox, "/api/ats/v1/offers?remote_id=" + "x" * length)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414 ")
    assert "too long" in json.loads(body)["detail"]


def test_headers_too_large_get_431_json(sandbox: SandboxServer) -> None:
    answer = _raw_get(sandbox, "/api/ats/v1/offers", headers=f"X-Junk: {'y' * 300_000}\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ")
    assert "too long" in json.loads(body)["detail"]
