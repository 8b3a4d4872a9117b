"""Thinned curves and binned counts: what is drawn is exact rows and exact counts."""

from __future__ import annotations

import polars as pl

from offer_analytics.charts._shapes import bin_counts, thin


def test_thinning_keeps_exact_rows_and_the_ends_of_a_long_curve() -> None:
    times = [i / 997 for i in range(50_000)]
    curve = pl.DataFrame({"time_days": times, "survival": [1 - t / 60 for t in times]})
    thinned = thin(curve, max_points=500)
    assert thinned.height <= 502
    assert thinned.row(0) == curve.row(0)
    assert thinned.row(-1) == curve.row(-1)
    assert thinned.join(curve, on=["time_days", "survival"], how="anti").height == 0


def test_bins_count_every_value_once_including_negative_ones() -> None:
    values = pl.Series([-3.5, -0.2, 0.0, 0.9, 1.0, 13.0, None])
    bins = bin_counts(values, size=7.0)
    assert bins.lefts == [-7.0, 0.0, 7.0]
    assert bins.counts == [2, 3, 1]
    assert bins.labels()[0] == "-7 to 0 days"
