"""Cross-checks on 10,000+ offers: Kaplan-Meier against lifelines, Aalen-Johansen against a loop.

The references take their durations from NumPy (int64 microseconds / 86,400e6), not from the
package, so the population, censoring and anomaly rules are checked too.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from offer_analytics import cumulative_incidence, survival_curve, time_to_close

Array = npt.NDArray[Any]
TOL = 1e-9
OUTCOME = pl.Enum(
    ["accepted", "declined", "pending", "draft", "rescinded", "superseded", "unknown"]
)


def tie_heavy_offers(n: int = 12_000, seed: int = 7) -> pl.DataFrame:
    """Offers whose closes fall on whole hours, so many share a time; every population case."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2025-01-01T00:00:00", "us").astype(np.int64)
    sent = start + (rng.random(n) * 400 * 86_400e6).astype(np.int64)
    hours = np.round(rng.lognormal(np.log(72), 1.0, n))
    closed = sent + (hours * 3_600e6).astype(np.int64)
    closed = np.where(rng.random(n) < 0.01, sent - 3_600_000_000, closed)  # closed before sent
    outcome = rng.choice(
        ["accepted", "declined", "pending", "rescinded", "superseded", "draft", "unknown"],
        n,
        p=[0.6, 0.15, 0.12, 0.03, 0.05, 0.03, 0.02],
    )
    has_close = ~np.isin(outcome, ["pending", "draft"]) | (rng.random(n) < 0.05)
    return (
        pl.DataFrame(
            {
                "connector": rng.choice(["acme", "globex", "initech"], n),
                "outcome": pl.Series(outcome, dtype=OUTCOME),
                "sent_at": sent,
                "closed_at": closed,
            }
        )
        .with_columns(
            sent_at=pl.when(pl.Series(outcome != "draft")).then("sent_at"),
            closed_at=pl.when(pl.Series(has_close)).then("closed_at"),
        )
        .with_columns(pl.col("sent_at", "closed_at").cast(pl.Datetime("us", "UTC")))
    )


@pytest.fixture(scope="module")
def generated() -> pl.DataFrame:
    schema = pytest.importorskip("offer_analytics.decode")
    from offer_analytics.sandbox import generate_offers

    frame: pl.DataFrame = schema.offers_to_frame(generate_offers(12_000, connectors=3, seed=3))
    return frame


def reference_durations(frame: pl.DataFrame, as_of: datetime) -> dict[Any, tuple[Array, ...]]:
    """Per connector: durations in days, closed flags and outcomes of the valid population."""
    at = np.datetime64(as_of.replace(tzinfo=None), "us").astype(np.int64)
    nat = np.iinfo(np.int64).min
    sent = frame["sent_at"].cast(pl.Int64).fill_null(nat).to_numpy()
    closed = frame["closed_at"].cast(pl.Int64).fill_null(nat).to_numpy()
    outcome = frame["outcome"].cast(pl.String).fill_null("").to_numpy()
    keep = (sent != nat) & (sent <= at) & ~np.isin(outcome, ["superseded", "draft"])
    event = (closed != nat) & (closed <= at)
    days = (np.where(event, closed, at) - sent) / 86_400e6
    keep &= days >= 0
    connector = frame["connector"].to_numpy()
    groups = {label: keep & (connector == label) for label in np.unique(connector)}
    return {label: (days[m], event[m], outcome[m]) for label, m in groups.items()}


def none_if_inf(value: float) -> float | None:
    return None if math.isinf(value) else float(value)


def check_against_lifelines(frame: pl.DataFrame, as_of: datetime) -> None:
    curve = survival_curve(frame, by="connector", as_of=as_of)
    ttc = time_to_close(frame, by="connector", as_of=as_of)
    for label, (days, event, _) in reference_durations(frame, as_of).items():
        kmf = KaplanMeierFitter(alpha=0.05).fit(days, event)
        ours = curve.filter(pl.col("connector") == label)
        assert ours.height == kmf.survival_function_.shape[0]
        np.testing.assert_allclose(ours["time_days"], kmf.timeline, rtol=0, atol=TOL)
        expected = kmf.event_table
        np.testing.assert_array_equal(ours["at_risk"], expected["at_risk"])
        np.testing.assert_array_equal(ours["events"], expected["observed"])
        np.testing.assert_array_equal(ours["censored"], expected["censored"])
        np.testing.assert_allclose(ours["survival"], kmf.survival_function_.iloc[:, 0], atol=TOL)
        np.testing.assert_allclose(ours["lower"], kmf.confidence_interval_.iloc[:, 0], atol=TOL)
        np.testing.assert_allclose(ours["upper"], kmf.confidence_interval_.iloc[:, 1], atol=TOL)

        row = ttc.filter(pl.col("connector") == label)
        bounds = median_survival_times(kmf.confidence_interval_)
        assert row["n_closed"].item() == int(event.sum())
        assert row["km_median_days"].item() == pytest.approx(
            none_if_inf(kmf.median_survival_time_), abs=TOL
        )
        assert row["km_median_lower"].item() == pytest.approx(
            none_if_inf(bounds.iloc[0, 0]), abs=TOL
        )
        assert row["km_median_upper"].item() == pytest.approx(
            none_if_inf(bounds.iloc[0, 1]), abs=TOL
        )
        done = days[event]
        assert row["closed_mean_days"].item() == pytest.approx(done.mean(), abs=TOL)
        for name, q in [("median", 0.5), ("p25", 0.25), ("p75", 0.75), ("p90", 0.9)]:
            assert row[f"closed_{name}_days"].item() == pytest.approx(np.quantile(done, q), abs=TOL)


def aalen_johansen_by_hand(days: Array, event: Array, outcome: Array) -> Array:
    """Rows (time, at_risk, cif_accepted, cif_declined, cif_other), per distinct time and 0."""
    order = np.sort(days)
    rows = []
    survival, accepted, declined, other = 1.0, 0.0, 0.0, 0.0
    for t in np.unique(np.concatenate([[0.0], days])):
        at_risk = len(order) - np.searchsorted(order, t, side="left")
        now = (days == t) & event
        closes = int(now.sum())
        accepted += survival * int((now & (outcome == "accepted")).sum()) / at_risk
        declined += survival * int((now & (outcome == "declined")).sum()) / at_risk
        other += survival * int((now & ~np.isin(outcome, ["accepted", "declined"])).sum()) / at_risk
        survival *= 1.0 - closes / at_risk  # all closes at t together, then the censored leave
        rows.append((t, at_risk, accepted, declined, other))
    return np.array(rows)


def check_aalen_johansen(frame: pl.DataFrame, as_of: datetime) -> None:
    cif = cumulative_incidence(frame, by="connector", as_of=as_of)
    for label, (days, event, outcome) in reference_durations(frame, as_of).items():
        expected = aalen_johansen_by_hand(days, event, outcome)
        ours = cif.filter(pl.col("connector") == label)
        assert ours.height == expected.shape[0]
        np.testing.assert_allclose(ours["time_days"], expected[:, 0], rtol=0, atol=TOL)
        np.testing.assert_array_equal(ours["at_risk"], expected[:, 1])
        np.testing.assert_allclose(ours["cif_accepted"], expected[:, 2], rtol=0, atol=TOL)
        np.testing.assert_allclose(ours["cif_declined"], expected[:, 3], rtol=0, atol=TOL)
        np.testing.assert_allclose(ours["cif_other"], expected[:, 4], rtol=0, atol=TOL)


AS_OF_TIES = datetime(2026, 1, 15, tzinfo=UTC)


def test_tie_heavy_data_matches_lifelines() -> None:
    frame = tie_heavy_offers()
    assert frame.height >= 10_000
    check_against_lifelines(frame, AS_OF_TIES)


def test_tie_heavy_data_matches_the_aalen_johansen_loop() -> None:
    check_aalen_johansen(tie_heavy_offers(), AS_OF_TIES)


def test_generator_data_matches_lifelines(generated: pl.DataFrame) -> None:
    # As of a date inside the generated period, so that many offers are still open.
    check_against_lifelines(generated, datetime(2026, 6, 1))


def test_generator_data_matches_the_aalen_johansen_loop(generated: pl.DataFrame) -> None:
    check_aalen_johansen(generated, datetime(2026, 6, 1))
