"""time_to_close, survival_curve, cumulative_incidence on 10M offers vs Polars by hand and pandas.

Run: ``uv run python bench/bench_metrics_survival.py [--rows 10000000] [--repeats 5]``.

Data: the four columns the metrics read (plus ``connector``), synthesised directly with NumPy with
the generator's distributions: sent over three years, log-normal close delay with a
median of ~3 days, ~80% of decided offers accepted, 6% drafts, 6% superseded, 2% never close,
0.3% closed before sent, three connectors. The generator itself builds API-shaped dicts and
strings (its job is realism, not bulk), so it is not what is timed or used here.

Each round runs every candidate once, in turn, on the same in-memory data; the figure is the
median over rounds (side by side in one run). The candidates must produce the same
numbers: the script checks them against ours before timing. Targets: within 1.2x of the
hand-written Polars query, at least 2x faster than pandas.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from offer_analytics import cumulative_incidence, survival_curve, time_to_close

OUTCOMES = ["accepted", "declined", "pending", "draft", "rescinded", "superseded", "unknown"]
AS_OF = datetime(2026, 10, 1, tzinfo=UTC)
US_PER_DAY = 86_400_000_000
Z = 1.959963984540054


def synthesise(n: int, *, seed: int = 0) -> pl.DataFrame:
    """``n`` offers with the generator's distributions, built column-wise with NumPy."""
    rng = np.random.default_rng(seed)
    end = int(AS_OF.timestamp() * 1_000_000)
    sent = end - (rng.random(n) * 3 * 365.25 * US_PER_DAY).astype(np.int64)
    closed = sent + (rng.lognormal(np.log(3.0), 0.9, n) * US_PER_DAY).astype(np.int64)
    u = rng.random(n)
    accepted = rng.random(n) < 0.8
    code = np.where(u < 0.06, 3, np.where(u < 0.12, 5, np.where(accepted, 0, 1)))
    still_open = (closed > end) | (rng.random(n) < 0.02)
    code = np.where(still_open & (code < 2), 2, code)
    closed = np.where(rng.random(n) < 0.003, sent - US_PER_DAY // 2, closed)
    return (
        pl.DataFrame(
            {
                "connector": np.array(["acme", "globex", "initech"])[rng.integers(0, 3, n)],
                "outcome": np.array(OUTCOMES)[code],
                "sent_at": sent,
                "closed_at": closed,
                "draft": code == 3,
                "open": still_open,
            }
        )
        .select(
            "connector",
            pl.col("outcome").cast(pl.Enum(OUTCOMES)),
            pl.when(~pl.col("draft")).then("sent_at").cast(pl.Datetime("us", "UTC")),
            pl.when(~pl.col("open") & ~pl.col("draft"))
            .then("closed_at")
            .cast(pl.Datetime("us", "UTC")),
        )
        .rechunk()
    )


# --- the hand-written Polars query: what a Polars user writes for exactly these numbers ---------


def polars_observations(df: pl.DataFrame, *, outcome: bool = False) -> pl.LazyFrame:
    at = pl.lit(AS_OF, dtype=pl.Datetime("us", "UTC"))
    closed = pl.col("closed_at").is_not_null() & (pl.col("closed_at") <= at)
    end = pl.when(closed).then(pl.col("closed_at")).otherwise(at)
    return (
        df.lazy()
        .filter(
            pl.col("sent_at").is_not_null()
            & (pl.col("sent_at") <= at)
            & ~pl.col("outcome").is_in(["superseded", "draft"])
        )
        .select(
            "connector",
            *(["outcome"] if outcome else []),
            closed.alias("closed"),
            ((end - pl.col("sent_at")).dt.total_microseconds() / US_PER_DAY).alias("t"),
        )
    )


def polars_curve(obs: pl.LazyFrame) -> pl.LazyFrame:
    valid = obs.filter(pl.col("t") >= 0)
    per_time = valid.group_by("connector", "t").agg(
        removed=pl.len().cast(pl.Int64), events=pl.col("closed").sum().cast(pl.Int64)
    )
    zeros = (
        valid.select("connector")
        .unique()
        .with_columns(t=pl.lit(0.0), removed=pl.lit(0, pl.Int64), events=pl.lit(0, pl.Int64))
    )
    n = pl.col("at_risk").cast(pl.Float64)
    d = pl.col("events").cast(pl.Float64)
    v = pl.col("log_s")
    spread = Z * pl.col("var").sqrt() / v
    return (
        pl.concat([per_time, zeros])
        .group_by("connector", "t")
        .agg(pl.col("removed", "events").sum())
        .sort("connector", "t")
        .with_columns(at_risk=pl.col("removed").cum_sum(reverse=True).over("connector"))
        .with_columns(
            log_s=((n - d).log() - n.log()).cum_sum().over("connector"),
            var=pl.when(n > d).then(d / (n * (n - d))).otherwise(0.0).cum_sum().over("connector"),
        )
        .with_columns(
            survival=v.exp(),
            lower=pl.when(v == 0).then(1.0).otherwise((-((-v).log() - spread).exp()).exp()),
            upper=pl.when(v == 0).then(1.0).otherwise((-((-v).log() + spread).exp()).exp()),
            censored=pl.col("removed") - pl.col("events"),
        )
    )


def polars_curve_query(df: pl.DataFrame) -> pl.DataFrame:
    return polars_curve(polars_observations(df)).collect()


def polars_time_to_close_query(df: pl.DataFrame) -> pl.DataFrame:
    obs = polars_observations(df)
    ok = pl.col("t") >= 0
    done = pl.col("t").filter(ok & pl.col("closed"))
    counts = obs.group_by("connector").agg(
        n=pl.len(),
        n_closed=(ok & pl.col("closed")).sum(),
        n_open=(ok & ~pl.col("closed")).sum(),
        n_invalid=(~ok).sum(),
        closed_mean_days=done.mean(),
        closed_median_days=done.median(),
        closed_p25_days=done.quantile(0.25, interpolation="linear"),
        closed_p75_days=done.quantile(0.75, interpolation="linear"),
        closed_p90_days=done.quantile(0.90, interpolation="linear"),
    )
    medians = (
        polars_curve(obs)
        .group_by("connector")
        .agg(
            km_median_days=pl.col("t").filter(pl.col("survival") <= 0.5).min(),
            km_median_lower=pl.col("t").filter(pl.col("lower") <= 0.5).min(),
            km_median_upper=pl.col("t").filter(pl.col("upper") <= 0.5).min(),
        )
    )
    return counts.join(medians, on="connector", how="left").sort("connector").collect()


def polars_cif_query(df: pl.DataFrame) -> pl.DataFrame:
    """Aalen-Johansen as the textbook writes it: per group and distinct time, n at risk, d closes
    of any cause and d_k of each cause; S(t-) = shifted cum_prod(1 - d/n); CIF_k = cum_sum(S(t-)
    d_k / n). Closes that are neither accepted nor declined are the competing cause "other"."""
    valid = polars_observations(df, outcome=True).filter(pl.col("t") >= 0)
    closed = pl.col("closed")
    per_time = valid.group_by("connector", "t").agg(
        removed=pl.len().cast(pl.Int64),
        events=closed.sum().cast(pl.Int64),
        accepted=(closed & (pl.col("outcome") == "accepted")).sum().cast(pl.Int64),
        declined=(closed & (pl.col("outcome") == "declined")).sum().cast(pl.Int64),
    )
    zero = pl.lit(0, pl.Int64)
    zeros = (
        valid.select("connector")
        .unique()
        .with_columns(t=pl.lit(0.0), removed=zero, events=zero, accepted=zero, declined=zero)
    )
    n = pl.col("at_risk").cast(pl.Float64)
    s_before = pl.col("s_before")
    return (
        pl.concat([per_time, zeros])
        .group_by("connector", "t")
        .agg(pl.col("removed", "events", "accepted", "declined").sum())
        .sort("connector", "t")
        .with_columns(at_risk=pl.col("removed").cum_sum(reverse=True).over("connector"))
        .with_columns(
            s_before=(1 - pl.col("events") / n)
            .cum_prod()
            .shift(1, fill_value=1.0)
            .over("connector")
        )
        .with_columns(
            cif_accepted=(s_before * pl.col("accepted") / n).cum_sum().over("connector"),
            cif_declined=(s_before * pl.col("declined") / n).cum_sum().over("connector"),
            censored=pl.col("removed") - pl.col("events"),
        )
        .collect()
    )


# --- the pandas equivalent: what a pandas user writes --------------------------------------------


def pandas_observations(pdf: Any, *, outcome: bool = False) -> Any:
    as_of = pd.Timestamp(AS_OF)
    sent = pdf["sent_at"]
    keep = sent.notna() & (sent <= as_of) & ~pdf["outcome"].isin(["superseded", "draft"])
    d = pdf[keep]
    closed = d["closed_at"].notna() & (d["closed_at"] <= as_of)
    end = d["closed_at"].where(closed, as_of)
    t = (end - d["sent_at"]) / pd.Timedelta(days=1)
    columns = {"connector": d["connector"], "closed": closed, "t": t}
    if outcome:
        columns["outcome"] = d["outcome"]
    return pd.DataFrame(columns)


def pandas_curve(obs: Any) -> Any:
    valid = obs[obs["t"] >= 0]
    table = valid.groupby(["connector", "t"]).agg(
        removed=("closed", "size"), events=("closed", "sum")
    )
    zeros = pd.DataFrame(
        {"connector": valid["connector"].unique(), "t": 0.0, "removed": 0, "events": 0}
    ).set_index(["connector", "t"])
    table = pd.concat([table, zeros]).groupby(level=[0, 1]).sum().sort_index().reset_index()
    by = table.groupby("connector")
    table["at_risk"] = by["removed"].transform(lambda s: s[::-1].cumsum()[::-1])
    n, d = table["at_risk"].astype(float), table["events"].astype(float)
    table["survival"] = (1 - d / n).groupby(table["connector"]).cumprod()
    step = (d / (n * (n - d))).where(n > d, 0.0)
    var = step.groupby(table["connector"]).cumsum()
    v = np.log(table["survival"])
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = Z * np.sqrt(var) / v
        table["lower"] = np.exp(-np.exp(np.log(-v) - spread)).where(v != 0, 1.0)
        table["upper"] = np.exp(-np.exp(np.log(-v) + spread)).where(v != 0, 1.0)
    table["censored"] = table["removed"] - table["events"]
    return table


def pandas_cif(pdf: Any) -> Any:
    """The same numbers with groupby + cumsum/cumprod, vectorised (no loop over rows or times)."""
    obs = pandas_observations(pdf, outcome=True)
    valid = obs[obs["t"] >= 0]
    valid = valid.assign(
        accepted=valid["closed"] & (valid["outcome"] == "accepted"),
        declined=valid["closed"] & (valid["outcome"] == "declined"),
    )
    table = valid.groupby(["connector", "t"]).agg(
        removed=("closed", "size"),
        events=("closed", "sum"),
        accepted=("accepted", "sum"),
        declined=("declined", "sum"),
    )
    zeros = pd.DataFrame(
        {
            "connector": valid["connector"].unique(),
            "t": 0.0,
            "removed": 0,
            "events": 0,
            "accepted": 0,
            "declined": 0,
        }
    ).set_index(["connector", "t"])
    table = pd.concat([table, zeros]).groupby(level=[0, 1]).sum().sort_index().reset_index()
    group = table["connector"]
    table["at_risk"] = table.groupby("connector")["removed"].transform(
        lambda s: s[::-1].cumsum()[::-1]
    )
    n = table["at_risk"].astype(float)
    survival = (1 - table["events"] / n).groupby(group).cumprod()
    s_before = survival.groupby(group).shift(1, fill_value=1.0)
    for cause in ("accepted", "declined"):
        table[f"cif_{cause}"] = (s_before * table[cause] / n).groupby(group).cumsum()
    table["censored"] = table["removed"] - table["events"]
    return table


def pandas_time_to_close(pdf: Any) -> Any:
    obs = pandas_observations(pdf)
    ok = obs["t"] >= 0
    obs = obs.assign(valid_closed=ok & obs["closed"], open=ok & ~obs["closed"], invalid=~ok)
    counts = obs.groupby("connector").agg(
        n=("t", "size"),
        n_closed=("valid_closed", "sum"),
        n_open=("open", "sum"),
        n_invalid=("invalid", "sum"),
    )
    done = obs[obs["valid_closed"]].groupby("connector")["t"]
    stats = pd.DataFrame(
        {
            "closed_mean_days": done.mean(),
            "closed_median_days": done.median(),
            "closed_p25_days": done.quantile(0.25),
            "closed_p75_days": done.quantile(0.75),
            "closed_p90_days": done.quantile(0.90),
        }
    )
    curve = pandas_curve(obs)
    medians = pd.DataFrame(
        {
            f"km_median{suffix}": curve[curve[column] <= 0.5].groupby("connector")["t"].min()
            for suffix, column in [("_days", "survival"), ("_lower", "lower"), ("_upper", "upper")]
        }
    )
    return counts.join(medians).join(stats).reset_index()


# --- running ---------------------------------------------------------------------------------


def same_numbers(
    ours: pl.DataFrame, theirs: Any, columns: list[str], renames: dict[str, str]
) -> float:
    """Largest absolute difference over ``columns`` (ours' names; theirs renamed by ``renames``)."""
    other = theirs if isinstance(theirs, pl.DataFrame) else pl.from_pandas(theirs)
    other = other.rename({k: v for k, v in renames.items() if k in other.columns})
    assert other.height == ours.height, (other.height, ours.height)
    worst = 0.0
    for column in columns:
        a = ours[column].cast(pl.Float64).to_numpy()
        b = other[column].cast(pl.Float64).to_numpy()
        assert np.array_equal(np.isnan(a), np.isnan(b)), column
        worst = max(worst, float(np.nanmax(np.abs(a - b), initial=0.0)))
    return worst


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    print(f"polars {pl.__version__}, pandas {pd.__version__}, rows {args.rows:,}")
    print(f"before: {uptime()}")
    df = synthesise(args.rows)
    pdf = df.to_pandas()
    as_of = AS_OF

    candidates: dict[str, dict[str, Callable[[], Any]]] = {
        "time_to_close": {
            "offer_analytics": lambda: time_to_close(df, by="connector", as_of=as_of),
            "polars by hand": lambda: polars_time_to_close_query(df),
            "pandas": lambda: pandas_time_to_close(pdf),
        },
        "survival_curve": {
            "offer_analytics": lambda: survival_curve(df, by="connector", as_of=as_of),
            "polars by hand": lambda: polars_curve_query(df),
            "pandas": lambda: pandas_curve(pandas_observations(pdf)),
        },
        "cumulative_incidence": {
            "offer_analytics": lambda: cumulative_incidence(df, by="connector", as_of=as_of),
            "polars by hand": lambda: polars_cif_query(df),
            "pandas": lambda: pandas_cif(pdf),
        },
    }
    ttc_columns = time_to_close(df.head(0), as_of=as_of).columns
    curve_columns = ["time_days", "at_risk", "events", "censored", "survival", "lower", "upper"]
    cif_columns = [
        "time_days",
        "at_risk",
        "accepted",
        "declined",
        "censored",
        "cif_accepted",
        "cif_declined",
    ]
    checked = {
        "time_to_close": ttc_columns,
        "survival_curve": curve_columns,
        "cumulative_incidence": cif_columns,
    }
    for metric, runs in candidates.items():
        ours = runs["offer_analytics"]()
        columns = checked[metric]
        for name in ("polars by hand", "pandas"):
            diff = same_numbers(ours, runs[name](), columns, {"t": "time_days"})
            print(f"{metric}: {name} agrees with offer_analytics to {diff:.1e}")

    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.repeats):
        for metric, runs in candidates.items():
            for name, run in runs.items():
                start = time.perf_counter()
                run()
                times.setdefault((metric, name), []).append(time.perf_counter() - start)

    print(f"after: {uptime()}")
    print(
        f"\n| metric | candidate | median s | min s | max s | ours vs it |  ({args.repeats} rounds)"
    )
    print("|---|---|---|---|---|---|")
    for metric, runs in candidates.items():
        ours_median = statistics.median(times[(metric, "offer_analytics")])
        for name in runs:
            ts = times[(metric, name)]
            median = statistics.median(ts)
            print(
                f"| {metric} | {name} | {median:.2f} | {min(ts):.2f} | {max(ts):.2f} "
                f"| {ours_median / median:.2f}x |"
            )


if __name__ == "__main__":
    main()
