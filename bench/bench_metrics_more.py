"""Start-date metrics and the quality report on 10M rows, beside hand-written Polars and pandas.

The companion of ``bench_metrics_rates.py`` (same data, same timing and the same
targets: within 1.2x of a hand-written Polars query, at least 2x faster than pandas) for the
metrics it does not cover: ``start_date_distribution`` by month and by weekday,
``start_lead_times``, ``upcoming_starts`` and ``quality_report``. Each contender is checked to
give the same numbers before it is timed.

Run: ``uv run python bench/bench_metrics_more.py`` (defaults: 10M rows from 500k generated,
3 repeats; ``--only`` picks metrics by name). Prints medians of wall and CPU seconds and the
machine load before and after.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from bench_metrics_rates import build_frame, race
from polars.testing import assert_frame_equal

from offer_analytics.metrics import (
    quality_report,
    start_date_distribution,
    start_lead_times,
    upcoming_starts,
)

AS_OF = date(2026, 1, 1)  # inside the generated span: about a third of the starts are later
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ACCEPTED = pl.col("outcome") == "accepted"


# --- hand-written Polars ---------------------------------------------------------------------


def polars_months(df: pl.DataFrame) -> pl.DataFrame:
    counts = (
        df.lazy()
        .filter(ACCEPTED & pl.col("start_date").is_not_null())
        .group_by("connector", period=pl.col("start_date").dt.truncate("1mo"))
        .agg(n=pl.len().cast(pl.Int64))
        .collect()
    )
    first, last = counts.select(pl.col("period").min(), pl.col("period").max().alias("b")).row(0)
    months = pl.date_range(first, last, "1mo", eager=True).alias("period").to_frame()
    return (
        counts.select(pl.col("connector").unique())
        .join(months, how="cross")
        .join(counts, on=["connector", "period"], how="left")
        .with_columns(pl.col("n").fill_null(0))
        .with_columns(share=pl.col("n") / pl.col("n").sum().over("connector"))
        .sort("connector", "period")
    )


def polars_weekdays(df: pl.DataFrame) -> pl.DataFrame:
    counts = (
        df.lazy()
        .filter(ACCEPTED & pl.col("start_date").is_not_null())
        .group_by("connector", weekday=pl.col("start_date").dt.weekday())
        .agg(n=pl.len().cast(pl.Int64))
        .collect()
    )
    days = pl.DataFrame({"weekday": range(1, 8), "weekday_name": WEEKDAYS}).cast(
        {"weekday": pl.Int8}
    )
    return (
        counts.select(pl.col("connector").unique())
        .join(days, how="cross")
        .join(counts, on=["connector", "weekday"], how="left")
        .with_columns(pl.col("n").fill_null(0))
        .with_columns(share=pl.col("n") / pl.col("n").sum().over("connector"))
        .sort("connector", "weekday")
    )


def polars_lead_times(df: pl.DataFrame) -> pl.DataFrame:
    start = pl.col("start_date")
    midnight = start.cast(pl.Datetime("us", "UTC"))

    def days(col: str) -> pl.Expr:
        return (midnight - pl.col(col)).dt.total_microseconds() / 86_400_000_000.0

    return (
        df.lazy()
        .filter(
            (pl.col("outcome") != "superseded")
            & start.is_not_null()
            & (pl.col("sent_at").is_not_null() | (ACCEPTED & pl.col("closed_at").is_not_null()))
        )
        .select(
            "connector",
            "id",
            "outcome",
            "start_date",
            days_from_acceptance=pl.when(ACCEPTED).then(days("closed_at")),
            days_from_sent=days("sent_at"),
            negative=(ACCEPTED & (start < pl.col("closed_at").dt.date())).fill_null(False)
            | (start < pl.col("sent_at").dt.date()).fill_null(False),
        )
        .sort("start_date", "connector", "id")
        .collect()
    )


def polars_upcoming(df: pl.DataFrame) -> pl.DataFrame:
    return (
        df.lazy()
        .filter(ACCEPTED & (pl.col("start_date") >= AS_OF))
        .select(
            "connector",
            "id",
            "application",
            "start_date",
            days_until=(pl.col("start_date") - AS_OF).dt.total_days(),
        )
        .sort("start_date", "connector", "id")
        .collect()
    )


def polars_quality(df: pl.DataFrame) -> pl.DataFrame:
    """The row checks and their counts and first five ids, plus duplicates and unknown values."""
    checks = {
        "unknown_status": (pl.col("outcome") == "unknown") & pl.col("status").is_not_null(),
        "null_status": pl.col("status").is_null(),
        "closed_before_sent": pl.col("closed_at") < pl.col("sent_at"),
        "start_before_close": ACCEPTED & (pl.col("start_date") < pl.col("closed_at").dt.date()),
        "missing_application": pl.col("application").is_null(),
    }
    row = df.select(
        *(e.fill_null(False).sum().alias(f"{k}:n") for k, e in checks.items()),
        *(
            pl.col("id").filter(e.fill_null(False)).unique().sort().head(5).implode().alias(k)
            for k, e in checks.items()
        ),
    ).row(0, named=True)
    dup = (
        df.group_by("connector", "id")
        .len()
        .filter(pl.col("len") > 1)
        .select(pl.len(), pl.col("id").unique().sort().head(5).implode())
        .row(0)
    )
    values = (
        df.filter(checks["unknown_status"])
        .group_by("status")
        .len()
        .sort(["len", "status"], descending=[True, False])
        .rows()
    )
    found = {k: (row[f"{k}:n"], row[k]) for k in checks} | {"duplicate_id": dup}
    return pl.DataFrame(
        {
            "check": list(found),
            "n": [n for n, _ in found.values()],
            "example_ids": [ids for _, ids in found.values()],
            "values": [str(values) if k == "unknown_status" else "" for k in found],
        }
    )


# --- pandas ----------------------------------------------------------------------------------


def _accepted_starts(pdf: Any) -> Any:
    return pdf[(pdf["outcome"] == "accepted") & pdf["start_date"].notna()]


def _share(t: Any) -> Any:
    t["share"] = t["n"] / t.groupby("connector")["n"].transform("sum")
    return t


def pandas_months(pdf: Any) -> Any:
    d = _accepted_starts(pdf)
    month = d["start_date"].dt.to_period("M").dt.start_time.rename("period")
    counts = d.groupby([d["connector"], month]).size().rename("n")
    months = pd.date_range(month.min(), month.max(), freq="MS")
    index = pd.MultiIndex.from_product(
        [sorted(d["connector"].unique()), months], names=["connector", "period"]
    )
    return _share(counts.reindex(index, fill_value=0).reset_index())


def pandas_weekdays(pdf: Any) -> Any:
    d = _accepted_starts(pdf)
    weekday = (d["start_date"].dt.weekday + 1).rename("weekday")
    counts = d.groupby([d["connector"], weekday]).size().rename("n")
    index = pd.MultiIndex.from_product(
        [sorted(d["connector"].unique()), range(1, 8)], names=["connector", "weekday"]
    )
    t = counts.reindex(index, fill_value=0).reset_index()
    t["weekday_name"] = [WEEKDAYS[w - 1] for w in t["weekday"]]
    return _share(t)


def pandas_lead_times(pdf: Any) -> Any:
    accepted = pdf["outcome"] == "accepted"
    keep = (
        (pdf["outcome"] != "superseded")
        & pdf["start_date"].notna()
        & (pdf["sent_at"].notna() | (accepted & pdf["closed_at"].notna()))
    )
    d = pdf.loc[keep, ["connector", "id", "outcome", "start_date", "sent_at", "closed_at"]]
    acc = d["outcome"] == "accepted"
    start = d["start_date"].dt.tz_localize("UTC")
    day = pd.Timedelta(days=1)
    d["days_from_acceptance"] = ((start - d["closed_at"]) / day).where(acc)
    d["days_from_sent"] = (start - d["sent_at"]) / day
    closed_day = d["closed_at"].dt.floor("D").dt.tz_localize(None)
    sent_day = d["sent_at"].dt.floor("D").dt.tz_localize(None)
    d["negative"] = (acc & (d["start_date"] < closed_day)) | (d["start_date"] < sent_day)
    return d.sort_values(["start_date", "connector", "id"]).drop(columns=["sent_at", "closed_at"])


def pandas_upcoming(pdf: Any) -> Any:
    as_of = pd.Timestamp(AS_OF)
    d = pdf.loc[
        (pdf["outcome"] == "accepted") & (pdf["start_date"] >= as_of),
        ["connector", "id", "application", "start_date"],
    ]
    d["days_until"] = (d["start_date"] - as_of).dt.days
    return d.sort_values(["start_date", "connector", "id"])


def pandas_quality(pdf: Any) -> Any:
    accepted = pdf["outcome"] == "accepted"
    closed_day = pdf["closed_at"].dt.floor("D").dt.tz_localize(None)
    checks = {
        "unknown_status": (pdf["outcome"] == "unknown") & pdf["status"].notna(),
        "null_status": pdf["status"].isna(),
        "closed_before_sent": pdf["closed_at"] < pdf["sent_at"],
        "start_before_close": accepted & (pdf["start_date"] < closed_day),
        "missing_application": pdf["application"].isna(),
    }
    rows = [(k, int(m.sum()), sorted(pdf.loc[m, "id"].unique())[:5]) for k, m in checks.items()]
    dup = pdf.duplicated(["connector", "id"], keep=False)
    dup_ids = pdf.loc[dup, ["connector", "id"]].drop_duplicates()
    rows.append(("duplicate_id", len(dup_ids), sorted(dup_ids["id"].unique())[:5]))
    unknown = pdf.loc[checks["unknown_status"], "status"].value_counts()
    values = sorted(unknown.items(), key=lambda kv: (-kv[1], kv[0]))
    return pd.DataFrame(
        {
            "check": [r[0] for r in rows],
            "n": [r[1] for r in rows],
            "example_ids": [r[2] for r in rows],
            "values": [str(values) if r[0] == "unknown_status" else "" for r in rows],
        }
    )


# --- checks and timing -----------------------------------------------------------------------


def same_numbers(ours: pl.DataFrame, hand: pl.DataFrame, pdf_out: Any, numeric: list[str]) -> None:
    """Ours equals the hand query on every column; pandas equals ours on the numeric ones."""
    assert_frame_equal(ours.select(hand.columns), hand, check_dtypes=False)
    got = pdf_out.reset_index(drop=True)
    assert len(got) == ours.height, (len(got), ours.height)
    for column in numeric:
        left = ours[column].to_numpy().astype(float)
        right = np.asarray(got[column], dtype=float)
        assert np.allclose(left, right, equal_nan=True, atol=1e-9), column


def quality_same(ours: pl.DataFrame, hand: pl.DataFrame, pdf_out: Any) -> None:
    mine = ours.filter(~pl.col("check").str.starts_with("unparsed_"))
    by_check = {r["check"]: r for r in mine.iter_rows(named=True)}
    for row in hand.iter_rows(named=True):
        assert by_check[row["check"]]["n"] == row["n"], row["check"]
        assert by_check[row["check"]]["example_ids"] == row["example_ids"], row["check"]
    values = [(v["value"], v["n"]) for v in by_check["unknown_status"]["example_values"]]
    assert str(values) == hand.filter(check="unknown_status")["values"].item()
    for p_row, h_row in zip(pdf_out.itertuples(), hand.iter_rows(named=True), strict=True):
        assert (p_row.check, p_row.n, list(p_row.example_ids), p_row.values) == (
            h_row["check"],
            h_row["n"],
            h_row["example_ids"],
            h_row["values"],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--base", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", help="run only the metrics whose name contains this text")
    args = parser.parse_args()

    start = time.perf_counter()
    df = build_frame(args.rows, args.base)
    pdf = df.to_pandas()
    print(f"data: {df.height:,} rows built in {time.perf_counter() - start:.1f} s")
    unparsed: dict[str, list[str]] = {}
    cases: list[tuple[str, Callable[[], Any], Callable[[], Any], Callable[[], Any], list[str]]] = [
        (
            "start_date_distribution(freq=month, by=connector)",
            lambda: start_date_distribution(df, freq="month", by="connector"),
            lambda: polars_months(df),
            lambda: pandas_months(pdf),
            ["n", "share"],
        ),
        (
            "start_date_distribution(freq=weekday, by=connector)",
            lambda: start_date_distribution(df, freq="weekday", by="connector"),
            lambda: polars_weekdays(df),
            lambda: pandas_weekdays(pdf),
            ["weekday", "n", "share"],
        ),
        (
            "start_lead_times()",
            lambda: start_lead_times(df),
            lambda: polars_lead_times(df),
            lambda: pandas_lead_times(pdf),
            ["days_from_acceptance", "days_from_sent", "negative"],
        ),
        (
            "upcoming_starts(as_of=2026-01-01)",
            lambda: upcoming_starts(df, as_of=AS_OF),
            lambda: polars_upcoming(df),
            lambda: pandas_upcoming(pdf),
            ["days_until"],
        ),
        (
            "quality_report(unparsed_timestamps={})",
            lambda: quality_report(df, unparsed_timestamps=unparsed),
            lambda: polars_quality(df),
            lambda: pandas_quality(pdf),
            [],
        ),
    ]
    print(f"load before: {os.getloadavg()} ({os.cpu_count()} cores)")
    print(f"medians of {args.repeats} runs; wall s (CPU s); ratios on wall and CPU")
    print("metric | ours | hand polars | pandas | ours/polars | pandas/ours")
    for name, ours, hand, pandas_run, numeric in cases:
        if args.only and args.only not in name:
            continue
        if name.startswith("quality"):
            quality_same(ours(), hand(), pandas_run())
        else:
            same_numbers(ours(), hand(), pandas_run(), numeric)
        (w_ours, c_ours), (w_hand, c_hand), (w_pd, c_pd) = race(
            [ours, hand, pandas_run], args.repeats
        )
        print(
            f"{name} | {w_ours:.3f} ({c_ours:.3f}) | {w_hand:.3f} ({c_hand:.3f}) | "
            f"{w_pd:.2f} ({c_pd:.2f}) | {w_ours / w_hand:.2f}x ({c_ours / c_hand:.2f}x) | "
            f"{w_pd / w_ours:.1f}x ({c_pd / c_ours:.1f}x)",
            flush=True,
        )
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
