"""Rate metrics on 10M rows, side by side with a hand-written Polars query and with pandas.

Targets: each metric within 1.2x of a hand-written Polars query that produces the same
numbers, and at least 2x faster than what a pandas user would write. All three run side by side in
one process on the same data; each is checked to give the same numbers before it is timed.

Data: ``--base`` offers from the sandbox generator (3 connectors, seed 0, realistic mix of
versions, statuses and nulls) decoded once with ``offers_to_frame``, then tiled ``--rows / --base``
times with the tile number appended to ``id`` and ``application`` so every copy is a distinct
offer of a distinct application (periods, statuses and version structure repeat).

Run: ``uv run python bench/bench_metrics_rates.py`` (defaults: 10M rows from 500k generated,
5 repeats; about 10 minutes on 2 cores, ~8 GB peak with the pandas copy). Contenders run
round-robin within each repeat; prints median wall and CPU seconds and the machine load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from polars.testing import assert_frame_equal

from offer_analytics.decode import offers_to_frame
from offer_analytics.metrics import acceptance_rates, start_date_distribution, status_counts
from offer_analytics.sandbox import generate_offers

Z = 1.959963984540054
ORDER = ["remote_created_at", "modified_at", "sent_at", "id"]


def build_frame(rows: int, base: int) -> pl.DataFrame:
    """``base`` generator offers decoded once, tiled to ``rows`` rows with shifted ids."""
    seed = offers_to_frame(generate_offers(base, connectors=3, seed=0))
    tiles = -(-rows // base)
    frame = pl.concat(
        [
            seed.with_columns(pl.col("id") + f"-{k}", pl.col("application") + f"-{k}")
            for k in range(tiles)
        ],
        rechunk=True,
    )
    return frame.head(rows)


# --- hand-written Polars: the same numbers, written directly for this one question ---------


def polars_acceptance(df: pl.DataFrame) -> pl.DataFrame:
    key = ["connector", "application", "solo"]
    o = pl.col("outcome")
    # The final offer: the latest version that was extended (drafts/unknown never hide it).
    latest = (
        df.lazy()
        .select("connector", "application", "outcome", *ORDER)
        .filter(
            o.is_in(["accepted", "declined", "pending"])
            | ((o == "rescinded") & pl.col("sent_at").is_not_null())
        )
        .with_columns(solo=pl.when(pl.col("application").is_null()).then(pl.col("id")))
        .group_by(key)
        .agg(pl.col("outcome", "sent_at").sort_by(ORDER).last())
    )
    counts = (
        latest.group_by("connector", period=pl.col("sent_at").dt.date().dt.truncate("1mo"))
        .agg(
            accepted=(o == "accepted").sum().cast(pl.Int64),
            declined=(o == "declined").sum().cast(pl.Int64),
            pending=(o == "pending").sum().cast(pl.Int64),
            rescinded=(o == "rescinded").sum().cast(pl.Int64),
        )
        .drop_nulls("period")
        .collect()
    )
    first, last = counts.select(
        pl.col("period").min().alias("a"), pl.col("period").max().alias("b")
    ).row(0)
    months = pl.date_range(first, last, "1mo", eager=True)
    grid = df.select(pl.col("connector").unique()).join(
        months.alias("period").to_frame(), how="cross"
    )
    n = pl.col("accepted") + pl.col("declined")
    p = pl.col("accepted") / pl.col("n")
    centre = (p + Z**2 / (2 * pl.col("n"))) / (1 + Z**2 / pl.col("n"))
    half = Z * (p * (1 - p) / pl.col("n") + Z**2 / (4 * pl.col("n") ** 2)).sqrt()
    half = half / (1 + Z**2 / pl.col("n"))
    return (
        grid.join(counts, on=["connector", "period"], how="left")
        .fill_null(0)
        .with_columns(n=n)
        .with_columns(
            rate=pl.when(pl.col("n") > 0).then(p),
            rate_lower=pl.when(pl.col("n") > 0).then((centre - half).clip(0, 1)),
            rate_upper=pl.when(pl.col("n") > 0).then((centre + half).clip(0, 1)),
        )
        .sort("connector", "period")
    )


def polars_status(df: pl.DataFrame) -> pl.DataFrame:
    return (
        df.lazy()
        .group_by("connector", "status", "outcome")
        .agg(n=pl.len().cast(pl.Int64))
        .with_columns(share=pl.col("n") / pl.col("n").sum().over("connector"))
        .sort("connector", "outcome", "status", nulls_last=True)
        .collect()
    )


def polars_starts(df: pl.DataFrame) -> pl.DataFrame:
    counts = (
        df.lazy()
        .filter((pl.col("outcome") == "accepted") & pl.col("start_date").is_not_null())
        .group_by("connector", period=pl.col("start_date").dt.truncate("1w"))
        .agg(n=pl.len().cast(pl.Int64))
        .collect()
    )
    first, last = counts.select(
        pl.col("period").min().alias("a"), pl.col("period").max().alias("b")
    ).row(0)
    weeks = pl.date_range(first, last, "1w", eager=True)
    grid = counts.select(pl.col("connector").unique()).join(
        weeks.alias("period").to_frame(), how="cross"
    )
    return (
        grid.join(counts, on=["connector", "period"], how="left")
        .with_columns(pl.col("n").fill_null(0))
        .with_columns(share=pl.col("n") / pl.col("n").sum().over("connector"))
        .sort("connector", "period")
    )


# --- pandas: what a pandas user would write ------------------------------------------------


def pandas_acceptance(pdf: Any) -> Any:
    extended = pdf["outcome"].isin(["accepted", "declined", "pending"]) | (
        (pdf["outcome"] == "rescinded") & pdf["sent_at"].notna()
    )
    d = pdf[extended].copy()
    d["app"] = d["application"].fillna("offer:" + d["id"])
    d = d.sort_values(ORDER, na_position="first").drop_duplicates(["connector", "app"], keep="last")
    d = d[d["sent_at"].notna()]
    d["period"] = d["sent_at"].dt.tz_localize(None).dt.to_period("M").dt.start_time
    counts = (
        d.groupby(["connector", "period", "outcome"], observed=True).size().unstack(fill_value=0)
    )
    months = pd.date_range(counts.index.get_level_values(1).min(), d["period"].max(), freq="MS")
    index = pd.MultiIndex.from_product(
        [sorted(pdf["connector"].unique()), months], names=["connector", "period"]
    )
    t = counts.reindex(index, fill_value=0)
    for column in ("accepted", "declined", "pending", "rescinded"):
        if column not in t:
            t[column] = 0
    t["n"] = t["accepted"] + t["declined"]
    n = t["n"].where(t["n"] > 0).astype(float)
    p = t["accepted"] / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * np.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    t["rate"], t["rate_lower"], t["rate_upper"] = p, centre - half, centre + half
    return t.reset_index()


def pandas_status(pdf: Any) -> Any:
    counts = (
        pdf.groupby(["connector", "status", "outcome"], dropna=False, observed=True)
        .size()
        .rename("n")
        .reset_index()
    )
    counts["share"] = counts["n"] / counts.groupby("connector")["n"].transform("sum")
    return counts.sort_values(["connector", "outcome", "status"], na_position="last")


def pandas_starts(pdf: Any) -> Any:
    d = pdf[(pdf["outcome"] == "accepted") & pdf["start_date"].notna()]
    week = d["start_date"] - pd.to_timedelta(d["start_date"].dt.weekday, unit="D")
    counts = d.groupby([d["connector"], week.rename("period")]).size().rename("n")
    weeks = pd.date_range(week.min(), week.max(), freq="7D")
    index = pd.MultiIndex.from_product(
        [sorted(d["connector"].unique()), weeks], names=["connector", "period"]
    )
    t = counts.reindex(index, fill_value=0).reset_index()
    t["share"] = t["n"] / t.groupby("connector")["n"].transform("sum")
    return t


# --- timing ----------------------------------------------------------------------------------


def race(contenders: list[Callable[[], object]], repeats: int) -> list[tuple[float, float]]:
    """Median (wall, CPU) seconds of each contender, run round-robin within every repeat.

    Round-robin spreads the load from other processes over all contenders; CPU time (this
    process, all threads) is the steadier measure on a shared machine.
    """
    walls: list[list[float]] = [[] for _ in contenders]
    cpus: list[list[float]] = [[] for _ in contenders]
    for _ in range(repeats):
        for i, run in enumerate(contenders):
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            cpus[i].append(time.process_time() - cpu)
            walls[i].append(time.perf_counter() - wall)
    return [(statistics.median(w), statistics.median(c)) for w, c in zip(walls, cpus, strict=True)]


def check_same(ours: pl.DataFrame, hand: pl.DataFrame, pandas_out: Any, columns: list[str]) -> None:
    """The three implementations must agree before their times mean anything."""
    assert_frame_equal(ours.select(columns), hand.select(columns), check_dtypes=False)
    from_pandas = pl.from_pandas(pandas_out[columns].reset_index(drop=True))
    for column in columns:
        if column in ("period", "connector", "status", "outcome"):
            continue  # labels differ in type (Timestamp vs Date, Categorical vs Enum)
        left, right = ours[column].to_numpy(), from_pandas[column].to_numpy()
        assert np.allclose(left.astype(float), right.astype(float), equal_nan=True, atol=1e-12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--base", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", help="run only the metrics whose name contains this text")
    args = parser.parse_args()

    start = time.perf_counter()
    df = build_frame(args.rows, args.base)
    # Default conversion: NumPy-backed columns, object strings, Categorical outcome — what
    # pd.read_parquet or DataFrame.to_pandas() hands a pandas user.
    pdf = df.to_pandas()
    print(f"data: {df.height:,} rows built in {time.perf_counter() - start:.1f} s")

    cases: list[tuple[str, Callable[[], Any], Callable[[], Any], Callable[[], Any], list[str]]] = [
        (
            "acceptance_rates(by=connector, period=month)",
            lambda: acceptance_rates(df, by="connector", period="month"),
            lambda: polars_acceptance(df),
            lambda: pandas_acceptance(pdf),
            [
                "connector",
                "period",
                "accepted",
                "declined",
                "pending",
                "rescinded",
                "n",
                "rate",
                "rate_lower",
                "rate_upper",
            ],
        ),
        (
            "status_counts(by=connector)",
            lambda: status_counts(df, by="connector"),
            lambda: polars_status(df),
            lambda: pandas_status(pdf),
            ["connector", "status", "outcome", "n", "share"],
        ),
        (
            "start_date_distribution(freq=week, by=connector)",
            lambda: start_date_distribution(df, freq="week", by="connector"),
            lambda: polars_starts(df),
            lambda: pandas_starts(pdf),
            ["connector", "period", "n", "share"],
        ),
    ]
    print(f"load before: {os.getloadavg()[0]:.2f} (1-min average, {os.cpu_count()} cores)")
    print(f"medians of {args.repeats} runs; wall s (CPU s); ratios on wall and CPU")
    header = ["metric", "ours", "hand polars", "pandas", "ours/polars", "pandas/ours"]
    print(" | ".join(header))
    for name, ours, hand, pandas_run, columns in cases:
        if args.only and args.only not in name:
            continue
        check_same(ours(), hand(), pandas_run(), columns)
        (w_ours, c_ours), (w_hand, c_hand), (w_pd, c_pd) = race(
            [ours, hand, pandas_run], args.repeats
        )
        print(
            f"{name} | {w_ours:.3f} ({c_ours:.3f}) | {w_hand:.3f} ({c_hand:.3f}) | "
            f"{w_pd:.2f} ({c_pd:.2f}) | {w_ours / w_hand:.2f}x ({c_ours / c_hand:.2f}x) | "
            f"{w_pd / w_ours:.1f}x ({c_pd / c_ours:.1f}x)",
            flush=True,
        )
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
