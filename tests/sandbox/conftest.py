"""Shared sandbox fixtures: one running server for the read-only contract tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from offer_analytics.sandbox import SandboxServer

ClientFactory = Callable[..., httpx.Client]


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """A read-only server: tests must not mutate it (mutation tests start their own)."""
    with SandboxServer(n_offers=1_500, connectors=3, seed=5, rate_limit=1_000_000) as server:
        yield server


@pytest.fixture
def client_for() -> Iterator[ClientFactory]:
    """Make httpx clients authenticated as one connector; all are closed after the test."""
    made: list[httpx.Client] = []

    def make(server: SandboxServer, label: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {server.api_key}"}
        if label is not None:
            headers["x-connector-token"] = server.connector_tokens[label]
        client = httpx.Client(base_url=server.base_url, headers=headers, timeout=10, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def list_all(
    client: httpx.Client, params: dict[str, Any] | None = None, path: str = "/api/ats/v1/offers"
) -> list[dict[str, Any]]:
    """Follow cursors to the end of a listing (offers unless ``path`` says); fail on a loop."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        query = dict(params or {})
        if cursor is not None:
            query["cursor"] = cursor
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["cursor"]
        if cursor is None:
            return items
        assert cursor not in seen, "cursor repeated"
        seen.add(cursor)


@pytest.fixture(scope="session")
def listing() -> Callable[..., list[dict[str, Any]]]:
    """:func:`list_all`, as a fixture (test modules cannot import conftest)."""
    return list_all
