"""Metric invariants on generated offer histories (hypothesis): rates and their bounds lie in
[0, 1] and the interval holds the rate; Kaplan-Meier survival never rises and stays in [0, 1];
cumulative incidences never fall and add up to at most 1; counts add up to the offers counted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offer_analytics import (
    acceptance_rates,
    cumulative_incidence,
    offers_to_frame,
    status_counts,
    survival_curve,
    time_to_close,
)
from offer_analytics.metrics import wilson_interval

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

START = datetime(2024, 1, 1, tzinfo=UTC)
AS_OF = START + timedelta(days=400)


@st.composite
def offer_histories(draw: st.DrawFn) -> pl.DataFrame:
    """Offers sent over a year, closed (or not) some days later with some outcome."""
    rows = []
    for i in range(draw(st.integers(min_value=0, max_value=40))):
        sent = START + timedelta(hours=draw(st.integers(0, 24 * 300)))
        status = draw(st.sampled_from(["SIGNED", "DENIED", "SENT", "DRAFT", "RESCINDED", None]))
        closed = None
        if status in ("SIGNED", "DENIED", "RESCINDED") and draw(st.booleans()):
            closed = sent + timedelta(hours=draw(st.integers(-24, 24 * 60)))
        rows.append(
            {
                "id": f"o{i}",
                "status": status,
                "sent_at": sent.isoformat() if draw(st.booleans()) or closed else None,
                "closed_at": closed.isoformat() if closed else None,
                "application": f"a{draw(st.integers(0, 15))}",
            }
        )
    return offers_to_frame(rows)


def in_unit(series: pl.Series) -> bool:
    values = series.drop_nulls()
    return bool(((values >= 0) & (values <= 1)).all())


@SETTINGS
@given(offer_histories(), st.sampled_from(["decided", "extended"]))
def test_acceptance_rates_and_bounds_lie_in_0_1_around_the_rate(
    frame: pl.DataFrame, denominator: Any
) -> None:
    rates = acceptance_rates(frame, denominator=denominator, as_of=AS_OF)
    for column in ("rate", "rate_lower", "rate_upper"):
        assert in_unit(rates[column])
    known = rates.filter(pl.col("rate").is_not_null())
    assert (known["rate_lower"] <= known["rate"] + 1e-12).all()
    assert (known["rate"] <= known["rate_upper"] + 1e-12).all()
    assert (rates["accepted"] <= rates["n"]).all()


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)), min_size=1))
def test_wilson_interval_contains_the_rate(counts: list[tuple[int, int]]) -> None:
    frame = pl.DataFrame(
        {"k": [k for k, _ in counts], "n": [k + extra for k, extra in counts]},
        schema={"k": pl.Int64, "n": pl.Int64},
    )
    lower, upper = wilson_interval("k", "n")
    bounds = frame.with_columns(lower, upper, rate=pl.col("k") / pl.col("n"))
    known = bounds.filter(pl.col("n") > 0)
    assert bounds.filter(pl.col("n") == 0)["rate_lower"].null_count() == frame.height - known.height
    assert in_unit(known["rate_lower"])
    assert in_unit(known["rate_upper"])
    assert (known["rate_lower"] <= known["rate"] + 1e-12).all()
    assert (known["rate"] <= known["rate_upper"] + 1e-12).all()


@SETTINGS
@given(offer_histories())
def test_kaplan_meier_never_rises_and_counts_add_up(frame: pl.DataFrame) -> None:
    curve = survival_curve(frame, as_of=AS_OF)
    if curve.height == 0:
        return
    for column in ("survival", "lower", "upper"):
        assert in_unit(curve[column])
    assert (curve["survival"].diff().drop_nulls() <= 1e-12).all()
    assert (curve["lower"] <= curve["survival"] + 1e-12).all()
    assert (curve["survival"] <= curve["upper"] + 1e-12).all()
    summary = time_to_close(frame, as_of=AS_OF)
    n, closed, still_open, invalid = summary.select("n", "n_closed", "n_open", "n_invalid").row(0)
    assert closed + still_open + invalid == n
    assert int(curve["events"].sum()) + int(curve["censored"].sum()) == closed + still_open


@SETTINGS
@given(offer_histories())
def test_cumulative_incidences_never_fall_and_add_up_to_at_most_one(frame: pl.DataFrame) -> None:
    table = cumulative_incidence(frame, as_of=AS_OF)
    if table.height == 0:
        return
    cifs = [c for c in table.columns if c.startswith("cif_")]
    for column in cifs:
        assert in_unit(table[column])
        assert (table[column].diff().drop_nulls() >= -1e-12).all()
    total = table.select(pl.sum_horizontal(cifs)).to_series()
    assert (total <= 1 + 1e-9).all()


@SETTINGS
@given(offer_histories())
def test_status_counts_add_up_to_the_offers(frame: pl.DataFrame) -> None:
    counts = status_counts(frame, as_of=AS_OF)
    assert counts["n"].sum() == frame.height
    if frame.height:
        assert abs(float(counts["share"].sum()) - 1.0) < 1e-9
        assert in_unit(counts["share"])
