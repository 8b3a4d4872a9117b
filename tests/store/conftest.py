"""Shared helpers of the store tests: a small sandbox, its credentials, a fresh full load."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest

from offer_analytics import load_offers
from offer_analytics.sandbox import SandboxServer, generate_offers

#: Small pages make a full load cost many requests, so that an incremental one stands out.
PAGE_SIZE = 50


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """A sandbox of its own per test (tests change its offers); a budget that never binds."""
    data = generate_offers(800, connectors=2, seed=31)
    with SandboxServer(offers=data, rate_limit=100_000, rate_window_s=1.0) as running:
        yield running


def access(server: SandboxServer) -> dict[str, Any]:
    """The credentials and options every sync and load of a test uses."""
    return {
        "connectors": server.connector_tokens,
        "api_key": server.api_key,
        "base_url": server.base_url,
        "page_size": PAGE_SIZE,
    }


def full_load(server: SandboxServer) -> pl.DataFrame:
    """What the API holds now, loaded whole, in the order a dataset reads back."""
    frame, _ = load_offers(**access(server))
    return frame.sort("connector", "id")


def change_offers(server: SandboxServer, *, share: float, added: int, seed: int) -> int:
    """Change ``share`` of each connector's offers and add ``added`` new ones; return changes."""
    rng = random.Random(seed)
    changed = 0
    for label in server.labels:
        offers = server.offers(label)
        for offer in rng.sample(offers, round(len(offers) * share)):
            status = "SIGNED" if offer["status"] != "SIGNED" else "DENIED"
            server.update_offer(label, offer["id"], status=status)
            changed += 1
        fresh = generate_offers(added, seed=seed + len(label))["default"]
        server.add_offers(label, fresh)
        changed += added
    return changed
