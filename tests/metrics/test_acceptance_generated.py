"""Acceptance rates cross-checked on 12,000 generator offers: statsmodels' Wilson bounds and a
row-by-row recount of the definition."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from statsmodels.stats.proportion import proportion_confint

from offer_analytics.decode import offers_to_frame
from offer_analytics.metrics._acceptance import acceptance_rates, status_counts
from offer_analytics.sandbox import generate_offers


@pytest.fixture(scope="module")
def generated() -> pl.DataFrame:
    # A pinned end: the same offers on every day the suite runs.
    return offers_to_frame(generate_offers(12_000, connectors=3, seed=7, end=date(2026, 10, 1)))


def test_wilson_bounds_equal_statsmodels_on_generator_data(generated: pl.DataFrame) -> None:
    assert generated.height >= 10_000
    for denominator in ("decided", "extended"):
        result = acceptance_rates(
            generated, by="connector", period="month", denominator=denominator
        ).filter(pl.col("n") > 0)
        assert result.height > 90  # 3 connectors x ~36 months
        low, high = proportion_confint(
            result["accepted"].to_numpy(), result["n"].to_numpy(), alpha=0.05, method="wilson"
        )
        assert max(abs(result["rate_lower"].to_numpy() - low)) < 1e-9
        assert max(abs(result["rate_upper"].to_numpy() - high)) < 1e-9


def test_counts_match_a_plain_python_recount_of_generator_data(generated: pl.DataFrame) -> None:
    # The definition re-implemented row by row: drop superseded, keep each application's row
    # with the greatest (remote_created_at, modified_at, sent_at, id), nulls smallest.
    def rank(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple((v is not None, v) for v in (row[c] for c in LATEST_ORDER))

    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in generated.iter_rows(named=True):
        if row["outcome"] == "superseded":
            continue
        key = (
            row["connector"],
            row["application"],
            row["id"] if row["application"] is None else None,
        )
        if key not in latest or rank(row) > rank(latest[key]):
            latest[key] = row
    expected: dict[str, list[int]] = {}
    for row in latest.values():
        counts = expected.setdefault(row["connector"], [0, 0, 0])
        for i, outcome in enumerate(("accepted", "declined", "pending")):
            counts[i] += row["outcome"] == outcome
    result = acceptance_rates(generated.lazy(), by="connector")
    got = {r[0]: list(r[1:]) for r in result.select("connector", *OUTCOMES3).rows()}
    assert got == expected


LATEST_ORDER = ("remote_created_at", "modified_at", "sent_at", "id")
OUTCOMES3 = ("accepted", "declined", "pending")


def test_results_do_not_depend_on_row_order(generated: pl.DataFrame) -> None:
    shuffled = generated.sample(fraction=1.0, shuffle=True, seed=11)
    assert_frame_equal(
        acceptance_rates(generated, by=["connector", "creator"], period="quarter"),
        acceptance_rates(shuffled, by=["connector", "creator"], period="quarter"),
    )
    assert_frame_equal(
        status_counts(generated, by="connector"), status_counts(shuffled, by="connector")
    )
