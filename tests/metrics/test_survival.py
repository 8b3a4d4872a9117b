"""Kaplan-Meier time to close: every number of a small frame checked against hand arithmetic."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from offer_analytics import survival_curve, time_to_close
from offer_analytics.errors import SchemaError

OUTCOME = pl.Enum(
    ["accepted", "declined", "pending", "draft", "rescinded", "superseded", "unknown"]
)
UTC_US = pl.Datetime("us", "UTC")
SCHEMA: dict[str, pl.DataType] = {
    "connector": pl.String(),
    "outcome": OUTCOME,
    "sent_at": UTC_US,
    "closed_at": UTC_US,
}
AS_OF = datetime(2026, 2, 1)
Z = 1.959963984540054


def _at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def offers(rows: list[tuple[str | None, str | None, str | None, str | None]]) -> pl.DataFrame:
    """(connector, outcome, sent_at, closed_at) rows with the offers frame's exact dtypes."""
    return pl.DataFrame(
        [(c, o, _at(s), _at(e)) for c, o, s, e in rows], schema=SCHEMA, orient="row"
    )


# acme: valid durations 1 (rescinded), 2, 2, 2 (accepted, declined, pending-with-close), 5, and
# censored at 7 (closes after as_of) and 30.5 (open); one closed before sent (invalid); a
# superseded version, a draft and an offer sent after as_of are not in the population.
# globex: 0.25 (closed) and 31 (open). initech: one open offer, nothing closed.
HAND = offers(
    [
        ("acme", "accepted", "2026-01-01T00:00", "2026-01-03T00:00"),
        ("acme", "declined", "2026-01-01T00:00", "2026-01-03T00:00"),
        ("acme", "pending", "2026-01-28T00:00", "2026-01-30T00:00"),
        ("acme", "pending", "2026-01-01T12:00", None),
        ("acme", "accepted", "2026-01-10T00:00", "2026-01-15T00:00"),
        ("acme", "rescinded", "2026-01-20T00:00", "2026-01-21T00:00"),
        ("acme", "declined", "2026-01-05T00:00", "2026-01-04T00:00"),
        ("acme", "superseded", "2026-01-01T00:00", "2026-01-02T00:00"),
        ("acme", "draft", None, None),
        ("acme", "accepted", "2026-01-25T00:00", "2026-02-03T00:00"),
        ("acme", "pending", "2026-02-05T00:00", None),
        ("globex", "pending", "2026-01-01T00:00", None),
        ("globex", "accepted", "2026-01-01T00:00", "2026-01-01T06:00"),
        ("initech", "pending", "2026-01-15T00:00", None),
    ]
)


def log_log(s: float, var: float) -> tuple[float, float]:
    """lifelines' exponential Greenwood bounds, written out."""
    v = math.log(s)
    spread = Z * math.sqrt(var) / v
    return math.exp(-math.exp(math.log(-v) - spread)), math.exp(-math.exp(math.log(-v) + spread))


def test_survival_curve_by_connector_matches_hand_arithmetic() -> None:
    curve = survival_curve(HAND, by="connector", as_of=AS_OF)
    acme = curve.filter(pl.col("connector") == "acme")
    assert acme["time_days"].to_list() == [0.0, 1.0, 2.0, 5.0, 7.0, 30.5]
    assert acme["at_risk"].to_list() == [7, 7, 6, 3, 2, 1]
    assert acme["events"].to_list() == [0, 1, 3, 1, 0, 0]
    assert acme["censored"].to_list() == [0, 0, 0, 0, 1, 1]
    s = [1.0, 6 / 7, 6 / 7 * 3 / 6, 3 / 7 * 2 / 3, 2 / 7, 2 / 7]
    assert acme["survival"].to_list() == pytest.approx(s, abs=1e-12)
    # Greenwood sums of d / (n (n - d)): 1/42, + 3/18, + 1/6.
    var = [1 / 42, 1 / 42 + 1 / 6, 1 / 42 + 1 / 6 + 1 / 6]
    bounds = [(1.0, 1.0)] + [log_log(si, vi) for si, vi in zip(s[1:4], var, strict=True)]
    bounds += [bounds[-1], bounds[-1]]
    assert acme["lower"].to_list() == pytest.approx([b[0] for b in bounds], abs=1e-12)
    assert acme["upper"].to_list() == pytest.approx([b[1] for b in bounds], abs=1e-12)

    globex = curve.filter(pl.col("connector") == "globex")
    assert globex["time_days"].to_list() == [0.0, 0.25, 31.0]
    assert globex["survival"].to_list() == [1.0, 0.5, 0.5]
    initech = curve.filter(pl.col("connector") == "initech")
    assert initech.rows() == [
        ("initech", 0.0, 1, 0, 0, 1.0, 1.0, 1.0),
        ("initech", 17.0, 1, 0, 1, 1.0, 1.0, 1.0),
    ]
    assert curve["connector"].to_list() == ["acme"] * 6 + ["globex"] * 3 + ["initech"] * 2


def test_time_to_close_by_connector_matches_hand_arithmetic() -> None:
    result = time_to_close(HAND, by="connector", as_of=AS_OF)
    assert result["connector"].to_list() == ["acme", "globex", "initech"]
    assert result["n"].to_list() == [8, 2, 1]
    assert result["n_closed"].to_list() == [5, 1, 0]
    assert result["n_open"].to_list() == [2, 1, 1]
    assert result["n_invalid"].to_list() == [1, 0, 0]
    # acme: S(2) = 3/7 is the first value <= 0.5. The lower band is 0.33 at day 1; the upper band
    # stays above 0.5 (0.73 at day 2, 0.61 at day 5), so the upper bound is not reached.
    assert log_log(6 / 7, 1 / 42)[0] < 0.5 < log_log(2 / 7, 1 / 42 + 1 / 3)[1]
    assert result["km_median_days"].to_list() == [2.0, 0.25, None]
    assert result["km_median_lower"].to_list() == [1.0, 0.25, None]
    assert result["km_median_upper"].to_list() == [None, None, None]
    # Closed offers only: acme 1, 2, 2, 2, 5; linear quantiles at positions 4q.
    assert result["closed_mean_days"].to_list() == pytest.approx([12 / 5, 0.25, None])
    assert result["closed_median_days"].to_list() == [2.0, 0.25, None]
    assert result["closed_p25_days"].to_list() == [2.0, 0.25, None]
    assert result["closed_p75_days"].to_list() == [2.0, 0.25, None]
    assert result["closed_p90_days"].to_list() == pytest.approx([2 + 0.6 * 3, 0.25, None])


def test_time_to_close_all_offers_together() -> None:
    result = time_to_close(HAND, as_of=AS_OF)
    assert result.columns[:4] == ["n", "n_closed", "n_open", "n_invalid"]
    assert result.row(0)[:4] == (11, 6, 4, 1)
    # 10 valid: 0.25, 1, 2, 2, 2, 5 closed. S: 9/10 at 0.25, 8/10 at 1, 5/10 at 2 -> median 2.
    assert result["km_median_days"].item() == 2.0


def test_output_schema_is_the_documented_one() -> None:
    ttc = time_to_close(HAND, by="connector", as_of=AS_OF)
    assert ttc.schema == pl.Schema(
        {"connector": pl.String}
        | dict.fromkeys(["n", "n_closed", "n_open", "n_invalid"], pl.Int64)
        | dict.fromkeys(
            [
                "km_median_days",
                "km_median_lower",
                "km_median_upper",
                "closed_mean_days",
                "closed_median_days",
                "closed_p25_days",
                "closed_p75_days",
                "closed_p90_days",
            ],
            pl.Float64,
        )
    )
    curve = survival_curve(HAND, as_of=AS_OF)
    assert curve.schema == pl.Schema(
        dict.fromkeys(["time_days"], pl.Float64)
        | dict.fromkeys(["at_risk", "events", "censored"], pl.Int64)
        | dict.fromkeys(["survival", "lower", "upper"], pl.Float64)
    )


@pytest.mark.parametrize("by", [None, "connector", ["connector", "outcome"]])
def test_empty_frame_gives_empty_results_with_the_schema(by: str | list[str] | None) -> None:
    empty = HAND.clear()
    for metric in (time_to_close, survival_curve):
        result = metric(empty, by=by, as_of=AS_OF)
        assert result.is_empty()
        assert result.schema == metric(HAND, by=by, as_of=AS_OF).schema


def test_lazy_input_gives_the_same_result() -> None:
    for metric in (time_to_close, survival_curve):
        eager = metric(HAND, by="connector", as_of=AS_OF)
        assert_frame_equal(metric(HAND.lazy(), by="connector", as_of=AS_OF), eager)


def test_a_parquet_scan_gives_the_same_result(tmp_path: Path) -> None:
    path = tmp_path / "offers.parquet"
    HAND.with_columns(raw_data=pl.lit("{}")).write_parquet(path)
    scanned = pl.scan_parquet(path)
    for metric in (time_to_close, survival_curve):
        eager = metric(HAND, by="connector", as_of=AS_OF)
        assert_frame_equal(metric(scanned, by="connector", as_of=AS_OF), eager)


def test_two_grouping_columns_and_null_keys_sort_last() -> None:
    frame = HAND.with_columns(
        region=pl.when(pl.col("connector") == "acme").then(pl.lit("eu")).otherwise(None)
    )
    result = time_to_close(frame, by=["connector", "region"], as_of=AS_OF)
    assert result.select("connector", "region", "n").rows() == [
        ("acme", "eu", 8),
        ("globex", None, 2),
        ("initech", None, 1),
    ]
    nulls_last = time_to_close(frame, by=["region", "connector"], as_of=AS_OF)
    assert nulls_last.select("region", "connector").rows() == [
        ("eu", "acme"),
        (None, "globex"),
        (None, "initech"),
    ]


def test_naive_and_aware_as_of_mean_the_same_instant() -> None:
    naive = time_to_close(HAND, as_of=datetime(2026, 2, 1))
    aware = time_to_close(HAND, as_of=datetime(2026, 2, 1, tzinfo=UTC))
    paris = time_to_close(HAND, as_of=datetime(2026, 2, 1, 1, tzinfo=timezone(timedelta(hours=1))))
    assert_frame_equal(naive, aware)
    assert_frame_equal(naive, paris)


def test_as_of_defaults_to_now() -> None:
    sent = datetime.now(UTC) - timedelta(days=1)
    frame = pl.DataFrame(
        {"outcome": ["pending"], "sent_at": [sent], "closed_at": [None]},
        schema={"outcome": OUTCOME, "sent_at": UTC_US, "closed_at": UTC_US},
    )
    censored_at = survival_curve(frame)["time_days"].max()
    assert isinstance(censored_at, float)
    assert 1.0 <= censored_at < 1.0 + 60 / 86_400  # a minute of slack for a slow machine


def test_as_of_moves_closes_after_it_back_to_open() -> None:
    early = time_to_close(HAND, by="connector", as_of=datetime(2026, 1, 2, 12))
    # At noon on 2 January acme had sent three offers (two at midnight, one at noon), none closed.
    assert early.filter(pl.col("connector") == "acme").select("n", "n_closed", "n_open").row(0) == (
        3,
        0,
        3,
    )


def test_all_null_columns_are_handled() -> None:
    never_closed = pl.DataFrame(
        {
            "outcome": [None, None],
            "sent_at": [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 11, tzinfo=UTC)],
            "closed_at": [None, None],  # dtype Null, as a hand-built frame would have
        }
    )
    result = time_to_close(never_closed, as_of=AS_OF)
    assert result.select("n", "n_closed", "n_open").row(0) == (2, 0, 2)
    assert result["km_median_days"].to_list() == [None]
    assert result["closed_mean_days"].to_list() == [None]
    never_sent = never_closed.with_columns(pl.lit(None).alias("sent_at"))
    assert time_to_close(never_sent, as_of=AS_OF).is_empty()
    assert survival_curve(never_sent, as_of=AS_OF).is_empty()


def test_offers_closed_the_instant_they_were_sent_are_events_at_zero() -> None:
    frame = offers(
        [
            (None, "accepted", "2026-01-01T00:00", "2026-01-01T00:00"),
            (None, "accepted", "2026-01-01T00:00", "2026-01-03T00:00"),
        ]
    )
    curve = survival_curve(frame, as_of=AS_OF)
    assert curve.select("time_days", "at_risk", "events", "survival").rows() == [
        (0.0, 2, 1, 0.5),
        (2.0, 1, 1, 0.0),
    ]
    # lifelines' bounds where S drops to 0 are 0; the Greenwood step with n == d adds nothing.
    assert curve.row(1)[-2:] == (0.0, 0.0)
    assert time_to_close(frame, as_of=AS_OF)["km_median_days"].item() == 0.0


def test_an_offer_closed_exactly_at_as_of_counts_as_closed_not_censored() -> None:
    frame = offers(
        [
            (None, "accepted", "2026-01-01T00:00", "2026-01-03T00:00"),
            (None, "declined", "2026-01-01T00:00", "2026-01-05T00:00"),
        ]
    )
    as_of = datetime(2026, 1, 3)
    assert time_to_close(frame, as_of=as_of).select("n", "n_closed", "n_open").row(0) == (2, 1, 1)
    curve = survival_curve(frame, as_of=as_of)
    assert curve.select("time_days", "at_risk", "events", "censored").rows() == [
        (0.0, 2, 0, 0),
        (2.0, 2, 1, 1),
    ]


def test_missing_column_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="closed_at"):
        time_to_close(HAND.drop("closed_at"), as_of=AS_OF)
    with pytest.raises(SchemaError, match="team"):
        survival_curve(HAND, by="team", as_of=AS_OF)


def test_a_group_of_only_anomalies_is_counted_but_has_no_curve() -> None:
    frame = pl.concat(
        [HAND, offers([("hooli", "declined", "2026-01-05T00:00", "2026-01-04T00:00")])]
    )
    result = time_to_close(frame, by="connector", as_of=AS_OF).filter(
        pl.col("connector") == "hooli"
    )
    assert result.select("n", "n_closed", "n_open", "n_invalid").row(0) == (1, 0, 0, 1)
    assert result["km_median_days"].to_list() == [None]
    curve = survival_curve(frame, by="connector", as_of=AS_OF)
    assert "hooli" not in curve["connector"].to_list()


def test_many_groups_with_long_durations_sort_on_two_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Normally groups and durations share one Int64 sort key; past Int64 range they cannot.
    combined = survival_curve(HAND, by="connector", as_of=AS_OF)
    combined_ttc = time_to_close(HAND, by="connector", as_of=AS_OF)
    monkeypatch.setattr("offer_analytics.metrics._events.KEY_LIMIT", 0)
    assert_frame_equal(survival_curve(HAND, by="connector", as_of=AS_OF), combined)
    assert_frame_equal(time_to_close(HAND, by="connector", as_of=AS_OF), combined_ttc)


def test_grouping_by_an_internal_column_name_is_refused() -> None:
    with pytest.raises(ValueError, match="time_days"):
        survival_curve(HAND.rename({"connector": "time_days"}), by="time_days", as_of=AS_OF)


def test_durations_are_exact_to_the_microsecond_in_every_group() -> None:
    # The longest duration is one day and one microsecond (an odd count of microseconds).
    frame = offers(
        [
            ("acme", "accepted", "2026-01-01T00:00", "2026-01-02T00:00:00.000001"),
            ("acme", "pending", "2026-01-31T12:00", None),
            ("globex", "declined", "2026-01-31T00:00", "2026-01-31T06:00"),
        ]
    )
    curve = survival_curve(frame, by="connector", as_of=datetime(2026, 2, 1))
    assert curve.select("connector", "time_days", "at_risk", "events", "censored").rows() == [
        ("acme", 0.0, 2, 0, 0),
        ("acme", 0.5, 2, 0, 1),
        ("acme", 86_400_000_001 / 86_400_000_000, 1, 1, 0),
        ("globex", 0.0, 1, 0, 0),
        ("globex", 0.25, 1, 1, 0),
    ]


def test_year_one_timestamps_in_many_groups_give_every_group_its_own_curve() -> None:
    # A year-1 sentinel sent_at (how some systems say "unknown") in 150 groups: group number x
    # 2025 years in microseconds is past Int64's range, which must not wrap any group's rows.
    names = [f"team{i:03d}" for i in range(150)]
    frame = offers([(name, "accepted", "0001-01-01T00:00", "2026-01-01T00:00") for name in names])
    curve = survival_curve(frame, by="connector", as_of=AS_OF)
    days = float((datetime(2026, 1, 1) - datetime(1, 1, 1)).days)
    assert curve.select("connector", "time_days", "at_risk", "events").rows() == [
        row for name in names for row in ((name, 0.0, 1, 0), (name, days, 1, 1))
    ]


def test_durations_of_centuries_keep_their_group_and_their_exact_microseconds() -> None:
    # Two groups share one Int64 sort key here; it holds 2025 years in microseconds exactly,
    # past the 2**53 that a float would round, so no row may change group or time.
    frame = offers(
        [
            ("acme", "accepted", "2026-01-01T00:00", "2026-01-02T00:00:00.000001"),
            ("globex", "declined", "0001-01-01T00:00", "2026-01-01T00:00"),
            ("globex", "accepted", "0001-01-01T00:00", "2026-01-01T00:00:00.000003"),
        ]
    )
    curve = survival_curve(frame, by="connector", as_of=AS_OF)
    years = (datetime(2026, 1, 1) - datetime(1, 1, 1)) // timedelta(microseconds=1)
    assert curve.select("connector", "time_days", "at_risk", "events").rows() == [
        ("acme", 0.0, 1, 0),
        ("acme", 86_400_000_001 / 86_400_000_000, 1, 1),
        ("globex", 0.0, 2, 0),
        ("globex", years / 86_400_000_000, 2, 1),
        ("globex", (years + 3) / 86_400_000_000, 1, 1),
    ]


def test_a_single_offer_without_groups_gets_its_row() -> None:
    frame = offers([(None, "pending", "2026-01-11T00:00", None)])
    result = time_to_close(frame, as_of=AS_OF)
    assert result.select("n", "n_closed", "n_open", "n_invalid", "km_median_days").rows() == [
        (1, 0, 1, 0, None)
    ]


@pytest.mark.parametrize("order", ["count", "size"])
def test_time_to_close_refuses_an_unknown_order_naming_the_choices(order: str) -> None:
    with pytest.raises(ValueError, match="order must be 'keys' or 'n'"):
        time_to_close(HAND, by="connector", as_of=AS_OF, order=order)  # type: ignore[arg-type]


def test_time_to_close_and_survival_curve_options_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        time_to_close(HAND, "connector")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        survival_curve(HAND, "connector")  # type: ignore[call-arg]
