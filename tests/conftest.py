"""Fixtures shared across test packages."""

from __future__ import annotations

import json

import polars as pl
import pytest

from offer_analytics import RelatedTables, enrich_offers, offers_to_frame
from offer_analytics.enrich import RESOURCES, decode_related
from offer_analytics.sandbox import generate_offers, generate_related


def enriched_generated(n: int, *, connectors: int, seed: int) -> pl.DataFrame:
    """Generator offers enriched with the generator's related objects, without a server."""
    offers = generate_offers(n, connectors=connectors, seed=seed)
    related = generate_related(offers, seed=seed)
    tables = {
        resource: pl.concat(
            decode_related(
                resource,
                [json.dumps({"cursor": None, "items": data.table(resource)}).encode()],
                connector=label,
            )
            for label, data in related.items()
        )
        for resource in RESOURCES
    }
    return enrich_offers(offers_to_frame(offers), RelatedTables(**tables))


@pytest.fixture(scope="session")
def enriched_offers() -> pl.DataFrame:
    """12,000 enriched generator offers over 3 connectors."""
    return enriched_generated(12_000, connectors=3, seed=7)
