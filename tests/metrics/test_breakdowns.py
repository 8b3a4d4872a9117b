"""Breakdowns by department and recruiter: Wilson bounds, min_n, groups ranked by n."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from statsmodels.stats.proportion import proportion_confint

from offer_analytics import acceptance_rates, time_to_close

AS_OF = datetime(2026, 10, 1, tzinfo=UTC)


def test_rates_by_department_equal_statsmodels_wilson(enriched_offers: pl.DataFrame) -> None:
    rates = acceptance_rates(enriched_offers, by="department").filter(pl.col("n") > 0)
    assert rates.height > 5
    low, high = proportion_confint(
        rates["accepted"].to_numpy(), rates["n"].to_numpy(), alpha=0.05, method="wilson"
    )
    assert max(abs(rates["rate_lower"].to_numpy() - low)) < 1e-9
    assert max(abs(rates["rate_upper"].to_numpy() - high)) < 1e-9


def test_min_n_blanks_exactly_the_small_groups(enriched_offers: pl.DataFrame) -> None:
    plain = acceptance_rates(enriched_offers, by="recruiter")
    sizes = sorted(plain["n"].to_list())
    min_n = sizes[len(sizes) // 2]  # half the recruiters fall below: very unequal volumes
    blanked = acceptance_rates(enriched_offers, by="recruiter", min_n=min_n)
    assert blanked.columns == [*plain.columns, "below_min_n"]
    small = blanked["n"] < min_n
    assert blanked["below_min_n"].to_list() == small.to_list()
    assert 0 < small.sum() < blanked.height
    kept = blanked.filter(~small)
    assert kept.drop("below_min_n").equals(plain.filter(~small))
    gone = blanked.filter(small)
    assert gone.select("rate", "rate_lower", "rate_upper").null_count().row(0) == (gone.height,) * 3
    assert gone["n"].to_list() == plain.filter(small)["n"].to_list()  # rows and n stay


def test_order_n_ranks_groups_largest_first_with_unknown_last(
    enriched_offers: pl.DataFrame,
) -> None:
    rates = acceptance_rates(enriched_offers, by="department", order="n")
    known = rates.filter(pl.col("department").is_not_null())
    assert known["n"].to_list() == sorted(known["n"].to_list(), reverse=True)
    assert rates["department"][-1] is None  # offers no job could be found for
    monthly = acceptance_rates(enriched_offers, by="department", period="month", order="n")
    firsts = monthly["department"].unique(maintain_order=True).to_list()
    assert firsts == rates["department"].to_list()
    assert monthly.filter(department=firsts[0])["period"].is_sorted()
    ttc = time_to_close(enriched_offers, by="recruiter", order="n", as_of=AS_OF)
    known_ttc = ttc.filter(pl.col("recruiter").is_not_null())
    assert known_ttc["n"].to_list() == sorted(known_ttc["n"].to_list(), reverse=True)
    assert ttc.sort("recruiter").equals(
        time_to_close(enriched_offers, by="recruiter", as_of=AS_OF).sort("recruiter")
    )


def test_bad_order_or_min_n_is_refused(enriched_offers: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="order"):
        acceptance_rates(enriched_offers, by="department", order="size")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="min_n"):
        acceptance_rates(enriched_offers, by="department", min_n=-1)
