"""Hand-built offers frames for the metric tests, with the exact dtypes of the offers frame."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
import pytest

from offer_analytics.schema import OFFER_SCHEMA

UTC_US = pl.Datetime("us", "UTC")
SCHEMA = OFFER_SCHEMA

_DEFAULT_STATUS = {
    "accepted": "SIGNED",
    "declined": "DENIED",
    "pending": "SENT",
    "draft": "DRAFT",
    "rescinded": "RESCINDED",
    "superseded": "DEPRECATED",
}

OffersFactory = Callable[[Sequence[Mapping[str, Any]]], pl.DataFrame]


def _value(column: str, value: Any) -> Any:
    # Strings keep the tables in the tests short: "2024-01-10" or "2024-01-10T09:30".
    if isinstance(value, str) and SCHEMA[column] == UTC_US:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if isinstance(value, str) and column == "start_date":
        return date.fromisoformat(value)
    return value


def build_offers(rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """Rows as dicts of the columns that matter; the rest are null (ids default to row numbers).

    ``status`` defaults to the usual raw status of the given outcome so rows stay realistic.
    """
    data: dict[str, list[Any]] = {name: [] for name in SCHEMA}
    for i, row in enumerate(rows):
        unknown = set(row) - set(SCHEMA)
        assert not unknown, unknown
        filled = {"connector": "default", "id": f"o{i}", **row}
        if "status" not in row:
            filled["status"] = _DEFAULT_STATUS.get(str(row.get("outcome")))
        for name in SCHEMA:
            data[name].append(_value(name, filled.get(name)))
    return pl.DataFrame(data, schema=SCHEMA)


@pytest.fixture
def offers() -> OffersFactory:
    return build_offers
