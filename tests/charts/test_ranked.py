"""The ranked dot plot: groups by n, pooled tail, whiskers from the metric, small groups blank."""

from __future__ import annotations

import polars as pl

from offer_analytics import acceptance_rates
from offer_analytics.charts import ranked_rates_figure
from offer_analytics.metrics import pool_groups


def _rows(fig: object) -> list[str]:
    return list(reversed(fig.layout.yaxis.categoryarray))  # type: ignore[attr-defined]


def test_top_groups_by_n_then_other_then_unknown(enriched_offers: pl.DataFrame) -> None:
    fig = ranked_rates_figure(enriched_offers, by="department", top=5, min_n=1)
    rows = _rows(fig)
    assert len(rows) == 7
    assert rows[-2].startswith("other")
    assert rows[-1].startswith("(missing)")
    sizes = [int(r.rsplit("n = ", 1)[1].rstrip(")")) for r in rows[:5]]
    assert sizes == sorted(sizes, reverse=True)
    expected = acceptance_rates(
        pool_groups(enriched_offers, "department", top=5), by="department"
    ).filter(pl.col("department") == rows[0].split("  (")[0])
    dots = fig.data[0]
    i = list(dots.y).index(rows[0])
    assert abs(dots.x[i] - 100 * expected["rate"][0]) < 1e-9
    assert (
        abs(dots.error_x.array[i] - 100 * (expected["rate_upper"][0] - expected["rate"][0])) < 1e-9
    )


def test_groups_below_min_n_keep_a_row_without_a_dot(enriched_offers: pl.DataFrame) -> None:
    sizes = sorted(acceptance_rates(enriched_offers, by="recruiter")["n"].to_list())
    min_n = sizes[len(sizes) // 2]
    fig = ranked_rates_figure(enriched_offers, by="recruiter", top=None, min_n=min_n)
    dots, blanks = fig.data
    assert len(dots.y) > 0
    assert len(blanks.y) > 0
    assert all(int(y.rsplit("n = ", 1)[1].rstrip(")")) < min_n for y in blanks.y)
    assert f"fewer than {min_n} offers" in blanks.customdata[0]
    assert set(dots.y) | set(blanks.y) == set(_rows(fig))


def test_no_offers_say_no_data(enriched_offers: pl.DataFrame) -> None:
    fig = ranked_rates_figure(enriched_offers.head(0), by="department")
    assert fig.layout.annotations[0].text == "No data"
