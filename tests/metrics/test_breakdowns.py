"""Breakdowns by department and recruiter: Wilson bounds, min_n, groups ranked by n."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import polars as pl
import pytest
from statsmodels.stats.proportion import proportion_confint

from offer_analytics import acceptance_rates, time_to_close
from offer_analytics.errors import SchemaError
from offer_analytics.metrics import pool_groups
from offer_analytics.metrics._pooling import OTHER, pooled_last

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


# --- pooling the long tail -----------------------------------------------------------------


def _pooled(values: Sequence[str | None], *, top: int, other: str = OTHER) -> list[str | None]:
    frame = pl.DataFrame({"department": values}, schema={"department": pl.String})
    return pool_groups(frame, "department", top=top, other=other).collect()["department"].to_list()


def test_pooling_keeps_the_largest_groups_by_rows_and_pools_the_rest() -> None:
    values = ["eng", "sales", "eng", "legal", "eng", "sales", "hr"]
    assert _pooled(values, top=2) == ["eng", "sales", "eng", "other", "eng", "sales", "other"]


def test_pooling_top_one_keeps_exactly_one_group() -> None:
    assert _pooled(["a", "b", "b"], top=1) == ["other", "b", "b"]


def test_pooling_top_below_one_is_refused() -> None:
    frame = pl.DataFrame({"department": ["a"]})
    with pytest.raises(ValueError, match="top must be at least 1; got 0"):
        pool_groups(frame, "department", top=0)


def test_pooling_a_missing_column_is_a_schema_error_naming_it() -> None:
    frame = pl.DataFrame({"department": ["a"]})
    with pytest.raises(SchemaError, match="'team'") as caught:
        pool_groups(frame, "team", top=1)
    assert caught.value.field == "team"


def test_pooling_ties_in_size_are_broken_by_the_value() -> None:
    # b and c both have two rows: the smaller value keeps its name, whatever the row order.
    assert _pooled(["c", "b", "c", "b", "a", "a", "a"], top=2) == [
        "other", "b", "other", "b", "a", "a", "a"
    ]  # fmt: skip


def test_pooling_leaves_nulls_null_and_never_counts_them_as_a_group() -> None:
    values = [None, None, None, "a", "b", "b"]
    assert _pooled(values, top=1) == [None, None, None, "other", "b", "b"]


def test_pooling_a_value_already_named_other_joins_the_pool() -> None:
    values = ["a", "a", "a", "b", "b", "other"]
    assert _pooled(values, top=2) == ["a", "a", "a", "b", "b", "other"]
    values = ["sales", "sales", "sales", "a", "a", "other", "b"]  # names on both sides of "other"
    assert _pooled(values, top=2) == ["sales", "sales", "sales", "a", "a", "other", "other"]
    assert _pooled(["a", "a", "b", "rest"], top=1, other="rest") == ["a", "a", "rest", "rest"]


def test_a_value_spelled_other_never_takes_a_named_groups_place() -> None:
    # "other" is the largest value here: top=2 still names the two largest real groups.
    values = ["other", "other", "other", "other", "a", "a", "a", "b", "b", "c"]
    assert _pooled(values, top=2) == [*["other"] * 4, "a", "a", "a", "b", "b", "other"]
    assert _pooled(["rest", "rest", "x", "y"], top=1, other="rest") == ["rest", "rest", "x", "rest"]


def test_pooling_rewrites_only_the_pooled_column() -> None:
    frame = pl.DataFrame({"department": ["a", "b", "a"], "n": [1, 2, 3]})
    pooled = pool_groups(frame.lazy(), "department", top=1).collect()
    assert pooled.rows() == [("a", 1), ("other", 2), ("a", 3)]


def test_pooled_rows_come_after_the_named_groups_and_before_the_null_group() -> None:
    ranked = pl.DataFrame({"team": [None, "other", "sales", "a"], "n": [9, 8, 7, 6]})
    assert pooled_last(ranked, "team").rows() == [("sales", 7), ("a", 6), ("other", 8), (None, 9)]
    custom = pl.DataFrame({"team": ["rest", None, "a"]})
    assert pooled_last(custom, "team", other="rest")["team"].to_list() == ["a", "rest", None]


def test_pooling_options_are_keyword_only() -> None:
    frame = pl.DataFrame({"department": ["a"]})
    with pytest.raises(TypeError):
        pool_groups(frame, "department", 1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        pooled_last(frame, "department", "rest")  # type: ignore[call-arg]
